/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The audit log of the account (administrators): who saw, exported, changed or erased personal data.
import type { VNode } from "preact";
import { type AuditEntry, listAudit, listUsers } from "../store/mod.ts";
import { dateTime } from "../ui/mod.ts";
import { T } from "../ui/mod.ts";
import type { Handlers, PageProps, RouteConfig } from "../ui/mod.ts";

export const config: RouteConfig = { auth: "admin" };

interface Data {
  entries: AuditEntry[];
  names: Record<string, string>;
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    const { account } = ctx.need();
    const before = Number(ctx.url.searchParams.get("before") ?? "") || undefined;
    const entries = listAudit(ctx.deps.store, account.id, { limit: 200, before });
    const names = Object.fromEntries(
      listUsers(ctx.deps.store, account.id, { limit: 1000 }).map((u) => [u.id, u.displayName]),
    );
    return ctx.render({ entries, names }, { title: T.audit.title });
  },
};

export default function AuditPage({ data }: PageProps<Data>): VNode {
  const last = data.entries[data.entries.length - 1];
  return (
    <>
      <h1>{T.audit.title}</h1>
      <p>{T.audit.intro}</p>
      {data.entries.length === 0 ? <p>{T.audit.empty}</p> : (
        <table data-testid="audit-table">
          <thead>
            <tr>
              <th scope="col">{T.audit.when}</th>
              <th scope="col">{T.audit.who}</th>
              <th scope="col">{T.audit.action}</th>
              <th scope="col">{T.audit.subject}</th>
            </tr>
          </thead>
          <tbody>
            {data.entries.map((e) => (
              <tr key={e.id}>
                <td>{dateTime(e.at)}</td>
                <td>
                  {e.actorUserId ? data.names[e.actorUserId] ?? e.actorUserId.slice(0, 8) : T.audit.system}
                </td>
                <td data-action={e.action}>{T.actions[e.action] ?? e.action}</td>
                <td>
                  {e.subjectType === "person" && e.subjectId && e.action !== "person.erase"
                    ? <a href={`/people/${e.subjectId}`}>{e.subjectType}</a>
                    : e.subjectType}
                  {e.subjectId && <span class="muted">{e.subjectId.slice(0, 8)}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {last && data.entries.length === 200 && <a href={`/audit?before=${last.at}`}>→</a>}
    </>
  );
}
