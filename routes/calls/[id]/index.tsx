/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Call detail: transcript with barge-ins marked, per-turn latencies, rating, analysis, recording player.
import type { VNode } from "preact";
import { type CallAnalysis, getAnalysis } from "../../../store/mod.ts";
import { type PlainTurn, readTranscript } from "../../../store/crypto/mod.ts";
import { type CallRow, getCallRow } from "../../../store/mod.ts";
import { listTurnMetrics, type TurnMetrics } from "../../../store/mod.ts";
import { found } from "../../../ui/mod.ts";
import { Transcript } from "../../../ui/mod.ts";
import { dateTime, duration, score } from "../../../ui/mod.ts";
import { T } from "../../../ui/mod.ts";
import type { Handlers, PageProps } from "../../../ui/mod.ts";

interface Data {
  call: CallRow;
  turns: PlainTurn[];
  metrics: TurnMetrics[];
  analysis: CallAnalysis | undefined;
  recordingUrl: string | null;
}

export const handler: Handlers<Data> = {
  async GET(ctx) {
    const { account } = ctx.need();
    const store = ctx.deps.store;
    const call = found(getCallRow(store, account.id, ctx.params.id));
    const turns = await readTranscript(store, ctx.deps.keyring, account.id, call.id);
    const analysis = getAnalysis(store, account.id, call.id);
    ctx.audit(turns.length > 0 ? "transcript.view" : "call.view", "call", call.id, {
      person: call.personId ?? "",
    });
    return ctx.render({
      call,
      turns,
      metrics: listTurnMetrics(store, account.id, call.id),
      analysis: analysis?.status === "done" ? analysis : undefined,
      recordingUrl: call.recorded && call.recordingPath ? `/calls/${call.id}/recording` : null,
    }, { title: `${T.calls.title}: ${dateTime(call.startedAt)}` });
  },
};

const ms = (v: number | null) => (v === null ? T.app.none : String(v));

export default function CallPage({ data }: PageProps<Data>): VNode {
  const c = data.call;
  const a = data.analysis;
  return (
    <>
      <h1>{T.calls.title}: {dateTime(c.startedAt)}</h1>
      <section class="card">
        <dl class="facts">
          <dt>{T.calls.who}</dt>
          <dd>{c.personId ? <a href={`/people/${c.personId}`}>{c.personName}</a> : T.calls.unknown}</dd>
          <dt>{T.calls.direction}</dt>
          <dd>{c.direction === "inbound" ? T.calls.inbound : T.calls.outbound}</dd>
          <dt>{T.calls.transport}</dt>
          <dd>{c.transport}</dd>
          <dt>{T.calls.status}</dt>
          <dd>{T.status[c.status]}</dd>
          <dt>{T.calls.duration}</dt>
          <dd>{duration(c.durationMs)}</dd>
          <dt>{T.calls.rating}</dt>
          <dd data-testid="rating">{c.rating ? `${c.rating} / 5` : T.calls.noRating}</dd>
          <dt>{T.calls.sentiment}</dt>
          <dd>
            {a ? `${T.sentiment[a.sentimentLabel ?? ""] ?? ""} (${score(a.sentimentScore)})` : T.app.none}
          </dd>
        </dl>
        {a?.summary && a.summary.length > 0 && (
          <>
            <h2>{T.calls.summary}</h2>
            <ul>{a.summary.map((s, i) => <li key={i}>{s}</li>)}</ul>
          </>
        )}
      </section>
      <section class="card" aria-labelledby="rec-h">
        <h2 id="rec-h">{T.calls.recording}</h2>
        {data.recordingUrl
          ? <audio controls preload="none" src={data.recordingUrl} aria-labelledby="rec-h"></audio>
          : <p>{T.calls.noRecording}</p>}
      </section>
      <section class="card" aria-labelledby="tr-h">
        <h2 id="tr-h">{T.calls.transcript}</h2>
        {data.turns.length === 0 ? <p>{T.calls.noTranscript}</p> : <Transcript turns={data.turns} />}
      </section>
      <section class="card" aria-labelledby="lat-h">
        <h2 id="lat-h">{T.calls.latency}</h2>
        {data.metrics.length === 0 ? <p>{T.calls.noLatency}</p> : (
          <table>
            <thead>
              <tr>
                <th scope="col">{T.calls.turn}</th>
                <th scope="col" class="num">{T.calls.vad}</th>
                <th scope="col" class="num">{T.calls.stt}</th>
                <th scope="col" class="num">{T.calls.llm}</th>
                <th scope="col" class="num">{T.calls.tts}</th>
                <th scope="col" class="num">{T.calls.total}</th>
                <th scope="col">{T.calls.bargeIn}</th>
              </tr>
            </thead>
            <tbody>
              {data.metrics.map((m) => (
                <tr key={m.turnIndex}>
                  <td>{m.turnIndex + 1}</td>
                  <td class="num">{ms(m.vadMs)}</td>
                  <td class="num">{ms(m.sttMs)}</td>
                  <td class="num">{ms(m.llmFirstTokenMs)}</td>
                  <td class="num">{ms(m.ttsFirstAudioMs)}</td>
                  <td class="num">{ms(m.totalMs)}</td>
                  <td>{m.bargeIn ? T.app.yes : T.app.no}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
