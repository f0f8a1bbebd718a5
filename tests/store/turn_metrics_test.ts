// Per-turn timings (store/turn_metrics.ts): only for a call of the same account; a turn is replaced, not doubled.
import assert from "node:assert/strict";
import { listTurnMetrics, recordTurnMetrics, type TurnMetrics } from "../../store/mod.ts";
import { memoryStore, seedTwoTenants } from "./_helpers.ts";

const TURN: TurnMetrics = {
  turnIndex: 0,
  vadMs: 10.4,
  sttMs: 120,
  llmFirstTokenMs: -3,
  ttsFirstAudioMs: null,
  totalMs: 400,
  bargeIn: false,
};

Deno.test("turn timings are recorded for the account's own calls, rounded and replaced per turn", () => {
  const { store } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  assert.equal(recordTurnMetrics(store, b.account.id, a.call.id, TURN), false);
  assert.equal(recordTurnMetrics(store, a.account.id, a.call.id, TURN), true);
  assert.deepEqual(listTurnMetrics(store, a.account.id, a.call.id), [
    { ...TURN, vadMs: 10, llmFirstTokenMs: 0 },
  ]);
  assert.equal(
    recordTurnMetrics(store, a.account.id, a.call.id, { ...TURN, totalMs: 500, bargeIn: true }),
    true,
  );
  assert.deepEqual(listTurnMetrics(store, a.account.id, a.call.id), [
    { ...TURN, vadMs: 10, llmFirstTokenMs: 0, totalMs: 500, bargeIn: true },
  ]);
  assert.deepEqual(listTurnMetrics(store, b.account.id, a.call.id), []);
  store.close();
});
