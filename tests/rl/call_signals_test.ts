// The rules that turn a finished call into the learning loop's inputs (rl/call_signals.ts): reward signals
// from how the call ended, the feedback event, and the reward record kept with its components.
import assert from "node:assert/strict";
import { type CallSummary, CallUsage } from "../../pipeline/mod.ts";
import { type Call } from "../../store/mod.ts";
import {
  computeReward,
  feedbackEvent,
  type FeedbackOutcome,
  rewardRecord,
  rewardSignals,
} from "../../rl/mod.ts";

Deno.test("reward signals: how the call ended decides resolution and hand-over; unknown stays missing", () => {
  const base: CallSummary = {
    callId: "c",
    durationMs: 90_000,
    ending: "farewell",
    turns: 3,
    bargeIns: 1,
    failedTurns: 0,
    repeats: 0,
    ratingAsked: true,
    usage: new CallUsage(),
    emergency: null,
    noted: [],
    words: [],
  };
  assert.deepEqual(rewardSignals(base), {
    resolution: 1,
    bargeIns: 1,
    repeats: 0,
    handover: false,
    durationSec: 90,
  });
  assert.equal(rewardSignals({ ...base, failedTurns: 1 }).resolution, 0.5);
  assert.deepEqual(
    [
      rewardSignals({ ...base, ending: "callback" }).resolution,
      rewardSignals({ ...base, ending: "callback" }).handover,
    ],
    [0, true],
  );
  assert.equal(rewardSignals({ ...base, ending: "max_duration" }).resolution, 0);
  assert.equal(rewardSignals({ ...base, ending: "hangup" }).resolution, null);
  assert.equal(rewardSignals({ ...base, ending: "silence" }).resolution, null);
  // Never asked: source none even if a dialogue object exists.
  assert.equal(feedbackEvent({ ...base, ratingAsked: false }, undefined).source, "none");
});

Deno.test("reward record: the call's variant and context, the reward with its components, the rating as said", () => {
  const summary: CallSummary = {
    callId: "c",
    durationMs: 60_000,
    ending: "farewell",
    turns: 2,
    bargeIns: 0,
    failedTurns: 0,
    repeats: 0,
    ratingAsked: true,
    usage: new CallUsage(),
    emergency: null,
    noted: [],
    words: [],
  };
  const event = {
    ...feedbackEvent(summary, undefined),
    rating: 4,
    ratingValue: 4.5,
    source: "voice" as const,
  };
  const reward = computeReward({ ...event.signals, rating: 4.5 });
  const call = { id: "c", policyVariantId: "v1a", banditContext: "clinical" } as Call;
  const applied: FeedbackOutcome = {
    event,
    call,
    reward,
    bandit: { arm: {} as NonNullable<FeedbackOutcome["bandit"]>["arm"] },
  };
  assert.deepEqual(rewardRecord(applied), {
    callId: "c",
    variantId: "v1a",
    context: "clinical",
    reward: reward.reward,
    components: reward.components,
    missing: reward.missing,
    rating: 4.5,
    source: "voice",
    applied: true,
  });
  // No variant (or a repeated event): kept, not applied; a whole rating when nothing fractional was said.
  const plain = rewardRecord({
    event: { ...event, ratingValue: null },
    call: { ...call, policyVariantId: null, banditContext: null },
    reward,
  });
  assert.deepEqual([plain.variantId, plain.context, plain.rating, plain.applied], [null, null, 4, false]);
});
