/**
 * End of call: the caller's rating (spoken or DTMF) and the call's signals become a validated feedback
 * event, the rating is stored, the reward computed and given to the bandit. The event holds no personal
 * data beyond the call reference: no phone number, no name, no words.
 *
 * @module
 */
import { z } from "zod";
import type { Store } from "../store/mod.ts";
import { type Call, getCall } from "../store/mod.ts";
import { type Feedback, recordFeedback } from "../store/mod.ts";
import type { PolicyBandit, RewardOutcome } from "./bandit.ts";
import type { RlMetrics } from "./metrics.ts";
import { computeReward, type Reward } from "./reward.ts";

/** Schema of a feedback event. Strict: unknown (possibly personal) fields are refused. */
export const FeedbackEventSchema = z.strictObject({
  callId: z.string().min(1).max(64),
  /** Whole rating 1..5, or null when the caller was asked but gave none. */
  rating: z.int().min(1).max(5).nullable(),
  /** What was said when fractional ("vier Komma fünf": 4.5); used for the reward. */
  ratingValue: z.number().min(1).max(5).nullable().optional(),
  /** voice, dtmf, or none when the caller was not asked (hung up first). */
  source: z.enum(["voice", "dtmf", "none"]),
  signals: z.strictObject({
    resolution: z.union([z.boolean(), z.number().min(0).max(1)]).nullable().optional(),
    bargeIns: z.int().min(0).max(10_000).nullable().optional(),
    repeats: z.int().min(0).max(10_000).nullable().optional(),
    handover: z.boolean().nullable().optional(),
    durationSec: z.number().min(0).max(86_400).nullable().optional(),
  }),
});
/** A feedback event. */
export type FeedbackEvent = z.infer<typeof FeedbackEventSchema>;

/** What {@linkcode recordCallFeedback} did. */
export interface FeedbackOutcome {
  event: FeedbackEvent;
  /** The call as it was read (its variant and context decided the bandit update). */
  call: Call;
  /** The stored rating; undefined when none was asked or the call already had one. */
  feedback?: Feedback;
  reward: Reward;
  /** Set when the call ran under a variant and its arm was updated. */
  bandit?: RewardOutcome;
}

/**
 * Validate the event, store the rating, compute the reward and update the call's arm.
 *
 * @throws {Error} when the event is invalid (message names the fields)
 * @throws {StoreNotFoundError} when the call is not in this account
 */
export function recordCallFeedback(
  store: Store,
  accountId: string,
  input: unknown,
  deps: { bandit?: PolicyBandit; metrics?: RlMetrics } = {},
): FeedbackOutcome {
  const parsed = FeedbackEventSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`Cannot accept feedback event: ${issues}`);
  }
  const event = parsed.data;
  const call = getCall(store, accountId, event.callId);
  if (!call) throw new Error(`Cannot accept feedback event: no call ${event.callId} in account ${accountId}`);
  let feedback: Feedback | undefined;
  if (event.source !== "none") {
    feedback = recordFeedback(store, accountId, {
      callId: event.callId,
      rating: event.rating,
      source: event.source,
    });
  }
  deps.metrics?.onFeedback(event.source);
  const reward = computeReward({ ...event.signals, rating: event.ratingValue ?? event.rating });
  const out: FeedbackOutcome = { event, call, feedback, reward };
  // A repeated event for the same call must not count twice: only the first stored rating (or a call
  // without a question) updates the bandit.
  const first = event.source === "none" || feedback !== undefined;
  if (deps.bandit && first && call.policyVariantId && call.banditContext) {
    out.bandit = deps.bandit.reward(call.banditContext, call.policyVariantId, reward.reward);
  }
  return out;
}
