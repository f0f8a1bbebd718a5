// The dashboard's calendar in Berlin days: sentiment per day from the calls' analyses, the week's start.
import type { Store } from "../store/mod.ts";
import { sentimentScores } from "../store/mod.ts";
import { addDays, localMidnight, localMoment, startOfLocalWeek, weekdayOf } from "../infra/mod.ts";
import type { ChartPoint } from "./client/mod.ts";
import { T } from "./texts_de.ts";

const BERLIN = "Europe/Berlin";

/** Berlin midnight of this week's Monday. */
export function startOfWeek(ms: number): number {
  return startOfLocalWeek(new Date(ms), BERLIN).getTime();
}

/** Sentiment per Berlin day over the last `days` days (today included), one point per day. */
export function sentimentPoints(
  store: Store,
  accountId: string,
  now: number,
  days: number,
  personId?: string,
): ChartPoint[] {
  const since = localMidnight(new Date(now), BERLIN, days - 1).getTime();
  const rows = sentimentScores(store, accountId, { since, personId });
  const byDay = new Map<string, number[]>();
  for (const r of rows) {
    const d = localMoment(new Date(r.at), BERLIN).date;
    byDay.set(d, [...(byDay.get(d) ?? []), r.score]);
  }
  const points: ChartPoint[] = [];
  const today = localMoment(new Date(now), BERLIN).date;
  for (let i = days - 1; i >= 0; i--) {
    const date = addDays(today, -i);
    const [, m, d] = date.split("-").map(Number);
    const scores = byDay.get(date) ?? [];
    const score = scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null;
    const label = `${T.schedules.days[weekdayOf(date)]} ${d}.${m}.`;
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
