/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Person detail: data and consent, calls with transcripts (when consented), sentiment history, memory,
// schedules, export and erasure. Every view is written to the audit log.
import type { VNode } from "preact";
import { getMemory, getPerson, type JsonObject, type Person } from "../../../store/mod.ts";
import { type PlainTurn, readTranscript } from "../../../store/crypto/mod.ts";
import { type CallRow, listCallRows } from "../../../store/mod.ts";
import { listSchedules, type Schedule } from "../../../store/mod.ts";
import { found } from "../../../ui/mod.ts";
import { Island } from "../../_islands.ts";
import { MemoryView } from "../../../ui/mod.ts";
import { Transcript } from "../../../ui/mod.ts";
import { dateTime, duration, score } from "../../../ui/mod.ts";
import { sentimentPoints } from "../../../ui/mod.ts";
import { T } from "../../../ui/mod.ts";
import type { ChartPoint } from "../../../ui/mod.ts";
import type { Handlers, PageProps } from "../../../ui/mod.ts";

interface Data {
  person: Person;
  calls: CallRow[];
  transcripts: { call: CallRow; turns: PlainTurn[] }[];
  trend: ChartPoint[];
  memory: JsonObject | null;
  memoryVersion: number;
  schedules: Schedule[];
  isAdmin: boolean;
}

export const handler: Handlers<Data> = {
  async GET(ctx) {
    const { account, user } = ctx.need();
    const store = ctx.deps.store;
    const person = found(getPerson(store, account.id, ctx.params.id));
    const calls = listCallRows(store, account.id, { personId: person.id, limit: 50 });
    const transcripts = [];
    if (person.consentTranscript) {
      for (const call of calls.slice(0, 3)) {
        const turns = await readTranscript(store, ctx.deps.keyring, account.id, call.id);
        if (turns.length > 0) transcripts.push({ call, turns });
      }
    }
    const mem = getMemory(store, account.id, person.id);
    ctx.audit("person.view", "person", person.id, { transcripts: transcripts.length });
    return ctx.render({
      person,
      calls,
      transcripts,
      trend: sentimentPoints(store, account.id, ctx.deps.now(), 30, person.id),
      memory: mem?.memory ?? null,
      memoryVersion: mem?.version ?? 0,
      schedules: listSchedules(store, account.id, person.id),
      isAdmin: user.role === "admin",
    }, { title: person.displayName });
  },
};

export default function PersonPage({ data, csrf }: PageProps<Data>): VNode {
  const p = data.person;
  return (
    <>
      <h1>{p.displayName}</h1>
      <div class="actions">
        <a class="button secondary" href={`/people/${p.id}/edit`}>{T.people.edit}</a>
        <a
          class="button secondary"
          href={`/people/${p.id}/export`}
          download={`person-${p.id}.json`}
          data-testid="export"
        >
          {T.person.export}
        </a>
        <a
          class="button secondary"
          href={`/people/${p.id}/export.zip`}
          download={`person-${p.id}.zip`}
          data-testid="export-zip"
        >
          {T.person.exportZip}
        </a>
        {data.isAdmin && <a class="button danger" href={`/people/${p.id}/erase`}>{T.person.erase}</a>}
      </div>
      <section class="card">
        <dl class="facts">
          <dt>{T.people.kind}</dt>
          <dd>{T.kinds[p.kind]}</dd>
          <dt>{T.people.phone}</dt>
          <dd>{p.phoneE164}</dd>
          <dt>{T.people.consentRecording}</dt>
          <dd>{p.consentRecording ? T.app.yes : T.app.no}</dd>
          <dt>{T.people.consentTranscript}</dt>
          <dd>{p.consentTranscript ? T.app.yes : T.app.no}</dd>
          <dt>{T.people.retention}</dt>
          <dd>{p.retentionDays}</dd>
          {p.notes && <dt>{T.people.notes}</dt>}
          {p.notes && <dd>{p.notes}</dd>}
        </dl>
      </section>
      <section class="card">
        <Island
          name="SentimentChart"
          props={{
            id: "person-trend",
            title: T.person.sentiment,
            points: data.trend,
            emptyText: T.dashboard.trendEmpty.replace("7", "30"),
            tableCaption: T.chart.table,
            dayHeader: T.chart.day,
            scoreHeader: T.calls.sentiment,
            callsHeader: T.nav.calls,
          }}
        />
      </section>
      <section class="card" aria-labelledby="calls-h">
        <h2 id="calls-h">{T.person.calls}</h2>
        {data.calls.length === 0 ? <p>{T.person.noCalls}</p> : (
          <table>
            <thead>
              <tr>
                <th scope="col">{T.calls.when}</th>
                <th scope="col">{T.calls.status}</th>
                <th scope="col" class="num">{T.calls.duration}</th>
                <th scope="col" class="num">{T.calls.sentiment}</th>
              </tr>
            </thead>
            <tbody>
              {data.calls.map((c) => (
                <tr key={c.id}>
                  <td>
                    <a href={`/calls/${c.id}`}>{dateTime(c.startedAt)}</a>
                  </td>
                  <td>{T.status[c.status]}</td>
                  <td class="num">{duration(c.durationMs)}</td>
                  <td class="num">{score(c.sentimentScore)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {!p.consentTranscript && <p class="muted">{T.person.transcriptHidden}</p>}
        {data.transcripts.map((t) => (
          <details key={t.call.id}>
            <summary>{T.calls.transcript}: {dateTime(t.call.startedAt)}</summary>
            <Transcript turns={t.turns} />
          </details>
        ))}
      </section>
      <MemoryView personId={p.id} memory={data.memory} version={data.memoryVersion} csrf={csrf} />
      <section class="card" aria-labelledby="sched-h">
        <h2 id="sched-h">{T.schedules.title}</h2>
        {data.schedules.length === 0 ? <p>{T.schedules.empty}</p> : (
          <ul>
            {data.schedules.map((s) => (
              <li key={s.id}>
                {T.schedules.days.filter((_, i) => (s.weekdays & (1 << i)) !== 0).join(", ")}{" "}
                {s.windowStart}–{s.windowEnd}
              </li>
            ))}
          </ul>
        )}
        <a href="/schedules">{T.schedules.new}</a>
      </section>
    </>
  );
}
