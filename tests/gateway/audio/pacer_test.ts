/**
 * The one pacer every paced transport uses: the grid, marks, clear and stop as Twilio and the browser
 * use it (no silence, no lead), then AudioSocket's keep-alive silence and prebuffer and chan_websocket's
 * lead and flow control.
 *
 * @module
 */
import assert from "node:assert/strict";
import { FakeClock } from "../../../gateway/audio/clock.ts";
import { Pacer, type PacerOptions } from "../../../gateway/audio/pacer.ts";
import { Ticker } from "../../../gateway/audio/ticker.ts";

interface Sent {
  frame: number;
  slot: number;
  at: number;
}

/** A pacer on a fake clock (grid origin 0, 10 ms ticks) that records what it sends and marks. */
function rig(options: Partial<PacerOptions<number>> = {}) {
  const clock = new FakeClock(0);
  const ticker = new Ticker({ clock, periodMs: 10 });
  const sent: Sent[] = [];
  const events: string[] = [];
  const pacer = new Pacer<number>({
    ticker,
    send: (frames, slot) =>
      frames.forEach((frame, i) => {
        sent.push({ frame, slot: slot + i * 20, at: clock.now() });
        events.push(`f${frame}`);
      }),
    onMark: (name, cleared) => events.push(cleared ? `${name}:cleared` : name),
    ...options,
  });
  return { clock, ticker, pacer, sent, events };
}

Deno.test("pacer sends one frame per 20 ms on the ticker's grid, each at its slot", () => {
  const { clock, pacer, sent } = rig();
  clock.advance(3);
  for (let i = 0; i < 5; i++) pacer.enqueue(i);
  assert.equal(pacer.queuedMs, 100);
  assert.equal(sent.length, 0, "nothing is sent synchronously");
  clock.advance(200);
  assert.deepEqual(sent.map((s) => s.slot), [10, 30, 50, 70, 90]);
  assert.deepEqual(sent.map((s) => s.at), [10, 30, 50, 70, 90]);
  assert.deepEqual(sent.map((s) => s.frame), [0, 1, 2, 3, 4]);
  assert.equal(pacer.queuedMs, 0);
  assert.equal(pacer.sentFrames, 5);
});

Deno.test("a late tick does not shift later frames: the schedule is absolute", () => {
  const { clock, pacer, sent } = rig();
  for (let i = 0; i < 4; i++) pacer.enqueue(i);
  clock.advance(39); // frames 0 (slot 0) and 1 (slot 20)
  clock.stall(8); // the event loop was blocked past the tick at 40, until 47
  clock.advance(100);
  assert.deepEqual(sent.map((s) => s.slot), [0, 20, 40, 60]);
  assert.deepEqual(sent.map((s) => s.at), [0, 20, 47, 60]);
});

Deno.test("a pacer behind by up to maxBurst frames catches up, sending the overdue frames in one tick", () => {
  const { clock, pacer, sent } = rig();
  for (let i = 0; i < 6; i++) pacer.enqueue(i);
  clock.advance(0); // frame 0 at 0
  clock.stall(45);
  clock.advance(0); // tick 40 fires at 45: frames due at 20 and 40
  assert.deepEqual(sent.map((s) => [s.slot, s.at]), [[0, 0], [20, 45], [40, 45]]);
  clock.advance(100);
  assert.deepEqual(sent.slice(3).map((s) => [s.slot, s.at]), [[60, 60], [80, 80], [100, 100]]);
  assert.equal(pacer.slippedFrames, 0);
});

Deno.test("a pacer far behind sends at most maxBurst frames per tick and slips the rest of its schedule", () => {
  const { clock, pacer, sent } = rig({ maxBurst: 2 });
  for (let i = 0; i < 20; i++) pacer.enqueue(i);
  clock.advance(0);
  clock.stall(200);
  clock.advance(0);
  assert.equal(sent.length, 3, "one on time, then a burst of two");
  assert.equal(pacer.slippedFrames, 8); // slots 20..200 were due (10 frames), 2 sent
  assert.deepEqual(sent.slice(1).map((s) => [s.slot, s.at]), [[180, 200], [200, 200]]);
  clock.advance(40);
  assert.deepEqual(sent.slice(3).map((s) => [s.slot, s.at]), [[220, 220], [240, 240]]);
  assert.equal(pacer.queuedFrames, 15);
});

Deno.test("marks fire in stream order, once the frames queued before them are sent", () => {
  const { clock, pacer, events } = rig();
  pacer.enqueue(0);
  pacer.enqueue(1);
  pacer.mark("a");
  pacer.enqueue(2);
  pacer.mark("b");
  pacer.mark("c");
  assert.equal(pacer.queuedMs, 60, "marks take no time");
  clock.advance(25);
  assert.deepEqual(events, ["f0", "f1", "a"]);
  clock.advance(20);
  assert.deepEqual(events, ["f0", "f1", "a", "f2", "b", "c"]);
});

Deno.test("a mark on an empty queue fires on the next tick, not synchronously", () => {
  const { clock, pacer, events, ticker } = rig();
  clock.advance(4);
  pacer.mark("now");
  assert.deepEqual(events, []);
  clock.advance(6);
  assert.deepEqual(events, ["now"]);
  assert.equal(ticker.size, 0, "an idle pacer leaves the ticker");
});

Deno.test("clear drops queued frames and fires pending marks as cleared, in order", () => {
  const { clock, pacer, events, sent, ticker } = rig();
  for (let i = 0; i < 3; i++) pacer.enqueue(i);
  pacer.mark("m1");
  pacer.enqueue(3);
  pacer.mark("m2");
  clock.advance(20); // f0, f1
  pacer.clear();
  assert.deepEqual(events, ["f0", "f1", "m1:cleared", "m2:cleared"]);
  assert.equal(pacer.queuedMs, 0);
  assert.equal(ticker.size, 0);
  clock.advance(100);
  assert.equal(sent.length, 2);
  clock.advance(3); // now 123: a new run starts on the next grid tick
  pacer.enqueue(9);
  clock.advance(20);
  assert.deepEqual(sent.at(-1), { frame: 9, slot: 130, at: 130 });
});

Deno.test("stop clears, releases the ticker's timer and ignores later frames and marks", () => {
  const { clock, pacer, events, sent, ticker } = rig();
  pacer.enqueue(0);
  pacer.enqueue(1);
  pacer.mark("end");
  pacer.stop();
  assert.deepEqual(events, ["end:cleared"]);
  assert.equal(ticker.size, 0);
  assert.equal(clock.pending, 0);
  pacer.enqueue(2);
  pacer.mark("late");
  clock.advance(100);
  assert.equal(sent.length, 0);
  assert.deepEqual(events, ["end:cleared"]);
});

Deno.test("a frame that arrives in time for its slot continues the run; a late one starts a new run", () => {
  const { clock, pacer, sent } = rig();
  clock.advance(2);
  pacer.enqueue(0); // slot 10
  clock.advance(23); // now 25, sent at 10; the next slot is 30
  pacer.enqueue(1);
  clock.advance(30); // now 55: sent at 30; next slot 50 has passed
  pacer.enqueue(2);
  clock.advance(30);
  assert.deepEqual(sent.map((s) => s.slot), [10, 30, 60]);
  assert.equal(pacer.runs, 2);
});

Deno.test("startDelayMs delays the first frame of a run, on the grid", () => {
  const { clock, pacer, sent } = rig({ startDelayMs: 10 });
  clock.advance(2);
  pacer.enqueue(0);
  pacer.enqueue(1);
  clock.advance(50);
  assert.deepEqual(sent.map((s) => s.slot), [20, 40]);
});

Deno.test("callbacks may clear or enqueue while the pacer is sending", () => {
  const clock = new FakeClock(0);
  const ticker = new Ticker({ clock });
  const log: string[] = [];
  const pacer: Pacer<string> = new Pacer<string>({
    ticker,
    send: (frames) =>
      frames.forEach((frame) => {
        log.push(frame);
        if (frame === "x1") pacer.enqueue("y");
      }),
    onMark: (name, cleared) => {
      log.push(`${name}${cleared ? ":cleared" : ""}`);
      if (name === "barge") pacer.clear();
    },
  });
  pacer.enqueue("x1");
  pacer.mark("barge");
  pacer.enqueue("x2");
  pacer.mark("after");
  clock.advance(100);
  assert.deepEqual(log, ["x1", "barge", "after:cleared"]);
  assert.equal(pacer.queuedFrames, 0);
});

Deno.test("one ticker timer serves many pacers", () => {
  const clock = new FakeClock(0);
  const ticker = new Ticker({ clock });
  let sent = 0;
  const pacers = Array.from(
    { length: 300 },
    () => new Pacer<number>({ ticker, send: (f) => sent += f.length }),
  );
  clock.advance(1);
  pacers.forEach((p, i) => {
    clock.stall(i % 3 === 0 ? 0.05 : 0); // staggered arrivals
    for (let k = 0; k < 10; k++) p.enqueue(k);
  });
  assert.equal(clock.pending, 1);
  assert.equal(ticker.size, 300);
  clock.advance(500);
  assert.equal(sent, 3000);
  assert.equal(ticker.size, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("Pacer rejects frame durations off the ticker's grid and bad options", () => {
  const ticker = new Ticker({ clock: new FakeClock(), periodMs: 20 });
  assert.throws(() => new Pacer({ ticker, send: () => {}, frameMs: 30 }), /multiple/);
  assert.throws(() => new Pacer({ ticker, send: () => {}, maxBurst: 0 }), RangeError);
  assert.throws(() => new Pacer({ ticker, send: () => {}, leadMs: -1 }), RangeError);
  assert.throws(() => new Pacer({ ticker, send: () => {}, startDelayMs: -1 }), RangeError);
});

Deno.test("on the system clock and shared ticker the pacer sends everything, in order, and leaves no timer", async () => {
  const sent: number[] = [];
  const done = Promise.withResolvers<void>();
  const pacer = new Pacer<number>({
    send: (frames) => sent.push(...frames),
    onMark: (name, cleared) => {
      assert.equal(name, "end");
      assert.equal(cleared, false);
      done.resolve();
    },
  });
  for (let i = 0; i < 5; i++) pacer.enqueue(i);
  pacer.mark("end");
  await done.promise;
  assert.deepEqual(sent, [0, 1, 2, 3, 4]);
  pacer.stop(); // the sanitizer checks that the shared ticker's timer is gone
});

Deno.test("slots on a fractional clock origin still meet their ticks (no floating-point misses)", () => {
  const clock = new FakeClock(1234.5678901);
  const ticker = new Ticker({ clock });
  const late: number[] = [];
  const pacer = new Pacer<number>({
    ticker,
    send: (frames, slot) => frames.forEach((_f, i) => late.push(clock.now() - (slot + i * 20))),
  });
  clock.advance(3.3);
  for (let i = 0; i < 500; i++) pacer.enqueue(i);
  clock.advance(10_100);
  assert.equal(late.length, 500);
  assert.ok(late.every((l) => Math.abs(l) < 1e-6), `worst ${Math.max(...late)} ms`);
});

// ------------------------------------------------ Asterisk: keep-alive silence, prebuffer, lead, flow control

const SILENCE = new Uint8Array([0]);
const frame = (n: number) => new Uint8Array([n]);

/** A pacer (as Asterisk's transports use it) on a fake clock (grid origin 0, 10 ms ticks) that logs sends (`t@ms:frames`) and marks. */
function playoutRig(opts: Partial<PacerOptions<Uint8Array>> = {}) {
  const clock = new FakeClock(0);
  const ticker = new Ticker({ clock, periodMs: 10 });
  const log: string[] = [];
  const playout = new Pacer<Uint8Array>({
    ticker,
    send: (frames) => log.push(`${clock.now()}:${frames.map((f) => (f === SILENCE ? "s" : f[0])).join(",")}`),
    onMark: (name, cleared) => log.push(`${clock.now()}:${name}${cleared ? "!" : ""}`),
    ...opts,
  });
  return { clock, ticker, playout, log };
}

Deno.test("AudioSocket pacing: a silence frame every 20 ms while there is nothing to say", () => {
  const { clock, playout, log } = playoutRig({ silence: SILENCE });
  clock.advance(100);
  assert.deepEqual(log, ["0:s", "20:s", "40:s", "60:s", "80:s", "100:s"]);
  assert.equal(playout.sentFrames, 6);
  playout.stop();
});

Deno.test("AudioSocket pacing: audio takes the next slots, in order, and silence resumes after it", () => {
  const { clock, playout, log } = playoutRig({ silence: SILENCE });
  clock.advance(25);
  for (let i = 1; i <= 3; i++) playout.enqueue(frame(i));
  assert.equal(playout.queuedMs, 60);
  clock.advance(80);
  assert.deepEqual(log, ["0:s", "20:s", "40:1", "60:2", "80:3", "100:s"]);
  assert.equal(playout.queuedMs, 0);
  playout.stop();
});

Deno.test("a lone frame waits up to prebufferMs for a second one; two frames start at once", () => {
  const { clock, playout, log } = playoutRig({ silence: SILENCE, prebufferMs: 20 });
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
  const { clock, playout, log } = playoutRig({ silence: SILENCE });
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
  const { clock, playout, log } = playoutRig({ silence: SILENCE });
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
  const { clock, ticker, playout, log } = playoutRig({ silence: SILENCE });
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
  const { clock, ticker, playout, log } = playoutRig({ leadMs: 60 });
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
  const { clock, playout, log } = playoutRig({ leadMs: 40 });
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
  const { clock, playout, log } = playoutRig({ leadMs: 0 });
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
  const { clock, playout, log } = playoutRig({ silence: SILENCE, maxBurst: 3 });
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
  const { clock, playout, log } = playoutRig({ silence: SILENCE });
  clock.advance(0);
  playout.silence = new Uint8Array([7]);
  clock.advance(20);
  assert.deepEqual(log, ["0:s", "20:7"]);
  playout.stop();
});

Deno.test("options are checked", () => {
  const ticker = new Ticker({ clock: new FakeClock(0), periodMs: 10 });
  const base = { ticker, send: () => {}, onMark: () => {} };
  assert.throws(() => new Pacer({ ...base, frameMs: 25 }), RangeError);
  assert.throws(() => new Pacer({ ...base, leadMs: -1 }), RangeError);
  assert.throws(() => new Pacer({ ...base, maxBurst: 0 }), RangeError);
});
