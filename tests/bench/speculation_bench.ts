/**
 * Speculative end of turn (issue 16), voice-to-voice with the real engines (whisper-server and llama-server
 * on synthetic models, espeak-ng, Silero): 1 call x 10 turns of German utterances with a 350 ms pause inside
 * the sentence, speculation on and off (the baseline, the fixed silence window) in the same run. Voice-to-
 * voice is measured from outside: from the last utterance frame fed (real time, 20 ms frames) to TOM's first
 * audio on the output. Prints figures; asserts nothing about time.
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
const pause = new Int16Array(16 * 350);
for (const [a, b] of PARTS) {
  const x = await synthesizeAll(engines.tts, a, signal);
  const y = await synthesizeAll(engines.tts, b, signal);
  if (!x || !y) throw new Error(`espeak-ng could not say "${a} ${b}"`);
  const u = new Int16Array(x.length + pause.length + y.length);
  u.set(x, 0);
  u.set(y, x.length + pause.length);
  utterances.push(u);
}

async function run(speculative: boolean, early = 300) {
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
    stt: engines.stt,
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
  const off = await run(false);
  const on = await run(true);
  // Speculation alone: no early confirmation by the words' cues (the turn still ends after 500 ms).
  const plain = await run(true, 500);
  const f = (x: number) => x.toFixed(0).padStart(8);
  console.log(
    `speculative end of turn: 1 call x ${TURNS} turns (350 ms pause inside each sentence), real engines`,
  );
  console.log(
    "mode".padEnd(34) + "n".padStart(4) + "p50 ms".padStart(8) + "p95 ms".padStart(8) +
      "  replies  wasted/turn",
  );
  const modes = [
    ["off (fixed 500 ms silence)", off],
    ["on (speculation + cues)", on],
    ["on (speculation, no early cue)", plain],
  ] as const;
  for (const [name, r] of modes) {
    console.log(
      name.padEnd(34) + String(r.v2v.length).padStart(4) + f(percentile(r.v2v, 50)) +
        f(percentile(r.v2v, 95)) +
        `  ${String(r.replies).padStart(7)}  ${(r.wasted / TURNS).toFixed(2)} (used ${r.used})`,
    );
  }
  console.log(
    `p50 lower by ${(percentile(off.v2v, 50) - percentile(on.v2v, 50)).toFixed(0)} ms, p95 ratio on/off ${
      (percentile(on.v2v, 95) / percentile(off.v2v, 95)).toFixed(2)
    }`,
  );
} finally {
  await engines.close();
}
