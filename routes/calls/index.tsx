/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Calls of the account, newest first.
import type { VNode } from "preact";
import { type CallRow, listCallRows } from "../../store/mod.ts";
import { dateTime, duration, score } from "../../ui/mod.ts";
import { T } from "../../ui/mod.ts";
import type { Handlers, PageProps } from "../../ui/mod.ts";

interface Data {
  calls: CallRow[];
  page: number;
  more: boolean;
}

const PER_PAGE = 50;

export const handler: Handlers<Data> = {
  GET(ctx) {
    const { account } = ctx.need();
    const page = Math.max(0, Math.min(1000, Number(ctx.url.searchParams.get("page") ?? "0") | 0));
    const rows = listCallRows(ctx.deps.store, account.id, { limit: PER_PAGE + 1, offset: page * PER_PAGE });
    ctx.audit("call.list", "call", null, { count: Math.min(rows.length, PER_PAGE) });
    return ctx.render({ calls: rows.slice(0, PER_PAGE), page, more: rows.length > PER_PAGE }, {
      title: T.calls.title,
    });
  },
};

export default function CallsPage({ data }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.calls.title}</h1>
      {data.calls.length === 0 ? <p>{T.calls.empty}</p> : (
        <table>
          <caption class="sr-only">{T.calls.title}</caption>
          <thead>
            <tr>
              <th scope="col">{T.calls.when}</th>
              <th scope="col">{T.calls.who}</th>
              <th scope="col">{T.calls.direction}</th>
              <th scope="col">{T.calls.status}</th>
              <th scope="col" class="num">{T.calls.duration}</th>
              <th scope="col" class="num">{T.calls.sentiment}</th>
              <th scope="col" class="num">{T.calls.rating}</th>
            </tr>
          </thead>
          <tbody>
            {data.calls.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={`/calls/${c.id}`}>{dateTime(c.startedAt)}</a>
                </td>
                <td>{c.personName ?? T.calls.unknown}</td>
                <td>{c.direction === "inbound" ? T.calls.inbound : T.calls.outbound}</td>
                <td>{T.status[c.status]}</td>
                <td class="num">{duration(c.durationMs)}</td>
                <td class="num">{score(c.sentimentScore)}</td>
                <td class="num">{c.rating ?? T.app.none}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="actions" aria-label={T.calls.pages}>
        {data.page > 0 && <a href={`/calls?page=${data.page - 1}`}>← {T.app.back}</a>}
        {data.more && <a href={`/calls?page=${data.page + 1}`}>→</a>}
      </nav>
    </>
  );
}
