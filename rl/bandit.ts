/**
 * Thompson sampling over policy variants, one posterior Beta(alpha, beta) per (context, variant) in the
 * store's `bandit_state`, behind the deploy guard (deploy_guard.ts). Rewards in -1..1 are mapped to
 * [0, 1] and added as fractional Beta increments (`rewardToBeta`), atomically by the store, so the state
 * survives restarts and concurrent calls lose no update. Randomness is injected (`random`).
 *
 * @module
 */
import type { Logger } from "../infra/mod.ts";
import type { Store } from "../store/mod.ts";
import { applyReward, blacklistVariant, listArms, listVariants } from "../store/mod.ts";
import { appendRlDecision } from "../store/mod.ts";
import { reenableVariant, VariantActionError } from "./admin.ts";
import type { BanditArm } from "../store/mod.ts";
import { recentPolicySelections } from "../store/mod.ts";
import {
  type ArmStats,
  blacklistReason,
  type GuardOptions,
  type GuardState,
  guardState,
  resolveGuard,
  trafficCap,
} from "./deploy_guard.ts";
import type { CandidateInfo, Decision } from "./decision.ts";
import type { RlMetrics } from "./metrics.ts";
import { type Random, sampleBeta } from "./random.ts";
import { rewardToBeta } from "./reward.ts";

/** Options of {@linkcode PolicyBandit}. */
export interface BanditOptions {
  /** The production variant, exempt from traffic caps (the variants file's `baseVariant`). */
  baseVariant: string;
  /** Uniform [0, 1) source (default Math.random); pass `mulberry32(seed)` in tests. */
  random?: Random;
  guard?: Partial<GuardOptions>;
  /** Prior of a fresh arm (seed: Beta(1, 1)). */
  prior?: { alpha: number; beta: number };
  /** Every selection and blacklist decision is logged here (info). */
  log?: Pick<Logger, "info" | "warn">;
  metrics?: RlMetrics;
  /** Restore the selections window from the `calls` table on first use of a context (default true). */
  restoreWindow?: boolean;
  /** Decisions kept in memory for the admin UI (default 200). */
  keepDecisions?: number;
}

/** What a reward did. */
export interface RewardOutcome {
  arm: BanditArm;
  /** Set when this reward made the guard blacklist the variant. */
  blacklisted?: string;
}

/** The selections of a context, most recent last, from the calls table (for the traffic window). */
export function recentSelections(store: Store, context: string, limit: number): string[] {
  return recentPolicySelections(store, context, limit).reverse();
}

/** Thompson sampling with the deploy guard; state in the store. */
export class PolicyBandit {
  readonly guard: GuardOptions;
  readonly #store: Store;
  readonly #base: string;
  readonly #random: Random;
  readonly #prior: { alpha: number; beta: number };
  readonly #log?: Pick<Logger, "info" | "warn">;
  readonly #metrics?: RlMetrics;
  readonly #restore: boolean;
  readonly #keep: number;
  #windows = new Map<string, string[]>();
  #decisions: Decision[] = [];

  /** @throws {RangeError} on invalid guard options */
  constructor(store: Store, opts: BanditOptions) {
    this.#store = store;
    this.#base = opts.baseVariant;
    this.#random = opts.random ?? Math.random;
    this.guard = resolveGuard(opts.guard);
    this.#prior = opts.prior ?? { alpha: 1, beta: 1 };
    this.#log = opts.log;
    this.#metrics = opts.metrics;
    this.#restore = opts.restoreWindow ?? true;
    this.#keep = opts.keepDecisions ?? 200;
  }

  #window(context: string): string[] {
    let w = this.#windows.get(context);
    if (!w) {
      w = this.#restore ? recentSelections(this.#store, context, this.guard.windowSize) : [];
      this.#windows.set(context, w);
    }
    return w;
  }

  /** Share of each variant in the context's selections window. */
  shares(context: string): Map<string, number> {
    const w = this.#window(context);
    const m = new Map<string, number>();
    for (const v of w) m.set(v, (m.get(v) ?? 0) + 1 / w.length);
    return m;
  }

  /** The guard state of every active variant in the context. */
  states(context: string): Map<string, GuardState> {
    const arms = new Map(listArms(this.#store, context).map((a) => [a.variantId, a]));
    const out = new Map<string, GuardState>();
    for (const v of listVariants(this.#store)) {
      if (v.blacklisted) out.set(v.id, "blacklisted");
      else if (!v.enabled) out.set(v.id, "disabled");
      else out.set(v.id, guardState(this.#stats(arms.get(v.id)), v.id === this.#base, this.guard));
    }
    return out;
  }

  #stats(arm: BanditArm | undefined): ArmStats {
    return arm ?? { pulls: 0, alpha: this.#prior.alpha, beta: this.#prior.beta, rewardSum: 0 };
  }

  /**
   * Choose the variant for a new call in this context (e.g. the account kind).
   * @returns the decision, or undefined when no variant is active (use the default policy)
   */
  select(context: string): Decision | undefined {
    const active = listVariants(this.#store, { activeOnly: true });
    if (active.length === 0) return undefined;
    const arms = new Map(listArms(this.#store, context).map((a) => [a.variantId, a]));
    const window = this.#window(context);
    const counts = new Map<string, number>();
    for (const v of window) counts.set(v, (counts.get(v) ?? 0) + 1);
    const denom = Math.min(window.length + 1, this.guard.windowSize);
    const infos = active.map((v): CandidateInfo & { stats: ArmStats } => {
      const stats = this.#stats(arms.get(v.id));
      const state = guardState(stats, v.id === this.#base, this.guard);
      const share = ((counts.get(v.id) ?? 0) + 1) / denom;
      const cap = trafficCap(state, this.guard);
      return { variantId: v.id, state, share, cap, capped: share > cap + 1e-12, stats };
    });
    const open = infos.filter((c) => !c.capped);
    const coin = this.#random();
    let chosen: (typeof infos)[number];
    let reason: Decision["reason"];
    if (open.length === 0) {
      chosen = infos.reduce((a, b) => (b.share < a.share ? b : a));
      reason = "all_capped";
    } else {
      const fresh = open.filter((c) => c.state === "new");
      if (fresh.length > 0 && coin < this.guard.exploreNew) {
        chosen = fresh[Math.min(fresh.length - 1, Math.floor(this.#random() * fresh.length))];
        reason = "explore_new";
      } else {
        for (const c of open) c.sample = sampleBeta(c.stats.alpha, c.stats.beta, this.#random);
        chosen = open.reduce((a, b) => ((b.sample ?? 0) > (a.sample ?? 0) ? b : a));
        reason = "thompson";
      }
    }
    const pool = open.length > 0 ? open : infos;
    const mean = (c: { stats: ArmStats }) => c.stats.alpha / (c.stats.alpha + c.stats.beta);
    const greedy = pool.reduce((a, b) => (mean(b) > mean(a) ? b : a));
    window.push(chosen.variantId);
    if (window.length > this.guard.windowSize) window.splice(0, window.length - this.guard.windowSize);
    const decision: Decision = {
      context,
      variantId: chosen.variantId,
      reason,
      explore: chosen.variantId !== greedy.variantId,
      capped: infos.filter((c) => c.capped).map((c) => c.variantId),
      candidates: infos.map(({ stats: _s, ...c }) => c),
      at: this.#store.now(),
    };
    this.#decisions.push(decision);
    if (this.#decisions.length > this.#keep) this.#decisions.shift();
    this.#metrics?.onSelect(decision);
    this.#log?.info("rl variant selected", {
      context,
      variant: decision.variantId,
      reason,
      explore: decision.explore,
      capped: decision.capped.join(",") || "-",
      state: chosen.state,
    });
    return decision;
  }

  /**
   * Add a call's reward (-1..1) to the arm, then let the guard blacklist the variant if it fails.
   * @throws {StoreNotFoundError} when the variant does not exist
   */
  reward(context: string, variantId: string, reward: number): RewardOutcome {
    const arm = applyReward(this.#store, context, variantId, rewardToBeta(reward), this.#prior);
    this.#metrics?.onReward(variantId, reward);
    const why = blacklistReason(arm, this.guard);
    if (why && blacklistVariant(this.#store, variantId, why)) {
      appendRlDecision(this.#store, { kind: "blacklist", variantId, context, reason: why, actor: "guard" });
      this.#metrics?.onBlacklist(variantId);
      this.#log?.warn("rl variant blacklisted", {
        context,
        variant: variantId,
        reason: why,
        pulls: arm.pulls,
      });
      return { arm, blacklisted: why };
    }
    return { arm };
  }

  /** Administrator: lift the blacklist of a variant (it keeps its posterior). False if not blacklisted. */
  reenable(variantId: string, by = "admin"): boolean {
    try {
      reenableVariant(this.#store, variantId, { actor: by, metrics: this.#metrics });
    } catch (e) {
      if (e instanceof VariantActionError) return false;
      throw e;
    }
    this.#log?.info("rl variant re-enabled", { variant: variantId, by });
    return true;
  }

  /** The most recent decisions, oldest first. */
  recentDecisions(): readonly Decision[] {
    return this.#decisions;
  }
}
