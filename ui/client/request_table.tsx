/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The table of "Anliegen": the inbox on /requests (rendered by the server) and the rows that arrive while
// it is open (islands/NewRequests.tsx) are the same table, head and rows. Texts come as props, so islands
// need no server module.
import type { VNode } from "preact";
import { dateTime } from "./date_time.ts";

/** A request as one row shows it (a store record fits; islands build it from /api/requests/:id). */
export interface RequestTableRow {
  id: string;
  kind: string;
  urgency: string;
  /** Creation time in ms; null when unknown. */
  createdAt: number | null;
  callerName: string;
  summary: string;
  status: string;
}

/** The table's German texts (T.requests, with T.app.none for a missing caller). */
export interface RequestTableTexts {
  created: string;
  kind: string;
  caller: string;
  summary: string;
  status: string;
  urgent: string;
  none: string;
  kinds: Record<string, string>;
  statuses: Record<string, string>;
}

/** Props of {@linkcode RequestTable}. */
export interface RequestTableProps {
  rows: readonly RequestTableRow[];
  texts: RequestTableTexts;
  /** The table's `data-testid`. */
  testId: string;
}

/** Longest summary shown in a row; longer ones end in "…". */
const SUMMARY_CHARS = 120;

/** Head and rows; emergencies and urgent requests carry the class "urgent". */
export function RequestTable({ rows, texts: t, testId }: RequestTableProps): VNode {
  return (
    <table data-testid={testId}>
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
        {rows.map((r) => (
          <tr
            key={r.id}
            data-request={r.id}
            class={r.kind === "emergency" || r.urgency === "urgent" ? "urgent" : undefined}
          >
            <td>
              <a href={`/requests/${encodeURIComponent(r.id)}`}>{dateTime(r.createdAt)}</a>
            </td>
            <td>
              {t.kinds[r.kind] ?? r.kind}
              {r.urgency === "urgent" && <strong>{` (${t.urgent})`}</strong>}
            </td>
            <td>{r.callerName || t.none}</td>
            <td>
              {r.summary.length > SUMMARY_CHARS ? `${r.summary.slice(0, SUMMARY_CHARS)}…` : r.summary}
            </td>
            <td>{t.statuses[r.status] ?? r.status}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
