/**
 * Work started before the caller's turn is confirmed (speculative end of turn): the STT of the utterance so
 * far and the reply to it, whose output is held back here until the turn is confirmed. Discarded work never
 * reaches the line: its audio, marks and events are dropped with it, and its tool calls wait for the
 * confirmation (so a discarded reply never stores anything).
 *
 * @module
 */
import type { CallOutput } from "../gateway/mod.ts";
import { emitPipelineEvent, type PipelineEvent } from "../gateway/mod.ts";
import type { EngineError, SttFrame } from "./engines/types.ts";
import type { PipelineMetrics } from "./metrics.ts";
import type { ReplyWork } from "./reply.ts";
import type { Trace } from "./trace.ts";

type Held =
  | { kind: "audio"; pcm: Int16Array; sent?: () => void }
  | { kind: "mark"; name: string }
  | { kind: "event"; event: PipelineEvent };

/** A call output that holds everything until {@linkcode HeldOutput.release}; then it passes through. */
export class HeldOutput implements CallOutput {
  readonly #held: Held[] = [];
  #to: CallOutput | null = null;

  audio(pcm: Int16Array, sent?: () => void): void {
    if (this.#to) return this.#to.audio(pcm, sent);
    this.#held.push({ kind: "audio", pcm, sent });
  }
  mark(name: string): void {
    if (this.#to) return this.#to.mark(name);
    this.#held.push({ kind: "mark", name });
  }
  event(e: PipelineEvent): void {
    if (this.#to) return emitPipelineEvent(this.#to, e);
    this.#held.push({ kind: "event", event: e });
  }
  /** Held work never flushes the line. */
  clear(): void {
    if (this.#to) this.#to.clear();
    else this.#held.length = 0;
  }
  hangup(reason: string): void {
    this.#to?.hangup(reason);
  }
  get queuedMs(): number {
    return this.#to?.queuedMs ?? 0;
  }
  /** Whether anything is held (for tests). */
  get holding(): number {
    return this.#held.length;
  }

  /** Send what was held to `to`, in order, and pass everything through from now on. */
  release(to: CallOutput): void {
    if (this.#to) return;
    this.#to = to;
    for (const h of this.#held.splice(0)) {
      if (h.kind === "audio") to.audio(h.pcm, h.sent);
      else if (h.kind === "mark") to.mark(h.name);
      else emitPipelineEvent(to, h.event);
    }
  }

  /** Drop what was held; nothing is sent any more. */
  drop(): void {
    this.#held.length = 0;
  }
}

/** One speculative end of turn in flight. */
export class Speculation {
  readonly trace: Trace;
  readonly sttAc = new AbortController();
  readonly output = new HeldOutput();
  /** The STT's frames of the utterance so far (set when started). */
  stt: Promise<SttFrame[]> | null = null;
  /** What STT heard; null until it answered (or when it failed). */
  text: string | null = null;
  /** The speculative STT failed: the confirmed turn transcribes again. */
  sttFailed = false;
  /** The utterance that confirmed this turn (speech_end without speech after the pause). */
  utterance: number | null = null;
  /** The reply started on the speculative transcript, and its end (the failure, or null). */
  work: ReplyWork | null = null;
  done: Promise<EngineError | null> | null = null;
  /** The reply's first audio was held (tell the machine on adoption). */
  audible = false;
  #open!: () => void;
  #shut!: (e: Error) => void;
  /** Tool calls wait on this: resolved on adoption, rejected on discard. */
  readonly gate: Promise<void> = new Promise<void>((res, rej) => {
    this.#open = res;
    this.#shut = rej;
  });
  #sttUsed = false;
  #over = false;

  constructor(trace: Trace, readonly metrics?: PipelineMetrics) {
    this.trace = trace;
    this.gate.catch(() => {});
  }

  /** The confirmed turn uses the speculative transcript. */
  useStt(): void {
    if (this.#sttUsed) return;
    this.#sttUsed = true;
    this.metrics?.speculation?.("stt", "used");
  }

  /** The confirmed turn is answered by this reply: its held output goes to `to`, its tool calls run. */
  adopt(to: CallOutput): void {
    if (this.#over) return;
    this.#over = true;
    if (this.work) this.metrics?.speculation?.("llm", "used");
    this.output.release(to);
    this.#open();
  }

  /** The caller spoke on (or the turn went elsewhere): abort and drop everything, count the waste. */
  discard(why: string): void {
    if (this.#over) return;
    this.#over = true;
    const e = new Error(why);
    this.sttAc.abort(e);
    this.work?.ac.abort(e);
    this.output.drop();
    this.#shut(e);
    if (this.stt && !this.#sttUsed) this.metrics?.speculation?.("stt", "wasted");
    if (this.work) this.metrics?.speculation?.("llm", "wasted");
  }
}
