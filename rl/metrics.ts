/**
 * Counters of the learning loop: feedback count, reward histogram, pulls per variant, exploration share
 * and blacklisted variants, as a snapshot and as Prometheus text (`tom_rl_*`).
 *
 * @module
 */
import type { Decision } from "./decision.ts";

/** Upper bounds of the reward histogram buckets. */
export const REWARD_BUCKETS: readonly number[] = [-0.8, -0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8, 1];

/** A snapshot of the counters. */
export interface RlMetricsSnapshot {
  feedbackTotal: Record<string, number>;
  rewardBuckets: { le: number; count: number }[];
  rewardCount: number;
  rewardSum: number;
  selectionsByVariant: Record<string, number>;
  rewardsByVariant: Record<string, number>;
  selections: number;
  explorations: number;
  /** explorations / selections (0 when none). */
  explorationShare: number;
  blacklisted: string[];
}

/** In-process counters; the bandit and the feedback collector report into one instance. */
export class RlMetrics {
  #feedback = new Map<string, number>();
  #buckets = REWARD_BUCKETS.map(() => 0);
  #rewardCount = 0;
  #rewardSum = 0;
  #selections = new Map<string, number>();
  #rewards = new Map<string, number>();
  #selectTotal = 0;
  #explore = 0;
  #blacklisted = new Set<string>();

  /** A feedback event was stored (`source`: voice, dtmf, none). */
  onFeedback(source: string): void {
    this.#feedback.set(source, (this.#feedback.get(source) ?? 0) + 1);
  }

  /** A selection was made. */
  onSelect(d: Pick<Decision, "variantId" | "explore">): void {
    this.#selectTotal++;
    if (d.explore) this.#explore++;
    this.#selections.set(d.variantId, (this.#selections.get(d.variantId) ?? 0) + 1);
  }

  /** A reward was applied. */
  onReward(variantId: string, reward: number): void {
    this.#rewardCount++;
    this.#rewardSum += reward;
    const i = REWARD_BUCKETS.findIndex((le) => reward <= le);
    this.#buckets[i === -1 ? REWARD_BUCKETS.length - 1 : i]++;
    this.#rewards.set(variantId, (this.#rewards.get(variantId) ?? 0) + 1);
  }

  /** A variant was blacklisted. */
  onBlacklist(variantId: string): void {
    this.#blacklisted.add(variantId);
  }

  /** Replace the blacklisted set (e.g. from the store at start or after a re-enable). */
  setBlacklisted(ids: Iterable<string>): void {
    this.#blacklisted = new Set(ids);
  }

  /** The counters now. */
  snapshot(): RlMetricsSnapshot {
    return {
      feedbackTotal: Object.fromEntries(this.#feedback),
      rewardBuckets: REWARD_BUCKETS.map((le, i) => ({ le, count: this.#buckets[i] })),
      rewardCount: this.#rewardCount,
      rewardSum: this.#rewardSum,
      selectionsByVariant: Object.fromEntries(this.#selections),
      rewardsByVariant: Object.fromEntries(this.#rewards),
      selections: this.#selectTotal,
      explorations: this.#explore,
      explorationShare: this.#selectTotal === 0 ? 0 : this.#explore / this.#selectTotal,
      blacklisted: [...this.#blacklisted].sort(),
    };
  }

  /**
   * Prometheus text exposition of the counters (`tom_rl_*`): feedback events by source, the reward
   * histogram, policy pulls per variant, the exploration ratio and the number of blacklisted variants.
   */
  toPrometheus(): string {
    const s = this.snapshot();
    const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    const out: string[] = [];
    const family = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family(
      "tom_rl_feedback_total",
      "counter",
      "Caller feedback events stored, by source (voice, dtmf, none)",
    );
    for (const [k, v] of Object.entries(s.feedbackTotal)) {
      out.push(`tom_rl_feedback_total{source="${esc(k)}"} ${v}`);
    }
    family("tom_rl_reward", "histogram", "Rewards applied to policy variants (-1 bad to 1 good)");
    let cum = 0;
    for (const b of s.rewardBuckets) {
      cum += b.count;
      out.push(`tom_rl_reward_bucket{le="${b.le}"} ${cum}`);
    }
    out.push(`tom_rl_reward_bucket{le="+Inf"} ${s.rewardCount}`);
    out.push(`tom_rl_reward_sum ${s.rewardSum}`, `tom_rl_reward_count ${s.rewardCount}`);
    family("tom_rl_policy_pulls_total", "counter", "Times the bandit chose each policy variant for a call");
    for (const [k, v] of Object.entries(s.selectionsByVariant)) {
      out.push(`tom_rl_policy_pulls_total{variant="${esc(k)}"} ${v}`);
    }
    family("tom_rl_exploration_ratio", "gauge", "Share of the bandit's choices that explored (0 to 1)");
    out.push(`tom_rl_exploration_ratio ${s.explorationShare}`);
    family("tom_rl_blacklisted_variants", "gauge", "Policy variants blacklisted by the deploy guard");
    out.push(`tom_rl_blacklisted_variants ${s.blacklisted.length}`);
    return out.join("\n") + "\n";
  }
}
