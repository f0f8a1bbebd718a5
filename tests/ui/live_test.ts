/**
 * The Live page's hub keeps its memory bounded: a browser that stops reading is disconnected (its page
 * reconnects and starts from a fresh snapshot) while the others go on; only the last events of the last
 * calls are kept for pages that open mid-call; a call's history goes when it ends.
 */
import assert from "node:assert/strict";
import { type LiveEvent, LiveHub } from "../../ui/live.ts";

const ev = (callId: string, type = "vad", accountId = "acc"): LiveEvent => ({
  accountId,
  callId,
  type,
  at: 0,
});

Deno.test("a Live page that stops reading is disconnected once its queue is full; the others go on", async () => {
  const hub = new LiveHub({ queueLimit: 10 });
  const slow = hub.subscribe("acc");
  const fast = hub.subscribe("acc");
  let read = 0;
  for (let i = 0; i < 25; i++) {
    hub.publish(ev("c1"));
    if ((await fast.next(1000)) !== null) read++;
  }
  assert.equal(read, 25);
  assert.equal(slow.closed, "overflow");
  assert.equal(slow.queued, 0, "its queue was freed");
  assert.equal(await slow.next(1000), null, "its reader learns it is closed");
  assert.equal(hub.subscribers, 1);
  fast.close();
  assert.equal(hub.subscribers, 0);
});

Deno.test("the hub keeps only the last events of the last calls, and forgets a call when it ends", () => {
  const hub = new LiveHub({ keepPerCall: 3, maxCalls: 2 });
  for (let i = 0; i < 10; i++) hub.publish(ev("c1"));
  assert.equal(hub.snapshot("acc").length, 3);
  hub.publish(ev("c2"));
  hub.publish(ev("c3")); // a third call: the oldest one's history goes
  assert.equal(hub.trackedCalls, 2);
  assert.deepEqual([...new Set(hub.snapshot("acc").map((e) => e.callId))], ["c2", "c3"]);
  hub.publish(ev("c2", "call_end"));
  assert.equal(hub.trackedCalls, 1);
  hub.publish({ ...ev("c9"), accountId: null });
  assert.equal(hub.trackedCalls, 1, "events without an account are kept for nobody");
});

Deno.test("a reader waiting for the next event gets 'idle' after the heartbeat time, then the event", async () => {
  const hub = new LiveHub();
  const sub = hub.subscribe("acc");
  assert.equal(await sub.next(1), "idle");
  const waiting = sub.next(10_000);
  hub.publish(ev("c1", "stt_final", "other")); // another account's event: not for this reader
  hub.publish(ev("c1", "stt_final"));
  assert.equal(((await waiting) as LiveEvent).type, "stt_final");
  sub.close();
});
