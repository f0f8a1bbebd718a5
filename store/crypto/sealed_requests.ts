/**
 * Requests at rest: the personal fields (caller name, callback number, for whom, preferred times,
 * medication, summary, staff notes) are sealed together as one JSON blob with AES-256-GCM, bound (as
 * additional data) to the account and the request id, so a row copied to another account or id fails to
 * decrypt. Kind, urgency, status, assignee, timestamps and the call stay plain. Every function is scoped
 * by account.
 *
 * @module
 */
import type { Store } from "../db.ts";
import {
  getRequestRow,
  insertRequestRow,
  listRequestRows,
  listRequestRowsOfPerson,
  type NewRequest,
  type RequestQuery,
  type RequestRecord,
  type RequestRow,
  requestRowsNotUnder,
  type RequestStatus,
  resealRequestRow,
  updateRequestRow,
} from "../requests.ts";
import { aadOf, type TranscriptKeyring } from "./keyring.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The sealed part of a request. */
interface Personal {
  callerName: string;
  callbackNumber: string | null;
  forWhom: string;
  preferredTimes: string;
  medication: string;
  summary: string;
  notes: string;
}

const LIMITS: Record<Exclude<keyof Personal, "callbackNumber">, number> = {
  callerName: 200,
  forWhom: 200,
  preferredTimes: 500,
  medication: 500,
  summary: 2000,
  notes: 4000,
};

/** The additional authenticated data of one request. */
export function requestAad(accountId: string, requestId: string): Uint8Array {
  return aadOf("tom-request-v1", accountId, requestId);
}

function personal(p: Personal): Personal {
  for (const [field, max] of Object.entries(LIMITS)) {
    const v = p[field as keyof typeof LIMITS];
    if (typeof v !== "string" || v.length > max) {
      throw new TypeError(`Cannot store request: ${field} must be a string of at most ${max} characters`);
    }
  }
  if (p.callbackNumber !== null && !/^\+[1-9]\d{6,14}$/.test(p.callbackNumber)) {
    throw new TypeError("Cannot store request: callbackNumber must be E.164 or null");
  }
  return {
    callerName: p.callerName,
    callbackNumber: p.callbackNumber,
    forWhom: p.forWhom,
    preferredTimes: p.preferredTimes,
    medication: p.medication,
    summary: p.summary,
    notes: p.notes,
  };
}

async function seal(keyring: TranscriptKeyring, accountId: string, id: string, p: Personal) {
  return await keyring.seal(enc.encode(JSON.stringify(personal(p))), requestAad(accountId, id));
}

async function openRow(keyring: TranscriptKeyring, row: RequestRow): Promise<RequestRecord> {
  const plain = await keyring.open(row, requestAad(row.accountId, row.id));
  const p = JSON.parse(dec.decode(plain)) as Personal;
  const { ciphertext: _c, iv: _i, keyId: _k, ...plainCols } = row;
  return { ...plainCols, ...p };
}

/**
 * Seal and store a new request (status open).
 *
 * @throws {StoreNotFoundError} when `callId` names no call of this account.
 * @throws {TypeError} on an invalid field (a callback number not in E.164, a text too long).
 */
export async function createRequest(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  req: NewRequest,
): Promise<RequestRecord> {
  const id = store.newId();
  const sealed = await seal(keyring, accountId, id, { ...req, notes: "" });
  const row = insertRequestRow(store, accountId, {
    id,
    callId: req.callId,
    kind: req.kind,
    urgency: req.urgency,
    source: req.source,
    ...sealed,
  });
  return await openRow(keyring, row);
}

/** One request of the account, decrypted, or undefined. */
export async function getRequest(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  id: string,
): Promise<RequestRecord | undefined> {
  const row = getRequestRow(store, accountId, id);
  return row ? await openRow(keyring, row) : undefined;
}

/** The account's requests, decrypted: open first, emergencies and urgent on top, newest first. */
export async function listRequests(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  q: RequestQuery = {},
): Promise<RequestRecord[]> {
  return await Promise.all(listRequestRows(store, accountId, q).map((r) => openRow(keyring, r)));
}

/** The requests of one person's calls, decrypted (Art. 15 export). */
export async function listPersonRequests(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  personId: string,
): Promise<RequestRecord[]> {
  return await Promise.all(
    listRequestRowsOfPerson(store, accountId, personId).map((r) => openRow(keyring, r)),
  );
}

/** What staff may change on a request. */
export interface RequestPatch {
  status?: RequestStatus;
  assigneeUserId?: string | null;
  notes?: string;
}

/**
 * Change status, assignee or staff notes of a request (done sets `doneAt`).
 *
 * @returns the changed request, or undefined when it is not in this account.
 * @throws {StoreNotFoundError} when the assignee is not a user of this account.
 */
export async function updateRequest(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  id: string,
  patch: RequestPatch,
): Promise<RequestRecord | undefined> {
  const current = await getRequest(store, keyring, accountId, id);
  if (!current) return undefined;
  const sealed = patch.notes === undefined
    ? undefined
    : await seal(keyring, accountId, id, { ...current, notes: patch.notes });
  const row = updateRequestRow(store, accountId, id, {
    status: patch.status,
    assigneeUserId: patch.assigneeUserId,
    sealed,
  });
  return row ? await openRow(keyring, row) : undefined;
}

/**
 * Re-encrypt every request not under the current key (after a key rotation), in batches; returns how
 * many rows were rewritten. Safe to run again after a crash.
 */
export async function rekeyRequests(store: Store, keyring: TranscriptKeyring, batch = 200): Promise<number> {
  let rewritten = 0;
  for (;;) {
    const rows = requestRowsNotUnder(store, keyring.currentKeyId, batch);
    if (rows.length === 0) return rewritten;
    const updates = await Promise.all(rows.map(async (row) => {
      const aad = requestAad(row.accountId, row.id);
      return { row, sealed: await keyring.seal(await keyring.open(row, aad), aad) };
    }));
    store.transaction(() => {
      for (const { row, sealed } of updates) rewritten += resealRequestRow(store, row, sealed);
    });
  }
}
