/**
 * Speculative end of turn (issue 16), voice-to-voice with the real engines (whisper-server and llama-server
 * on synthetic models, espeak-ng, Silero): 1 call x 10 turns of German utterances with a 350 ms pause inside
 * the sentence, speculation on and off (the baseline, the fixed silence window) in the same run. Voice-to-
 * voice is measured from outside: from the last utterance frame fed (real time, 20 ms frames; espeak-ng's
 * padding cut, so that is the caller's last sound) to TOM's first audio on the output. Prints figures; asserts nothing about time.
 *
 *   npx --yes deno@2.9.6 run -A tests/bench/speculation_bench.ts [--turns 10]
 *
 * @module
 */
import { PipelineCall } from "../../pipeline/call_pipeline.ts";
import { resolvePipelineOptions } from "../../pipeline/defaults.ts";
import { PhraseCache } from "../../pipeline/phrases.ts";
import type { PipelineMetrics } from "../../pipeline/metrics.ts";
import { type PhraseName, PHRASES } from "../../pipeline/texts.ts";
import { fakeContext, FakeOutput } from "../pipeline/_fakes.ts";
import { percentile } from "../../app/probe/percentiles.ts";
import { ENGINES_MISSING, startEngines } from "../e2e/pipeline_engines.ts";
import { synthesizeAll } from "../../pipeline/phrases.ts";
import type { SttEngine, SttFrame } from "../../pipeline/engines/types.ts";

const args = Deno.args;
const TURNS = Number(args[args.indexOf("--turns") + 1] || 10) || 10;
const PARTS: [string, string][] = [
  ["Ich hätte gern einen Termin,", "am Montag um zehn Uhr."],
  ["Mein Rezept ist leer,", "ich brauche ein neues."],
  ["Ich brauche eine Überweisung", "zum Hautarzt bitte."],
  ["Meine Tochter hat Fieber,", "seit gestern Abend."],
  ["Können Sie mich zurückrufen,", "heute Nachmittag?"],
  ["Ich muss meinen Termin absagen,", "den am Donnerstag."],
  ["Wann haben Sie geöffnet,", "auch am Samstag?"],
  ["Ich war letzte Woche bei Ihnen,", "wegen meinem Knie."],
  ["Das Labor hat angerufen,", "wegen der Blutwerte."],
  ["Ich möchte mit der Ärztin sprechen,", "es geht um meine Tabletten."],
];

class TimedOutput extends FakeOutput {
  firstAudioT: number | null = null;
  override audio(pcm: Int16Array): void {
    if (this.firstAudioT === null) this.firstAudioT = performance.now();
    super.audio(pcm);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (ENGINES_MISSING) {
  console.log(`speculation bench skipped: ${ENGINES_MISSING}`);
  Deno.exit(0);
}
const engines = await startEngines({}, { sttTimeoutMs: 300_000 });
const signal = new AbortController().signal;
const utterances: Int16Array[] = [];
/** Samples of each utterance's first part (up to the pause). */
const firstParts: number[] = [];
const pause = new Int16Array(16 * 350);
/**
 * espeak-ng pads its audio with silence: cut it, so the pause inside is the 350 ms and the utterance ends
 * with the last word (voice-to-voice then counts from the caller's last sound, not from padding).
 */
const voiced = (pcm: Int16Array): Int16Array => {
  const loud = (v: number) => Math.abs(v) > 500;
  const first = pcm.findIndex(loud);
  const last = pcm.findLastIndex(loud);
  return first < 0 ? pcm : pcm.subarray(first, last + 1);
};
for (const [a, b] of PARTS) {
  const xs = await synthesizeAll(engines.tts, a, signal);
  const ys = await synthesizeAll(engines.tts, b, signal);
  if (!xs || !ys) throw new Error(`espeak-ng could not say "${a} ${b}"`);
  const [x, y] = [voiced(xs), voiced(ys)];
  firstParts.push(x.length);
  const u = new Int16Array(x.length + pause.length + y.length);
  u.set(x, 0);
  u.set(y, x.length + pause.length);
  utterances.push(u);
}

/**
 * The synthetic whisper model transcribes gibberish, so the German cues never see German. In the "spoken
 * words" runs the real whisper-server still does every transcription (its timing is the one measured), and
 * its text is replaced by what the caller said so far: the first part while the audio ends in the pause
 * inside the sentence, the whole sentence after it. The decision is the cue table's (pipeline/turn_cues.ts).
 */
class SpokenWords implements SttEngine {
  readonly name = "whisper-server, words as spoken";
  turn = 0;
  constructor(readonly inner: SttEngine) {}
  async *transcribe(
    pcm: Int16Array,
    opts: { signal: AbortSignal; language?: string; callId?: string },
  ): AsyncIterable<SttFrame> {
    const [a, b] = PARTS[this.turn % PARTS.length];
    // TOM's utterance holds some audio before the speech; past the first part and half the pause: all of it.
    const whole = pcm.length > firstParts[this.turn % PARTS.length] + 16 * 175 + 16 * 300;
    for await (const f of this.inner.transcribe(pcm, opts)) {
      yield f.type === "final" ? { ...f, text: whole ? `${a} ${b}` : a } : f;
    }
  }
}

async function run(speculative: boolean, early = 300, words?: SpokenWords) {
  const out = new TimedOutput();
  out.autoPlay = true;
  const phrases = new PhraseCache(engines.tts);
  for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(320));
  const spec: string[] = [];
  const metrics: PipelineMetrics = {
    stage: () => {},
    handover: () => {},
    bargeIn: () => {},
    queueWait: () => {},
    engineError: (e) => console.log(`engine error ${e.engine}:${e.kind}`),
    turn: () => {},
    speculation: (engine, outcome) => void spec.push(`${engine}:${outcome}`),
  };
  const call = new PipelineCall(fakeContext(out), {
    stt: words ?? engines.stt,
    llm: engines.llm,
    tts: engines.tts,
    vad: () => engines.vad.createVad(),
    phrases,
    options: resolvePipelineOptions({
      speculative,
      earlyEndSilenceMs: early,
      maxTokens: 24,
      sttTimeoutMs: 60_000,
      llmFirstTokenTimeoutMs: 60_000,
      llmTokenGapMs: 60_000,
      ttsTimeoutMs: 60_000,
    }),
    metrics,
    systemPrompt: () => "Du bist Tom, die Telefonassistenz einer Arztpraxis. Antworte kurz.",
  });
  out.handler = call;
  call.handle({
    type: "start",
    callId: "bench",
    transport: "browser",
    direction: "inbound",
    peerRate: 16000,
    meta: {},
  });
  const clock = { at: 0 };
  const feed = async (pcm: Int16Array) => {
    const t0 = performance.now();
    for (let i = 0, k = 0; i < pcm.length; i += 320, k++) {
      call.handle({ type: "audio", pcm: pcm.subarray(i, i + 320), atMs: clock.at });
      clock.at += 20;
      const wait = t0 + (k + 1) * 20 - performance.now();
      if (wait > 0) await sleep(wait);
    }
  };
  const silence = new Int16Array(320);
  for (let i = 0; i < 50; i++) await feed(silence); // the greeting plays
  const v2v: number[] = [];
  for (let turn = 0; turn < TURNS; turn++) {
    const u = utterances[turn % utterances.length];
    if (words) words.turn = turn;
    await feed(u);
    out.firstAudioT = null;
    const lastWordT = performance.now();
    for (let i = 0; i < 1500 && out.firstAudioT === null; i++) await feed(silence);
    if (out.firstAudioT !== null) v2v.push(out.firstAudioT - lastWordT);
    for (let i = 0; i < 1500 && call.state.phase !== "listening"; i++) await feed(silence);
    for (let i = 0; i < 15; i++) await feed(silence);
  }
  call.handle({ type: "stop", reason: "bench over" });
  const wasted = spec.filter((s) => s.endsWith("wasted")).length;
  // Replies started: more than the turns when a pause inside a sentence was taken for its end.
  return { v2v, wasted, used: spec.filter((s) => s.endsWith("used")).length, replies: call.state.turn };
}

try {
  const words = () => new SpokenWords(engines.stt);
  const runs = [
    ["off (fixed 500 ms silence)", await run(false)],
    ["on (speculation + cues)", await run(true)],
    // Speculation alone: no early confirmation by the words' cues (the turn still ends after 500 ms).
    ["on (speculation, no early cue)", await run(true, 500)],
    ["off, spoken words", await run(false, 300, words())],
    ["on (speculation + cues), spoken words", await run(true, 300, words())],
  ] as const;
  const f = (x: number) => x.toFixed(0).padStart(8);
  console.log(
    `speculative end of turn: 1 call x ${TURNS} turns (350 ms pause inside each sentence), real engines`,
  );
  console.log(
    "mode".padEnd(40) + "n".padStart(4) + "p50 ms".padStart(8) + "p95 ms".padStart(8) +
      "  replies  wasted/turn",
  );
  for (const [name, r] of runs) {
    console.log(
      name.padEnd(40) + String(r.v2v.length).padStart(4) + f(percentile(r.v2v, 50)) +
        f(percentile(r.v2v, 95)) +
        `  ${String(r.replies).padStart(7)}  ${(r.wasted / TURNS).toFixed(2)} (used ${r.used})`,
    );
  }
  for (
    const [label, off, on] of [["model's words", runs[0][1], runs[1][1]], [
      "spoken words",
      runs[3][1],
      runs[4][1],
    ]] as const
  ) {
    console.log(
      `${label}: p50 lower by ${(percentile(off.v2v, 50) - percentile(on.v2v, 50)).toFixed(0)} ms, ` +
        `p95 ratio on/off ${(percentile(on.v2v, 95) / percentile(off.v2v, 95)).toFixed(2)}`,
    );
  }
} finally {
  await engines.close();
}
