/**
 * The streaming request loop shared by both LLM adapters (OpenAI-compatible SSE and Ollama's NDJSON):
 * POST a JSON body, check the status, read the body line by line under a first-token and a stall
 * timeout, and hand each line to a protocol parser that returns frames. Aborting by the caller ends the
 * stream quietly and cancels the request, which closes the connection so the server stops generating.
 *
 * A reasoning trace a model writes into its answer (`<think>…</think>` before the words, as Qwen3 and
 * DeepSeek-R1 do where the server does not take it apart) is dropped, never spoken: TOM turns thinking off
 * on every request (llm.ts), but a server of the practice's own (`llm.kind: openai`) may ignore that. Such a
 * trace is no first token: the first-token timeout still bounds the caller's silence.
 *
 * @module
 */
import type { LlmFrame } from "./types.ts";
import { engineError, fetchFailure, lines, statusFailure, TimeoutReason, Watchdog } from "./llm_http.ts";

/** Timeouts of a streamed chat request. */
export interface StreamTimeouts {
  /** From sending the request to the first token (includes prompt processing). */
  firstTokenMs: number;
  /** Longest silence between two lines of the stream once the first token arrived. */
  stallMs: number;
}

/** Parses a stream line by line (keeping its own state: token count, partial events). */
export interface LineParser {
  /**
   * One line (without its line break): frames to emit, whether the stream is finished, and whether the
   * line carried output that is not a frame yet (a tool call fragment: it counts as a first token).
   */
  line(line: string): { frames: LlmFrame[]; end?: boolean; progress?: boolean };
  /** The body ended without an explicit end: the frames that close it (none: the stream broke off). */
  finish(): LlmFrame[];
}

/** Options of {@linkcode streamChat}. */
export interface StreamChatOptions extends StreamTimeouts {
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  signal: AbortSignal;
  /** Fresh parser for this request (keeps its own state: token count, partial events). */
  parser: LineParser;
  /** Fetch implementation (tests). */
  fetch?: typeof fetch;
}

/**
 * Run one streamed chat request; yields token and tool call frames, then `done` (or one error frame).
 * Never throws; aborting `signal` ends the iteration without a frame.
 */
export async function* streamChat(o: StreamChatOptions): AsyncGenerator<LlmFrame> {
  if (o.signal.aborted) return;
  const dog = new Watchdog(o.signal);
  let res: Response | undefined;
  let gotToken = false;
  const thoughts = new LeadingThoughts();
  const timeoutFrame = (): LlmFrame => {
    const why = dog.fired as TimeoutReason;
    return { type: "error", error: engineError("llm", "timeout", `${why.message} from ${o.url}`, true) };
  };
  try {
    dog.arm(o.firstTokenMs, "first token");
    try {
      res = await (o.fetch ?? fetch)(o.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", ...o.headers },
        body: JSON.stringify(o.body),
        signal: dog.signal,
      });
    } catch (err) {
      if (o.signal.aborted) return;
      if (dog.fired) return yield timeoutFrame();
      return yield { type: "error", error: fetchFailure("llm", o.url, err, false) };
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      if (o.signal.aborted) return;
      return yield { type: "error", error: statusFailure("llm", o.url, res.status, text) };
    }
    if (!res.body) {
      return yield {
        type: "error",
        error: engineError("llm", "bad_response", `Empty body from ${o.url}`, true),
      };
    }
    try {
      for await (const line of lines(res.body)) {
        if (o.signal.aborted) return;
        const { frames, end, progress } = o.parser.line(line);
        if (progress) gotToken = true;
        for (const f of thoughts.frames(frames)) {
          if ((f.type === "token" || f.type === "tool_call") && !gotToken) gotToken = true;
          yield f;
          if (o.signal.aborted) return;
          if (f.type === "done" || f.type === "error") return;
        }
        if (end) return;
        if (gotToken) dog.arm(o.stallMs, "next token");
      }
    } catch (err) {
      if (o.signal.aborted) return;
      if (dog.fired) return yield timeoutFrame();
      return yield { type: "error", error: fetchFailure("llm", o.url, err, true) };
    }
    if (o.signal.aborted) return;
    const closing = thoughts.frames(o.parser.finish());
    if (closing.length > 0) return yield* closing;
    yield {
      type: "error",
      error: engineError("llm", "crashed", `Stream from ${o.url} ended before it was done`, true),
    };
  } finally {
    dog.dispose();
    // An abandoned body keeps the connection (and the server's slot) busy: cancel it.
    if (res?.body && !res.bodyUsed) await res.body.cancel().catch(() => {});
  }
}

/**
 * Drops a reasoning trace at the start of an answer: `<think>` (after optional white space) up to and
 * including `</think>` and the white space after it. Text that only might begin the tag is held back until
 * it is clear; inside the trace at most the length of the closing tag is kept. Anything else passes as is.
 */
export class LeadingThoughts {
  #state: "start" | "inside" | "after" | "answer" = "start";
  #held = "";

  /**
   * `frames` with the trace taken out of their tokens (a token left empty is dropped); before the end
   * (`done`), text held back as a possible tag that never became one.
   */
  frames(frames: LlmFrame[]): LlmFrame[] {
    if (this.#state === "answer") return frames; // past the start: every later token passes untouched
    const out: LlmFrame[] = [];
    for (const f of frames) {
      if (f.type === "done" && this.#state === "start" && this.#held !== "") {
        out.push({ type: "token", text: this.#answer(this.#held) });
      }
      if (f.type !== "token") out.push(f);
      else {
        const text = this.push(f.text);
        if (text !== "") out.push({ ...f, text });
      }
    }
    return out;
  }

  /** The part of `text` that is answer (possibly ""). */
  push(text: string): string {
    if (this.#state === "answer") return text;
    this.#held += text;
    if (this.#state === "start") {
      const t = this.#held.trimStart();
      if (t.length < OPEN.length && OPEN.startsWith(t)) return "";
      if (!t.startsWith(OPEN)) return this.#answer(this.#held);
      this.#state = "inside";
      this.#held = t.slice(OPEN.length);
    }
    if (this.#state === "inside") {
      const end = this.#held.indexOf(CLOSE);
      if (end < 0) {
        this.#held = this.#held.slice(-(CLOSE.length - 1));
        return "";
      }
      this.#state = "after";
      this.#held = this.#held.slice(end + CLOSE.length);
    }
    const rest = this.#held.trimStart();
    if (rest === "") {
      this.#held = "";
      return "";
    }
    return this.#answer(rest);
  }

  #answer(text: string): string {
    this.#state = "answer";
    this.#held = "";
    return text;
  }
}

const OPEN = "<think>";
const CLOSE = "</think>";
