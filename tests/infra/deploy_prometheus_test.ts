/**
 * The monitoring files in infra/deploy: Prometheus's own `promtool` accepts the scrape configuration and
 * the alert rules, the rules' unit tests pass (each alert fires on unhealthy series and stays quiet on
 * healthy ones) and fail when a rule is weakened, and every metric the rules and the Grafana dashboard use
 * is one the running appliance exposes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../_helpers.ts";
import {
  exposedNames,
  metricNamesIn,
  type MetricsPage,
  produceMetricsPage,
  promtoolCheck,
  promtoolIgnore as ignore,
  promtoolMissing as missing,
} from "./_metrics_page.ts";

const PROM = join(ROOT, "infra/deploy/prometheus");
const DASHBOARD = join(ROOT, "infra/deploy/grafana/tom.json");

let produced: Promise<MetricsPage> | undefined;
const page = () => (produced ??= produceMetricsPage());

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function alertRules(): Rule[] {
  const doc = parse(Deno.readTextFileSync(join(PROM, "tom_rules.yml"))) as { groups: { rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
}

function dashboard(): {
  schemaVersion: number;
  __inputs: { name: string; pluginId: string }[];
  panels: Panel[];
} {
  return JSON.parse(Deno.readTextFileSync(DASHBOARD));
}

function dashboardExprs(): string[] {
  return dashboard().panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
}

Deno.test({
  name: "promtool accepts prometheus.yml (with its rule file) and tom_rules.yml",
  ignore,
  async fn() {
    assert.equal(missing, undefined, missing ?? "");
    const config = await promtoolCheck(["check", "config", join(PROM, "prometheus.yml")]);
    assert.equal(config.code, 0, config.output);
    assert.match(config.output, /SUCCESS: 1 rule files found/);
    const rules = await promtoolCheck(["check", "rules", join(PROM, "tom_rules.yml")]);
    assert.equal(rules.code, 0, rules.output);
    assert.match(rules.output, new RegExp(`SUCCESS: ${alertRules().length} rules found`));
  },
});

Deno.test({
  name: "promtool test rules: every alert fires on its unhealthy series and not on healthy ones",
  ignore,
  async fn() {
    assert.equal(missing, undefined, missing ?? "");
    const r = await promtoolCheck(["test", "rules", join(PROM, "tom_rules_test.yml")]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS/);
    // Each alert has a firing case in the unit tests.
    const tests = Deno.readTextFileSync(join(PROM, "tom_rules_test.yml"));
    for (const rule of alertRules()) {
      assert.match(
        tests,
        new RegExp(`alertname: ${rule.alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`),
        rule.alert,
      );
    }
  },
});

Deno.test({
  name: "the rule unit tests fail when a threshold is weakened (they can fail)",
  ignore,
  async fn() {
    assert.equal(missing, undefined, missing ?? "");
    const dir = await Deno.makeTempDir({ prefix: "tom-rules-" });
    try {
      const rules = Deno.readTextFileSync(join(PROM, "tom_rules.yml"));
      const weakened = rules.replace("> 0.8", "> 2");
      assert.notEqual(weakened, rules);
      Deno.writeTextFileSync(join(dir, "tom_rules.yml"), weakened);
      Deno.copyFileSync(join(PROM, "tom_rules_test.yml"), join(dir, "tom_rules_test.yml"));
      const r = await promtoolCheck(["test", "rules", join(dir, "tom_rules_test.yml")]);
      assert.notEqual(r.code, 0);
      assert.match(r.output, /FAILED[\s\S]*TomTurnLatencyHigh/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "every alert has a severity and a plain-English summary and description",
  fn() {
    const rules = alertRules();
    assert.deepEqual(rules.map((r) => r.alert).sort(), [
      "TomDown",
      "TomEngineDown",
      "TomEngineErrorRateHigh",
      "TomGpuMemoryHigh",
      "TomMeanRewardLow",
      "TomTurnLatencyHigh",
    ]);
    for (const r of rules) {
      assert.match(r.labels?.severity ?? "", /^(critical|warning)$/, r.alert);
      assert.ok((r.annotations?.summary ?? "").length > 10, `${r.alert} summary`);
      assert.ok((r.annotations?.description ?? "").length > 80, `${r.alert} description`);
      assert.ok(r.for, `${r.alert} waits before firing`);
    }
    const byName = new Map(rules.map((r) => [r.alert, r.expr]));
    assert.match(
      byName.get("TomTurnLatencyHigh") ?? "",
      /histogram_quantile\(0\.95,[\s\S]*stage="voice_to_voice"/,
    );
    assert.match(byName.get("TomMeanRewardLow") ?? "", /tom_rl_reward_sum[\s\S]*tom_rl_reward_count/);
  },
});

Deno.test({
  name: "the Grafana dashboard: a Prometheus datasource input, and every panel queries with it",
  fn() {
    const d = dashboard();
    assert.ok(d.schemaVersion >= 36 && d.schemaVersion <= 41, `schemaVersion ${d.schemaVersion}`);
    assert.deepEqual(d.__inputs.map((i) => [i.name, i.pluginId]), [["DS_PROMETHEUS", "prometheus"]]);
    const ids = d.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
    const panels = d.panels.filter((p) => p.type !== "row");
    assert.ok(panels.length >= 10);
    for (const p of panels) {
      assert.equal(p.datasource?.uid, "${DS_PROMETHEUS}", p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
      for (const t of p.targets ?? []) assert.ok(t.expr.trim().length > 0, `${p.title} ${t.refId}`);
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
    }
    // The topics the operators asked for.
    const used = new Set(dashboardExprs().flatMap(metricNamesIn));
    for (
      const name of [
        "tom_turn_stage_seconds_bucket",
        "tom_active_calls",
        "tom_calls_total",
        "tom_barge_ins_total",
        "tom_engine_up",
        "tom_engine_restarts_total",
        "tom_engine_errors_total",
        "tom_rl_reward_sum",
        "tom_rl_reward_count",
        "tom_rl_policy_pulls_total",
        "tom_rl_blacklisted_variants",
        "tom_gateway_auth_failures_total",
        "tom_gateway_rate_limited_total",
        "tom_gpu_memory_used_bytes",
      ]
    ) assert.ok(used.has(name), `the dashboard shows ${name}`);
    const latency = dashboardExprs().filter((e) => e.includes("tom_turn_stage_seconds_bucket"));
    assert.ok(latency.some((e) => e.startsWith("histogram_quantile(0.5,")), "p50 per stage");
    assert.ok(latency.some((e) => e.startsWith("histogram_quantile(0.95,")), "p95 per stage");
  },
});

Deno.test({
  name: "every dashboard query is valid PromQL (promtool parses them as recording rules)",
  ignore,
  async fn() {
    assert.equal(missing, undefined, missing ?? "");
    const dir = await Deno.makeTempDir({ prefix: "tom-dashboard-" });
    try {
      const rules = dashboardExprs().map((expr, i) => ({ record: `dashboard:query_${i}`, expr }));
      const file = join(dir, "dashboard_rules.yml");
      Deno.writeTextFileSync(file, JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
      const r = await promtoolCheck(["check", "rules", file]);
      assert.equal(r.code, 0, r.output);
      assert.match(r.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
      // The check can fail: a broken query is refused.
      Deno.writeTextFileSync(
        file,
        JSON.stringify({ groups: [{ name: "d", rules: [{ record: "d:q", expr: "sum(rate(x[5m])" }] }] }),
      );
      assert.notEqual((await promtoolCheck(["check", "rules", file])).code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "every metric the alert rules and the dashboard use is on the running appliance's /metrics page",
  async fn() {
    const names = exposedNames((await page()).text);
    const used = new Map<string, string>();
    for (const r of alertRules()) for (const n of metricNamesIn(r.expr)) used.set(n, `rule ${r.alert}`);
    for (const e of dashboardExprs()) for (const n of metricNamesIn(e)) used.set(n, "the dashboard");
    assert.ok(used.size >= 15, `${used.size} metric names found in rules and dashboard`);
    for (const [name, where] of used) assert.ok(names.has(name), `${name} (used in ${where}) is not exposed`);
    // The check can fail: a misspelt name is not exposed.
    assert.equal(names.has("tom_turn_stage_second_bucket"), false);
  },
});
