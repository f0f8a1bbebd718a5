import assert from "node:assert/strict";
import { FakeClock } from "../../../gateway/audio/clock.ts";
import { Ticker } from "../../../gateway/audio/ticker.ts";
import { Playout, type PlayoutOptions } from "../../../gateway/asterisk/playout.ts";

const SILENCE = new Uint8Array([0]);
const frame = (n: number) => new Uint8Array([n]);

/** A playout on a fake clock (grid origin 0, 10 ms ticks) that logs sends (`t@ms:frames`) and marks. */
function rig(opts: Partial<PlayoutOptions> = {}) {
  const clock = new FakeClock(0);
  const ticker = new Ticker({ clock, periodMs: 10 });
  const log: string[] = [];
  const playout = new Playout({
    ticker,
    send: (frames) => log.push(`${clock.now()}:${frames.map((f) => (f === SILENCE ? "s" : f[0])).join(",")}`),
    onMark: (name, cleared) => log.push(`${clock.now()}:${name}${cleared ? "!" : ""}`),
    ...opts,
  });
  return { clock, ticker, playout, log };
}

Deno.test("AudioSocket pacing: a silence frame every 20 ms while there is nothing to say", () => {
  const { clock, playout, log } = rig({ silence: SILENCE });
  clock.advance(100);
  assert.deepEqual(log, ["0:s", "20:s", "40:s", "60:s", "80:s", "100:s"]);
  assert.equal(playout.sentFrames, 6);
  playout.stop();
});

Deno.test("AudioSocket pacing: audio takes the next slots, in order, and silence resumes after it", () => {
  const { clock, playout, log } = rig({ silence: SILENCE });
  clock.advance(25);
  for (let i = 1; i <= 3; i++) playout.enqueue(frame(i));
  assert.equal(playout.queuedMs, 60);
  clock.advance(80);
  assert.deepEqual(log, ["0:s", "20:s", "40:1", "60:2", "80:3", "100:s"]);
  assert.equal(playout.queuedMs, 0);
  playout.stop();
});

Deno.test("a lone frame waits up to prebufferMs for a second one; two frames start at once", () => {
  const { clock, playout, log } = rig({ silence: SILENCE, prebufferMs: 20 });
  clock.advance(5);
  playout.enqueue(frame(1)); // alone: its slot at 20 gets silence, it goes at 40
  clock.advance(40);
  playout.enqueue(frame(2)); // a just-in-time source: arrives before its slot at 60
  clock.advance(20);
  playout.enqueue(frame(3));
  playout.enqueue(frame(4)); // the source kept up: the run goes on
  clock.advance(60);
  assert.deepEqual(log, ["0:s", "20:s", "40:1", "60:2", "80:3", "100:4", "120:s"]);
  clock.advance(100);
  playout.enqueue(frame(5));
  playout.enqueue(frame(6)); // after silence, a burst of two starts at the next slot
  clock.advance(40);
  assert.deepEqual(log.slice(-3), ["220:s", "240:5", "260:6"]);
  playout.stop();
});

Deno.test("marks fire once the frames before them are sent, in order; a mark on an empty queue at the next tick", () => {
  const { clock, playout, log } = rig({ silence: SILENCE });
  playout.mark("m0");
  playout.enqueue(frame(1));
  playout.enqueue(frame(2));
  playout.mark("m1");
  playout.mark("m2");
  playout.enqueue(frame(3));
  playout.mark("m3");
  clock.advance(60);
  assert.deepEqual(log, ["0:m0", "0:1", "20:2", "20:m1", "20:m2", "40:3", "40:m3", "60:s"]);
  playout.stop();
});

Deno.test("clear drops the queue at once; pending marks fire cleared, in order", () => {
  const { clock, playout, log } = rig({ silence: SILENCE });
  for (let i = 1; i <= 5; i++) playout.enqueue(frame(i));
  playout.mark("a");
  playout.mark("b");
  clock.advance(20);
  playout.clear();
  assert.deepEqual(log, ["0:1", "20:2", "20:a!", "20:b!"]);
  assert.equal(playout.queuedMs, 0);
  clock.advance(40);
  assert.deepEqual(log.slice(4), ["40:s", "60:s"], "the schedule goes on with silence");
  playout.stop();
});

Deno.test("stop ends the schedule and ignores what comes later", () => {
  const { clock, ticker, playout, log } = rig({ silence: SILENCE });
  playout.enqueue(frame(1));
  playout.mark("x");
  playout.stop();
  assert.deepEqual(log, ["0:x!"]);
  assert.equal(ticker.size, 0);
  playout.enqueue(frame(2));
  playout.mark("y");
  clock.advance(100);
  assert.deepEqual(log, ["0:x!"]);
});

Deno.test("chan_websocket pacing: frames run up to leadMs ahead of the listener, nothing is sent when idle", () => {
  const { clock, ticker, playout, log } = rig({ leadMs: 60 });
  clock.advance(30);
  assert.deepEqual(log, [], "no silence without a silence frame");
  assert.equal(ticker.size, 0, "an idle playout leaves the ticker");
  for (let i = 1; i <= 8; i++) playout.enqueue(frame(i));
  clock.advance(10);
  // At 30 (the next tick): the frames for 30, 50, 70 and 90 (60 ms ahead) at once.
  assert.deepEqual(log, ["30:1,2,3,4"]);
  assert.equal(playout.aheadMs, 70, "heard by 110, now 40");
  clock.advance(40);
  assert.deepEqual(log, ["30:1,2,3,4", "50:5", "70:6"]);
  assert.equal(playout.queuedMs, 40);
  playout.stop();
});

Deno.test("chan_websocket pacing: a new run starts where the listener will be, not before", () => {
  const { clock, playout, log } = rig({ leadMs: 40 });
  for (let i = 1; i <= 3; i++) playout.enqueue(frame(i));
  clock.advance(0); // 1, 2, 3 for 0, 20, 40: heard by 60
  clock.advance(10);
  playout.enqueue(frame(4)); // Asterisk still holds 50 ms: 4 plays at 60, sent when 60 - 40 <= now
  clock.advance(10);
  assert.deepEqual(log, ["0:1,2,3", "20:4"]);
  clock.advance(200);
  playout.enqueue(frame(5)); // long idle: plays now
  clock.advance(10);
  assert.deepEqual(log.slice(2), ["220:5"]);
  playout.stop();
});

Deno.test("pause holds frames (MEDIA_XOFF) and resume restarts the schedule (MEDIA_XON)", () => {
  const { clock, playout, log } = rig({ leadMs: 0 });
  for (let i = 1; i <= 4; i++) playout.enqueue(frame(i));
  clock.advance(20);
  playout.pause();
  clock.advance(100);
  assert.deepEqual(log, ["0:1", "20:2"]);
  playout.resume();
  clock.advance(40);
  assert.deepEqual(log, ["0:1", "20:2", "130:3", "150:4"]);
  playout.stop();
});

Deno.test("far behind, the schedule slips instead of bursting the backlog", () => {
  const { clock, playout, log } = rig({ silence: SILENCE, maxBurst: 3 });
  for (let i = 1; i <= 20; i++) playout.enqueue(frame(i));
  clock.advance(0);
  clock.stall(200); // the event loop was blocked for 200 ms
  clock.advance(0);
  assert.deepEqual(log, ["0:1", "200:2,3,4"]);
  assert.equal(playout.slippedFrames, 7);
  clock.advance(20);
  assert.deepEqual(log.slice(2), ["220:5"]);
  playout.stop();
});

Deno.test("changing the silence frame takes effect at the next slot", () => {
  const { clock, playout, log } = rig({ silence: SILENCE });
  clock.advance(0);
  playout.silence = new Uint8Array([7]);
  clock.advance(20);
  assert.deepEqual(log, ["0:s", "20:7"]);
  playout.stop();
});

Deno.test("options are checked", () => {
  const ticker = new Ticker({ clock: new FakeClock(0), periodMs: 10 });
  const base = { ticker, send: () => {}, onMark: () => {} };
  assert.throws(() => new Playout({ ...base, frameMs: 25 }), RangeError);
  assert.throws(() => new Playout({ ...base, leadMs: -1 }), RangeError);
  assert.throws(() => new Playout({ ...base, maxBurst: 0 }), RangeError);
});
