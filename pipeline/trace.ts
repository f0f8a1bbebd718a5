/**
 * One turn's timeline: when each stage happened, relative to the caller's last word (the origin).
 *
 * @module
 */

/** Stage timestamps of one turn (monotonic ms). */
export class Trace {
  readonly origin: number;
  readonly #now: () => number;
  readonly #marks = new Map<string, number>();
  /** Durations that are not stages (e.g. `stt_queue_wait`), ms. */
  readonly #notes = new Map<string, number>();

  /**
   * @param origin when the caller's last word ended (monotonic ms)
   * @param now the clock
   */
  constructor(origin: number, now: () => number) {
    this.origin = origin;
    this.#now = now;
  }

  /** Record a stage (once; later marks of the same stage are ignored). */
  mark(stage: string, at: number = this.#now()): void {
    if (!this.#marks.has(stage)) this.#marks.set(stage, at);
  }

  /** Move a stage already recorded to `at` (a provisional time made exact, e.g. queued -> on the wire). */
  restamp(stage: string, at: number = this.#now()): void {
    if (this.#marks.has(stage)) this.#marks.set(stage, at);
  }

  /** Record a duration that is not a stage (a later note of the same name replaces it). */
  note(name: string, ms: number): void {
    this.#notes.set(name, Math.max(0, Math.round(ms * 10) / 10));
  }

  has(stage: string): boolean {
    return this.#marks.has(stage);
  }

  /** The stage's time; NaN when it has not happened. */
  get(stage: string): number {
    return this.#marks.get(stage) ?? NaN;
  }

  /**
   * Milliseconds from the origin to each recorded stage, plus `voice_to_voice` (= first audio out) and
   * the noted durations.
   */
  latencies(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, t] of this.#marks) out[k] = Math.max(0, Math.round((t - this.origin) * 10) / 10);
    if (out.first_audio_out !== undefined) out.voice_to_voice = out.first_audio_out;
    for (const [k, ms] of this.#notes) out[k] = ms;
    return out;
  }
}
