/**
 * TOM's learning loop, and nothing else: feedback, reward, policy variants, Thompson sampling behind a
 * deploy guard, the `tom rl` report and the loop's metrics. It stands on pipeline/ (which owns the
 * end-of-call rating dialogue and the after-call analysis), store/ and infra/; other folders import it
 * only through this module.
 *
 * Flow of one call: {@linkcode PolicyBandit.select} picks a variant for the context (account kind),
 * {@linkcode applyVariant} turns it into the system prompt, greeting and pipeline parameters; at the end
 * the pipeline's rating dialogue asks and reads the answer, {@linkcode recordCallFeedback} stores it,
 * computes {@linkcode computeReward} and updates the arm; the pipeline's analysis worker reads the
 * transcript later.
 *
 * @example
 * ```ts
 * import { openStore } from "../store/mod.ts";
 * import { DEFAULT_VARIANTS, mulberry32, PolicyBandit, syncVariants } from "./mod.ts";
 *
 * const store = openStore(":memory:");
 * syncVariants(store, DEFAULT_VARIANTS);
 * const bandit = new PolicyBandit(store, { baseVariant: DEFAULT_VARIANTS.baseVariant, random: mulberry32(1) });
 * const decision = bandit.select("clinical");
 * bandit.reward("clinical", decision?.variantId ?? "v1a", 0.7);
 * store.close();
 * ```
 *
 * @module
 */

/** Seeded randomness: {@linkcode mulberry32}, Gamma and Beta samplers, Beta summary. */
export { betaSummary, mulberry32, type Random, sampleBeta, sampleGamma, sampleNormal } from "./random.ts";
/** The reward formula with its components; {@linkcode rewardToBeta} maps it to Beta increments. */
export {
  computeReward,
  type Reward,
  REWARD_WEIGHTS,
  type RewardComponentName,
  type RewardSignals,
  rewardToBeta,
} from "./reward.ts";
/** Policy variants: schema, the 12 shipped ones, mapping to prompt/greeting/pipeline, store sync. */
export {
  type AppliedPolicy,
  applyVariant,
  BARGE_IN_PARAMS,
  DEFAULT_VARIANTS,
  GREETING_TEMPLATES,
  GreetingTemplateSchema,
  loadVariantsFile,
  parseVariants,
  type PolicySlots,
  SLOT_VALUES,
  syncVariants,
  type VariantsFile,
  variantsOf,
  type VariantSpec,
} from "./variants.ts";
/** Deploy guard definitions and thresholds. */
export {
  armInterval,
  blacklistReason,
  DEFAULT_GUARD,
  type GuardOptions,
  type GuardState,
  guardState,
  resolveGuard,
  trafficCap,
} from "./deploy_guard.ts";
/** Thompson sampling with the guard, state in the store. */
export { type BanditOptions, PolicyBandit, recentSelections, type RewardOutcome } from "./bandit.ts";
export { type CandidateInfo, type Decision } from "./decision.ts";
/** Feedback events (zod) and the end-of-call update. */
export {
  type FeedbackEvent,
  FeedbackEventSchema,
  type FeedbackOutcome,
  recordCallFeedback,
} from "./feedback.ts";
/** The rules that turn a finished call into reward signals, a feedback event and a reward record. */
export { feedbackEvent, rewardRecord, rewardSignals } from "./call_signals.ts";
/** `tom rl report` and the metrics. */
export { buildReport, formatReport, type ReportRow, rlReportCommand } from "./report.ts";
export { REWARD_BUCKETS, RlMetrics, type RlMetricsSnapshot } from "./metrics.ts";
/** What the admin UI reads of the running loop. */
export { type LearningView } from "./learning_view.ts";
export { type CallPolicy, chooseCallPolicy } from "./policy_choice.ts";
/** Administrator actions on variants, with the decision log. */
export {
  reenableVariant,
  refreshBlacklistGauge,
  setVariantActive,
  VariantActionError,
  type VariantActionOptions,
} from "./admin.ts";
