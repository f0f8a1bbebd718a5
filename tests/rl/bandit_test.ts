import assert from "node:assert/strict";
import { createAccount } from "../../store/accounts.ts";
import { getVariant, listArms, upsertVariant } from "../../store/bandit.ts";
import { createCall } from "../../store/calls.ts";
import { openStore } from "../../store/db.ts";
import { PolicyBandit } from "../../rl/bandit.ts";
import { RlMetrics } from "../../rl/metrics.ts";
import { mulberry32 } from "../../rl/random.ts";
import { buildReport, formatReport, rlReportCommand } from "../../rl/report.ts";

function setup(ids = ["base", "a", "b"]) {
  const dir = Deno.makeTempDirSync({ prefix: "tom-rl-" });
  const path = `${dir}/tom.db`;
  const store = openStore(path);
  for (const id of ids) upsertVariant(store, { id, name: id });
  return { store, path, dir };
}

Deno.test("bandit: posteriors survive a restart (state in SQLite)", () => {
  const { store, path, dir } = setup();
  const bandit = new PolicyBandit(store, { baseVariant: "base", random: mulberry32(1) });
  for (let i = 0; i < 5; i++) bandit.reward("clinical", "a", 1);
  bandit.reward("private", "a", -1);
  store.close();
  const again = openStore(path);
  const [arm] = listArms(again, "clinical");
  assert.equal(arm.pulls, 5);
  assert.equal(arm.alpha, 6);
  assert.equal(arm.beta, 1);
  assert.equal(listArms(again, "private")[0].beta, 2, "contexts are separate");
  again.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("bandit: the traffic window is restored from the calls table after a restart", () => {
  const { store } = setup();
  const account = createAccount(store, { name: "Praxis", kind: "clinical" });
  for (let i = 0; i < 10; i++) {
    createCall(store, account.id, {
      direction: "inbound",
      transport: "browser",
      startedAt: 1000 + i,
      policyVariantId: i < 1 ? "a" : "base",
      banditContext: "clinical",
    });
  }
  const bandit = new PolicyBandit(store, { baseVariant: "base", random: mulberry32(2) });
  const shares = bandit.shares("clinical");
  assert.equal(shares.get("a"), 0.1);
  // "a" is new and already at 10% of 10 selections: (1 + 1) / 11 > 10%, so it is capped now.
  const d = bandit.select("clinical");
  assert.ok(d?.capped.includes("a"));
  store.close();
});

Deno.test("bandit: an uncertain arm is held to 5%, an established one is not capped", () => {
  const { store } = setup();
  const bandit = new PolicyBandit(store, {
    baseVariant: "base",
    random: mulberry32(3),
    restoreWindow: false,
  });
  for (let i = 0; i < 20; i++) bandit.reward("c", "a", 0); // 20 pulls: no longer new, CI still wide
  for (let i = 0; i < 400; i++) bandit.reward("c", "b", 0.9); // established
  const states = bandit.states("c");
  assert.equal(states.get("a"), "uncertain");
  assert.equal(states.get("b"), "established");
  assert.equal(states.get("base"), "base");
  const picks: string[] = [];
  for (let i = 0; i < 400; i++) picks.push(bandit.select("c")?.variantId ?? "");
  const share = (id: string) => picks.filter((p) => p === id).length / picks.length;
  assert.ok(share("a") <= 0.05 + 1e-9, `uncertain share ${share("a")}`);
  assert.ok(share("b") > 0.8, `established share ${share("b")}`);
  store.close();
});

Deno.test("bandit: a bad variant is blacklisted, logged, and an admin can re-enable it", () => {
  const { store } = setup();
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
  const metrics = new RlMetrics();
  const bandit = new PolicyBandit(store, { baseVariant: "base", random: mulberry32(4), log, metrics });
  for (let i = 0; i < 19; i++) assert.equal(bandit.reward("c", "a", -0.5).blacklisted, undefined);
  const out = bandit.reward("c", "a", -0.5);
  assert.match(out.blacklisted ?? "", /Mean reward -0.500 below -0.2 after 20 rewards/);
  assert.equal(getVariant(store, "a")?.blacklisted, true);
  assert.ok(lines.includes("rl variant blacklisted"));
  for (let i = 0; i < 50; i++) assert.notEqual(bandit.select("c")?.variantId, "a");
  assert.equal(lines.filter((l) => l === "rl variant selected").length, 50, "every decision is logged");
  assert.deepEqual(metrics.snapshot().blacklisted, ["a"]);
  assert.equal(bandit.reenable("a"), true);
  assert.equal(getVariant(store, "a")?.blacklisted, false);
  assert.equal(bandit.reenable("a"), false);
  store.close();
});

Deno.test("bandit: no active variant means no decision (the default policy applies)", () => {
  const { store } = setup([]);
  assert.equal(new PolicyBandit(store, { baseVariant: "base" }).select("c"), undefined);
  store.close();
});

Deno.test("bandit: guard options are checked when the bandit is built", () => {
  const { store } = setup();
  assert.throws(
    () => new PolicyBandit(store, { baseVariant: "base", guard: { newMaxShare: 2 } }),
    RangeError,
  );
  store.close();
});

Deno.test("metrics: selections, exploration share, reward histogram and Prometheus text", () => {
  const { store } = setup();
  const metrics = new RlMetrics();
  const bandit = new PolicyBandit(store, { baseVariant: "base", random: mulberry32(5), metrics });
  for (let i = 0; i < 30; i++) {
    const d = bandit.select("c");
    bandit.reward("c", d?.variantId ?? "base", d?.variantId === "b" ? 0.5 : -0.1);
  }
  metrics.onFeedback("dtmf");
  const s = metrics.snapshot();
  assert.equal(s.selections, 30);
  assert.equal(s.rewardCount, 30);
  assert.equal(s.rewardBuckets.reduce((a, b) => a + b.count, 0), 30);
  assert.ok(s.explorationShare >= 0 && s.explorationShare <= 1);
  const text = metrics.toPrometheus();
  assert.match(text, /tom_rl_feedback_total\{source="dtmf"\} 1/);
  assert.match(text, /tom_rl_reward_count 30/);
  assert.match(text, /tom_rl_policy_pulls_total\{variant="base"\}/);
  assert.match(text, /tom_rl_blacklisted_variants 0/);
  store.close();
});

Deno.test("report: pulls, mean reward, credible interval, traffic share and guard state per variant", () => {
  const { store } = setup();
  const account = createAccount(store, { name: "Praxis", kind: "clinical" });
  const bandit = new PolicyBandit(store, { baseVariant: "base", random: mulberry32(6) });
  for (let i = 0; i < 4; i++) {
    createCall(store, account.id, {
      direction: "inbound",
      transport: "browser",
      policyVariantId: i === 0 ? "a" : "base",
      banditContext: "clinical",
    });
  }
  bandit.reward("clinical", "a", 0.5);
  bandit.reward("clinical", "a", 0.3);
  const rows = buildReport(store, { baseVariant: "base" });
  const a = rows.find((r) => r.variantId === "a");
  assert.equal(a?.pulls, 2);
  assert.ok(Math.abs((a?.meanReward ?? 0) - 0.4) < 1e-9);
  assert.ok((a?.ci95[0] ?? 1) < 0.4 && (a?.ci95[1] ?? 0) > 0.2);
  assert.equal(a?.trafficShare, 0.25);
  assert.equal(a?.guard, "new");
  assert.equal(rows.find((r) => r.variantId === "base")?.guard, "base");
  assert.match(
    formatReport(rows),
    /^context\s+variant\s+pulls\s+mean\s+ci95\s+share\s+guard\nclinical\s+a\s+2\s+0\.400/,
  );
  const json = rlReportCommand(store, ["--json"], { baseVariant: "base" });
  assert.equal(json.code, 0);
  assert.equal(JSON.parse(json.output).rows.length, 3);
  assert.equal(rlReportCommand(store, ["--xml"], { baseVariant: "base" }).code, 2);
  store.close();
});
