// The calls list's read model: the account's calls joined with the person's name, the analysis' sentiment
// and the caller's rating, as the admin UI's lists and the JSON API show them.
import type { Store } from "./db.ts";
import type { Call } from "./calls.ts";
import { many, one } from "./_util.ts";
import { personNameOpener } from "./people.ts";

/** A call with what its list row shows. */
export interface CallRow extends Call {
  personName: string | null;
  sentimentLabel: string | null;
  sentimentScore: number | null;
  rating: number | null;
}

const CALL_COLUMNS = `c.id, c.account_id AS accountId, c.person_id AS personId, c.direction, c.transport,
  c.external_id AS externalId, c.status, c.failure_reason AS failureReason, c.started_at AS startedAt,
  c.answered_at AS answeredAt, c.ended_at AS endedAt, c.duration_ms AS durationMs,
  c.policy_variant_id AS policyVariantId, c.bandit_context AS banditContext, c.recorded,
  c.recording_path AS recordingPath, p.display_name AS personName,
  CASE WHEN a.status = 'done' THEN a.sentiment_label END AS sentimentLabel,
  CASE WHEN a.status = 'done' THEN a.sentiment_score END AS sentimentScore, f.rating`;
const CALL_JOINS = `FROM calls c
  LEFT JOIN people p ON p.id = c.person_id AND p.account_id = c.account_id
  LEFT JOIN call_analysis a ON a.call_id = c.id AND a.account_id = c.account_id
  LEFT JOIN feedback f ON f.call_id = c.id AND f.account_id = c.account_id`;

function toRow(open: ReturnType<typeof personNameOpener>, r: Record<string, unknown>): CallRow {
  const row = r as unknown as CallRow;
  // The name is sealed at rest (people.ts): opened here, so the list shows plaintext.
  const personName = row.personName === null || row.personId === null
    ? null
    : open(row.accountId, row.personId, row.personName);
  return { ...row, personName, recorded: r.recorded === 1 };
}

/** The account's calls with names, sentiment and rating, newest first. */
export function listCallRows(
  store: Store,
  accountId: string,
  opts: { personId?: string; limit?: number; offset?: number; active?: boolean } = {},
): CallRow[] {
  const rows = many<Record<string, unknown>>(
    store.prepare(
      `SELECT ${CALL_COLUMNS} ${CALL_JOINS} WHERE c.account_id = ?1 AND (?2 IS NULL OR c.person_id = ?2)
       AND (?5 = 0 OR c.status IN ('ringing', 'active'))
       ORDER BY c.started_at DESC, c.id LIMIT ?3 OFFSET ?4`,
    ),
    accountId,
    opts.personId ?? null,
    Math.min(Math.max(opts.limit ?? 100, 1), 1000),
    Math.max(opts.offset ?? 0, 0),
    opts.active ? 1 : 0,
  );
  const open = personNameOpener(store);
  return rows.map((r) => toRow(open, r));
}

/** One call of the account with names, sentiment and rating. */
export function getCallRow(store: Store, accountId: string, callId: string): CallRow | undefined {
  const r = one<Record<string, unknown>>(
    store.prepare(`SELECT ${CALL_COLUMNS} ${CALL_JOINS} WHERE c.account_id = ? AND c.id = ?`),
    accountId,
    callId,
  );
  return r && toRow(personNameOpener(store), r);
}

/** Number of the account's calls since a time. */
export function countCalls(store: Store, accountId: string, since = 0): number {
  return one<{ n: number }>(
    store.prepare("SELECT count(*) AS n FROM calls WHERE account_id = ? AND started_at >= ?"),
    accountId,
    since,
  )?.n ?? 0;
}
