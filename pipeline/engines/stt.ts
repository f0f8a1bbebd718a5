/**
 * Choose the speech-to-text adapter for the configured kind: `whisper-server` is
 * {@linkcode WhisperServerStt} (one fair queue shared by every call in front of the STT pool's servers,
 * whisper-cli as fallback when no server is reachable); `none` is `null`.
 *
 * @module
 */
import { type Config, sttPoolUrls } from "../../infra/mod.ts";
import type { SttEngine } from "./types.ts";
import { FairQueue, type QueueEvent } from "./queue.ts";
import { STT_DEFAULTS, WhisperServerStt } from "./whisper_server.ts";

export { FairQueue, type Lease, type QueueEvent, QueueFullError } from "./queue.ts";
export { STT_DEFAULTS, type WhisperServerOptions, WhisperServerStt } from "./whisper_server.ts";
export { pcm16ToWav } from "./stt_wav.ts";

/** Options of {@linkcode createStt} beyond the configuration. */
export interface CreateSttOptions {
  /** Per-request timeout once out of the queue (default 15 s). */
  timeoutMs?: number;
  /** Most waiting requests across all calls (default 32). */
  maxWaiting?: number;
  /** Use whisper-cli when whisper-server is unreachable (default true). */
  cliFallback?: boolean;
  cliTimeoutMs?: number;
  /** Queue events (for metrics). */
  onQueueEvent?: (e: QueueEvent) => void;
  fetch?: typeof fetch;
}

/**
 * Build the configured speech-to-text engine.
 *
 * @param config The loaded configuration (`stt.*`, paths resolved).
 * @returns The engine, or `null` for kind `none`.
 */
export function createStt(config: Pick<Config, "stt">, opts: CreateSttOptions = {}): SttEngine | null {
  const stt = config.stt;
  if (stt.kind === "none") return null;
  const poolUrls = sttPoolUrls(config);
  const queue = new FairQueue({
    concurrency: poolUrls.length,
    maxWaiting: opts.maxWaiting ?? STT_DEFAULTS.maxWaiting,
    onEvent: opts.onQueueEvent,
  });
  const useCli = (opts.cliFallback ?? true) && stt.cliBin !== "" && stt.model !== "";
  return new WhisperServerStt({
    url: stt.url,
    poolUrls,
    language: stt.language,
    timeoutMs: opts.timeoutMs,
    queue,
    cli: useCli
      ? {
        bin: stt.cliBin,
        model: stt.model,
        threads: stt.threads,
        timeoutMs: opts.cliTimeoutMs ?? STT_DEFAULTS.cliTimeoutMs,
      }
      : undefined,
    fetch: opts.fetch,
  });
}
