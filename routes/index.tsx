/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Dashboard of the account: key figures, the 7-day sentiment trend, the newest people.
import type { VNode } from "preact";
import { callStats } from "../store/mod.ts";
import { countCalls, countPeople, recentPeople } from "../store/mod.ts";
import { Island } from "./_islands.ts";
import { Stats } from "../ui/mod.ts";
import { date, duration, score } from "../ui/mod.ts";
import { startOfWeek } from "../ui/mod.ts";
import { sentimentPoints } from "../ui/mod.ts";
import { T } from "../ui/mod.ts";
import type { ChartPoint } from "../ui/mod.ts";
import type { Handlers, PageProps } from "../ui/mod.ts";

interface Data {
  people: number;
  peopleLabel: string;
  calls: number;
  callsWeek: number;
  avgDurationMs: number | null;
  avgSentiment: number | null;
  trend: ChartPoint[];
  recent: { id: string; displayName: string; createdAt: number }[];
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    const { account } = ctx.need();
    const store = ctx.deps.store;
    const now = ctx.deps.now();
    const stats = callStats(store, account.id);
    const recent = recentPeople(store, account.id, 5);
    if (recent.length > 0) ctx.audit("dashboard.view", "account", account.id, { people: recent.length });
    return ctx.render({
      people: countPeople(store, account.id),
      peopleLabel: account.kind === "clinical" ? T.kinds.patients : T.kinds.seniors,
      calls: stats.total,
      callsWeek: countCalls(store, account.id, startOfWeek(now)),
      avgDurationMs: stats.avgDurationMs,
      avgSentiment: stats.avgSentimentScore,
      trend: sentimentPoints(store, account.id, now, 7),
      recent,
    }, { title: T.dashboard.title });
  },
};

export default function Dashboard({ data }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.dashboard.title}</h1>
      <Stats
        items={[
          {
            label: `${T.dashboard.people} (${data.peopleLabel})`,
            value: String(data.people),
            id: "stat-people",
          },
          { label: T.dashboard.calls, value: String(data.calls), id: "stat-calls" },
          { label: T.dashboard.callsWeek, value: String(data.callsWeek), id: "stat-calls-week" },
          { label: T.dashboard.avgDuration, value: duration(data.avgDurationMs), id: "stat-duration" },
          { label: T.dashboard.avgSentiment, value: score(data.avgSentiment), id: "stat-sentiment" },
        ]}
      />
      <section class="card">
        <Island
          name="SentimentChart"
          props={{
            id: "trend7",
            title: T.dashboard.trend,
            points: data.trend,
            emptyText: T.dashboard.trendEmpty,
            tableCaption: T.chart.table,
            dayHeader: T.chart.day,
            scoreHeader: T.calls.sentiment,
            callsHeader: T.nav.calls,
          }}
        />
      </section>
      <section class="card" aria-labelledby="recent-h">
        <h2 id="recent-h">{T.dashboard.recentPeople}</h2>
        {data.recent.length === 0
          ? (
            <p>
              {T.dashboard.noPeople} <a href="/people/new">{T.people.new}</a>
            </p>
          )
          : (
            <ul data-testid="recent-people">
              {data.recent.map((p) => (
                <li key={p.id}>
                  <a href={`/people/${p.id}`}>{p.displayName}</a>{" "}
                  <span class="muted">({date(p.createdAt)})</span>
                </li>
              ))}
            </ul>
          )}
      </section>
    </>
  );
}
