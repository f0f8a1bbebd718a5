// Percentiles and budget checks for `tom probe`.

/** The p-th percentile (0-100) of `values` (nearest rank); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/** p50 and p95 of one measure, in ms. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

/** Summarise samples (ms). */
export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    max: round(values.length ? Math.max(...values) : NaN),
  };
}

const round = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : NaN);

/** A budget on a measure's percentile. */
export interface Budget {
  measure: string;
  percentile: "p50" | "p95";
  maxMs: number;
}

/** One budget's verdict. */
export interface BudgetResult extends Budget {
  actualMs: number;
  ok: boolean;
}

/** Compare summaries with budgets; a measure without samples fails its budget. */
export function checkBudgets(summaries: Record<string, Summary>, budgets: readonly Budget[]): BudgetResult[] {
  return budgets.map((b) => {
    const actualMs = summaries[b.measure]?.[b.percentile] ?? NaN;
    return { ...b, actualMs, ok: Number.isFinite(actualMs) && actualMs <= b.maxMs };
  });
}
