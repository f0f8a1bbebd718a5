import assert from "node:assert/strict";
import { type JobResult, WriteQueue } from "../../store/write_queue.ts";

function recordingRunner(batches: number[]): (fns: (() => unknown)[]) => JobResult[] {
  return (fns) => {
    batches.push(fns.length);
    return fns.map((fn): JobResult => {
      try {
        return { ok: true, value: fn() };
      } catch (error) {
        return { ok: false, error };
      }
    });
  };
}

Deno.test("jobs queued in the same tick share one batch", async () => {
  const batches: number[] = [];
  const queue = new WriteQueue(recordingRunner(batches));
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => queue.enqueue(() => i * 2)));
  assert.deepEqual(results, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  assert.deepEqual(batches, [10]);
});

Deno.test("a batch never exceeds maxBatch", async () => {
  const batches: number[] = [];
  const queue = new WriteQueue(recordingRunner(batches), { maxBatch: 4 });
  await Promise.all(Array.from({ length: 10 }, (_, i) => queue.enqueue(() => i)));
  assert.deepEqual(batches, [4, 4, 2]);
});

Deno.test("a failing job rejects alone; a failing commit rejects the whole batch", async () => {
  const queue = new WriteQueue(recordingRunner([]));
  const good = queue.enqueue(() => "ok");
  const bad = queue.enqueue(() => {
    throw new Error("bad job");
  });
  assert.equal(await good, "ok");
  await assert.rejects(bad, /bad job/);

  const failing = new WriteQueue(() => {
    throw new Error("disk full");
  });
  const jobs = [failing.enqueue(() => 1), failing.enqueue(() => 2)];
  for (const job of jobs) await assert.rejects(job, /disk full/);
});

Deno.test("drain resolves once everything queued so far is written; flushNow writes synchronously", async () => {
  const batches: number[] = [];
  const queue = new WriteQueue(recordingRunner(batches), { maxDelayMs: 50 });
  const done = queue.enqueue(() => "late");
  assert.equal(queue.pending, 1);
  const drained = queue.drain();
  queue.flushNow();
  assert.equal(queue.pending, 0);
  assert.deepEqual(batches, [1]);
  await drained;
  assert.equal(await done, "late");
  await queue.drain();
});

Deno.test("invalid options are refused when the queue is built", () => {
  assert.throws(
    () => new WriteQueue(recordingRunner([]), { maxBatch: 1.5 }),
    /maxBatch must be a positive integer/,
  );
  assert.throws(() => new WriteQueue(recordingRunner([]), { maxDelayMs: -1 }), /maxDelayMs must be 0..1000/);
});
