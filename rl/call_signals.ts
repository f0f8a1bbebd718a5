/**
 * The rules that turn a finished call into the learning loop's inputs: the reward signals from how the
 * call went ({@linkcode rewardSignals}), the feedback event with the caller's rating
 * ({@linkcode feedbackEvent}), and the reward record kept with its components ({@linkcode rewardRecord}).
 * Pure: no store, no clock; app/learning.ts wires them to the store, the bandit and the metrics.
 *
 * @module
 */
import type { CallRatingDialogue, CallSummary } from "../pipeline/mod.ts";
import type { NewCallReward } from "../store/mod.ts";
import type { FeedbackEvent, FeedbackOutcome } from "./feedback.ts";

/**
 * The reward signals of a finished call, from what the pipeline saw. Resolution is judged by how the call
 * ended: the caller said goodbye -> resolved (half when a turn failed on the way), TOM had to offer a
 * callback or the time ran out -> not resolved; silence or a hang-up mid-conversation -> unknown
 * (missing, listed as such). A callback offer or a transfer to a person is the hand-over to the practice's
 * staff (as the seed's reward formula counts it).
 */
export function rewardSignals(summary: CallSummary): FeedbackEvent["signals"] {
  const resolution = summary.ending === "farewell"
    ? (summary.failedTurns === 0 ? 1 : 0.5)
    : summary.ending === "callback" || summary.ending === "transfer" || summary.ending === "max_duration"
    ? 0
    : null;
  return {
    resolution,
    bargeIns: summary.bargeIns,
    repeats: summary.repeats,
    handover: summary.ending === "callback" || summary.ending === "transfer",
    durationSec: Math.min(86_400, summary.durationMs / 1000),
  };
}

/** The feedback event of a finished call (no personal data: the call id, the rating and counts). */
export function feedbackEvent(
  summary: CallSummary,
  dialogue: CallRatingDialogue | undefined,
): FeedbackEvent {
  const st = dialogue?.state;
  const result = st?.result ?? null;
  return {
    callId: summary.callId,
    rating: result?.rating ?? null,
    ratingValue: result?.value ?? null,
    // Asked and answered unclearly: voice/dtmf with no rating; asked but silent or never asked: none.
    source: st && summary.ratingAsked ? st.source : "none",
    signals: rewardSignals(summary),
  };
}

/**
 * The reward record of a call whose feedback was taken: the call's variant and context as read with the
 * feedback, the reward with its components and missing signals, the rating as said (a fractional value
 * when there was one), and whether the bandit's arm was updated.
 */
export function rewardRecord(out: FeedbackOutcome): NewCallReward {
  const { event, call, reward } = out;
  return {
    callId: event.callId,
    variantId: call.policyVariantId,
    context: call.banditContext,
    reward: reward.reward,
    components: reward.components,
    missing: reward.missing,
    rating: event.ratingValue ?? event.rating,
    source: event.source,
    applied: out.bandit !== undefined,
  };
}
