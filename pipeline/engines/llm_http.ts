/**
 * HTTP plumbing shared by the engine adapters (LLM and STT): turning fetch failures and HTTP statuses into
 * {@linkcode EngineError}s, a resettable watchdog that aborts a request on timeout, and a line splitter
 * for streamed bodies (SSE, NDJSON) that copes with chunks split anywhere.
 *
 * @module
 */
import type { EngineError } from "./types.ts";

type EngineName = EngineError["engine"];

/** Build an error frame's payload. */
export function engineError(
  engine: EngineName,
  kind: EngineError["kind"],
  message: string,
  retryable: boolean,
): EngineError {
  return { engine, kind, message, retryable };
}

/** True when a fetch failure means nothing listens at the address (connection refused, no route). */
export function isConnectFailure(err: unknown): boolean {
  const msg = errorText(err);
  return /connection refused|tcp connect|connect error|ECONNREFUSED|dns error|failed to lookup|os error 111|Name or service not known/i
    .test(msg);
}

/** The message of an error and its causes, joined. */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 4 && cur !== undefined && cur !== null; i++) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(": ");
}

/**
 * Classify a thrown fetch or body-read error (not an abort): refused connections are `unavailable`, a
 * connection that broke after it was made is `crashed`; both are retryable.
 */
export function fetchFailure(engine: EngineName, url: string, err: unknown, started: boolean): EngineError {
  const msg = errorText(err);
  if (!started && isConnectFailure(err)) {
    return engineError(engine, "unavailable", `Cannot reach ${engine} engine at ${url}: ${msg}`, true);
  }
  return engineError(engine, "crashed", `Connection to ${engine} engine at ${url} broke: ${msg}`, true);
}

/**
 * An error for a non-2xx response: 503 (model loading, overloaded) and other 5xx are retryable
 * (`unavailable` / `crashed`), 429 is retryable `rejected`, other 4xx are `rejected` and not retryable.
 */
export function statusFailure(engine: EngineName, url: string, status: number, body: string): EngineError {
  const detail = errorMessageOf(body) ?? body.slice(0, 300).trim();
  const msg = `${engine} engine at ${url} answered HTTP ${status}${detail ? `: ${detail}` : ""}`;
  if (status === 503 || status === 502 || status === 504) {
    return engineError(engine, "unavailable", msg, true);
  }
  if (status >= 500) return engineError(engine, "crashed", msg, true);
  if (status === 429) return engineError(engine, "rejected", msg, true);
  return engineError(engine, "rejected", msg, false);
}

/** The message inside an error JSON body (`{"error":"..."}` or `{"error":{"message":"..."}}`), if any. */
export function errorMessageOf(body: string | unknown): string | undefined {
  let v: unknown = body;
  if (typeof body === "string") {
    try {
      v = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof v !== "object" || v === null || !("error" in v)) return undefined;
  const e = (v as { error: unknown }).error;
  if (typeof e === "string") return e;
  if (typeof e === "object" && e !== null && "message" in e) {
    return String((e as { message: unknown }).message);
  }
  return e === undefined || e === null ? undefined : JSON.stringify(e);
}

/**
 * A watchdog: `arm(ms, why)` (re)starts a timer that aborts `signal` with a {@linkcode TimeoutReason};
 * the caller's own signal aborts it too (with the caller's reason).
 */
export class Watchdog {
  readonly #ac = new AbortController();
  readonly #outer: AbortSignal;
  readonly #onOuterAbort = () => this.#ac.abort(this.#outer.reason);
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the watchdog fired. */
  fired: TimeoutReason | undefined;

  constructor(outer: AbortSignal) {
    this.#outer = outer;
    if (outer.aborted) this.#ac.abort(outer.reason);
    else outer.addEventListener("abort", this.#onOuterAbort, { once: true });
  }

  /** Aborts on timeout or when the caller aborts. */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** (Re)start the timer. */
  arm(ms: number, why: string): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.fired = new TimeoutReason(why, ms);
      this.#ac.abort(this.fired);
    }, ms);
  }

  /** Stop the timer and forget the caller's signal. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#outer.removeEventListener("abort", this.#onOuterAbort);
  }
}

/** Why a {@linkcode Watchdog} aborted. */
export class TimeoutReason extends Error {
  constructor(readonly what: string, readonly ms: number) {
    super(`No ${what} within ${ms} ms`);
    this.name = "TimeoutReason";
  }
}

/**
 * Split a byte stream into text lines (`\n`, `\r\n` or `\r`), however the chunks are cut; the last
 * line is yielded even without a final newline. Cancels the stream when the consumer stops early.
 */
export async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let rest = "";
  let done = false;
  try {
    while (true) {
      const r = await reader.read();
      if (r.done) break;
      rest += decoder.decode(r.value, { stream: true });
      let m: RegExpExecArray | null;
      const re = /\r\n|\n|\r(?!$)/g;
      let from = 0;
      while ((m = re.exec(rest)) !== null) {
        yield rest.slice(from, m.index);
        from = m.index + m[0].length;
      }
      rest = rest.slice(from);
    }
    rest += decoder.decode();
    if (rest.endsWith("\r")) rest = rest.slice(0, -1);
    if (rest !== "") yield rest;
    done = true;
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
