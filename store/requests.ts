/**
 * Requests ("Anliegen") callers leave with the assistant or staff note down: call-back wishes,
 * appointments, prescriptions, messages. The personal fields are sealed together as one AES-256-GCM
 * blob bound to the account and request id; kind, urgency, status, assignee, timestamps and the call id
 * stay plain for sorting and filtering. Every function is scoped by account.
 *
 * @module
 */
import type { Store } from "./db.ts";
import type { Sealed } from "./crypto/keyring.ts";
import { StoreNotFoundError } from "./errors.ts";
import { many, one, requireInt, requireOneOf, run } from "./_util.ts";

/** What a request is about. */
export const REQUEST_KINDS = [
  "callback",
  "appointment",
  "prescription",
  "message",
  "question",
  "emergency",
  "other",
] as const;
/** What a request is about. */
export type RequestKind = typeof REQUEST_KINDS[number];
/** Where a request stands. */
export const REQUEST_STATUSES = ["open", "in_progress", "done"] as const;
/** Where a request stands. */
export type RequestStatus = typeof REQUEST_STATUSES[number];
/** How urgent a request is. */
export type RequestUrgency = "normal" | "urgent";

/** Input of {@linkcode createRequest}. */
export interface NewRequest {
  callId: string | null;
  kind: RequestKind;
  urgency: RequestUrgency;
  callerName: string;
  /** E.164 or null. */
  callbackNumber: string | null;
  forWhom: string;
  preferredTimes: string;
  medication: string;
  summary: string;
  source: "call" | "after_call" | "staff";
}

/** One stored request, decrypted. */
export interface RequestRecord extends NewRequest {
  id: string;
  accountId: string;
  status: RequestStatus;
  assigneeUserId: string | null;
  notes: string;
  createdAt: number;
  updatedAt: number;
  doneAt: number | null;
}

/** One stored row: the plain columns and the sealed personal fields. */
export interface RequestRow {
  id: string;
  accountId: string;
  callId: string | null;
  kind: RequestKind;
  urgency: RequestUrgency;
  status: RequestStatus;
  source: NewRequest["source"];
  assigneeUserId: string | null;
  ciphertext: Uint8Array;
  iv: Uint8Array;
  keyId: string;
  createdAt: number;
  updatedAt: number;
  doneAt: number | null;
}

/** Filters of {@linkcode listRequestRows}. */
export interface RequestQuery {
  status?: RequestStatus;
  kind?: RequestKind;
  /** 1 to 1000, default 200. */
  limit?: number;
}

const COLUMNS = `id, account_id AS accountId, call_id AS callId, kind, urgency, status, source,
  assignee_user_id AS assigneeUserId, ciphertext, iv, key_id AS keyId, created_at AS createdAt,
  updated_at AS updatedAt, done_at AS doneAt`;

// Open before in progress before done; within, emergencies, then urgent, then newest.
const ORDER = `ORDER BY CASE status WHEN 'open' THEN 0 WHEN 'in_progress' THEN 1 ELSE 2 END,
  CASE WHEN kind = 'emergency' THEN 0 WHEN urgency = 'urgent' THEN 1 ELSE 2 END, created_at DESC, id`;

/**
 * Insert a request row (the caller sealed the personal fields).
 *
 * @throws {StoreNotFoundError} when `callId` names no call of this account.
 */
export function insertRequestRow(
  store: Store,
  accountId: string,
  row: Omit<RequestRow, "accountId" | "status" | "assigneeUserId" | "createdAt" | "updatedAt" | "doneAt">,
): RequestRow {
  const what = "Cannot store request";
  requireOneOf(what, "kind", row.kind, REQUEST_KINDS);
  requireOneOf(what, "urgency", row.urgency, ["normal", "urgent"] as const);
  requireOneOf(what, "source", row.source, ["call", "after_call", "staff"] as const);
  if (
    row.callId !== null &&
    !one(store.prepare("SELECT 1 FROM calls WHERE account_id = ? AND id = ?"), accountId, row.callId)
  ) {
    throw new StoreNotFoundError(`${what}: call ${row.callId} not found in this account`);
  }
  const now = store.now();
  run(
    store.prepare(
      `INSERT INTO requests (id, account_id, call_id, kind, urgency, status, source, ciphertext, iv,
      key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?)`,
    ),
    row.id,
    accountId,
    row.callId,
    row.kind,
    row.urgency,
    row.source,
    row.ciphertext,
    row.iv,
    row.keyId,
    now,
    now,
  );
  const stored = getRequestRow(store, accountId, row.id);
  if (!stored) throw new StoreNotFoundError(`${what}: request ${row.id} vanished after insert`);
  return stored;
}

/** One request row of the account, or undefined. */
export function getRequestRow(store: Store, accountId: string, id: string): RequestRow | undefined {
  return one<RequestRow>(
    store.prepare(`SELECT ${COLUMNS} FROM requests WHERE account_id = ? AND id = ?`),
    accountId,
    id,
  );
}

/** The account's request rows: open first, emergencies and urgent on top, newest first. */
export function listRequestRows(store: Store, accountId: string, q: RequestQuery = {}): RequestRow[] {
  const where = ["account_id = ?"];
  const params: (string | number)[] = [accountId];
  if (q.status !== undefined) {
    where.push("status = ?");
    params.push(requireOneOf("Cannot list requests", "status", q.status, REQUEST_STATUSES));
  }
  if (q.kind !== undefined) {
    where.push("kind = ?");
    params.push(requireOneOf("Cannot list requests", "kind", q.kind, REQUEST_KINDS));
  }
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? 200), 1), 1000);
  return many<RequestRow>(
    store.prepare(`SELECT ${COLUMNS} FROM requests WHERE ${where.join(" AND ")} ${ORDER} LIMIT ?`),
    ...params,
    limit,
  );
}

/** How many of the account's requests are open (not in progress, not done): the navigation's badge. */
export function countOpenRequests(store: Store, accountId: string): number {
  const r = one<{ n: number }>(
    store.prepare(`SELECT COUNT(*) AS n FROM requests WHERE account_id = ? AND status = 'open'`),
    accountId,
  );
  return r?.n ?? 0;
}

/** The request rows of the calls of one person (for the Art. 15 export). */
export function listRequestRowsOfPerson(store: Store, accountId: string, personId: string): RequestRow[] {
  return many<RequestRow>(
    store.prepare(`SELECT ${COLUMNS} FROM requests WHERE account_id = ?1 AND call_id IN
      (SELECT id FROM calls WHERE account_id = ?1 AND person_id = ?2) ${ORDER}`),
    accountId,
    personId,
  );
}

/** Plain columns a change may set; `sealed` replaces the personal fields. */
export interface RequestRowPatch {
  status?: RequestStatus;
  assigneeUserId?: string | null;
  sealed?: Sealed;
}

/**
 * Change a request: status (done sets `doneAt`, reopening clears it), assignee (a user of the account),
 * sealed fields.
 *
 * @returns the changed row, or undefined when the request is not in this account.
 * @throws {StoreNotFoundError} when the assignee is not a user of this account.
 */
export function updateRequestRow(
  store: Store,
  accountId: string,
  id: string,
  patch: RequestRowPatch,
): RequestRow | undefined {
  const what = "Cannot update request";
  return store.transaction(() => {
    const before = getRequestRow(store, accountId, id);
    if (!before) return undefined;
    const status = patch.status === undefined
      ? before.status
      : requireOneOf(what, "status", patch.status, REQUEST_STATUSES);
    const assignee = patch.assigneeUserId === undefined ? before.assigneeUserId : patch.assigneeUserId;
    if (
      assignee !== null && assignee !== before.assigneeUserId &&
      !one(store.prepare("SELECT 1 FROM users WHERE account_id = ? AND id = ?"), accountId, assignee)
    ) {
      throw new StoreNotFoundError(`${what}: user ${assignee} not found in this account`);
    }
    const now = store.now();
    const doneAt = status === "done" ? (before.doneAt ?? now) : null;
    const s = patch.sealed ?? before;
    run(
      store.prepare(
        `UPDATE requests SET status = ?, assignee_user_id = ?, done_at = ?, ciphertext = ?, iv = ?,
        key_id = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
      ),
      status,
      assignee,
      doneAt,
      s.ciphertext,
      s.iv,
      s.keyId,
      now,
      accountId,
      id,
    );
    return getRequestRow(store, accountId, id);
  });
}

/** Delete the requests of one call of the account (erasure by call); returns how many. */
export function deleteRequestsOfCall(store: Store, accountId: string, callId: string): number {
  return run(store.prepare("DELETE FROM requests WHERE account_id = ? AND call_id = ?"), accountId, callId);
}

/**
 * Delete the account's requests done more than `retentionDays` (1 to 3650) ago; open and in-progress
 * requests are kept whatever their age. Returns how many were deleted.
 */
export function purgeDoneRequests(
  store: Store,
  accountId: string,
  now: number,
  retentionDays: number,
): number {
  const days = requireInt("Cannot purge requests", "retentionDays", retentionDays, 1, 3650);
  return run(
    store.prepare("DELETE FROM requests WHERE account_id = ? AND status = 'done' AND done_at < ?"),
    accountId,
    now - days * 86_400_000,
  );
}

/** Request rows not sealed under `keyId`, any account (key rotation only). */
export function requestRowsNotUnder(store: Store, keyId: string, limit: number): RequestRow[] {
  return many<RequestRow>(
    store.prepare(`SELECT ${COLUMNS} FROM requests WHERE key_id <> ? LIMIT ?`),
    keyId,
    limit,
  );
}

/** Replace the seal of a row if it is still under `oldKeyId` (key rotation only); returns 1 or 0. */
export function resealRequestRow(store: Store, row: RequestRow, sealed: Sealed): number {
  return run(
    store.prepare(
      "UPDATE requests SET ciphertext = ?, iv = ?, key_id = ? WHERE account_id = ? AND id = ? AND key_id = ?",
    ),
    sealed.ciphertext,
    sealed.iv,
    sealed.keyId,
    row.accountId,
    row.id,
    row.keyId,
  );
}

/** The key ids request rows use. */
export function requestKeyIds(store: Store): string[] {
  return many<{ key_id: string }>(store.prepare("SELECT DISTINCT key_id FROM requests")).map((r) => r.key_id);
}
