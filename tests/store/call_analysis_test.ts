import assert from "node:assert/strict";
import {
  callStats,
  completeAnalysis,
  enqueueAnalysis,
  failAnalysis,
  getAnalysis,
  listDueAnalyses,
} from "../../store/mod.ts";
import { memoryStore, seedTenant, T0 } from "./_helpers.ts";

const result = {
  sentimentLabel: "positiv" as const,
  sentimentScore: 0.7,
  confidence: 0.85,
  reason: "Der Anrufer klang fröhlich",
  summary: ["Arztbesuch", "Enkelin Lisa"],
  memoryUpdate: { facts: ["Hat eine Enkelin namens Lisa"] },
};

Deno.test("an analysis job is queued once, retried when due, and completed with its result", () => {
  const { store, clock } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  assert.equal(enqueueAnalysis(store, account.id, call.id), true);
  assert.equal(enqueueAnalysis(store, account.id, call.id), false);
  assert.deepEqual(listDueAnalyses(store, account.id, T0).map((a) => a.callId), [call.id]);
  assert.equal(failAnalysis(store, account.id, call.id, "Ollama timeout", T0 + 60_000), true);
  assert.deepEqual(listDueAnalyses(store, account.id, T0 + 59_999), []);
  assert.equal(listDueAnalyses(store, account.id, T0 + 60_000).length, 1);
  clock.advance(60_000);
  assert.equal(completeAnalysis(store, account.id, call.id, result), true);
  const done = getAnalysis(store, account.id, call.id);
  assert.equal(done?.status, "done");
  assert.equal(done?.attempts, 2);
  assert.equal(done?.lastError, null);
  assert.deepEqual(done?.summary, result.summary);
  assert.deepEqual(done?.memoryUpdate, result.memoryUpdate);
  assert.equal(done?.updatedAt, T0 + 60_000);
  assert.deepEqual(listDueAnalyses(store, account.id, T0 + 120_000), []);
  assert.equal(callStats(store, account.id).avgSentimentScore, 0.7);
  store.close();
});

Deno.test("a job given up on is failed and no longer due", () => {
  const { store } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  enqueueAnalysis(store, account.id, call.id);
  assert.equal(failAnalysis(store, account.id, call.id, "invalid JSON", null), true);
  assert.equal(getAnalysis(store, account.id, call.id)?.status, "failed");
  assert.equal(failAnalysis(store, account.id, call.id, "again", null), false);
  assert.deepEqual(listDueAnalyses(store, account.id, T0 + 1e9), []);
  store.close();
});

Deno.test("completeAnalysis rejects results out of range", () => {
  const { store } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  enqueueAnalysis(store, account.id, call.id);
  const bad = (patch: object) => () => completeAnalysis(store, account.id, call.id, { ...result, ...patch });
  assert.throws(bad({ sentimentScore: 1.5 }), /sentimentScore must be a number from -1 to 1, got 1.5/);
  assert.throws(bad({ confidence: -0.1 }), /confidence must be a number from 0 to 1/);
  assert.throws(bad({ sentimentLabel: "happy" }), /sentimentLabel must be one of positiv, neutral, negativ/);
  assert.throws(bad({ summary: Array(9).fill("x") }), /summary must be at most 8 strings/);
  assert.equal(getAnalysis(store, account.id, call.id)?.status, "pending");
  store.close();
});
