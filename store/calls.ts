// Calls: one row per phone call, from ringing to its end, with the policy variant it ran under.
import type { Store } from "./db.ts";
import { StoreConflictError, StoreNotFoundError } from "./errors.ts";
import type { PageOptions } from "./types.ts";
import { isConstraint, many, one, page, requireOneOf, requireText, run } from "./_util.ts";

/** Who dialled. */
export type CallDirection = "inbound" | "outbound";
/** How the audio reached TOM (protocols.md). */
export type CallTransport = "browser" | "freeswitch" | "twilio" | "audiosocket" | "chan_websocket";
/** Life cycle: ringing -> active -> one of the end states. */
export type CallStatus = "ringing" | "active" | "completed" | "failed" | "busy" | "no_answer";
/** The states a call can end in. */
export type CallEndStatus = Exclude<CallStatus, "ringing" | "active">;

/** A call. `durationMs` is talk time: from answer to end (0 if never answered). */
export interface Call {
  id: string;
  accountId: string;
  personId: string | null;
  direction: CallDirection;
  transport: CallTransport;
  externalId: string | null;
  status: CallStatus;
  failureReason: string | null;
  startedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  durationMs: number | null;
  policyVariantId: string | null;
  banditContext: string | null;
  recorded: boolean;
  recordingPath: string | null;
}

/** Input of {@linkcode createCall}; `id` may be given when the gateway named the call first. */
export interface NewCall {
  id?: string;
  direction: CallDirection;
  transport: CallTransport;
  personId?: string | null;
  externalId?: string | null;
  startedAt?: number;
  policyVariantId?: string | null;
  banditContext?: string | null;
}

type CallRow = Omit<Call, "recorded"> & { recorded: number };

const COLUMNS = `id, account_id AS accountId, person_id AS personId, direction, transport,
  external_id AS externalId, status, failure_reason AS failureReason, started_at AS startedAt,
  answered_at AS answeredAt, ended_at AS endedAt, duration_ms AS durationMs,
  policy_variant_id AS policyVariantId, bandit_context AS banditContext, recorded,
  recording_path AS recordingPath`;
const DIRECTIONS: readonly CallDirection[] = ["inbound", "outbound"];
const TRANSPORTS: readonly CallTransport[] = [
  "browser",
  "freeswitch",
  "twilio",
  "audiosocket",
  "chan_websocket",
];
const END_STATES: readonly CallEndStatus[] = ["completed", "failed", "busy", "no_answer"];

function toCall(row: CallRow): Call {
  return { ...row, recorded: row.recorded === 1 };
}

/** Creates a ringing call; throws StoreNotFoundError if the person or variant is not there. */
export function createCall(store: Store, accountId: string, input: NewCall): Call {
  const what = "Cannot create call";
  const call: Call = {
    id: input.id ?? store.newId(),
    accountId,
    personId: input.personId ?? null,
    direction: requireOneOf(what, "direction", input.direction, DIRECTIONS),
    transport: requireOneOf(what, "transport", input.transport, TRANSPORTS),
    externalId: input.externalId ?? null,
    status: "ringing",
    failureReason: null,
    startedAt: input.startedAt ?? store.now(),
    answeredAt: null,
    endedAt: null,
    durationMs: null,
    policyVariantId: input.policyVariantId ?? null,
    banditContext: input.banditContext ?? null,
    recorded: false,
    recordingPath: null,
  };
  try {
    store.prepare(`INSERT INTO calls (id, account_id, person_id, direction, transport, external_id,
      started_at, policy_variant_id, bandit_context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      call.id,
      accountId,
      call.personId,
      call.direction,
      call.transport,
      call.externalId,
      call.startedAt,
      call.policyVariantId,
      call.banditContext,
    );
  } catch (err) {
    if (isConstraint(err, "UNIQUE")) throw new StoreConflictError(`${what}: call ${call.id} already exists`);
    const message = err instanceof Error ? err.message : "";
    if (isConstraint(err, "FOREIGN KEY") || message.includes("same account")) {
      throw new StoreNotFoundError(`${what}: account, person or variant not found in account ${accountId}`);
    }
    throw err;
  }
  return call;
}

/** The call of this account, or undefined. */
export function getCall(store: Store, accountId: string, callId: string): Call | undefined {
  const row = one<CallRow>(
    store.prepare(`SELECT ${COLUMNS} FROM calls WHERE account_id = ? AND id = ?`),
    accountId,
    callId,
  );
  return row && toCall(row);
}

/** The call with the provider's id (Twilio CallSid, FreeSWITCH uuid), or undefined. */
export function findCallByExternalId(
  store: Store,
  accountId: string,
  transport: CallTransport,
  externalId: string,
): Call | undefined {
  const sql = `SELECT ${COLUMNS} FROM calls WHERE account_id = ? AND transport = ? AND external_id = ?`;
  const row = one<CallRow>(store.prepare(sql), accountId, transport, externalId);
  return row && toCall(row);
}

/** Where a page of {@linkcode listCalls} ends: the last call of the previous page. */
export interface CallCursor {
  startedAt: number;
  id: string;
}

/**
 * The account's calls, newest first; optionally of one person and since a time. Page with `offset`, or
 * with `after` (the last call of the previous page), which neither skips nor repeats a call when calls
 * arrive while paging.
 */
export function listCalls(
  store: Store,
  accountId: string,
  opts: PageOptions & { personId?: string; since?: number; after?: CallCursor } = {},
): Call[] {
  const [limit, offset] = page(opts);
  const sql = `SELECT ${COLUMNS} FROM calls WHERE account_id = ?1 AND (?2 IS NULL OR person_id = ?2)
    AND started_at >= ?3 AND (?6 IS NULL OR started_at < ?6 OR (started_at = ?6 AND id > ?7))
    ORDER BY started_at DESC, id LIMIT ?4 OFFSET ?5`;
  const after = opts.after;
  return many<CallRow>(
    store.prepare(sql),
    accountId,
    opts.personId ?? null,
    opts.since ?? 0,
    limit,
    offset,
    after?.startedAt ?? null,
    after?.id ?? null,
  ).map(toCall);
}

/** ringing -> active; false if the call is not ringing or not in this account. */
export function markCallAnswered(store: Store, accountId: string, callId: string, at = store.now()): boolean {
  const sql = `UPDATE calls SET status = 'active', answered_at = max(?, started_at)
    WHERE account_id = ? AND id = ? AND status = 'ringing'`;
  return run(store.prepare(sql), at, accountId, callId) === 1;
}

/** Ends a ringing or active call; false if it already ended or is not in this account. */
export function endCall(
  store: Store,
  accountId: string,
  callId: string,
  end: { status: CallEndStatus; at?: number; failureReason?: string },
): boolean {
  const what = "Cannot end call";
  const status = requireOneOf(what, "status", end.status, END_STATES);
  const reason = end.failureReason === undefined
    ? null
    : requireText(what, "failureReason", end.failureReason, 500);
  const sql = `UPDATE calls SET status = ?1, failure_reason = ?2, ended_at = max(?3, started_at),
    duration_ms = CASE WHEN answered_at IS NULL THEN 0 ELSE max(?3 - answered_at, 0) END
    WHERE account_id = ?4 AND id = ?5 AND status IN ('ringing', 'active')`;
  return run(store.prepare(sql), status, reason, end.at ?? store.now(), accountId, callId) === 1;
}

/** Records the bandit's choice for this call; false if the call is not in this account. */
export function setCallPolicy(
  store: Store,
  accountId: string,
  callId: string,
  variantId: string | null,
  context: string | null,
): boolean {
  const sql = "UPDATE calls SET policy_variant_id = ?, bandit_context = ? WHERE account_id = ? AND id = ?";
  return run(store.prepare(sql), variantId, context, accountId, callId) === 1;
}

/** What the caller consented to; undefined if the call is not in this account. Unknown callers: nothing. */
export function callConsent(
  store: Store,
  accountId: string,
  callId: string,
): { recording: boolean; transcript: boolean } | undefined {
  const sql = `SELECT coalesce(p.consent_recording, 0) AS r, coalesce(p.consent_transcript, 0) AS t
    FROM calls c LEFT JOIN people p ON p.id = c.person_id AND p.account_id = c.account_id
    WHERE c.account_id = ? AND c.id = ?`;
  const row = one<{ r: number; t: number }>(store.prepare(sql), accountId, callId);
  return row && { recording: row.r === 1, transcript: row.t === 1 };
}

/** Forget the call's recording (its file was deleted); false if the call is not in this account. */
export function clearRecording(store: Store, accountId: string, callId: string): boolean {
  const sql = "UPDATE calls SET recorded = 0, recording_path = NULL WHERE account_id = ? AND id = ?";
  return run(store.prepare(sql), accountId, callId) === 1;
}

/** Stores the recording's path if the person consented to recording; false otherwise. */
export function attachRecording(store: Store, accountId: string, callId: string, path: string): boolean {
  const file = requireText("Cannot attach recording", "path", path, 1000);
  const sql = `UPDATE calls SET recorded = 1, recording_path = ? WHERE account_id = ? AND id = ?
    AND person_id IN (SELECT id FROM people WHERE account_id = ? AND consent_recording = 1)`;
  return run(store.prepare(sql), file, accountId, callId, accountId) === 1;
}

/** A call a previous run of TOM left open (it was killed during the call), as start-up recovery sees it. */
export interface InterruptedCall {
  id: string;
  accountId: string;
  startedAt: number;
  answeredAt: number | null;
  recordingPath: string | null;
  /** When its last transcript turn was stored, if any: the last sign of life the store has. */
  lastTurnAt: number | null;
}

/**
 * Every account's calls still marked as running: `active` ones, and inbound ones still `ringing` (an
 * inbound call is answered as it starts). Outbound calls still ringing are left alone: the provider may
 * still connect them or report their end. Only for start-up, before any call is taken.
 */
export function listInterruptedCalls(store: Store): InterruptedCall[] {
  const sql = `SELECT c.id, c.account_id AS accountId, c.started_at AS startedAt, c.answered_at AS answeredAt,
    c.recording_path AS recordingPath,
    (SELECT max(t.created_at) FROM transcripts t WHERE t.account_id = c.account_id AND t.call_id = c.id)
      AS lastTurnAt
    FROM calls c WHERE c.status = 'active' OR (c.status = 'ringing' AND c.direction = 'inbound')
    ORDER BY c.started_at, c.id`;
  return many<InterruptedCall>(store.prepare(sql));
}
