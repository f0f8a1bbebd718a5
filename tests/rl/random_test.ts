import assert from "node:assert/strict";
import { betaSummary, mulberry32, sampleBeta, sampleGamma } from "../../rl/random.ts";

Deno.test("mulberry32 is deterministic per seed and uniform in [0, 1)", () => {
  const a = mulberry32(7), b = mulberry32(7);
  const xs = Array.from({ length: 10_000 }, () => a());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
});

Deno.test("Gamma and Beta samples have the right means", () => {
  const r = mulberry32(1);
  for (const shape of [0.5, 1, 3.5, 20]) {
    const n = 20_000;
    let s = 0;
    for (let i = 0; i < n; i++) s += sampleGamma(shape, r);
    assert.ok(Math.abs(s / n - shape) < 0.05 * shape + 0.02, `Gamma(${shape}) mean ${s / n}`);
  }
  for (const [a, b] of [[1, 1], [2, 8], [30.5, 10.5]]) {
    const n = 20_000;
    let s = 0;
    for (let i = 0; i < n; i++) s += sampleBeta(a, b, r);
    assert.ok(Math.abs(s / n - a / (a + b)) < 0.01, `Beta(${a}, ${b}) mean ${s / n}`);
  }
});

Deno.test("Gamma refuses a non-positive shape", () => {
  assert.throws(() => sampleGamma(0, Math.random), RangeError);
  assert.throws(() => sampleGamma(Number.NaN, Math.random), RangeError);
});

Deno.test("betaSummary gives the mean and a 95% interval within [0, 1]", () => {
  const s = betaSummary(1, 1);
  assert.equal(s.mean, 0.5);
  assert.ok(s.low >= 0 && s.high <= 1);
  const t = betaSummary(501, 501);
  assert.ok(t.high - t.low < 0.07 && t.high - t.low > 0.05);
});
