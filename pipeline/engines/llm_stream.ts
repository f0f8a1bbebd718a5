/**
 * The streaming request loop shared by both LLM adapters (OpenAI-compatible SSE and Ollama's NDJSON):
 * POST a JSON body, check the status, read the body line by line under a first-token and a stall
 * timeout, and hand each line to a protocol parser that returns frames. Aborting by the caller ends the
 * stream quietly and cancels the request, which closes the connection so the server stops generating.
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
        for (const f of frames) {
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
    const closing = o.parser.finish();
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
