/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The requests that arrived while /requests is open: a row per `request_noted` of /api/live/inbox, its
// details fetched from the session-authenticated API (the event stream carries no personal data).
import type { VNode } from "preact";
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { onInboxEvent } from "../ui/client/mod.ts";

/** A row as shown. */
interface Row {
  id: string;
  kind: string;
  urgency: string;
  createdAt: string;
  callerName: string;
  summary: string;
  status: string;
}

/** Props of {@linkcode NewRequests}. */
export interface NewRequestsProps {
  eventsUrl: string;
  /** The page's filter: rows that do not match it are not shown. */
  filter: { kind: string; status: string };
  texts: {
    title: string;
    intro: string;
    created: string;
    kind: string;
    caller: string;
    summary: string;
    status: string;
    urgent: string;
    none: string;
    kinds: Record<string, string>;
    statuses: Record<string, string>;
  };
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** The island. */
export default function NewRequests(p: NewRequestsProps): VNode {
  const rows = useSignal<Row[]>([]);
  useEffect(
    () =>
      onInboxEvent(p.eventsUrl, async (e) => {
        const id = e.data.id;
        if (e.type !== "request_noted" || !id || rows.value.some((r) => r.id === id)) return;
        if (p.filter.kind && e.data.kind !== p.filter.kind) return;
        const res = await fetch(`/api/requests/${encodeURIComponent(id)}`, {
          headers: { Accept: "application/json" },
        });
        if (!res.ok) return;
        const r = ((await res.json()) as { request?: Record<string, unknown> }).request ?? {};
        if (p.filter.status && r.status !== p.filter.status) return;
        const row: Row = {
          id,
          kind: str(r.kind),
          urgency: str(r.urgency),
          createdAt: str(r.createdAt),
          callerName: str(r.callerName),
          summary: str(r.summary),
          status: str(r.status),
        };
        if (!rows.value.some((x) => x.id === id)) rows.value = [row, ...rows.value].slice(0, 100);
      }),
    [],
  );
  const t = p.texts;
  if (rows.value.length === 0) return <div data-testid="requests-new-empty"></div>;
  return (
    <section aria-labelledby="requests-new-h" class="card">
      <h2 id="requests-new-h">{t.title}</h2>
      <p>{t.intro}</p>
      <table data-testid="requests-new">
        <thead>
          <tr>
            <th scope="col">{t.created}</th>
            <th scope="col">{t.kind}</th>
            <th scope="col">{t.caller}</th>
            <th scope="col">{t.summary}</th>
            <th scope="col">{t.status}</th>
          </tr>
        </thead>
        <tbody>
          {rows.value.map((r) => (
            <tr
              key={r.id}
              data-request={r.id}
              class={r.kind === "emergency" || r.urgency === "urgent" ? "urgent" : undefined}
            >
              <td>
                <a href={`/requests/${encodeURIComponent(r.id)}`}>
                  {r.createdAt ? new Date(r.createdAt).toLocaleString("de-DE") : r.id}
                </a>
              </td>
              <td>
                {t.kinds[r.kind] ?? r.kind}
                {r.urgency === "urgent" && <strong>{` (${t.urgent})`}</strong>}
              </td>
              <td>{r.callerName || t.none}</td>
              <td>{r.summary.length > 120 ? `${r.summary.slice(0, 120)}…` : r.summary}</td>
              <td>{t.statuses[r.status] ?? r.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
