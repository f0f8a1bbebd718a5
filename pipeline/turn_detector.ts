/**
 * Turn-taking on VAD probabilities: speech start (after a minimum duration, so clicks and line noise do
 * not count), "long speech" (past the barge-in minimum: not a backchannel), and end of turn (after a
 * configurable silence). With speculation, a short pause inside the turn is reported (`pause`) so STT and the
 * LLM can start early, speech after it (`resume`) discards that work, and the silence that ends this turn
 * can be changed while it runs ({@linkcode TurnDetector.setEndSilence}, from the transcript's cues). While
 * speech goes on, `probe` comes every `bargeInProbeMs` (its words decide a barge-in). Hysteresis between the speech and the silence threshold, as Silero recommends.
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
  | { type: "noise"; at: number; onsetAt: number; durationMs: number }
  /** Silence of `speculativePauseMs` inside a turn; `lastSpeechAt` as in `speech_end`. Once per pause. */
  | { type: "pause"; at: number; onsetAt: number; lastSpeechAt: number }
  /** Speech again after a `pause`, before the turn ended. */
  | { type: "resume"; at: number; onsetAt: number }
  /** Another `bargeInProbeMs` of the caller's speech since its onset (the words so far can be checked). */
  | { type: "probe"; at: number; onsetAt: number };

/** Options of {@linkcode TurnDetector}. */
export type TurnDetectorOptions =
  & Pick<
    PipelineOptions,
    "vadThreshold" | "vadNegThreshold" | "minSpeechMs" | "endOfTurnSilenceMs" | "bargeInMinMs"
  >
  & Partial<Pick<PipelineOptions, "speculativePauseMs" | "bargeInProbeMs">>;

/** Turns one stream of VAD probabilities into {@linkcode TurnEvent}s. */
export class TurnDetector {
  readonly #o: TurnDetectorOptions;
  #candidate: number | null = null;
  #onset: number | null = null;
  #long = false;
  #silenceFrom: number | null = null;
  #paused = false;
  #endSilence: number | null = null;
  #probes = 0;

  constructor(opts: TurnDetectorOptions) {
    this.#o = opts;
  }

  /** Whether the caller is speaking (confirmed). */
  get speaking(): boolean {
    return this.#onset !== null;
  }

  /** The silence that ends the current turn from now on (null: `endOfTurnSilenceMs`); reset with the turn. */
  setEndSilence(ms: number | null): void {
    if (this.#onset !== null) this.#endSilence = ms;
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
      this.#paused = false;
      this.#endSilence = null;
      this.#probes = 0;
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
      const out: TurnEvent[] = [];
      if (this.#paused) {
        this.#paused = false;
        this.#endSilence = null;
        out.push({ type: "resume", at: end, onsetAt });
      }
      if (!this.#long && end - onsetAt >= o.bargeInMinMs) {
        this.#long = true;
        out.push({ type: "speech_long", at: end, onsetAt });
      }
      const probe = o.bargeInProbeMs ?? 0;
      if (probe > 0 && end - onsetAt >= (this.#probes + 1) * probe) {
        this.#probes = Math.floor((end - onsetAt) / probe);
        out.push({ type: "probe", at: end, onsetAt });
      }
      return out;
    }
    this.#silenceFrom ??= at;
    const pause = o.speculativePauseMs ?? 0;
    const endSilence = this.#endSilence ?? o.endOfTurnSilenceMs;
    if (end - this.#silenceFrom < endSilence) {
      if (pause > 0 && !this.#paused && end - this.#silenceFrom >= pause) {
        this.#paused = true;
        return [{ type: "pause", at: end, onsetAt, lastSpeechAt: this.#silenceFrom }];
      }
      return [];
    }
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
    this.#paused = false;
    this.#endSilence = null;
    this.#probes = 0;
  }
}
