import assert from "node:assert/strict";
import { FairQueue, type Lease, type QueueEvent, QueueFullError } from "../../../pipeline/engines/queue.ts";

function order(q: FairQueue, jobs: Array<[string, string]>): { started: string[]; done: Promise<void> } {
  const started: string[] = [];
  const signal = new AbortController().signal;
  const done = Promise.all(jobs.map(async ([key, id]) => {
    const lease = await q.acquire(key, signal) as Lease;
    started.push(id);
    await Promise.resolve();
    lease.release();
  })).then(() => {});
  return { started, done };
}

Deno.test("waiting requests are served round-robin by call, so one busy call cannot starve the others", async () => {
  const q = new FairQueue();
  const { started, done } = order(q, [
    ["A", "A1"],
    ["A", "A2"],
    ["A", "A3"],
    ["A", "A4"],
    ["B", "B1"],
    ["B", "B2"],
    ["C", "C1"],
  ]);
  await done;
  assert.deepEqual(started, ["A1", "A2", "B1", "C1", "A3", "B2", "A4"]);
  assert.equal(q.active, 0);
  assert.equal(q.waiting, 0);
});

Deno.test("a request aborted while queued leaves the queue and never gets a slot", async () => {
  const events: QueueEvent[] = [];
  const q = new FairQueue({ onEvent: (e) => events.push(e) });
  const first = await q.acquire("A", new AbortController().signal) as Lease;
  assert.equal(first.waited, false);
  const ac = new AbortController();
  const aborted = q.acquire("B", ac.signal);
  const next = q.acquire("C", new AbortController().signal);
  assert.equal(q.waiting, 2);
  ac.abort();
  assert.equal(await aborted, null);
  assert.equal(q.waiting, 1);
  first.release();
  first.release(); // idempotent
  const c = await next as Lease;
  assert.equal(c.waited, true);
  assert.ok(c.waitMs >= 0);
  c.release();
  assert.deepEqual(events.filter((e) => e.type === "start").map((e) => e.key), ["A", "C"]);
  assert.ok(events.some((e) => e.type === "dropped" && e.key === "B"));
  assert.equal(q.active, 0);
});

Deno.test("an already aborted signal gets no slot, and a full queue refuses with QueueFullError", async () => {
  const q = new FairQueue({ maxWaiting: 1 });
  const ac = new AbortController();
  ac.abort();
  assert.equal(await q.acquire("A", ac.signal), null);
  const held = await q.acquire("A", new AbortController().signal) as Lease;
  const waiting = q.acquire("B", new AbortController().signal);
  await assert.rejects(q.acquire("C", new AbortController().signal), QueueFullError);
  held.release();
  (await waiting as Lease).release();
});

Deno.test("concurrency 2 serves two at once and reports the wait with an injected clock", async () => {
  let now = 0;
  const q = new FairQueue({ concurrency: 2, now: () => now });
  const s = new AbortController().signal;
  const a = await q.acquire("A", s) as Lease;
  const b = await q.acquire("B", s) as Lease;
  const c = q.acquire("C", s);
  assert.equal(q.active, 2);
  now = 250;
  a.release();
  const lc = await c as Lease;
  assert.equal(lc.waitMs, 250);
  b.release();
  lc.release();
  assert.throws(() => new FairQueue({ concurrency: 0 }), RangeError);
});

Deno.test("setConcurrency: more slots serve the waiting at once, fewer grant nothing until below", async () => {
  const q = new FairQueue({ concurrency: 1 });
  const sig = new AbortController().signal;
  const first = await q.acquire("a", sig);
  let granted = 0;
  const waiting = [q.acquire("b", sig), q.acquire("c", sig), q.acquire("d", sig)];
  waiting.forEach((p) => p.then(() => granted++));
  q.setConcurrency(3); // two pool members came up: b and c are served now
  await Promise.resolve();
  assert.equal(q.active, 3);
  assert.equal(q.waiting, 1);
  q.setConcurrency(1); // two went down: d waits until only one slot is held
  first?.release();
  (await waiting[0])?.release();
  assert.equal(q.waiting, 1);
  (await waiting[1])?.release();
  assert.equal(q.waiting, 0);
  assert.equal(q.active, 1);
  (await waiting[2])?.release();
  assert.equal(granted, 3);
  assert.throws(() => q.setConcurrency(0), RangeError);
});
