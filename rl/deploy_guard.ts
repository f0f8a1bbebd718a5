/**
 * The deploy guard: which arms may take how much traffic, and when a variant is blacklisted.
 *
 * Definitions (per bandit context; counts are rewards received, i.e. `bandit_state.pulls`):
 * - **base**: the production variant (`baseVariant` of the variants file). Never capped.
 * - **new**: fewer than `newPulls` (20) rewards. At most `newMaxShare` (10%) of the selections window.
 * - **uncertain**: not new, and the 95% credible interval of its mean reward (Beta posterior mapped to
 *   -1..1) is wider than `uncertainCiWidth` (0.6; about 30 rewards). At most `uncertainMaxShare` (5%).
 * - **established**: everything else. Not capped.
 *
 * Traffic share: selections of the arm among the last `windowSize` (200) selections of the context,
 * counting the one being made: `(count + 1) / min(selections + 1, windowSize)`. An arm whose share
 * would exceed its cap is not a candidate for this call, so the cap holds by construction (the base
 * variant is always a candidate). The window is kept in memory and restored from the `calls` table
 * (policy_variant_id, bandit_context) after a restart.
 *
 * Blacklist: a variant whose mean reward is below `blacklistMean` (-0.2) after at least
 * `blacklistMinPulls` (20) rewards in any context is blacklisted globally; an administrator lifts it
 * with `clearBlacklist` (store) or {@linkcode PolicyBandit.reenable}.
 *
 * @module
 */
import { betaSummary } from "./random.ts";

/** Thresholds of the guard (seed: traffic_split 0.1 / 0.05, blacklist -0.2 after 20). */
export interface GuardOptions {
  newMaxShare: number;
  uncertainMaxShare: number;
  newPulls: number;
  uncertainCiWidth: number;
  windowSize: number;
  blacklistMean: number;
  blacklistMinPulls: number;
  /** Probability of giving the call to a new arm under its cap (so every new arm gets judged). */
  exploreNew: number;
}

/** The defaults, with their reasons in {@linkcode GuardOptions} and the module doc. */
export const DEFAULT_GUARD: Readonly<GuardOptions> = Object.freeze({
  newMaxShare: 0.1,
  uncertainMaxShare: 0.05,
  newPulls: 20,
  uncertainCiWidth: 0.6,
  windowSize: 200,
  blacklistMean: -0.2,
  blacklistMinPulls: 20,
  exploreNew: 0.1,
});

/** Merge and check guard options. @throws {RangeError} on a value out of range */
export function resolveGuard(opts: Partial<GuardOptions> = {}): GuardOptions {
  const g = { ...DEFAULT_GUARD, ...opts };
  const check = (k: keyof GuardOptions, lo: number, hi: number) => {
    if (!(g[k] >= lo && g[k] <= hi)) {
      throw new RangeError(`Cannot use guard option ${k}: need a number from ${lo} to ${hi}, got ${g[k]}`);
    }
  };
  check("newMaxShare", 0, 1);
  check("uncertainMaxShare", 0, 1);
  check("newPulls", 0, 1e6);
  check("uncertainCiWidth", 0, 2);
  check("windowSize", 1, 1e6);
  check("blacklistMean", -1, 1);
  check("blacklistMinPulls", 1, 1e6);
  check("exploreNew", 0, 1);
  return g;
}

/** Guard state of an arm. */
export type GuardState = "base" | "new" | "uncertain" | "established" | "blacklisted" | "disabled";

/** Posterior numbers of an arm (rewards in -1..1). */
export interface ArmStats {
  pulls: number;
  alpha: number;
  beta: number;
  rewardSum: number;
}

/** Mean reward and its 95% credible interval on the reward scale -1..1. */
export function armInterval(
  arm: Pick<ArmStats, "alpha" | "beta">,
): { mean: number; low: number; high: number } {
  const s = betaSummary(arm.alpha, arm.beta);
  return { mean: 2 * s.mean - 1, low: 2 * s.low - 1, high: 2 * s.high - 1 };
}

/** The guard state of an enabled, not blacklisted arm. */
export function guardState(arm: ArmStats, isBase: boolean, g: GuardOptions): GuardState {
  if (isBase) return "base";
  if (arm.pulls < g.newPulls) return "new";
  const ci = armInterval(arm);
  return ci.high - ci.low > g.uncertainCiWidth ? "uncertain" : "established";
}

/** The traffic cap of a state (1: none). */
export function trafficCap(state: GuardState, g: GuardOptions): number {
  if (state === "new") return g.newMaxShare;
  if (state === "uncertain") return g.uncertainMaxShare;
  if (state === "blacklisted" || state === "disabled") return 0;
  return 1;
}

/** Why the variant must be blacklisted, or undefined. */
export function blacklistReason(arm: ArmStats, g: GuardOptions): string | undefined {
  if (arm.pulls < g.blacklistMinPulls) return undefined;
  const mean = arm.rewardSum / arm.pulls;
  return mean < g.blacklistMean
    ? `Mean reward ${mean.toFixed(3)} below ${g.blacklistMean} after ${arm.pulls} rewards`
    : undefined;
}
