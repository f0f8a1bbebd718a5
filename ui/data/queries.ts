// Read models of the pages: account-scoped joins the store's modules do not offer.
import type { Call, Person, PersonKind, Store } from "../../store/mod.ts";
import { findPersonByPhone, listPeople } from "../../store/mod.ts";

/** Number of the account's people (optionally of one kind). */
export function countPeople(store: Store, accountId: string, kind?: PersonKind): number {
  const row = store.prepare(
    "SELECT count(*) AS n FROM people WHERE account_id = ?1 AND (?2 IS NULL OR kind = ?2)",
  )
    .get(accountId, kind ?? null) as { n: number };
  return row.n;
}

/** The account's people whose name contains `q`, or whose number is `q`; everyone when `q` is empty. */
export function searchPeople(store: Store, accountId: string, q: string, limit = 200): Person[] {
  const query = q.trim();
  if (query === "") return listPeople(store, accountId, { limit });
  const compact = query.replace(/[\s\-\/()]/g, "");
  if (/^\+[1-9][0-9]{6,14}$/.test(compact)) {
    const p = findPersonByPhone(store, accountId, compact);
    return p ? [p] : [];
  }
  const like = "%" + query.toLowerCase().replace(/[\\%_]/g, (m) => "\\" + m) + "%";
  const ids = store.prepare(
    `SELECT id FROM people WHERE account_id = ? AND lower(display_name) LIKE ? ESCAPE '\\'
     ORDER BY display_name, id LIMIT ?`,
  ).all(accountId, like, limit) as { id: string }[];
  const wanted = new Set(ids.map((r) => r.id));
  return listPeople(store, accountId, { limit: 1000 }).filter((p) => wanted.has(p.id));
}

/** The most recently created people. */
export function recentPeople(
  store: Store,
  accountId: string,
  limit = 5,
): { id: string; displayName: string; kind: PersonKind; createdAt: number }[] {
  return store.prepare(
    `SELECT id, display_name AS displayName, kind, created_at AS createdAt FROM people WHERE account_id = ?
     ORDER BY created_at DESC, id LIMIT ?`,
  ).all(accountId, limit) as unknown as {
    id: string;
    displayName: string;
    kind: PersonKind;
    createdAt: number;
  }[];
}

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

function toRow(r: Record<string, unknown>): CallRow {
  return { ...(r as unknown as CallRow), recorded: r.recorded === 1 };
}

/** The account's calls with names, sentiment and rating, newest first. */
export function listCallRows(
  store: Store,
  accountId: string,
  opts: { personId?: string; limit?: number; offset?: number; active?: boolean } = {},
): CallRow[] {
  const rows = store.prepare(
    `SELECT ${CALL_COLUMNS} ${CALL_JOINS} WHERE c.account_id = ?1 AND (?2 IS NULL OR c.person_id = ?2)
     AND (?5 = 0 OR c.status IN ('ringing', 'active'))
     ORDER BY c.started_at DESC, c.id LIMIT ?3 OFFSET ?4`,
  ).all(
    accountId,
    opts.personId ?? null,
    Math.min(Math.max(opts.limit ?? 100, 1), 1000),
    Math.max(opts.offset ?? 0, 0),
    opts.active ? 1 : 0,
  ) as Record<string, unknown>[];
  return rows.map(toRow);
}

/** One call of the account with names, sentiment and rating. */
export function getCallRow(store: Store, accountId: string, callId: string): CallRow | undefined {
  const r = store.prepare(`SELECT ${CALL_COLUMNS} ${CALL_JOINS} WHERE c.account_id = ? AND c.id = ?`).get(
    accountId,
    callId,
  ) as Record<string, unknown> | undefined;
  return r && toRow(r);
}

/** Number of the account's calls since a time. */
export function countCalls(store: Store, accountId: string, since = 0): number {
  return (store.prepare("SELECT count(*) AS n FROM calls WHERE account_id = ? AND started_at >= ?").get(
    accountId,
    since,
  ) as { n: number }).n;
}

/** Whether any user exists (first-run setup is offered only when none does). */
export function anyUserExists(store: Store): boolean {
  return store.prepare("SELECT 1 FROM users LIMIT 1").get() !== undefined;
}
