/**
 * The registry of the way back after a transfer (gateway/call/returning.ts): one use per id, expiry,
 * the bound, and ids unknown to it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ReturningCalls } from "../../../gateway/call/returning.ts";

Deno.test("a return id is taken once, with the transferred call's ids", () => {
  const r = new ReturningCalls();
  const id = r.register({ callId: "c1", accountId: "a1" });
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(r.size, 1);
  assert.deepEqual(r.take(id.toUpperCase()), { callId: "c1", accountId: "a1" });
  assert.equal(r.take(id), undefined, "consumed");
  assert.equal(r.take(crypto.randomUUID()), undefined, "unknown");
  assert.equal(r.size, 0);
});

Deno.test("return ids expire after ttlMs and the oldest go first beyond max", () => {
  let now = 0;
  const r = new ReturningCalls({ max: 2, ttlMs: 1000, now: () => now });
  const a = r.register({ callId: "a", accountId: "x" });
  now = 999;
  assert.ok(r.size === 1);
  now = 1000;
  assert.equal(r.take(a), undefined, "expired");
  const b = r.register({ callId: "b", accountId: "x" });
  const c = r.register({ callId: "c", accountId: "x" });
  const d = r.register({ callId: "d", accountId: "x" });
  assert.equal(r.size, 2);
  assert.equal(r.take(b), undefined, "dropped for the newest");
  assert.equal(r.take(c)?.callId, "c");
  r.drop(d);
  assert.equal(r.take(d), undefined);
});
