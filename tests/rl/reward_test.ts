import assert from "node:assert/strict";
import { computeReward, rewardToBeta } from "../../rl/reward.ts";

const full = { resolution: true, rating: 3, bargeIns: 0, repeats: 0, handover: false, durationSec: 180 };

const TABLE: Array<[string, Parameters<typeof computeReward>[0], number]> = [
  ["resolved, rating 3, 180 s: only resolution", full, 0.6],
  ["resolved, rating 5, 90 s", { ...full, rating: 5, durationSec: 90 }, 1],
  ["rating 1 costs 0.2", { ...full, rating: 1 }, 0.4],
  ["rating 4.5 gives 0.15", { ...full, rating: 4.5 }, 0.75],
  ["one barge-in costs 0.1/3", { ...full, bargeIns: 1 }, 0.6 - 0.1 / 3],
  ["barge-ins capped at 3", { ...full, bargeIns: 10 }, 0.5],
  ["repeats capped at 3", { ...full, repeats: 7 }, 0.5],
  ["handover costs 0.1", { ...full, handover: true }, 0.5],
  ["short call bonus capped at +0.2", { ...full, durationSec: 0 }, 0.8],
  ["long call malus capped at -0.2", { ...full, durationSec: 3600 }, 0.4],
  ["270 s gives -0.5 clamped to -0.2", { ...full, durationSec: 270 }, 0.4],
  ["216 s gives -0.2 exactly", { ...full, durationSec: 216 }, 0.4],
  ["162 s gives +0.1", { ...full, durationSec: 162 }, 0.7],
  ["best possible is 1", { ...full, rating: 5, durationSec: 0 }, 1],
  [
    "worst possible is -0.7",
    { resolution: false, rating: 1, bargeIns: 3, repeats: 3, handover: true, durationSec: 9999 },
    -0.7,
  ],
  ["partial resolution 0.5", { ...full, resolution: 0.5 }, 0.3],
];

for (const [name, signals, want] of TABLE) {
  Deno.test(`reward: ${name}`, () => {
    const r = computeReward(signals);
    assert.ok(Math.abs(r.reward - Math.max(-1, Math.min(1, want))) < 1e-9, `${r.reward} != ${want}`);
    assert.ok(r.reward >= -1 && r.reward <= 1);
    const sum = Object.values(r.components).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - r.raw) < 1e-9, "components add up to the raw reward");
  });
}

Deno.test("reward: the worst case sums the penalties and stays within -1..1", () => {
  const r = computeReward({
    resolution: 0,
    rating: 1,
    bargeIns: 3,
    repeats: 3,
    handover: true,
    durationSec: 1e5,
  });
  assert.deepEqual(r.components, {
    resolution: 0,
    rating: -0.2,
    bargeIns: -0.1,
    repeats: -0.1,
    handover: -0.1,
    duration: -0.2,
  });
  assert.equal(r.reward, -0.7);
  assert.deepEqual(r.missing, []);
});

Deno.test("reward: a missing rating is neutral (0) and listed, not a rating of 0", () => {
  const r = computeReward({ ...full, rating: null });
  assert.equal(r.components.rating, 0);
  assert.equal(r.reward, 0.6);
  assert.deepEqual(r.missing, ["rating"]);
  const u = computeReward({ ...full, rating: undefined });
  assert.deepEqual(u.missing, ["rating"]);
});

Deno.test("reward: no signals at all is 0 with every signal listed as missing", () => {
  const r = computeReward({});
  assert.equal(r.reward, 0);
  assert.deepEqual(r.missing, ["resolution", "rating", "bargeIns", "repeats", "handover", "duration"]);
});

Deno.test("reward: out-of-range signals are refused", () => {
  assert.throws(() => computeReward({ rating: 0 }), RangeError);
  assert.throws(() => computeReward({ rating: 6 }), RangeError);
  assert.throws(() => computeReward({ bargeIns: -1 }), RangeError);
  assert.throws(() => computeReward({ durationSec: Number.NaN }), RangeError);
  assert.throws(() => computeReward({ resolution: 2 }), RangeError);
});

Deno.test("rewardToBeta maps -1..1 to fractional Beta increments summing to 1", () => {
  assert.deepEqual(rewardToBeta(1), { alphaDelta: 1, betaDelta: 0, reward: 1 });
  assert.deepEqual(rewardToBeta(-1), { alphaDelta: 0, betaDelta: 1, reward: -1 });
  assert.deepEqual(rewardToBeta(0), { alphaDelta: 0.5, betaDelta: 0.5, reward: 0 });
  assert.deepEqual(rewardToBeta(3), { alphaDelta: 1, betaDelta: 0, reward: 1 });
});
