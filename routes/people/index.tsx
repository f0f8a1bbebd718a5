/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// People of the account: search and list.
import type { VNode } from "preact";
import type { Person } from "../../store/mod.ts";
import { searchPeople } from "../../ui/mod.ts";
import { date } from "../../ui/mod.ts";
import { T } from "../../ui/mod.ts";
import type { Handlers, PageProps } from "../../ui/mod.ts";

interface Data {
  q: string;
  people: Person[];
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    const { account } = ctx.need();
    const q = (ctx.url.searchParams.get("q") ?? "").slice(0, 200);
    const people = searchPeople(ctx.deps.store, account.id, q);
    ctx.audit("person.list", "person", null, { count: people.length, search: q !== "" });
    return ctx.render({ q, people }, { title: T.people.title });
  },
};

export default function PeoplePage({ data }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.people.title}</h1>
      <div class="actions">
        <a class="button" href="/people/new">{T.people.new}</a>
      </div>
      <form method="get" action="/people" role="search" class="actions">
        <label for="q">{T.people.searchLabel}</label>
        <input id="q" name="q" type="search" value={data.q} />
        <button type="submit" class="secondary">{T.people.search}</button>
      </form>
      {data.people.length === 0 ? <p>{T.people.empty}</p> : (
        <table data-testid="people-table">
          <caption class="sr-only">{T.people.title}</caption>
          <thead>
            <tr>
              <th scope="col">{T.people.name}</th>
              <th scope="col">{T.people.kind}</th>
              <th scope="col">{T.people.phone}</th>
              <th scope="col">{T.people.consentTranscript}</th>
              <th scope="col" class="num">{T.people.retention}</th>
              <th scope="col">{T.people.created}</th>
            </tr>
          </thead>
          <tbody>
            {data.people.map((p) => (
              <tr key={p.id}>
                <td>
                  <a href={`/people/${p.id}`}>{p.displayName}</a>
                </td>
                <td>{T.kinds[p.kind]}</td>
                <td>{p.phoneE164}</td>
                <td>{p.consentTranscript ? T.app.yes : T.app.no}</td>
                <td class="num">{p.retentionDays}</td>
                <td>{date(p.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
