// Transcripts: one encrypted row per utterance, stored only if the person consented.
import type { Store } from "./db.ts";
import { StoreConflictError, StoreNotFoundError } from "./errors.ts";
import { isConstraint, many, one, requireInt, requireOneOf, requireText, run } from "./_util.ts";

/** Who spoke. */
export type Speaker = "caller" | "assistant";

/** One utterance. The store keeps only ciphertext; `iv` and `keyId` say how to decrypt it. */
export interface TranscriptTurn {
  id: string;
  accountId: string;
  callId: string;
  turnIndex: number;
  speaker: Speaker;
  ciphertext: Uint8Array;
  iv: Uint8Array;
  keyId: string;
  /** The caller barged in: only the words they heard were kept. */
  interrupted: boolean;
  createdAt: number;
}

/** Input of {@linkcode appendTranscriptTurn}. */
export type NewTranscriptTurn = Omit<TranscriptTurn, "id" | "accountId" | "createdAt" | "interrupted"> & {
  interrupted?: boolean;
};

type TurnRow = Omit<TranscriptTurn, "interrupted"> & { interrupted: number };

const COLUMNS =
  `id, account_id AS accountId, call_id AS callId, turn_index AS turnIndex, speaker, ciphertext, iv,
  key_id AS keyId, interrupted, created_at AS createdAt`;
const SPEAKERS: readonly Speaker[] = ["caller", "assistant"];

function toTurn(row: TurnRow): TranscriptTurn {
  return { ...row, interrupted: row.interrupted === 1 };
}

function requireBytes(what: string, field: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array) || value.byteLength === 0) {
    throw new TypeError(`${what}: ${field} must be a non-empty Uint8Array`);
  }
  return value;
}

/**
 * Stores one encrypted utterance if the call's person consented to transcripts; returns null (and
 * stores nothing) without consent, including for unknown callers. Throws StoreNotFoundError if the
 * call is not in this account, StoreConflictError if the turn index is taken.
 */
export function appendTranscriptTurn(
  store: Store,
  accountId: string,
  input: NewTranscriptTurn,
): TranscriptTurn | null {
  const what = "Cannot store transcript";
  const turn: TranscriptTurn = {
    id: store.newId(),
    accountId,
    callId: input.callId,
    turnIndex: requireInt(what, "turnIndex", input.turnIndex, 0, 1_000_000),
    speaker: requireOneOf(what, "speaker", input.speaker, SPEAKERS),
    ciphertext: requireBytes(what, "ciphertext", input.ciphertext),
    iv: requireBytes(what, "iv", input.iv),
    keyId: requireText(what, "keyId", input.keyId),
    interrupted: input.interrupted ?? false,
    createdAt: store.now(),
  };
  const sql = `INSERT INTO transcripts (id, account_id, call_id, turn_index, speaker, ciphertext, iv, key_id,
      interrupted, created_at)
    SELECT ?1, c.account_id, c.id, ?4, ?5, ?6, ?7, ?8, ?9, ?10
    FROM calls c JOIN people p ON p.id = c.person_id AND p.account_id = c.account_id
    WHERE c.account_id = ?2 AND c.id = ?3 AND p.consent_transcript = 1`;
  let stored: number;
  try {
    stored = run(
      store.prepare(sql),
      turn.id,
      accountId,
      turn.callId,
      turn.turnIndex,
      turn.speaker,
      turn.ciphertext,
      turn.iv,
      turn.keyId,
      turn.interrupted ? 1 : 0,
      turn.createdAt,
    );
  } catch (err) {
    if (isConstraint(err, "UNIQUE")) {
      throw new StoreConflictError(`${what}: turn ${turn.turnIndex} of call ${turn.callId} already exists`);
    }
    throw err;
  }
  if (stored === 1) return turn;
  const exists = one(
    store.prepare("SELECT 1 FROM calls WHERE account_id = ? AND id = ?"),
    accountId,
    turn.callId,
  );
  if (!exists) throw new StoreNotFoundError(`${what}: no call ${turn.callId} in account ${accountId}`);
  return null;
}

/** The call's utterances in order; empty if none were stored or the call is not in this account. */
export function listTranscript(store: Store, accountId: string, callId: string): TranscriptTurn[] {
  const sql = `SELECT ${COLUMNS} FROM transcripts WHERE account_id = ? AND call_id = ? ORDER BY turn_index`;
  return many<TurnRow>(store.prepare(sql), accountId, callId).map(toTurn);
}

/** Deletes the call's transcript; returns the number of utterances removed. */
export function deleteTranscript(store: Store, accountId: string, callId: string): number {
  return run(
    store.prepare("DELETE FROM transcripts WHERE account_id = ? AND call_id = ?"),
    accountId,
    callId,
  );
}
