/**
 * Does RNNoise before the VAD help a phone call with a TV in the room? German caller speech (espeak-ng)
 * over a TV-like bed (other German talkers, music-like chords and broadband noise), sent through the
 * real telephone path (the gateway's 16 kHz -> 8 kHz mu-law encoder and the inbound decoder back to
 * 16 kHz), heard by the real hearing stage (`CallerAudio`: Silero v5 and the turn detector with the
 * pipeline's defaults). Each condition runs twice in the same process on the same audio: denoise off
 * (the baseline) and RNNoise (`_rnnoise.ts`) on the decoded 16 kHz frames before
 * the VAD. Reported: false starts per minute of caller silence (a confirmed speech start while the
 * caller is not speaking: TOM would stop talking or start a turn for the TV), the share of the caller's
 * silence the VAD hears as speech (a turn that never ends), and the caller's utterances heard as their own
 * turn (a speech start inside the utterance and its end before the next one).
 *
 *   deno run -A tests/bench/denoise_bench.ts [--minutes 2]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { defaultEnginesDir } from "../../infra/config.ts";
import { InboundAudio, loadResampler, OutboundAudio } from "../../gateway/audio/mod.ts";
import { rmsDbfs } from "../_rigs/levels.ts";
import { createEspeakTts } from "../../pipeline/engines/espeak.ts";
import { presynthesize } from "../../pipeline/engines/tts_cache.ts";
import { loadSilero, SILERO_MODEL_FILE } from "../../pipeline/engines/silero.ts";
import { createDenoiser } from "./_rnnoise.ts";
import type { Vad } from "../../pipeline/engines/types.ts";
import { CallerAudio } from "../../pipeline/hearing.ts";
import { DEFAULT_PIPELINE_OPTIONS } from "../../pipeline/defaults.ts";

const RATE = 16_000;
const args = parseArgs({ args: Deno.args, options: { minutes: { type: "string", default: "2" } } });
const MINUTES = Number(args.values.minutes);

const CALLER = [
  "Guten Tag, ich hätte gerne einen Termin.",
  "Am liebsten nächste Woche am Dienstag.",
  "Ja, das passt mir gut.",
  "Mein Name ist Maria Schneider.",
  "Ich brauche noch ein neues Rezept für meine Tabletten.",
  "Nein, das ist alles, danke.",
  "Können Sie mich bitte zurückrufen?",
  "Die Nummer ist null drei null, eins zwei drei.",
];
const TV = [
  "Und nun das Wetter für morgen: im Norden Regen, im Süden bis zu zwanzig Grad.",
  "Die Mannschaft gewann das Spiel am Samstagabend mit zwei zu eins.",
  "Der Bundestag hat heute über das neue Gesetz beraten.",
  "Bleiben Sie dran, nach der Werbung geht es weiter.",
  "Auf den Autobahnen wird am Wochenende mit Staus gerechnet.",
  "Wie schmeckt Ihnen der neue Kaffee? Jetzt im Angebot.",
];

let seed = 12345;
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;

/** Scale to an RMS level: over the samples that are not silent (speech), or over all (a steady bed). */
function gainTo(pcm: Float32Array, dbfs: number, activeOnly = true): Float32Array {
  let sum = 0;
  let n = 0;
  for (const s of pcm) if (!activeOnly || Math.abs(s) > 0.001) (sum += s * s, n++);
  if (sum === 0) return pcm;
  const g = Math.pow(10, dbfs / 20) / Math.sqrt(sum / Math.max(n, 1));
  return pcm.map((s) => s * g);
}

const toFloat = (pcm: Int16Array) => Float32Array.from(pcm, (s) => s / 32768);

async function speech(voice: string, texts: string[], speed?: number): Promise<Float32Array[]> {
  const tts = createEspeakTts({ voice, speed });
  return await Promise.all(texts.map(async (t) => toFloat(await presynthesize(tts, t))));
}

/**
 * The TV: two talkers taking turns (one at a time), chords changing every 400 ms (6 dB below the talkers) and pink-ish
 * broadband noise (10 dB below), all together at -20 dBFS RMS.
 */
function tvBed(samples: number, talkers: Float32Array[][]): Float32Array {
  const voice = new Float32Array(samples);
  const clips = talkers.flatMap((t, k) => t.map((c, i) => [i * talkers.length + k, c] as const))
    .sort((a, b) => a[0] - b[0]).map(([, c]) => c);
  // One talker at a time (news, a talk show), 0.3-1.2 s between sentences.
  for (let at = Math.round(0.5 * RATE), i = 0; clips.length > 0 && at < samples; i++) {
    const clip = clips[i % clips.length];
    voice.set(clip.subarray(0, Math.min(clip.length, samples - at)), at);
    at += clip.length + Math.round((0.3 + rand() * 0.9) * RATE);
  }
  const music = new Float32Array(samples);
  const notes = [220, 247, 262, 294, 330, 349, 392, 440];
  for (let at = 0; at < samples; at += 0.4 * RATE) {
    const chord = [0, 2, 4].map((j) => notes[(Math.floor(at / RATE * 2.5) + j * 2) % notes.length]);
    for (let i = 0; i < 0.4 * RATE && at + i < samples; i++) {
      const env = Math.exp(-i / (0.25 * RATE));
      let v = 0;
      for (const f of chord) {
        for (const h of [1, 2, 3]) v += Math.sin(2 * Math.PI * f * h * (at + i) / RATE) / h;
      }
      music[at + i] = v * env;
    }
  }
  const hiss = new Float32Array(samples);
  let b0 = 0, b1 = 0, b2 = 0;
  for (let i = 0; i < samples; i++) {
    const w = rand() * 2 - 1;
    b0 = 0.99765 * b0 + w * 0.099;
    b1 = 0.963 * b1 + w * 0.2965;
    b2 = 0.57 * b2 + w * 1.0527;
    hiss[i] = b0 + b1 + b2 + w * 0.1848;
  }
  const v = gainTo(voice, -20), m = gainTo(music, -26), h = gainTo(hiss, -30);
  return gainTo(v.map((s, i) => s + m[i] + h[i]), -20, false);
}

interface Utterance {
  startMs: number;
  endMs: number;
}

/** Caller utterances with 5-9 s of caller silence between them, first after 8 s. */
function callerTrack(samples: number, clips: Float32Array[]): { pcm: Float32Array; utts: Utterance[] } {
  const pcm = new Float32Array(samples);
  const utts: Utterance[] = [];
  let at = 8 * RATE;
  for (let i = 0; at < samples - 5 * RATE; i++) {
    const clip = clips[i % clips.length];
    pcm.set(clip.subarray(0, samples - at), at);
    let first = -1, last = -1;
    for (let w = 0; w + 160 <= clip.length; w += 160) {
      if (rmsDbfs(Int16Array.from(clip.subarray(w, w + 160), (s) => s * 32767)) > -45) {
        if (first < 0) first = w;
        last = w + 160;
      }
    }
    utts.push({ startMs: (at + first) * 1000 / RATE, endMs: (at + last) * 1000 / RATE });
    at += clip.length + Math.round((5 + rand() * 4) * RATE);
  }
  return { pcm: gainTo(pcm, -20), utts };
}

/** 16 kHz -> the gateway's mu-law 8 kHz encoder -> the inbound decoder: 320-sample frames at 16 kHz. */
function telephone(mix: Float32Array): Int16Array[] {
  const frames: Int16Array[] = [];
  const inb = new InboundAudio({ codec: "mulaw", rate: 8000, onFrame: (f) => frames.push(f) });
  const out = new OutboundAudio({ codec: "mulaw", rate: 8000, onFrame: (b) => inb.push(b) });
  const pcm = Int16Array.from(mix, (s) => Math.max(-32768, Math.min(32767, Math.round(s * 32768))));
  for (let at = 0; at < pcm.length; at += 320) out.push(pcm.subarray(at, at + 320));
  out.dispose();
  inb.dispose();
  return frames;
}

const model = await loadSilero({
  model: join(defaultEnginesDir(), "models", SILERO_MODEL_FILE),
  embeddedFallback: true,
});

interface Heard {
  /** Speech the hearing stage confirmed: onset to last speech (open at the end: the run's end). */
  segments: { startMs: number; endMs: number }[];
  cpuMs: number;
}

/** Run the hearing stage over the frames and collect the speech it confirmed. */
async function hear(frames: Int16Array[], denoise: boolean): Promise<Heard> {
  const real = model.createVad();
  let classified = 0;
  const vad: Vad = {
    frameSamples: real.frameSamples,
    process: async (f: Float32Array) => {
      const p = await real.process(f);
      classified++;
      return p;
    },
    reset: () => real.reset(),
    dispose: () => real.dispose(),
  };
  const segments: Heard["segments"] = [];
  const hearing = new CallerAudio(DEFAULT_PIPELINE_OPTIONS, {
    now: () => 0,
    onEvent: (e) => {
      if (e.type === "speech_start") segments.push({ startMs: e.onsetAt, endMs: Infinity });
      else if (e.type === "speech_end") segments[segments.length - 1].endMs = e.lastSpeechAt;
    },
    onVadFailed: (e) => console.error("VAD failed", e),
  });
  hearing.attach(vad);
  const d = denoise ? await createDenoiser() : undefined;
  let cpuMs = 0;
  let sent = 0;
  for (const f of frames) {
    const t0 = performance.now();
    const pcm = d ? d.process(f) : f;
    cpuMs += performance.now() - t0;
    hearing.push(pcm, sent * 1000 / RATE);
    sent += pcm.length;
  }
  d?.dispose();
  const expected = Math.floor(sent / real.frameSamples);
  while (classified < expected) await new Promise((r) => setTimeout(r, 5));
  hearing.close(() => {});
  for (const seg of segments) seg.endMs = Math.min(seg.endMs, sent * 1000 / RATE);
  return { segments, cpuMs };
}

await loadResampler();
const samples = Math.round(MINUTES * 60 * RATE);
const callerClips = await speech("de", CALLER);
const talkers = [await speech("de+m3", TV, 190), await speech("de+f2", TV.slice().reverse(), 160)];
const { pcm: caller, utts } = callerTrack(samples, callerClips);
const bed = tvBed(samples, talkers);
const callerMs = utts.reduce((s, u) => s + (u.endMs - u.startMs + 1000), 0);
const silentMin = (samples * 1000 / RATE - callerMs) / 60_000;

console.log(
  `${MINUTES} min per run, ${utts.length} caller utterances, ${silentMin.toFixed(2)} min of caller ` +
    `silence; caller speech at -20 dBFS; Silero v5, defaults ` +
    `threshold ${DEFAULT_PIPELINE_OPTIONS.vadThreshold}, min speech ${DEFAULT_PIPELINE_OPTIONS.minSpeechMs} ms`,
);
console.log("");
console.log(
  "| background | denoise | false starts / min of caller silence | caller silence heard as speech | " +
    "utterances heard as their own turn | denoise CPU / min audio |",
);
console.log("|---|---|---|---|---|---|");
const hiss = tvBed(samples, []); // music and hiss only
const conditions: [string, Float32Array, number][] = [
  ["none", bed, Infinity],
  ["TV, 30 dB below the caller", bed, 30],
  ["TV, 20 dB below", bed, 20],
  ["TV, 10 dB below", bed, 10],
  ["music + hiss (no talkers), 10 dB below", hiss, 10],
  ["music + hiss (no talkers), 0 dB", hiss, 0],
  ["music + hiss (no talkers), 5 dB above", hiss, -5],
];
const overlap = (a0: number, a1: number, b0: number, b1: number) =>
  Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
const totalMs = samples * 1000 / RATE;
for (const [label, noise, snr] of conditions) {
  // Caller speech sits at -20 dBFS (RMS while speaking); the background's RMS is put `snr` dB below it.
  const g = snr === Infinity ? 0 : Math.pow(10, -snr / 20);
  const mix = caller.map((s, i) => s + noise[i] * g);
  const frames = telephone(mix);
  for (const denoise of [false, true]) {
    const { segments, cpuMs } = await hear(frames, denoise);
    const inUtt = (o: number) => utts.some((u) => o >= u.startMs - 250 && o <= u.endMs + 1000);
    const falseStarts = segments.filter((x) => !inUtt(x.startMs)).length;
    // Speech heard while the caller is silent (outside each utterance plus a 1 s tail).
    let heardMs = 0;
    for (const x of segments) {
      heardMs += x.endMs - x.startMs;
      for (const u of utts) heardMs -= overlap(x.startMs, x.endMs, u.startMs - 250, u.endMs + 1000);
    }
    const own = utts.filter((u, i) => {
      const next = utts[i + 1]?.startMs ?? totalMs;
      return segments.some((x) => x.startMs >= u.startMs - 250 && x.startMs <= u.endMs && x.endMs < next);
    }).length;
    console.log(
      `| ${label} | ${denoise ? "RNNoise" : "off"} | ${
        (falseStarts / silentMin).toFixed(1)
      } (${falseStarts}) | ` +
        `${(heardMs / (silentMin * 600)).toFixed(0)} % | ${own}/${utts.length} ` +
        `(${Math.round(own / utts.length * 100)} %) | ${
          denoise ? `${(cpuMs / MINUTES).toFixed(0)} ms` : "-"
        } |`,
    );
  }
}
await model.dispose();
