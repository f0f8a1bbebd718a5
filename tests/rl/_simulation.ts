// A seeded bandit simulation with arms of known mean reward: shared by the test and the bench.
import { openStore } from "../../store/db.ts";
import { upsertVariant } from "../../store/bandit.ts";
import { PolicyBandit } from "../../rl/bandit.ts";
import { mulberry32, sampleNormal } from "../../rl/random.ts";

/** Arm means: base, the best, others, a planted bad arm; `late` joins at pull `lateAt`. */
export const SIM_ARMS: Record<string, number> = {
  base: 0.2,
  best: 0.55,
  good: 0.35,
  mid: 0.25,
  low: 0.1,
  zero: 0.0,
  bad: -0.6,
};
export const LATE_ARM = { id: "late", mean: 0.3 };

/** Figures of one run. */
export interface SimResult {
  pulls: number;
  bestShareLast500: number;
  regretAt: Record<number, number>;
  /** Highest window share an arm had right after a selection made while it was new. */
  maxNewShare: number;
  maxNewShareLate: number;
  /** Rewards the bad arm had received when it was blacklisted (undefined: never). */
  badBlacklistedAtPulls?: number;
  explorationShare: number;
  selections: Record<string, number>;
}

/** Run `pulls` calls with the given seed; rewards are mean + N(0, 0.3), clamped to -1..1. */
export function simulate(seed: number, pulls = 2000, lateAt = 1000): SimResult {
  let t = 0;
  const store = openStore(":memory:", { clock: () => 1_700_000_000_000 + t * 1000 });
  for (const id of Object.keys(SIM_ARMS)) upsertVariant(store, { id, name: id });
  const random = mulberry32(seed);
  const bandit = new PolicyBandit(store, { baseVariant: "base", random, restoreWindow: false });
  const means: Record<string, number> = { ...SIM_ARMS };
  const bestMean = Math.max(...Object.values(SIM_ARMS), LATE_ARM.mean);
  const chosen: string[] = [];
  let regret = 0;
  const regretAt: Record<number, number> = {};
  let maxNewShare = 0;
  let maxNewShareLate = 0;
  let badBlacklistedAtPulls: number | undefined;
  let explorations = 0;
  const W = bandit.guard.windowSize;
  for (t = 1; t <= pulls; t++) {
    if (t === lateAt) {
      upsertVariant(store, { id: LATE_ARM.id, name: LATE_ARM.id });
      means[LATE_ARM.id] = LATE_ARM.mean;
    }
    const d = bandit.select("clinical");
    if (!d) throw new Error("No variant selected");
    chosen.push(d.variantId);
    if (d.explore) explorations++;
    const recent = chosen.slice(-Math.min(chosen.length, W));
    for (const c of d.candidates) {
      if (c.state !== "new") continue;
      const share = recent.filter((v) => v === c.variantId).length / recent.length;
      maxNewShare = Math.max(maxNewShare, share);
      if (c.variantId === LATE_ARM.id) maxNewShareLate = Math.max(maxNewShareLate, share);
    }
    const mean = means[d.variantId];
    regret += bestMean - mean;
    if (t % 500 === 0 || t === 100 || t === 250) regretAt[t] = regret;
    const r = Math.max(-1, Math.min(1, mean + 0.3 * sampleNormal(random)));
    const out = bandit.reward("clinical", d.variantId, r);
    if (out.blacklisted && d.variantId === "bad") badBlacklistedAtPulls = out.arm.pulls;
  }
  store.close();
  const last = chosen.slice(-500);
  const selections: Record<string, number> = {};
  for (const v of chosen) selections[v] = (selections[v] ?? 0) + 1;
  return {
    pulls,
    bestShareLast500: last.filter((v) => v === "best").length / last.length,
    regretAt,
    maxNewShare,
    maxNewShareLate,
    badBlacklistedAtPulls,
    explorationShare: explorations / pulls,
    selections,
  };
}
