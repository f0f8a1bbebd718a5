import assert from "node:assert/strict";
import { completeAnalysis, enqueueAnalysis, sentimentScores, sentimentTrend } from "../../store/mod.ts";
import { memoryStore, seedTenant, T0 } from "./_helpers.ts";

const result = {
  sentimentLabel: "positiv" as const,
  sentimentScore: 0.7,
  confidence: 0.85,
  reason: "Der Anrufer klang fröhlich",
  summary: ["Arztbesuch"],
};

Deno.test("sentimentTrend averages done analyses per UTC day", () => {
  const { store, clock } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  enqueueAnalysis(store, account.id, call.id);
  completeAnalysis(store, account.id, call.id, { ...result, sentimentScore: 0.2 });
  assert.deepEqual(sentimentTrend(store, account.id, { since: T0 }), [{
    day: "2024-01-01",
    avgScore: 0.2,
    calls: 1,
  }]);
  clock.advance(86_400_000);
  assert.deepEqual(sentimentTrend(store, account.id, { since: T0 + 86_400_000 }), []);
  store.close();
});

Deno.test("sentimentScores lists each done analysis with its call's start, per account and person", () => {
  const { store } = memoryStore();
  const a = seedTenant(store, "A", "+4917000000001");
  const b = seedTenant(store, "B", "+4917000000001");
  enqueueAnalysis(store, a.account.id, a.call.id);
  assert.deepEqual(sentimentScores(store, a.account.id, { since: T0 }), [], "pending analyses are left out");
  completeAnalysis(store, a.account.id, a.call.id, { ...result, sentimentScore: -0.4 });
  assert.deepEqual(sentimentScores(store, a.account.id, { since: T0 }), [{ at: T0, score: -0.4 }]);
  assert.deepEqual(sentimentScores(store, a.account.id, { since: T0, personId: b.person.id }), []);
  assert.deepEqual(sentimentScores(store, a.account.id, { since: T0 + 1 }), []);
  assert.deepEqual(sentimentScores(store, b.account.id, { since: T0 }), []);
  store.close();
});
