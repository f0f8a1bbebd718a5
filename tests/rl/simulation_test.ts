// The done criteria for the bandit, on a seeded simulation with arms of known mean reward.
import assert from "node:assert/strict";
import { simulate } from "./_simulation.ts";

const SEED = 42;
const result = simulate(SEED, 2000, 1000);

Deno.test("simulation: after 2,000 pulls the best arm gets more than 80% of the last 500", () => {
  assert.ok(result.bestShareLast500 > 0.8, `best arm share ${result.bestShareLast500}`);
});

Deno.test("simulation: cumulative regret grows sublinearly", () => {
  const r = result.regretAt;
  const first = r[1000];
  const second = r[2000] - r[1000];
  assert.ok(second < 0.5 * first, `regret 0-1000: ${first}, 1000-2000: ${second}`);
  assert.ok(r[2000] - r[1500] < r[1000] - r[500], "later increments are smaller");
  assert.ok(r[2000] / 2000 < r[500] / 500, "average regret falls");
});

Deno.test("simulation: the guard blacklists the planted bad arm after 20 rewards", () => {
  assert.equal(result.badBlacklistedAtPulls, 20);
  assert.equal(result.selections.bad, 20, "no selection after the blacklist");
});

Deno.test("simulation: a new arm never gets more than 10% of the window", () => {
  assert.ok(result.maxNewShare <= 0.1 + 1e-12, `max new share ${result.maxNewShare}`);
  assert.ok(result.maxNewShareLate <= 0.1 + 1e-12, `late arm max share ${result.maxNewShareLate}`);
  assert.ok(result.selections.late >= 20, "the late arm was tried");
});

Deno.test("simulation: the same seed gives the same run", () => {
  assert.deepEqual(simulate(SEED, 300, 200), simulate(SEED, 300, 200));
});
