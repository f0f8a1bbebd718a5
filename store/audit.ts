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
