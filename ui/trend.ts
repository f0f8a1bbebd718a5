// Chart points of sentiment per day (Berlin days), from the calls' analyses.
import type { Store } from "../store/mod.ts";
import { sentimentScores } from "../store/mod.ts";
import type { ChartPoint } from "./client/mod.ts";
import { berlinDay, berlinMidnight, berlinParts } from "./time.ts";
import { T } from "./texts_de.ts";

/** Sentiment per Berlin day over the last `days` days (today included), one point per day. */
export function sentimentPoints(
  store: Store,
  accountId: string,
  now: number,
  days: number,
  personId?: string,
): ChartPoint[] {
  const since = berlinMidnight(now, days - 1);
  const rows = sentimentScores(store, accountId, { since, personId });
  const byDay = new Map<string, number[]>();
  for (const r of rows) {
    const d = berlinDay(r.at);
    byDay.set(d, [...(byDay.get(d) ?? []), r.score]);
  }
  const points: ChartPoint[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const t = berlinMidnight(now, i) + 12 * 3_600_000;
    const p = berlinParts(t);
    const scores = byDay.get(berlinDay(t)) ?? [];
    const score = scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null;
    const label = `${T.schedules.days[p.weekday]} ${p.d}.${p.m}.`;
    const value = score === null ? "–" : (score > 0 ? "+" : "") + score.toFixed(2).replace(".", ",");
    points.push({
      label,
      score,
      calls: scores.length,
      description: `${label}: ${value}, ${scores.length} ${scores.length === 1 ? T.chart.call : T.nav.calls}`,
    });
  }
  return points;
}
