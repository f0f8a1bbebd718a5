// Audit log: who saw or changed whose personal data. Append-only (a trigger refuses UPDATE).
import type { Store } from "./db.ts";
import { StoreNotFoundError } from "./errors.ts";
import type { JsonObject } from "./types.ts";
import { isConstraint, jsonText, many, page, parseJson, requireText } from "./_util.ts";

/** One audit entry. `actorUserId` is null for TOM itself (retention job, pipeline). */
export interface AuditEntry {
  id: string;
  accountId: string;
  actorUserId: string | null;
  /** What happened, e.g. "person.view", "person.update", "person.erase", "transcript.view". */
  action: string;
  subjectType: string;
  subjectId: string | null;
  detail: JsonObject;
  at: number;
}

/** Input of {@linkcode appendAudit}; never put phone numbers or transcript text into `detail`. */
export interface NewAuditEntry {
  actorUserId: string | null;
  action: string;
  subjectType: string;
  subjectId?: string | null;
  detail?: JsonObject;
}

/** Filters of {@linkcode listAudit}; newest first, `before` pages backwards in time. */
export interface AuditQuery {
  subjectType?: string;
  subjectId?: string;
  before?: number;
  limit?: number;
}

type AuditRow = Omit<AuditEntry, "detail"> & { detail: string };

const COLUMNS =
  `id, account_id AS accountId, actor_user_id AS actorUserId, action, subject_type AS subjectType,
  subject_id AS subjectId, detail_json AS detail, at`;

/** Appends an entry; throws StoreNotFoundError if the account does not exist. */
export function appendAudit(store: Store, accountId: string, input: NewAuditEntry): AuditEntry {
  const what = "Cannot append audit entry";
  const entry: AuditEntry = {
    id: store.newId(),
    accountId,
    actorUserId: input.actorUserId,
    action: requireText(what, "action", input.action, 100),
    subjectType: requireText(what, "subjectType", input.subjectType, 100),
    subjectId: input.subjectId ?? null,
    detail: input.detail ?? {},
    at: store.now(),
  };
  const sql = `INSERT INTO audit_log (id, account_id, actor_user_id, action, subject_type, subject_id,
    detail_json, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
  try {
    store.prepare(sql).run(
      entry.id,
      accountId,
      entry.actorUserId,
      entry.action,
      entry.subjectType,
      entry.subjectId,
      jsonText(what, "detail", entry.detail),
      entry.at,
    );
  } catch (err) {
    if (isConstraint(err, "FOREIGN KEY")) throw new StoreNotFoundError(`${what}: no account ${accountId}`);
    throw err;
  }
  return entry;
}

/** The account's entries, newest first, optionally about one subject. */
export function listAudit(store: Store, accountId: string, query: AuditQuery = {}): AuditEntry[] {
  const [limit] = page(query);
  const sql = `SELECT ${COLUMNS} FROM audit_log WHERE account_id = ?1
    AND (?2 IS NULL OR subject_type = ?2) AND (?3 IS NULL OR subject_id = ?3) AND at < ?4
    ORDER BY at DESC, rowid DESC LIMIT ?5`;
  const rows = many<AuditRow>(
    store.prepare(sql),
    accountId,
    query.subjectType ?? null,
    query.subjectId ?? null,
    query.before ?? Number.MAX_SAFE_INTEGER,
    limit,
  );
  return rows.map((row) => ({ ...row, detail: parseJson(row.detail) }));
}

/** One line of a subject's access log (Art. 15): when, what, and who (name when the user still exists). */
export interface AccessEntry {
  /** Position in the log; with `at` the cursor of the next page. */
  seq: number;
  at: number;
  action: string;
  actorUserId: string | null;
  actorName: string | null;
}

/** Where a page of {@linkcode listAccessLog} ends: the last entry of the previous page. */
export interface AccessCursor {
  at: number;
  seq: number;
}

/**
 * The account's entries about one subject (a person, a call), oldest first, a page at a time: pass the
 * last entry of a page as `after` to get the next. The actor's name comes only from this account's users.
 */
export function listAccessLog(
  store: Store,
  accountId: string,
  subject: { type: string; id: string },
  opts: { after?: AccessCursor; limit?: number } = {},
): AccessEntry[] {
  const [limit] = page(opts);
  const sql = `SELECT a.rowid AS seq, a.at, a.action, a.actor_user_id AS actorUserId,
    u.display_name AS actorName FROM audit_log a
    LEFT JOIN users u ON u.id = a.actor_user_id AND u.account_id = a.account_id
    WHERE a.account_id = ?1 AND a.subject_type = ?2 AND a.subject_id = ?3
    AND (?4 IS NULL OR a.at > ?4 OR (a.at = ?4 AND a.rowid > ?5))
    ORDER BY a.at, a.rowid LIMIT ?6`;
  return many<AccessEntry>(
    store.prepare(sql),
    accountId,
    subject.type,
    subject.id,
    opts.after?.at ?? null,
    opts.after?.seq ?? null,
    limit,
  );
}
