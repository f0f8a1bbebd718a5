// Chart points of sentiment per day (Berlin days), from the calls' analyses.
import type { Store } from "../store/mod.ts";
import type { ChartPoint } from "../islands/mod.ts";
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
  const rows = store.prepare(
    `SELECT c.started_at AS at, a.sentiment_score AS score FROM calls c
     JOIN call_analysis a ON a.call_id = c.id AND a.account_id = c.account_id
     WHERE c.account_id = ?1 AND c.started_at >= ?2 AND (?3 IS NULL OR c.person_id = ?3) AND a.status = 'done'`,
  ).all(accountId, since, personId ?? null) as { at: number; score: number }[];
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
