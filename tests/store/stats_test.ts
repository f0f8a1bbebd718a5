import assert from "node:assert/strict";
import { completeAnalysis, enqueueAnalysis, sentimentTrend } from "../../store/mod.ts";
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
