/**
 * Piper with espeak-ng as the voice that always works (issue 17, item 5): when Piper's binary or voice is
 * missing, or Piper fails before it ever spoke (it will not start, exits at once), TOM switches to
 * espeak-ng for good, says so once (`onDegraded`) and reports it (`degraded`, read by /readyz) instead of
 * speaking nothing. A Piper that has spoken and then crashes is not switched away from: its adapter
 * restarts it and the call's own error handling (apology, retry) applies.
 *
 * @module
 */
import { ttsFallbackReason } from "../../infra/mod.ts";
import type { TtsEngine, TtsFrame } from "./types.ts";

/** A TTS engine whose voice may have fallen back. */
export interface DegradableTts extends TtsEngine {
  /** Why the fallback voice speaks (German, for staff), or undefined while the configured one does. */
  readonly degraded: string | undefined;
}

/** Piper in front, espeak-ng behind it. */
export class FallbackTts implements DegradableTts {
  #primary: TtsEngine | undefined;
  #fallback: () => TtsEngine;
  #backup: TtsEngine | undefined;
  #degraded: string | undefined;
  #spoke = false;
  #onDegraded: (reason: string) => void;

  /**
   * @param primary the configured engine, or undefined when it cannot be used at all
   * @param fallback makes the espeak-ng engine (once, when first needed)
   * @param opts `why`: the reason when `primary` is undefined; `onDegraded`: called once on the switch
   */
  constructor(
    primary: TtsEngine | undefined,
    fallback: () => TtsEngine,
    opts: { why?: string; onDegraded?: (reason: string) => void } = {},
  ) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#onDegraded = opts.onDegraded ?? (() => {});
    if (!primary) this.#switch(opts.why ?? "nicht konfiguriert");
  }

  get degraded(): string | undefined {
    return this.#degraded;
  }

  get name(): string {
    return this.#degraded ? this.#espeak().name : (this.#primary as TtsEngine).name;
  }

  /** The current engine's rate (read per sentence by the pipeline; the switch happens before any audio). */
  get sampleRate(): number {
    return this.#degraded ? this.#espeak().sampleRate : (this.#primary as TtsEngine).sampleRate;
  }

  #espeak(): TtsEngine {
    return this.#backup ??= this.#fallback();
  }

  #switch(why: string): void {
    if (this.#degraded) return;
    this.#degraded = ttsFallbackReason(why);
    const primary = this.#primary;
    this.#primary = undefined;
    primary?.close?.().catch(() => {});
    this.#onDegraded(this.#degraded);
  }

  async *synthesize(text: string, opts: { signal: AbortSignal; callId?: string }): AsyncGenerator<TtsFrame> {
    if (!this.#degraded && this.#primary) {
      for await (const f of this.#primary.synthesize(text, opts)) {
        if (f.type === "audio") this.#spoke = true;
        const broken = f.type === "error" && !this.#spoke &&
          (f.error.kind === "unavailable" || f.error.kind === "crashed");
        if (!broken) {
          yield f;
          continue;
        }
        this.#switch(f.error.message.split("\n")[0].slice(0, 300));
        break;
      }
      if (!this.#degraded) return;
    }
    yield* this.#espeak().synthesize(text, opts);
  }

  async close(): Promise<void> {
    await this.#primary?.close?.();
    await this.#backup?.close?.();
  }
}
