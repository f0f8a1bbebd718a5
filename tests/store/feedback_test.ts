import assert from "node:assert/strict";
import { getFeedback, recordFeedback } from "../../store/mod.ts";
import { memoryStore, seedTenant } from "./_helpers.ts";

Deno.test("the first rating of a call counts; later ones are ignored", () => {
  const { store } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  const first = recordFeedback(store, account.id, { callId: call.id, rating: 5, source: "voice" });
  assert.equal(first?.rating, 5);
  assert.equal(recordFeedback(store, account.id, { callId: call.id, rating: 1, source: "dtmf" }), undefined);
  assert.deepEqual(getFeedback(store, account.id, call.id), first);
  store.close();
});

Deno.test("a rating is 1 to 5 or null (asked, not answered)", () => {
  const { store } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  assert.throws(
    () => recordFeedback(store, account.id, { callId: call.id, rating: 0, source: "dtmf" }),
    /1 to 5/,
  );
  assert.throws(
    () => recordFeedback(store, account.id, { callId: call.id, rating: 6, source: "dtmf" }),
    /got 6/,
  );
  assert.throws(
    () => recordFeedback(store, account.id, { callId: call.id, rating: 3, source: "sms" as "dtmf" }),
    /source must be one of voice, dtmf/,
  );
  assert.equal(
    recordFeedback(store, account.id, { callId: call.id, rating: null, source: "voice" })?.rating,
    null,
  );
  store.close();
});
