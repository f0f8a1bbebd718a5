/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The requests that arrived while /requests is open: a row per `request_noted` of /api/live/inbox, its
// details fetched from the session-authenticated API (the event stream carries no personal data).
import type { VNode } from "preact";
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import {
  onInboxEvent,
  RequestTable,
  type RequestTableRow,
  type RequestTableTexts,
} from "../ui/client/mod.ts";

/** Props of {@linkcode NewRequests}. */
export interface NewRequestsProps {
  eventsUrl: string;
  /** The page's filter: rows that do not match it are not shown. */
  filter: { kind: string; status: string };
  texts: RequestTableTexts & { title: string; intro: string };
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** The island. */
export default function NewRequests(p: NewRequestsProps): VNode {
  const rows = useSignal<RequestTableRow[]>([]);
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
        const created = Date.parse(str(r.createdAt));
        const row: RequestTableRow = {
          id,
          kind: str(r.kind),
          urgency: str(r.urgency),
          createdAt: Number.isNaN(created) ? null : created,
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
      <RequestTable rows={rows.value} texts={t} testId="requests-new" />
    </section>
  );
}
