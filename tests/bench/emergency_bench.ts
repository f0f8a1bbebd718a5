/**
 * Emergency latency (issue 14: "the advice is on the wire within 300 ms of the final transcript"): N calls
 * through the real pipeline (`pipelineAnswerer`) behind the real gateway (`/ws/stream`, startGateway), each
 * while TOM is mid-answer, measuring from the STT's `final` frame to the arrival, at a WebSocket client on
 * loopback, of the first binary audio frame of
 *
 * - the emergency advice (the caller says "Mein Mann bekommt keine Luft": red flag, cut, pre-synthesized
 *   advice), and, as the baseline in the same run (alternating calls, same place in the call),
 * - a normal LLM answer (the caller says "Mein Mann bekommt keinen Termin": TOM is cut and the LLM
 *   answers), what a caller would wait for without the red-flag path.
 *
 * The client's arrival stamp is an upper bound of the server's socket write (one loopback hop later).
 *
 * Engines: the real espeak-ng TTS (phrases pre-synthesized by a warmed PhraseCache, as production does),
 * the real llama-server (the synthetic model: fast garbage tokens, so the baseline is a lower bound; a real
 * model's first sentence takes longer), and a scripted STT: the synthetic whisper model cannot transcribe
 * words, so a scripted engine returns the caller's words and stamps the moment it yields `final`. The VAD
 * is the energy fake (tones from the client; it only decides when the caller's bursts start and end).
 * The caller's bursts are 300 ms, shorter than the barge-in threshold: TOM keeps talking until the
 * transcript is known, so the transcript arrives mid-sentence. The advice frame is the first binary frame
 * after the `clear` event that follows the final transcript (a WebSocket keeps the order).
 *
 * A third case, in min(N, 5) calls: the red flag comes while TOM speaks an answer that itself began with
 * such a short interjection (a probe that became a barge-in). It counts the calls where TOM was not cut
 * (no `clear` within 2 s: the advice queued behind the rest of the answer).
 *
 * Usage: deno run -A tests/bench/emergency_bench.ts [--calls 30] [--verbose]
 *
 * @module
 */
import { engineSpecs } from "../../infra/engines/specs.ts";
import { silentLogger } from "../../infra/log.ts";
import { Supervisor } from "../../infra/supervisor.ts";
import { createLlm } from "../../pipeline/engines/llm.ts";
import { createTts } from "../../pipeline/engines/tts.ts";
import type { SttEngine, SttFrame } from "../../pipeline/engines/types.ts";
import { pipelineAnswerer } from "../../pipeline/mod.ts";
import { PhraseCache } from "../../pipeline/phrases.ts";
import { fillNames } from "../../pipeline/disclosure.ts";
import { GREETING_TEMPLATE } from "../../pipeline/texts.ts";
import { percentile } from "../../app/probe/percentiles.ts";
import { FakeVad } from "../pipeline/_fakes.ts";
import { LLAMA_MISSING, testConfig } from "../infra/fixtures/engines.ts";
import { startGateway } from "../gateway/server_harness.ts";

const at = Deno.args.indexOf("--calls");
const CALLS = at >= 0 ? Number(Deno.args[at + 1]) : 30;
const EMERGENCY = "Mein Mann bekommt keine Luft";
const NORMAL = "Mein Mann bekommt keinen Termin";
const VERBOSE = Deno.args.includes("--verbose");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (LLAMA_MISSING) {
  console.log(`skipped: ${LLAMA_MISSING}`);
  Deno.exit(0);
}

/** STT that returns scripted words and stamps when it yields `final` (performance.now()). */
class ScriptedStt implements SttEngine {
  readonly name = "scripted-stt";
  readonly finals: { text: string; at: number }[] = [];
  next = "";
  async *transcribe(_pcm: Int16Array, opts: { signal: AbortSignal }): AsyncIterable<SttFrame> {
    await Promise.resolve();
    if (opts.signal.aborted) return;
    const text = this.next;
    this.finals.push({ text, at: performance.now() });
    yield { type: "final", text, processingMs: 0 };
  }
}

/** One message as the client received it, in order. */
type Msg = { kind: "event"; type: string; turn?: number; at: number } | { kind: "frame"; at: number };

/** A browser-protocol client that keeps the order of events and frames and sends 20 ms frames. */
class Caller {
  readonly msgs: Msg[] = [];
  readonly ws: WebSocket;
  #loudUntil = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (ev) => {
      const now = performance.now();
      if (typeof ev.data !== "string") return void this.msgs.push({ kind: "frame", at: now });
      const e = JSON.parse(ev.data) as { type: string; turn?: number };
      this.msgs.push({ kind: "event", type: e.type, turn: e.turn, at: now });
    };
  }
  /** Send a frame every 20 ms: a 440 Hz tone while "speaking", silence otherwise (the line never stops). */
  talk(): void {
    const loud = new Int16Array(320).map((_, i) =>
      Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16_000))
    );
    const quiet = new Int16Array(320);
    this.#timer = setInterval(() => {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      this.ws.send(performance.now() < this.#loudUntil ? loud : quiet);
    }, 20);
  }
  say(ms: number): void {
    this.#loudUntil = performance.now() + ms;
  }
  /** When the scripted STT yielded `text` as `final` after `since`, waiting for it. */
  async final(stt: ScriptedStt, text: string, since: number): Promise<number> {
    const hit = () => stt.finals.find((f) => f.text === text && f.at >= since)?.at;
    await this.until(() => hit() !== undefined, text);
    return hit() ?? NaN;
  }
  async until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!cond()) {
      if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }
  has(type: string, turn?: number): boolean {
    return this.msgs.some((m) =>
      m.kind === "event" && m.type === type && (turn === undefined || m.turn === turn)
    );
  }
  /** Arrival of the first frame after the first `clear` that arrived after `t0`, and whether audio flowed. */
  firstAfterClear(t0: number): { ms: number; mid: boolean } | null {
    const c = this.msgs.findIndex((m) => m.kind === "event" && m.type === "clear" && m.at >= t0);
    if (c < 0) return null;
    const f = this.msgs.slice(c + 1).find((m) => m.kind === "frame");
    const before = this.msgs.slice(0, c).filter((m) => m.kind === "frame").at(-1);
    return f ? { ms: f.at - t0, mid: before !== undefined && t0 - before.at < 100 } : null;
  }
  close(): void {
    clearInterval(this.#timer);
    this.ws.close();
  }
}

const config = testConfig({});
const supervisor = new Supervisor(engineSpecs(config).filter((s) => s.name === "llm"), { log: silentLogger });
await supervisor.start();
const llm = createLlm(config);
const tts = await createTts(config.tts);
if (!llm || !tts) throw new Error("the test configuration has no LLM or TTS");
const phrases = new PhraseCache(tts);
await phrases.warm();
await phrases.warmTexts([fillNames(GREETING_TEMPLATE)]);
const stt = new ScriptedStt();
const answer = pipelineAnswerer({
  stt,
  llm,
  tts,
  vad: () => new FakeVad(),
  log: silentLogger,
  config,
  phrases,
});
const h = await startGateway({ answer });

type Kind = "normal" | "emergency" | "after_probe";
const ms: Record<Kind, number[]> = { normal: [], emergency: [], after_probe: [] };
const mid: Record<Kind, number> = { normal: 0, emergency: 0, after_probe: 0 };
const PROBE_CALLS = Math.min(CALLS, 5);
let notCut = 0;

/** Wait until the answer of `turn` is audible, then a bit longer: TOM is mid-sentence. */
async function midAnswer(c: Caller, turn: number): Promise<void> {
  await c.until(() => c.has("tts_audio", turn), `answer audio of turn ${turn}`);
  await sleep(600);
}

/** A short burst (a probe: TOM keeps talking) whose transcript is `text`; the final's time. */
async function interject(c: Caller, text: string): Promise<number> {
  stt.next = text;
  const since = performance.now();
  c.say(300);
  return await c.final(stt, text, since);
}

/**
 * One call: the caller talks over the greeting (a barge-in, then TOM's first answer), and mid-answer says
 * `kind`'s words in a short burst. `after_probe`: the answer in progress is itself the answer to such a
 * burst (turn 2), the case where the pipeline does not know that answer is audible.
 */
async function runCall(kind: Kind): Promise<void> {
  const callId = `bench-${crypto.randomUUID()}`;
  const c = new Caller(`${h.ws}/ws/stream/${callId}?token=${await h.token(callId)}`);
  try {
    await c.until(() => c.has("connected"), "connected");
    c.ws.send(JSON.stringify({ type: "start" }));
    await c.until(() => c.has("streaming_started"), "streaming_started");
    c.talk();
    await c.until(() => c.msgs.some((m) => m.kind === "frame"), "greeting audio");
    stt.next = "Guten Tag, ich hätte gern einen Termin bei Frau Doktor Schmidt.";
    c.say(800); // over the greeting: a barge-in, then the first answer
    await midAnswer(c, 1);
    if (kind === "after_probe") {
      await interject(c, "Und noch eine andere Frage zum Rezept");
      await midAnswer(c, 2);
    }
    const t0 = await interject(c, kind === "normal" ? NORMAL : EMERGENCY);
    let r: { ms: number; mid: boolean } | null = null;
    const done = kind === "normal"
      ? () => (r = c.firstAfterClear(t0)) !== null && c.msgs.some((m) => m.kind === "frame" && m.at > t0)
      : () => c.has("emergency") && (r = c.firstAfterClear(t0)) !== null;
    await c.until(done, `the first frame after ${kind}`, kind === "after_probe" ? 2_000 : 20_000)
      .catch((e) => {
        if (kind !== "after_probe") throw e;
      });
    const got = r as { ms: number; mid: boolean } | null;
    if (VERBOSE) {
      const seq = c.msgs.filter((m) => m.at >= t0 - 50 && m.at <= t0 + (got?.ms ?? 2000) + 30);
      console.log(
        kind,
        got?.ms.toFixed(1),
        seq.map((m) => `${m.kind === "frame" ? "F" : m.type}@${(m.at - t0).toFixed(0)}`).join(" "),
      );
    }
    if (got) {
      ms[kind].push(got.ms);
      mid[kind] += got.mid ? 1 : 0;
    } else notCut++;
    c.ws.send(JSON.stringify({ type: "stop" }));
    await c.until(() => c.has("call_end"), "call_end").catch(() => {});
  } finally {
    c.close();
  }
}

try {
  for (let i = 0; i < CALLS; i++) {
    await runCall("normal");
    await runCall("emergency");
    if (i < PROBE_CALLS) await runCall("after_probe");
  }
} finally {
  await h.close();
  await tts.close?.();
  await supervisor.stop();
}

const row = (name: string, v: number[], mid: number) =>
  `| ${name.padEnd(46)} | ${String(v.length).padStart(2)} | ${String(mid).padStart(3)} | ${
    [50, 95, 100].map((p) => percentile(v, p).toFixed(1).padStart(7)).join(" | ")
  } |`;
console.log(
  `\nfinal transcript -> first audio frame at the client (/ws/stream, loopback), ms; ${CALLS} calls`,
);
console.log(`| ${"path".padEnd(46)} |  N | mid |     p50 |     p95 |     max |`);
console.log(`|${"-".repeat(48)}|----|-----|---------|---------|---------|`);
console.log(row("red flag -> emergency advice (pre-synthesized)", ms.emergency, mid.emergency));
console.log(row("baseline: normal LLM answer (llama-server)", ms.normal, mid.normal));
if (ms.after_probe.length > 0) {
  console.log(row("red flag, answer to an interjection", ms.after_probe, mid.after_probe));
}
console.log(
  `red flag in an answer to an interjection: TOM not cut (no clear within 2 s) in ${notCut} of ${PROBE_CALLS}`,
);
console.log("mid: TOM's audio was still arriving (a frame < 100 ms before the transcript)");
Deno.exit(0);
