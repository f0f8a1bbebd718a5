// The calls list's read model (store/call_rows.ts): names, sentiment and rating, scoped by account.
import assert from "node:assert/strict";
import {
  completeAnalysis,
  countCalls,
  createCall,
  endCall,
  enqueueAnalysis,
  getCallRow,
  listCallRows,
  recordFeedback,
} from "../../store/mod.ts";
import { memoryStore, seedTwoTenants, T0 } from "./_helpers.ts";

Deno.test("call rows carry the person's name, a finished analysis' sentiment and the rating", () => {
  const { store } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  enqueueAnalysis(store, a.account.id, a.call.id);
  let row = getCallRow(store, a.account.id, a.call.id);
  assert.ok(row);
  assert.equal(row.personName, "Senior of A");
  assert.equal(row.sentimentLabel, null, "a pending analysis shows no sentiment");
  assert.equal(row.recorded, false);
  completeAnalysis(store, a.account.id, a.call.id, {
    sentimentLabel: "positiv",
    sentimentScore: 0.5,
    confidence: 0.9,
    reason: "froh",
    summary: [],
  });
  recordFeedback(store, a.account.id, { callId: a.call.id, rating: 4, source: "dtmf" });
  row = getCallRow(store, a.account.id, a.call.id);
  assert.ok(row);
  assert.deepEqual([row.sentimentLabel, row.sentimentScore, row.rating], ["positiv", 0.5, 4]);
  assert.equal(getCallRow(store, b.account.id, a.call.id), undefined);
  store.close();
});

Deno.test("listCallRows filters by person and running calls; countCalls counts since a time", () => {
  const { store, clock } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  clock.advance(1000);
  const other = createCall(store, a.account.id, { direction: "outbound", transport: "twilio" });
  endCall(store, a.account.id, other.id, { status: "completed" });
  assert.deepEqual(listCallRows(store, a.account.id).map((r) => r.id), [other.id, a.call.id]);
  assert.deepEqual(listCallRows(store, a.account.id, { personId: a.person.id }).map((r) => r.id), [
    a.call.id,
  ]);
  assert.deepEqual(listCallRows(store, a.account.id, { active: true }).map((r) => r.id), [a.call.id]);
  assert.deepEqual(listCallRows(store, a.account.id, { limit: 1, offset: 1 }).map((r) => r.id), [a.call.id]);
  assert.deepEqual(listCallRows(store, b.account.id).map((r) => r.id), [b.call.id]);
  assert.equal(countCalls(store, a.account.id), 2);
  assert.equal(countCalls(store, a.account.id, T0 + 1), 1);
  store.close();
});
