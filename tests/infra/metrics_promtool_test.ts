/**
 * TOM's `/metrics` page is what Prometheus users expect: `promtool check metrics` (Prometheus's own linter)
 * finds no problem in a page where every metric family has samples, names follow the conventions
 * (`tom_` prefix, base units, `_total` on counters and only once), and a deliberately bad page makes
 * promtool complain, so the check can fail.
 */
import assert from "node:assert/strict";
import { RlMetrics } from "../../rl/metrics.ts";
import {
  EMPTY_UNTIL_FEEDBACK,
  exposedNames,
  type MetricsPage,
  produceMetricsPage,
  promtoolCheck,
  promtoolIgnore as ignore,
  promtoolMissing as missing,
  TOM_FAMILIES,
} from "./_metrics_page.ts";

function types(page: string): Map<string, string> {
  return new Map([...page.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

let produced: Promise<MetricsPage> | undefined;
const page = () => (produced ??= produceMetricsPage());
const promtoolCheckMetrics = (text: string) => promtoolCheck(["check", "metrics"], text);

Deno.test({
  name: "the running appliance's /metrics page, every family with samples, passes promtool check metrics",
  ignore,
  async fn() {
    assert.equal(missing, undefined, missing ?? "");
    const { text } = await page();
    const declared = types(text);
    for (const [name, type] of Object.entries(TOM_FAMILIES)) {
      assert.equal(declared.get(name), type, `${name} is exposed as a ${type}`);
      if (EMPTY_UNTIL_FEEDBACK.has(name)) continue;
      const sample = new RegExp(`^${name}(_bucket|_sum|_count)?(\\{[^}]*\\})? \\S+$`, "m");
      assert.match(text, sample, `${name} has a sample`);
    }
    const check = await promtoolCheckMetrics(text);
    assert.equal(check.output, "", "promtool reports no problem");
    assert.equal(check.code, 0);
  },
});

Deno.test({
  name: "metric names follow the conventions: tom_ prefix, base units, _total once and only on counters",
  ignore,
  async fn() {
    const { text } = await page();
    for (const [name, type] of types(text)) {
      if (name === "target_info") continue; // OpenTelemetry's resource, by the exporter
      assert.match(name, /^tom_[a-z0-9_]+$/, name);
      assert.doesNotMatch(name, /_total_total$/, name);
      assert.doesNotMatch(name, /_(ms|milliseconds|us|microseconds|kb|mb|kib|mib|percent)(_|$)/, name);
      assert.equal(name.endsWith("_total"), type === "counter", `${name} (${type}): _total iff counter`);
      if (type === "histogram" && !name.startsWith("tom_rl_reward")) {
        assert.match(name, /_seconds$/, `${name}: a latency histogram in seconds`);
      }
      assert.match(text, new RegExp(`^# HELP ${name} \\S`, "m"), `${name} has help text`);
    }
    assert.ok(exposedNames(text).has("tom_turn_stage_seconds_bucket"));
  },
});

Deno.test({
  name: "the learning loop's page with feedback, pulls, rewards and a blacklisted variant passes promtool",
  ignore,
  async fn() {
    assert.equal(missing, undefined, missing ?? "");
    const rl = new RlMetrics();
    rl.onFeedback("dtmf");
    rl.onFeedback("voice");
    rl.onSelect({ variantId: "base", explore: false });
    rl.onSelect({ variantId: 'odd "variant" \\ name', explore: true });
    rl.onReward("base", -0.5);
    rl.onReward("base", 1);
    rl.onBlacklist("base");
    const text = rl.toPrometheus();
    assert.match(text, /^tom_rl_policy_pulls_total\{variant="odd \\"variant\\" \\\\ name"\} 1$/m);
    assert.match(text, /^tom_rl_reward_bucket\{le="-0.4"\} 1$/m);
    assert.match(text, /^tom_rl_reward_sum 0.5$/m);
    assert.match(text, /^tom_rl_exploration_ratio 0.5$/m);
    assert.match(text, /^tom_rl_blacklisted_variants 1$/m);
    const check = await promtoolCheckMetrics(text);
    assert.equal(check.output, "");
    assert.equal(check.code, 0);
  },
});

Deno.test({
  name: "promtool complains about a page that breaks the conventions (the check can fail)",
  ignore,
  async fn() {
    assert.equal(missing, undefined, missing ?? "");
    const bad = [
      "# TYPE tom_calls counter",
      "tom_calls 3",
      "# HELP tom_turn_latency_ms Turn latency",
      "# TYPE tom_turn_latency_ms gauge",
      "tom_turn_latency_ms 512",
      "",
    ].join("\n");
    const check = await promtoolCheckMetrics(bad);
    assert.notEqual(check.code, 0);
    assert.match(check.output, /tom_calls counter metrics should have "_total" suffix/);
    assert.match(check.output, /tom_calls no help text/);
    assert.match(check.output, /tom_turn_latency_ms metric names should not contain abbreviated units/);
  },
});
