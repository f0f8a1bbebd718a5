import assert from "node:assert/strict";
import { FakeClock } from "../../../gateway/audio/clock.ts";
import { sharedTicker, Ticker } from "../../../gateway/audio/ticker.ts";

Deno.test("Ticker ticks on an absolute grid, whatever time a handler takes", () => {
  const clock = new FakeClock(1000);
  const ticker = new Ticker({ clock, periodMs: 10 });
  const ticks: [number, number][] = [];
  clock.advance(3);
  ticker.add((t) => {
    ticks.push([t, clock.now()]);
    clock.stall(4); // slow handler
  });
  clock.advance(40);
  assert.deepEqual(ticks.map(([t]) => t), [1010, 1020, 1030, 1040]);
  assert.deepEqual(ticks.map(([, at]) => at), [1010, 1020, 1030, 1040]);
});

Deno.test("Ticker wakes late once after a stall and stays on its grid", () => {
  const clock = new FakeClock(0);
  const ticker = new Ticker({ clock, periodMs: 10 });
  const ticks: number[] = [];
  ticker.add((t) => ticks.push(t));
  clock.advance(0);
  clock.stall(35);
  clock.advance(20);
  assert.deepEqual(ticks, [0, 30, 40, 50]);
});

Deno.test("Ticker runs a timer only while it has subscribers", () => {
  const clock = new FakeClock(0);
  const ticker = new Ticker({ clock });
  const h = () => {};
  assert.equal(clock.pending, 0);
  ticker.add(h);
  ticker.add(h);
  assert.equal(ticker.size, 1);
  assert.equal(clock.pending, 1);
  ticker.remove(h);
  assert.equal(clock.pending, 0);
  assert.equal(ticker.nextTickAt(21), 30);
  assert.equal(ticker.nextTickAt(30), 30);
});

Deno.test("a throwing handler is reported and the others still tick", () => {
  const clock = new FakeClock(0);
  const errors: unknown[] = [];
  const ticker = new Ticker({ clock, onError: (e) => errors.push(e) });
  let calls = 0;
  ticker.add(() => {
    throw new Error("boom");
  });
  ticker.add(() => calls++);
  clock.advance(20);
  assert.equal(calls, 3);
  assert.equal(errors.length, 3);
  assert.throws(() => new Ticker({ periodMs: 0 }), RangeError);
});

Deno.test("the shared ticker is one instance on the system clock, idle until used", () => {
  assert.equal(sharedTicker(), sharedTicker());
  assert.equal(sharedTicker().periodMs, 10);
  assert.equal(sharedTicker().size, 0);
});
