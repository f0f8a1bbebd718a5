/**
 * Turn-taking on VAD probabilities: speech start (after a minimum duration, so clicks and line noise do
 * not count), "long speech" (past the barge-in minimum: not a backchannel), and end of turn (after a
 * configurable silence). Hysteresis between the speech and the silence threshold, as Silero recommends.
 * Pure and synchronous: time comes with each frame.
 *
 * @module
 */
import type { PipelineOptions } from "./defaults.ts";

/** What the detector reports. Times are call milliseconds. */
export type TurnEvent =
  /** `onsetAt`: where the speech began (the first speech frame); `at`: when it was confirmed. */
  | { type: "speech_start"; at: number; onsetAt: number; probability: number }
  | { type: "speech_long"; at: number; onsetAt: number }
  /** `lastSpeechAt`: end of the last speech frame (the caller's last word). */
  | { type: "speech_end"; at: number; onsetAt: number; lastSpeechAt: number }
  /** A sound shorter than `minSpeechMs` (a click, line noise): ignored, reported for the log. */
  | { type: "noise"; at: number; onsetAt: number; durationMs: number };

/** Options of {@linkcode TurnDetector}. */
export type TurnDetectorOptions = Pick<
  PipelineOptions,
  "vadThreshold" | "vadNegThreshold" | "minSpeechMs" | "endOfTurnSilenceMs" | "bargeInMinMs"
>;

/** Turns one stream of VAD probabilities into {@linkcode TurnEvent}s. */
export class TurnDetector {
  readonly #o: TurnDetectorOptions;
  #candidate: number | null = null;
  #onset: number | null = null;
  #long = false;
  #silenceFrom: number | null = null;

  constructor(opts: TurnDetectorOptions) {
    this.#o = opts;
  }

  /** Whether the caller is speaking (confirmed). */
  get speaking(): boolean {
    return this.#onset !== null;
  }

  /**
   * Feed the probability of the next VAD frame.
   *
   * @param probability speech probability 0..1
   * @param at call time of the frame's first sample, ms
   * @param frameMs duration of the frame, ms
   * @returns the events this frame caused (usually none)
   */
  push(probability: number, at: number, frameMs: number): TurnEvent[] {
    const end = at + frameMs;
    const o = this.#o;
    if (this.#onset === null) {
      if (probability < o.vadThreshold) {
        const onsetAt = this.#candidate;
        this.#candidate = null;
        return onsetAt === null ? [] : [{ type: "noise", at, onsetAt, durationMs: at - onsetAt }];
      }
      this.#candidate ??= at;
      if (end - this.#candidate < o.minSpeechMs) return [];
      this.#onset = this.#candidate;
      this.#candidate = null;
      this.#long = false;
      this.#silenceFrom = null;
      const out: TurnEvent[] = [{ type: "speech_start", at: end, onsetAt: this.#onset, probability }];
      if (end - this.#onset >= o.bargeInMinMs) {
        this.#long = true;
        out.push({ type: "speech_long", at: end, onsetAt: this.#onset });
      }
      return out;
    }
    const onsetAt = this.#onset;
    if (probability >= o.vadNegThreshold) {
      this.#silenceFrom = null;
      if (!this.#long && end - onsetAt >= o.bargeInMinMs) {
        this.#long = true;
        return [{ type: "speech_long", at: end, onsetAt }];
      }
      return [];
    }
    this.#silenceFrom ??= at;
    if (end - this.#silenceFrom < o.endOfTurnSilenceMs) return [];
    const lastSpeechAt = this.#silenceFrom;
    this.reset();
    return [{ type: "speech_end", at: end, onsetAt, lastSpeechAt }];
  }

  /** Forget any speech in progress. */
  reset(): void {
    this.#candidate = null;
    this.#onset = null;
    this.#long = false;
    this.#silenceFrom = null;
  }
}
