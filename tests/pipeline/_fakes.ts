// Deterministic, abortable fakes of the engine adapters and the transport, for the pipeline's tests.
import type {
  Answerer,
  CallContext,
  CallEvent,
  CallHandler,
  CallOutput,
} from "../../gateway/call/contract.ts";
import type { PipelineEvent } from "../../gateway/call/messages.ts";
import { silentLogger } from "../../infra/log.ts";
import { PhraseCache } from "../../pipeline/phrases.ts";
import { type PhraseName, PHRASES } from "../../pipeline/texts.ts";
import type {
  ChatMessage,
  LlmEngine,
  LlmFrame,
  SttEngine,
  SttFrame,
  TtsEngine,
  TtsFrame,
  Vad,
} from "../../pipeline/engines/types.ts";

export type Behaviour = "ok" | "hang" | "error" | "throw";

const tick = () => new Promise<void>((r) => setTimeout(r, 0));
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      r();
    }, { once: true });
  });

/** STT answering from a script of texts (one per utterance), or failing as told. */
export class FakeStt implements SttEngine {
  readonly name = "fake-stt";
  texts: string[];
  behaviours: Behaviour[] = [];
  calls: number[] = [];
  constructor(texts: string[]) {
    this.texts = [...texts];
  }
  async *transcribe(pcm: Int16Array, opts: { signal: AbortSignal }): AsyncIterable<SttFrame> {
    this.calls.push(pcm.length);
    const b = this.behaviours.shift() ?? "ok";
    await tick();
    if (b === "hang") return void (await sleep(60_000, opts.signal));
    if (b === "throw") throw new Error("stt process died");
    if (b === "error") {
      yield { type: "error", error: { engine: "stt", kind: "crashed", message: "boom", retryable: true } };
      return;
    }
    yield { type: "queued", waitMs: 3 };
    if (opts.signal.aborted) return;
    yield { type: "final", text: this.texts.shift() ?? "", processingMs: 1 };
  }
}

/** LLM streaming a scripted answer word by word. */
/** A scripted answer with tool calls (as a model forced to call a tool would answer). */
export interface ScriptedToolAnswer {
  text?: string;
  calls: { name: string; args: Record<string, unknown> }[];
}

export class FakeLlm implements LlmEngine {
  readonly name = "fake-llm";
  answers: (string | ScriptedToolAnswer)[];
  behaviours: Behaviour[] = [];
  requests: ChatMessage[][] = [];
  /** Whether each request offered tools. */
  offeredTools: boolean[] = [];
  aborted = 0;
  constructor(answers: (string | ScriptedToolAnswer)[]) {
    this.answers = [...answers];
  }
  async *chat(
    messages: ChatMessage[],
    opts: { signal: AbortSignal; tools?: unknown[] },
  ): AsyncIterable<LlmFrame> {
    this.requests.push(messages);
    this.offeredTools.push((opts.tools?.length ?? 0) > 0);
    opts.signal.addEventListener("abort", () => this.aborted++, { once: true });
    const b = this.behaviours.shift() ?? "ok";
    await tick();
    if (b === "hang") {
      await sleep(60_000, opts.signal);
      return;
    }
    if (b === "throw") throw new Error("llm process died");
    if (b === "error") {
      yield {
        type: "error",
        error: { engine: "llm", kind: "unavailable", message: "down", retryable: true },
      };
      return;
    }
    const next = this.answers.shift() ?? "Gern.";
    const answer = typeof next === "string" ? next : next.text ?? "";
    let n = 0;
    for (const w of answer.split(/(?<= )/)) {
      if (opts.signal.aborted) return;
      await tick();
      n++;
      yield { type: "token", text: w };
    }
    if (typeof next !== "string") {
      for (const [i, c] of next.calls.entries()) {
        const raw = JSON.stringify(c.args);
        yield { type: "tool_call", id: `call_${i}`, name: c.name, args: c.args, raw };
      }
    }
    yield { type: "done", finishReason: typeof next === "string" ? "stop" : "tool_calls", tokens: n };
  }
}

/** TTS producing 10 ms of audio per character at 16 kHz, in 2 chunks. */
export class FakeTts implements TtsEngine {
  readonly name = "fake-tts";
  readonly sampleRate = 16_000;
  behaviours: Behaviour[] = [];
  texts: string[] = [];
  async *synthesize(text: string, opts: { signal: AbortSignal }): AsyncIterable<TtsFrame> {
    this.texts.push(text);
    const b = this.behaviours.shift() ?? "ok";
    await tick();
    if (b === "hang") return void (await sleep(60_000, opts.signal));
    if (b === "throw") throw new Error("tts process died");
    if (b === "error") {
      yield { type: "error", error: { engine: "tts", kind: "crashed", message: "gone", retryable: true } };
      return;
    }
    const n = text.length * 160;
    for (let part = 0; part < 2; part++) {
      if (opts.signal.aborted) return;
      yield { type: "audio", pcm: new Int16Array(n / 2).fill(1000) };
      await tick();
    }
    yield { type: "done" };
  }
}

/** VAD: loud frames are speech. */
export class FakeVad implements Vad {
  readonly frameSamples = 512;
  disposed = false;
  process(frame: Float32Array): Promise<number> {
    let peak = 0;
    for (const x of frame) peak = Math.max(peak, Math.abs(x));
    return Promise.resolve(peak > 0.05 ? 0.95 : 0.02);
  }
  reset(): void {}
  dispose(): void {
    this.disposed = true;
  }
}

/** What the transport saw, in order. */
export type OutRecord =
  | { kind: "audio"; samples: number }
  | { kind: "mark"; name: string }
  | { kind: "clear" }
  | { kind: "hangup"; reason: string }
  | { kind: "event"; event: PipelineEvent };

/** A transport that records everything and plays marks back when told. */
export class FakeOutput implements CallOutput {
  log: OutRecord[] = [];
  pendingMarks: string[] = [];
  queuedMs = 0;
  /** Acknowledge marks on the next macrotask, as if playback were instant. */
  autoPlay = false;
  handler: { handle(e: CallEvent): void } | null = null;
  audio(pcm: Int16Array): void {
    this.log.push({ kind: "audio", samples: pcm.length });
  }
  mark(name: string): void {
    this.log.push({ kind: "mark", name });
    this.pendingMarks.push(name);
    if (this.autoPlay) setTimeout(() => this.play(), 0);
  }
  clear(): void {
    this.log.push({ kind: "clear" });
    const marks = this.pendingMarks;
    this.pendingMarks = [];
    for (const name of marks) this.handler?.handle({ type: "mark", name, cleared: true });
  }
  hangup(reason: string): void {
    this.log.push({ kind: "hangup", reason });
  }
  event(e: PipelineEvent): void {
    this.log.push({ kind: "event", event: e });
  }
  /** Play everything queued: marks come back uncleared. */
  play(): void {
    const marks = this.pendingMarks;
    this.pendingMarks = [];
    for (const name of marks) this.handler?.handle({ type: "mark", name, cleared: false });
  }
  events(): PipelineEvent[] {
    return this.log.flatMap((r) => (r.kind === "event" ? [r.event] : []));
  }
  types(): string[] {
    return this.log.map((r) => (r.kind === "event" ? r.event.type : r.kind));
  }
}

export function fakeContext(output: FakeOutput, ac = new AbortController()): CallContext {
  return {
    callId: "call-1",
    transport: "browser",
    direction: "inbound",
    accountId: "account-1",
    personId: null,
    output,
    log: silentLogger,
    signal: ac.signal,
  };
}

/** A phrase cache holding every fixed phrase as 10 ms of silence, so no call waits for their synthesis. */
export function silentPhrases(tts: TtsEngine): PhraseCache {
  const phrases = new PhraseCache(tts);
  for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(160));
  return phrases;
}

/**
 * An inbound browser call answered by `answer`, started and waited on until the caller has heard the
 * greeting; the output plays every sound at once (autoPlay). End it with `stop` and `ac.abort()`.
 */
export async function greetedCall(
  answer: Answerer,
  ctx: Pick<CallContext, "callId" | "accountId" | "personId" | "callerId" | "identity">,
): Promise<{ out: FakeOutput; handler: CallHandler; ac: AbortController }> {
  const out = new FakeOutput();
  out.autoPlay = true;
  const ac = new AbortController();
  const handler = answer({
    ...ctx,
    transport: "browser",
    direction: "inbound",
    output: out,
    log: silentLogger,
    signal: ac.signal,
  });
  out.handler = handler;
  handler.handle({
    type: "start",
    callId: ctx.callId,
    transport: "browser",
    direction: "inbound",
    peerRate: 16000,
    meta: {},
  });
  await until(
    () => out.log.some((r) => r.kind === "mark" && r.name.startsWith("tom:p:greeting")),
    "greeting",
  );
  return { out, handler, ac };
}

/** Feeds 20 ms frames with increasing call time. */
export class Caller {
  atMs = 0;
  constructor(readonly handler: { handle(e: CallEvent): void }) {}
  frames(ms: number, loud: boolean): void {
    for (let t = 0; t < ms; t += 20) {
      this.handler.handle({ type: "audio", pcm: new Int16Array(320).fill(loud ? 8000 : 0), atMs: this.atMs });
      this.atMs += 20;
    }
  }
  /** Speak for `ms`, then be silent long enough to end the turn. */
  say(ms: number, silenceMs = 700): void {
    this.frames(ms, true);
    this.frames(silenceMs, false);
  }
}

/** Wait until `cond` holds (polling every few ms; fails after `limitMs` of real time). */
export async function until(cond: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > limitMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
