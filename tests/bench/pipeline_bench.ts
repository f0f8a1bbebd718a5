/**
 * Pipeline benchmark (a script that prints a table, DESIGN.md budgets):
 * - TOM's own time per stage hand-over (speech end -> STT call, transcript -> LLM call, sentence -> TTS
 *   call, TTS audio -> transport), p95 budget < 5 ms;
 * - barge-in: from the arrival of the audio frame that completes the VAD's barge-in decision to
 *   `output.clear()`, p95 budget < 50 ms;
 * with C concurrent calls fed at real time (20 ms frames), instant fake engines and the real Silero VAD
 * when it is provisioned (else the energy fake). `--engines` adds `tom probe` against a gateway with the
 * real engines (whisper-server, llama-server on synthetic models, espeak-ng, Silero): voice-to-voice for
 * 1 call x 3 turns and 20 concurrent calls x 1 turn.
 *
 * Usage: deno run -A tests/bench/pipeline_bench.ts [--calls 20] [--rounds 3] [--engines] [--json FILE]
 */
import { PipelineCall } from "../../pipeline/call_pipeline.ts";
import { resolvePipelineOptions } from "../../pipeline/defaults.ts";
import { PhraseCache } from "../../pipeline/phrases.ts";
import { type PhraseName, PHRASES } from "../../pipeline/texts.ts";
import type { PipelineMetrics } from "../../pipeline/metrics.ts";
import type { Vad } from "../../pipeline/engines/types.ts";
import { openVad } from "../../pipeline/engines/vad.ts";
import { percentile } from "../../app/probe/percentiles.ts";
import { fakeContext, FakeLlm, FakeOutput, FakeStt, FakeTts, FakeVad } from "../pipeline/_fakes.ts";
import { ENGINES_DIR, PATHS } from "../infra/fixtures/engines.ts";

const args = Deno.args;
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const CALLS = arg("calls", 20);
const ROUNDS = arg("rounds", 3);
const jsonAt = args.indexOf("--json");
const JSON_OUT = jsonAt >= 0 ? args[jsonAt + 1] : undefined;

let vadFactory: () => Promise<Vad> = () => Promise.resolve(new FakeVad());
let vadName = "energy fake";
try {
  if (args.includes("--fake-vad")) throw new Error("fake VAD asked for");
  Deno.statSync(PATHS.sileroModel);
  const provider = await openVad({ model: PATHS.sileroModel });
  vadFactory = () => provider.createVad();
  vadName = provider.name;
} catch {
  // not provisioned: the fake
}

/** Speech-like audio Silero accepts: a gliding voiced tone with harmonics and a syllable envelope. */
function voice(ms: number, seed: number): Int16Array {
  const n = ms * 16;
  const out = new Int16Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / 16_000;
    phase += (2 * Math.PI * (140 + 40 * Math.sin(2 * Math.PI * (0.5 + seed * 0.01) * t))) / 16_000;
    const env = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
    let v = 0;
    for (let h = 1; h <= 10; h++) v += Math.sin(h * phase) / h;
    out[i] = Math.round(7000 * env * v);
  }
  return out;
}

// Real German speech (espeak-ng) when installed, since Silero does not take synthetic tones for a voice.
let ask: Int16Array | null = null;
let interrupt: Int16Array | null = null;
try {
  const { createEspeakTts } = await import("../../pipeline/engines/espeak.ts");
  const { synthesizeAll } = await import("../../pipeline/phrases.ts");
  const espeak = createEspeakTts({ voice: "de" });
  const signal = new AbortController().signal;
  ask = await synthesizeAll(espeak, "Guten Tag, ich hätte gern einen Termin.", signal);
  interrupt = await synthesizeAll(
    espeak,
    "Nein, warten Sie bitte, ich habe noch eine ganz andere Frage.",
    signal,
  );
} catch {
  // espeak-ng missing: the synthetic voice
}

const handovers: Record<string, number[]> = {};
const bargeIns: number[] = [];
/** Barge-in from the caller's first speech frame to the flush (issue 16), and the baseline's (bargeInMinMs). */
const onsets: number[] = [];
const BASELINE = args.includes("--barge-baseline");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function feed(call: PipelineCall, pcm: Int16Array, clock: { at: number }): Promise<void> {
  const t0 = performance.now();
  for (let i = 0, k = 0; i < pcm.length; i += 320, k++) {
    call.handle({ type: "audio", pcm: pcm.subarray(i, i + 320), atMs: clock.at });
    clock.at += 20;
    const wait = t0 + (k + 1) * 20 - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

async function oneCall(seed: number): Promise<boolean> {
  const out = new FakeOutput();
  const tts = new FakeTts();
  const phrases = new PhraseCache(tts);
  for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(320));
  const metrics: PipelineMetrics = {
    stage: () => {},
    handover: (h, s) => (handovers[h] ??= []).push(s * 1000),
    bargeIn: (s) => bargeIns.push(s * 1000),
    bargeInOnset: (s) => onsets.push(s * 1000),
    queueWait: () => {},
    engineError: () => {},
    turn: () => {},
  };
  const call = new PipelineCall(fakeContext(out), {
    // The interruption's words (scripted: the fake STT answers at once) are no backchannel.
    stt: new FakeStt(["Ich brauche einen Termin.", ...Array(8).fill("Moment, das stimmt so nicht.")]),
    llm: new FakeLlm(["Gern. Wann passt es Ihnen am besten? Ich schaue gleich nach einem freien Termin."]),
    tts,
    vad: vadFactory,
    phrases,
    options: resolvePipelineOptions(BASELINE ? { bargeInProbeMs: 0 } : {}),
    metrics,
    systemPrompt: () => "Du bist Tom.",
  });
  out.handler = call;
  call.handle({
    type: "start",
    callId: `b${seed}`,
    transport: "browser",
    direction: "inbound",
    peerRate: 16000,
    meta: {},
  });
  await sleep(50);
  out.play();
  const clock = { at: 0 };
  const silence = new Int16Array(16 * 800);
  await feed(call, silence.subarray(0, 16 * 200), clock);
  await feed(call, ask ?? voice(1200, seed), clock);
  await feed(call, silence, clock);
  for (let i = 0; i < 200 && call.state.phase !== "speaking"; i++) {
    await feed(call, silence.subarray(0, 320), clock);
  }
  const spoke = call.state.phase === "speaking";
  if (!spoke && seed === 0) {
    console.log(`call 0 never spoke: phase ${call.state.phase}, ${out.types().join(",")}`);
  }
  if (spoke) await feed(call, interrupt ?? voice(900, seed + 1), clock);
  call.handle({ type: "stop", reason: "bench over" });
  const flushed = out.log.some((r) => r.kind === "clear");
  if (spoke && !flushed && seed === 0) console.log(`call 0 not flushed: ${out.types().slice(-12).join(",")}`);
  return spoke && flushed;
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "-");
const rows: { measure: string; n: number; p50: number; p95: number; max: number; budget: number }[] = [];
function row(measure: string, xs: number[], budget: number) {
  rows.push({
    measure,
    n: xs.length,
    p50: percentile(xs, 50),
    p95: percentile(xs, 95),
    max: xs.length ? Math.max(...xs) : NaN,
    budget,
  });
}

let ok = 0;
for (let r = 0; r < ROUNDS; r++) {
  const res = await Promise.all(Array.from({ length: CALLS }, (_, i) => oneCall(r * CALLS + i)));
  ok += res.filter(Boolean).length;
}
for (const [k, xs] of Object.entries(handovers)) row(`handover ${k}`, xs, 5);
row("barge-in decision -> clear", bargeIns, 50);
row(`barge-in speech onset -> clear${BASELINE ? " (baseline)" : ""}`, onsets, 350);

console.log(
  `pipeline: ${CALLS} concurrent calls x ${ROUNDS} rounds, VAD ${vadName}, engines dir ${ENGINES_DIR}`,
);
console.log(`calls with a barge-in flush: ${ok}/${CALLS * ROUNDS}`);
console.log(
  "measure".padEnd(34) + "n".padStart(6) + "p50 ms".padStart(10) + "p95 ms".padStart(10) +
    "max ms".padStart(10) + "budget".padStart(10),
);
let missed = 0;
for (const x of rows) {
  const verdict = x.p95 < x.budget ? "ok" : "MISS";
  if (verdict === "MISS") missed++;
  console.log(
    x.measure.padEnd(34) + String(x.n).padStart(6) + fmt(x.p50).padStart(10) + fmt(x.p95).padStart(10) +
      fmt(x.max).padStart(10) + `<${x.budget}`.padStart(8) + ` ${verdict}`,
  );
}

const report: Record<string, unknown> = { calls: CALLS, rounds: ROUNDS, vad: vadName, rows };
if (args.includes("--engines")) {
  const { ENGINES_MISSING, startEngines } = await import("../e2e/pipeline_engines.ts");
  if (ENGINES_MISSING) console.log(`probe skipped: ${ENGINES_MISSING}`);
  else {
    const { pipelineAnswerer } = await import("../../pipeline/mod.ts");
    const { silentLogger } = await import("../../infra/log.ts");
    const { startGateway } = await import("../gateway/server_harness.ts");
    const { probeMain } = await import("../../app/commands/probe.ts");
    const engines = await startEngines({}, { sttTimeoutMs: 300_000 });
    const answer = pipelineAnswerer({
      stt: engines.stt,
      llm: engines.llm,
      tts: engines.tts,
      vad: () => engines.vad.createVad(),
      log: silentLogger,
      config: engines.config,
      options: {
        sttTimeoutMs: 300_000,
        llmFirstTokenTimeoutMs: 60_000,
        llmTokenGapMs: 60_000,
        ttsTimeoutMs: 60_000,
      },
    });
    const h = await startGateway({ answer });
    try {
      for (const [calls, turns] of [[1, 3], [arg("probe-calls", 20), 1]]) {
        const file = await Deno.makeTempFile({ suffix: ".json" });
        const code = await probeMain(h.config, {
          url: h.http,
          calls: String(calls),
          turns: String(turns),
          out: file,
          answerTimeout: "600000",
        });
        const rep = JSON.parse(await Deno.readTextFile(file));
        report[`probe_${calls}x${turns}`] = { exit: code, summaries: rep.summaries, errors: rep.errors };
      }
    } finally {
      await h.close();
      await engines.close();
    }
  }
}
if (JSON_OUT) await Deno.writeTextFile(JSON_OUT, JSON.stringify(report, null, 2) + "\n");
Deno.exit(missed === 0 ? 0 : 1);
