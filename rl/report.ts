/**
 * `tom rl report [--json]`: per context and variant the pulls, mean reward, 95% credible interval,
 * traffic share and guard state.
 *
 * @module
 */
import type { Store } from "../store/mod.ts";
import { listAllArms, listVariants, recentPolicySelections } from "../store/mod.ts";
import { armInterval, type GuardOptions, type GuardState, guardState, resolveGuard } from "./deploy_guard.ts";

/** One row of the report. */
export interface ReportRow {
  context: string;
  variantId: string;
  name: string;
  pulls: number;
  /** Average raw reward (-1..1), null without rewards. */
  meanReward: number | null;
  /** 95% credible interval of the posterior mean on the reward scale. */
  ci95: [number, number];
  /** Share of the context's last `windowSize` selections (from the calls table). */
  trafficShare: number;
  guard: GuardState;
  blacklistReason: string | null;
}

/** Build the report from the store. */
export function buildReport(
  store: Store,
  opts: { baseVariant: string; guard?: Partial<GuardOptions> },
): ReportRow[] {
  const g = resolveGuard(opts.guard);
  const variants = listVariants(store);
  const arms = listAllArms(store);
  const contexts = [...new Set(arms.map((a) => a.context))];
  const rows: ReportRow[] = [];
  for (const context of contexts.length > 0 ? contexts : ["-"]) {
    const recent = recentPolicySelections(store, context, g.windowSize);
    for (const v of variants) {
      const arm = arms.find((a) => a.context === context && a.variantId === v.id) ??
        { pulls: 0, alpha: 1, beta: 1, rewardSum: 0 };
      const ci = armInterval(arm);
      rows.push({
        context,
        variantId: v.id,
        name: v.name,
        pulls: arm.pulls,
        meanReward: arm.pulls > 0 ? arm.rewardSum / arm.pulls : null,
        ci95: [ci.low, ci.high],
        trafficShare: recent.length === 0 ? 0 : recent.filter((id) => id === v.id).length / recent.length,
        guard: v.blacklisted
          ? "blacklisted"
          : !v.enabled
          ? "disabled"
          : guardState(arm, v.id === opts.baseVariant, g),
        blacklistReason: v.blacklistReason,
      });
    }
  }
  return rows;
}

/** The report as a text table. */
export function formatReport(rows: readonly ReportRow[]): string {
  const head = ["context", "variant", "pulls", "mean", "ci95", "share", "guard"];
  const body = rows.map((r) => [
    r.context,
    r.variantId,
    String(r.pulls),
    r.meanReward === null ? "-" : r.meanReward.toFixed(3),
    `[${r.ci95[0].toFixed(2)}, ${r.ci95[1].toFixed(2)}]`,
    `${(r.trafficShare * 100).toFixed(1)}%`,
    r.guard,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join(
    "\n",
  ) +
    "\n";
}

/**
 * The `tom rl report` command: text, or JSON with `--json`.
 * @returns the output and the exit code (2 on an unknown argument)
 */
export function rlReportCommand(
  store: Store,
  args: readonly string[],
  opts: { baseVariant: string; guard?: Partial<GuardOptions> },
): { output: string; code: number } {
  const unknown = args.filter((a) => a !== "--json");
  if (unknown.length > 0) {
    return { output: `Cannot run rl report: unknown argument ${unknown[0]}\n`, code: 2 };
  }
  const rows = buildReport(store, opts);
  return args.includes("--json")
    ? { output: JSON.stringify({ rows }, null, 2) + "\n", code: 0 }
    : { output: formatReport(rows), code: 0 };
}
