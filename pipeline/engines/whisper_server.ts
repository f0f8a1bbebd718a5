/**
 * Speech to text through whisper.cpp's `whisper-server` (model loaded once and kept in memory by the
 * server itself: there is nothing to keep warm). whisper-server serves one request at a time, so every
 * call shares one {@linkcode FairQueue}: one request in flight per server of the STT pool
 * ({@linkcode SttPool}), waiting requests served round-robin by call id, removed from the queue when
 * aborted.
 *
 * Per utterance: wait for the slot (yield `queued` with the wait when there was one), then
 * `POST {url}/inference` multipart (`file` = WAV built in memory, `response_format=json`, `language`,
 * `temperature=0`; timestamps stay on: with `no_timestamps` the
 * decoder has no segment end to stop at and a weak model runs to its token limit) and yield `final` with `{"text": ...}` trimmed.
 *
 * Failures become error frames: no answer within `timeoutMs` -> `timeout` (retryable); connection refused
 * -> `unavailable` (retryable); connection broken mid-request (server crashed) -> `crashed` (retryable);
 * 5xx -> retryable, 4xx -> `rejected`; queue full -> `rejected` (retryable).
 *
 * Fallback to whisper-cli (when `cli` is configured): ONLY when the server is unreachable (connection
 * refused: not started, restarting after a crash, or stopped). Not on timeout (the server is busy or slow;
 * a CLI run would compete for the same CPU/GPU and load the model cold, making things worse), not on a
 * crash mid-request (the supervisor restarts the server within a second; the call may retry) and not on
 * 4xx. The CLI run holds the same queue slot, so fallbacks are serialized and stay fair too.
 *
 * Aborting a running request closes its connection and frees the slot at once; whisper-server itself
 * finishes the utterance it was decoding (it has no cancel), so the next request may wait at the server
 * for up to one utterance's time (that shows in its `processingMs`, not in `waitMs`).
 *
 * @module
 */
import type { EngineError, SttEngine, SttFrame } from "./types.ts";
import { FairQueue, QueueFullError } from "./queue.ts";
import { engineError, errorMessageOf, fetchFailure, statusFailure, Watchdog } from "./llm_http.ts";
import { pcm16ToWav } from "./stt_wav.ts";
import { runWhisperCli } from "./whisper_cli.ts";
import { SttPool } from "./stt_pool.ts";

/** Defaults, with the reason for each. */
export const STT_DEFAULTS = {
  /** tiny on 2 CPU cores: 0.5-0.8 s per utterance; base 1.8 s; a GPU < 0.3 s. 15 s is a stuck server. */
  timeoutMs: 15_000,
  /** whisper-cli loads the model for each run (seconds for large models). */
  cliTimeoutMs: 60_000,
  /** Waiting requests across all calls before new ones are refused (about 30 s of queue at 1 s each). */
  maxWaiting: 32,
  language: "de",
} as const;

/** One try on one member: the text, the failure, or `null` when aborted. */
type Inference = { text: string } | { error: EngineError } | null;

/** Options of {@linkcode WhisperServerStt}. */
export interface WhisperServerOptions {
  /** Base URL of whisper-server, e.g. `http://127.0.0.1:8178`. */
  url: string;
  /**
   * Base URLs of every STT pool member, `url` first (default: `url` alone). The queue serves one request
   * per member that is up; a request that cannot reach its member or loses it mid-way is tried on another
   * ({@linkcode SttPool}).
   */
  poolUrls?: readonly string[];
  /** Default language (default `de`). */
  language?: string;
  /** Per-request timeout once the request left the queue (default 15 s). */
  timeoutMs?: number;
  /** The shared queue (default: a new one with one slot); pass one to share it between engines. */
  queue?: FairQueue;
  /** whisper-cli fallback, used only when the server is unreachable. */
  cli?: { bin: string; model: string; threads?: number; timeoutMs?: number };
  /** Sample rate of the PCM handed in (default 16000). */
  sampleRate?: number;
  fetch?: typeof fetch;
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
}

/** whisper-server behind a fair queue, with whisper-cli as fallback. */
export class WhisperServerStt implements SttEngine {
  readonly name = "whisper-server";
  /** The queue every call shares. */
  readonly queue: FairQueue;
  /** The members behind the queue. */
  readonly pool: SttPool;
  readonly #o: WhisperServerOptions;
  readonly #now: () => number;
  /** Requests sent to the server, and fallbacks run (for tests and metrics). */
  readonly counts = { server: 0, cli: 0 };

  constructor(opts: WhisperServerOptions) {
    if (!/^https?:\/\//.test(opts.url)) {
      throw new TypeError(
        `Cannot create WhisperServerStt: url must be http(s), got ${JSON.stringify(opts.url)}`,
      );
    }
    const t = opts.timeoutMs ?? STT_DEFAULTS.timeoutMs;
    if (!(t > 0)) throw new RangeError(`Cannot create WhisperServerStt: timeoutMs must be > 0, got ${t}`);
    this.#o = opts;
    this.queue = opts.queue ?? new FairQueue({ concurrency: 1, maxWaiting: STT_DEFAULTS.maxWaiting });
    this.#now = opts.now ?? (() => performance.now());
    const urls = opts.poolUrls?.length ? opts.poolUrls : [opts.url];
    for (const u of urls) {
      if (!/^https?:\/\//.test(u)) {
        throw new TypeError(
          `Cannot create WhisperServerStt: pool url must be http(s), got ${JSON.stringify(u)}`,
        );
      }
    }
    this.pool = new SttPool(urls.map((u) => `${u.replace(/\/+$/, "")}/inference`), this.queue, this.#now);
  }

  /** Transcribe one utterance (16 kHz mono PCM16). Never throws; aborting ends quietly. */
  async *transcribe(
    pcm: Int16Array,
    opts: { signal: AbortSignal; language?: string; callId?: string },
  ): AsyncGenerator<SttFrame> {
    const { signal } = opts;
    const language = opts.language ?? this.#o.language ?? STT_DEFAULTS.language;
    let lease;
    try {
      lease = await this.queue.acquire(opts.callId ?? "", signal);
    } catch (err) {
      if (err instanceof QueueFullError) {
        return yield { type: "error", error: engineError("stt", "rejected", err.message, true) };
      }
      throw err;
    }
    if (lease === null) return;
    // The work runs on its own once the slot is granted and gives the slot back when it ends, so a
    // consumer that stops pulling (without aborting) cannot hold the engine; leaving the loop cancels it.
    const inner = new AbortController();
    const onAbort = () => inner.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) inner.abort();
    const work = this.#work(pcm, language, inner.signal).finally(() => {
      signal.removeEventListener("abort", onAbort);
      lease.release();
    });
    try {
      if (lease.waited && !signal.aborted) yield { type: "queued", waitMs: Math.round(lease.waitMs) };
      const frame = await work;
      if (frame !== null && !signal.aborted) yield frame;
    } finally {
      inner.abort();
    }
  }

  /** One utterance on the engine (holding the slot): the final or error frame, `null` when aborted. */
  async #work(pcm: Int16Array, language: string, signal: AbortSignal): Promise<SttFrame | null> {
    try {
      return await this.#attempt(pcm, language, signal);
    } catch (err) {
      if (signal.aborted) return null;
      const msg = err instanceof Error ? err.message : String(err);
      return { type: "error", error: engineError("stt", "crashed", `Transcription failed: ${msg}`, true) };
    }
  }

  async #attempt(pcm: Int16Array, language: string, signal: AbortSignal): Promise<SttFrame | null> {
    if (signal.aborted) return null;
    const started = this.#now();
    // A member that cannot be reached or breaks the request is marked down and the utterance goes to
    // another one (its slot stays held); with one member this is the single try it always was.
    const tried = new Set<number>();
    let failed: EngineError | undefined;
    for (let m = this.pool.take(tried); m !== null; m = this.pool.take(tried)) {
      tried.add(m);
      let r: Inference = null;
      try {
        r = await this.#inference(this.pool.members[m].url, pcm, language, signal);
      } finally {
        const lost = r !== null && "error" in r &&
          (r.error.kind === "unavailable" || r.error.kind === "crashed");
        this.pool.give(m, r === null ? undefined : !lost);
      }
      if (signal.aborted || r === null) return null;
      if ("text" in r) {
        return { type: "final", text: r.text, language, processingMs: Math.round(this.#now() - started) };
      }
      failed = r.error;
      if (r.error.kind !== "unavailable" && r.error.kind !== "crashed") break;
    }
    const r = { error: failed ?? engineError("stt", "unavailable", "No STT pool member left to try", true) };
    if (r.error.kind !== "unavailable" || !this.#o.cli) return { type: "error", error: r.error };
    this.counts.cli++;
    const cli = await runWhisperCli(pcm, { ...this.#o.cli, language, signal });
    if (signal.aborted || cli === null) return null;
    if ("error" in cli) {
      return {
        type: "error",
        error: { ...cli.error, message: `${r.error.message}; fallback failed: ${cli.error.message}` },
      };
    }
    return {
      type: "final",
      text: cli.text,
      language: cli.language ?? language,
      processingMs: Math.round(this.#now() - started),
    };
  }

  async #inference(
    url: string,
    pcm: Int16Array,
    language: string,
    signal: AbortSignal,
  ): Promise<Inference> {
    const form = new FormData();
    form.append(
      "file",
      new Blob([pcm16ToWav(pcm, this.#o.sampleRate ?? 16_000)], { type: "audio/wav" }),
      "u.wav",
    );
    form.append("response_format", "json");
    form.append("language", language);
    form.append("temperature", "0");
    const timeoutMs = this.#o.timeoutMs ?? STT_DEFAULTS.timeoutMs;
    const dog = new Watchdog(signal);
    dog.arm(timeoutMs, "transcript");
    let connected = false;
    try {
      this.counts.server++;
      const res = await (this.#o.fetch ?? fetch)(url, {
        method: "POST",
        body: form,
        signal: dog.signal,
      });
      connected = true;
      const body = await res.text();
      if (!res.ok) return { error: statusFailure("stt", url, res.status, body) };
      const err = errorMessageOf(body);
      if (err !== undefined) {
        return { error: engineError("stt", "bad_response", `whisper-server: ${err}`, true) };
      }
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        return {
          error: engineError(
            "stt",
            "bad_response",
            `whisper-server sent no JSON: ${body.slice(0, 200)}`,
            true,
          ),
        };
      }
      const text = (json as { text?: unknown }).text;
      if (typeof text !== "string") {
        return {
          error: engineError(
            "stt",
            "bad_response",
            `whisper-server JSON has no text: ${body.slice(0, 200)}`,
            true,
          ),
        };
      }
      return { text: text.trim() };
    } catch (err) {
      if (signal.aborted) return null;
      if (dog.fired) {
        return { error: engineError("stt", "timeout", `whisper-server: ${dog.fired.message}`, true) };
      }
      return { error: fetchFailure("stt", url, err, connected) };
    } finally {
      dog.dispose();
    }
  }
}
