import assert from "node:assert/strict";
import { createAccount } from "../../store/accounts.ts";
import { listArms, upsertVariant } from "../../store/bandit.ts";
import { createCall } from "../../store/calls.ts";
import { openStore } from "../../store/db.ts";
import { getFeedback } from "../../store/feedback.ts";
import { PolicyBandit } from "../../rl/bandit.ts";
import { recordCallFeedback } from "../../rl/feedback.ts";
import { RlMetrics } from "../../rl/metrics.ts";
import { mulberry32 } from "../../rl/random.ts";
import { parseRating } from "../../pipeline/rating/rating.ts";

function setup() {
  const store = openStore(":memory:");
  upsertVariant(store, { id: "v1a", name: "Basis" });
  const account = createAccount(store, { name: "Praxis", kind: "clinical" });
  const call = createCall(store, account.id, {
    direction: "inbound",
    transport: "browser",
    policyVariantId: "v1a",
    banditContext: "clinical",
  });
  const metrics = new RlMetrics();
  const bandit = new PolicyBandit(store, { baseVariant: "v1a", random: mulberry32(1), metrics });
  return { store, account, call, bandit, metrics };
}

const signals = { resolution: true, bargeIns: 1, repeats: 0, handover: false, durationSec: 120 };

Deno.test("feedback: a spoken rating is stored, rewarded and counted once", () => {
  const { store, account, call, bandit, metrics } = setup();
  const parsed = parseRating("vier Komma fünf");
  const out = recordCallFeedback(store, account.id, {
    callId: call.id,
    rating: parsed?.rating ?? null,
    ratingValue: parsed?.value,
    source: "voice",
    signals,
  }, { bandit, metrics });
  assert.equal(getFeedback(store, account.id, call.id)?.rating, 5);
  assert.ok(Math.abs(out.reward.components.rating - 0.15) < 1e-9, "the fractional value counts");
  assert.equal(out.bandit?.arm.pulls, 1);
  const again = recordCallFeedback(
    store,
    account.id,
    { callId: call.id, rating: 1, source: "dtmf", signals },
    {
      bandit,
    },
  );
  assert.equal(again.feedback, undefined, "the first rating counts");
  assert.equal(again.bandit, undefined);
  assert.equal(listArms(store, "clinical")[0].pulls, 1);
  assert.deepEqual(metrics.snapshot().feedbackTotal, { voice: 1 });
  store.close();
});

Deno.test("feedback: a caller who hangs up before the question still rewards the arm, rating missing", () => {
  const { store, account, call, bandit } = setup();
  const out = recordCallFeedback(store, account.id, {
    callId: call.id,
    rating: null,
    source: "none",
    signals,
  }, {
    bandit,
  });
  assert.deepEqual(out.reward.missing, ["rating"]);
  assert.equal(out.feedback, undefined);
  assert.equal(getFeedback(store, account.id, call.id), undefined);
  assert.equal(out.bandit?.arm.pulls, 1);
  store.close();
});

Deno.test("feedback: events are validated and personal fields are refused", () => {
  const { store, account, call } = setup();
  const base = { callId: call.id, rating: 3, source: "dtmf", signals };
  assert.throws(() => recordCallFeedback(store, account.id, { ...base, rating: 6 }), /rating/);
  assert.throws(() => recordCallFeedback(store, account.id, { ...base, rating: 2.5 }), /rating/);
  assert.throws(() => recordCallFeedback(store, account.id, { ...base, source: "sms" }), /source/);
  assert.throws(
    () => recordCallFeedback(store, account.id, { ...base, phone: "+4917012345678" }),
    /phone|Unrecognized/i,
  );
  assert.throws(() =>
    recordCallFeedback(store, account.id, { ...base, signals: { ...signals, name: "Hans" } })
  );
  assert.throws(() => recordCallFeedback(store, account.id, { ...base, callId: "nope" }), /no call nope/);
  store.close();
});
