// The bandit simulation's figures over several seeds: best-arm share in the last 500 of 2,000 pulls,
// cumulative regret at 500/1000/2000 (sublinear growth), highest share a new arm ever got, the pull
// count at which the planted bad arm was blacklisted, and the exploration share.
// Run: deno run --allow-all tests/bench/rl_simulation_bench.ts
import { LATE_ARM, SIM_ARMS, simulate } from "../rl/_simulation.ts";

const seeds = [42, 1, 2, 3, 7, 11, 13, 17];
console.log(`rl simulation: arms ${JSON.stringify(SIM_ARMS)}, ${LATE_ARM.id}=${LATE_ARM.mean} joins at 1000`);
const head = [
  "seed",
  "best@last500",
  "regret@500",
  "@1000",
  "@2000",
  "inc 1000-2000",
  "max new share",
  "bad blacklisted@",
  "explore",
];
const rows = seeds.map((seed) => {
  const r = simulate(seed);
  return [
    String(seed),
    `${(r.bestShareLast500 * 100).toFixed(1)}%`,
    r.regretAt[500].toFixed(1),
    r.regretAt[1000].toFixed(1),
    r.regretAt[2000].toFixed(1),
    (r.regretAt[2000] - r.regretAt[1000]).toFixed(1),
    `${(r.maxNewShare * 100).toFixed(1)}%`,
    r.badBlacklistedAtPulls === undefined ? "never" : `${r.badBlacklistedAtPulls} pulls`,
    `${(r.explorationShare * 100).toFixed(1)}%`,
  ];
});
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padStart(widths[i])).join("  "));

// Baselines on the same arms and schedule (expected regret, no noise): TOM without learning (always the
// base variant) and uniform random choice among the available arms.
const best = Math.max(...Object.values(SIM_ARMS), LATE_ARM.mean);
const expectedRegret = (pulls: number, pick: (available: number[]) => number): number => {
  let regret = 0;
  for (let t = 1; t <= pulls; t++) {
    const available = [...Object.values(SIM_ARMS), ...(t > 1000 ? [LATE_ARM.mean] : [])];
    regret += best - pick(available);
  }
  return regret;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const thompson2000 = mean(rows.map((r) => Number(r[4])));
console.log(
  "\nbaselines (same arms, expected regret)      @500    @1000   @2000   Thompson @2000 / baseline",
);
for (
  const [name, pick] of [
    ["always the base variant (no learning)", () => SIM_ARMS.base],
    ["uniform random among available arms", (a: number[]) => mean(a)],
  ] as const
) {
  const at = [500, 1000, 2000].map((n) => expectedRegret(n, pick));
  console.log(
    `${name.padEnd(42)} ${at.map((x) => x.toFixed(1).padStart(7)).join(" ")}   ${
      (thompson2000 / at[2]).toFixed(3)
    }`,
  );
}
