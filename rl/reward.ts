/**
 * The reward of one call, as the TOM v3 RL system defines it:
 *
 * ```
 * reward = 0.6 * resolution + 0.2 * ((rating - 3) / 2) - 0.1 * min(barge_ins, 3) / 3
 *        - 0.1 * min(repeats, 3) / 3 - 0.1 * handover + clamp((180 - duration_sec) / 180, -0.2, 0.2)
 * ```
 *
 * clamped to [-1, 1]. Every component is kept for the admin UI. Missing signals are explicit: a call
 * without a rating contributes 0 for the rating term (neutral, the same as a 3) and is listed in
 * `missing`; an unknown resolution counts as not resolved (0) and is listed too. Counts default to 0
 * only when the pipeline did not report them, and that is listed as well.
 *
 * @module
 */

/** What the call reports. `undefined` or `null` means the signal is missing. */
export interface RewardSignals {
  /** The caller's concern was resolved (true/false, or a share 0..1). */
  resolution?: boolean | number | null;
  /** Caller rating 1..5 (4.5 allowed). */
  rating?: number | null;
  bargeIns?: number | null;
  repeats?: number | null;
  /** The call was handed over to a human. */
  handover?: boolean | null;
  durationSec?: number | null;
}

/** Name of one term of the reward. */
export type RewardComponentName = "resolution" | "rating" | "bargeIns" | "repeats" | "handover" | "duration";

/** The reward with its terms. */
export interface Reward {
  /** Clamped to [-1, 1]. */
  reward: number;
  /** The sum before clamping. */
  raw: number;
  components: Record<RewardComponentName, number>;
  /** Signals that were absent and how they were treated. */
  missing: RewardComponentName[];
}

/** Weights of the formula. */
export const REWARD_WEIGHTS = Object.freeze({
  resolution: 0.6,
  rating: 0.2,
  bargeIns: 0.1,
  repeats: 0.1,
  handover: 0.1,
  durationCap: 0.2,
  targetDurationSec: 180,
});

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const present = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

function count(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) {
    throw new RangeError(`Cannot compute reward: ${name} must be >= 0, got ${v}`);
  }
  return v;
}

/**
 * Compute the reward of one call.
 *
 * @param signals what the call reported; absent signals are listed in `missing`
 * @returns the clamped reward and its components
 * @throws {RangeError} on a rating outside 1..5, a negative count or duration
 * @example
 * ```ts
 * computeReward({ resolution: true, rating: 5, bargeIns: 0, repeats: 0, handover: false, durationSec: 90 }).reward; // 0.9
 * ```
 */
export function computeReward(signals: RewardSignals): Reward {
  const w = REWARD_WEIGHTS;
  const missing: RewardComponentName[] = [];
  let resolution = 0;
  if (present(signals.resolution)) {
    const r = typeof signals.resolution === "boolean" ? Number(signals.resolution) : signals.resolution;
    if (!(r >= 0 && r <= 1)) throw new RangeError(`Cannot compute reward: resolution must be 0..1, got ${r}`);
    resolution = w.resolution * r;
  } else missing.push("resolution");
  let rating = 0;
  if (present(signals.rating)) {
    const r = signals.rating;
    if (!(r >= 1 && r <= 5)) throw new RangeError(`Cannot compute reward: rating must be 1..5, got ${r}`);
    rating = w.rating * ((r - 3) / 2);
  } else missing.push("rating");
  let bargeIns = 0;
  if (present(signals.bargeIns)) {
    bargeIns = -w.bargeIns * Math.min(count("bargeIns", signals.bargeIns), 3) / 3;
  } else missing.push("bargeIns");
  let repeats = 0;
  if (present(signals.repeats)) repeats = -w.repeats * Math.min(count("repeats", signals.repeats), 3) / 3;
  else missing.push("repeats");
  let handover = 0;
  if (present(signals.handover)) handover = -w.handover * Number(signals.handover);
  else missing.push("handover");
  let duration = 0;
  if (present(signals.durationSec)) {
    const d = count("durationSec", signals.durationSec);
    duration = clamp((w.targetDurationSec - d) / w.targetDurationSec, -w.durationCap, w.durationCap);
  } else missing.push("duration");
  const components = { resolution, rating, bargeIns, repeats, handover, duration };
  const raw = resolution + rating + bargeIns + repeats + handover + duration;
  // Round away float noise (0.1 + 0.2) so table tests and the UI show clean numbers.
  const round = (x: number) => Math.round(x * 1e9) / 1e9;
  for (const k of Object.keys(components) as RewardComponentName[]) components[k] = round(components[k]) + 0;
  return { reward: round(clamp(raw, -1, 1)), raw: round(raw), components, missing };
}

/** Map a reward in [-1, 1] to Beta increments: success share p = (r + 1) / 2 (fractional update). */
export function rewardToBeta(reward: number): { alphaDelta: number; betaDelta: number; reward: number } {
  const r = clamp(reward, -1, 1);
  const p = (r + 1) / 2;
  return { alphaDelta: p, betaDelta: 1 - p, reward: r };
}
