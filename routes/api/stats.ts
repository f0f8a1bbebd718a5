// GET /api/stats: the dashboard's figures and the 7-day sentiment trend.
import { callStats } from "../../store/mod.ts";
import { type ApiDoc, json } from "../../ui/mod.ts";
import { countCalls, countPeople } from "../../store/mod.ts";
import { startOfWeek } from "../../ui/mod.ts";
import { sentimentPoints } from "../../ui/mod.ts";
import type { Handlers } from "../../ui/mod.ts";

export const doc: ApiDoc = {
  GET: {
    summary: "Kennzahlen der Übersicht",
    returns:
      "{ people, calls, callsThisWeek, avgDurationMs, avgSentimentScore, trend: [{ label, score, calls }] }",
  },
};

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    const store = ctx.deps.store;
    const now = ctx.deps.now();
    const s = callStats(store, account.id);
    return json({
      people: countPeople(store, account.id),
      calls: s.total,
      callsThisWeek: countCalls(store, account.id, startOfWeek(now)),
      avgDurationMs: s.avgDurationMs,
      avgSentimentScore: s.avgSentimentScore,
      trend: sentimentPoints(store, account.id, now, 7).map(({ label, score, calls }) => ({
        label,
        score,
        calls,
      })),
    });
  },
};
