/**
 * Transcripts at rest: each utterance is sealed with AES-256-GCM, bound (as additional data) to its
 * account, call, turn and speaker, so a row copied to another call or account fails to decrypt.
 * Nothing is encrypted or stored without the person's consent to transcripts.
 *
 * @module
 */
import type { Store } from "../db.ts";
import { callConsent } from "../calls.ts";
import { appendTranscriptTurn, listTranscript, type Speaker, type TranscriptTurn } from "../transcripts.ts";
import { aadOf, type TranscriptKeyring } from "./keyring.ts";
import { requestKeyIds } from "../requests.ts";
import { rekeyRequests } from "./sealed_requests.ts";
import { fieldKeyIds, type FieldProgress, rekeyFields } from "./sealed_fields.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What an utterance is bound to. */
export interface TurnBinding {
  accountId: string;
  callId: string;
  turnIndex: number;
  speaker: Speaker;
}

/** One decrypted utterance. */
export interface PlainTurn {
  turnIndex: number;
  speaker: Speaker;
  text: string;
  /** The caller barged in; only the words they heard were kept. */
  interrupted: boolean;
  createdAt: number;
}

/** The additional authenticated data of one utterance. */
export function turnAad(b: TurnBinding): Uint8Array {
  return aadOf("tom-transcript-v1", b.accountId, b.callId, b.turnIndex, b.speaker);
}

/**
 * Encrypt and store one utterance when the call's person consented to transcripts.
 *
 * @returns the stored row, or null when nothing was stored (no consent, unknown caller).
 * @throws {StoreNotFoundError} when the call is not in this account.
 */
export async function storeTranscriptTurn(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  turn: { callId: string; turnIndex: number; speaker: Speaker; text: string; interrupted?: boolean },
): Promise<TranscriptTurn | null> {
  const consent = callConsent(store, accountId, turn.callId);
  if (consent && !consent.transcript) return null;
  const sealed = await keyring.seal(enc.encode(turn.text), turnAad({ accountId, ...turn }));
  return appendTranscriptTurn(store, accountId, {
    callId: turn.callId,
    turnIndex: turn.turnIndex,
    speaker: turn.speaker,
    interrupted: turn.interrupted ?? false,
    ...sealed,
  });
}

/** The call's utterances, decrypted, in order (empty when none were stored). */
export async function readTranscript(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  callId: string,
): Promise<PlainTurn[]> {
  const rows = listTranscript(store, accountId, callId);
  return await Promise.all(rows.map(async (r) => ({
    turnIndex: r.turnIndex,
    speaker: r.speaker,
    interrupted: r.interrupted,
    createdAt: r.createdAt,
    text: dec.decode(
      await keyring.open(r, turnAad({ accountId, callId, turnIndex: r.turnIndex, speaker: r.speaker })),
    ),
  })));
}

/** Result of {@linkcode rekeyTranscripts}. */
export interface RekeyResult {
  /** Rows re-encrypted with the current key. */
  rewritten: number;
  /** Requests re-encrypted with the current key (they share the keyring). */
  requests: number;
  /** Personal column values (notes, memory, analysis) sealed anew: plain ones or under a retired key. */
  fields: number;
  /** Retired keys deleted because no row uses them any more. */
  droppedKeys: string[];
}

interface RekeyRow {
  id: string;
  account_id: string;
  call_id: string;
  turn_index: number;
  speaker: Speaker;
  ciphertext: Uint8Array;
  iv: Uint8Array;
  key_id: string;
}

/**
 * Re-encrypt every transcript row that is not under the current key (after {@linkcode
 * TranscriptKeyring.rotate}), in batches, then delete the retired keys nothing uses. Safe to run
 * again after a crash: rows are rewritten one batch per transaction. Requests and the personal columns
 * (sealed_fields.ts: notes, memory, analysis; plain values from before sealing too) share the keyring,
 * so they are re-encrypted too, and a retired key is dropped only when nothing uses it.
 */
export async function rekeyTranscripts(
  store: Store,
  keyring: TranscriptKeyring,
  opts: { batch?: number; onProgress?: (p: FieldProgress) => void } = {},
): Promise<RekeyResult> {
  const batch = opts.batch ?? 200;
  let rewritten = 0;
  for (;;) {
    const rows = store.prepare(
      `SELECT id, account_id, call_id, turn_index, speaker, ciphertext, iv, key_id FROM transcripts
       WHERE key_id <> ? LIMIT ?`,
    ).all(keyring.currentKeyId, batch) as unknown as RekeyRow[];
    if (rows.length === 0) break;
    const updates = await Promise.all(rows.map(async (r) => {
      const aad = turnAad({
        accountId: r.account_id,
        callId: r.call_id,
        turnIndex: r.turn_index,
        speaker: r.speaker,
      });
      const plain = await keyring.open({ ciphertext: r.ciphertext, iv: r.iv, keyId: r.key_id }, aad);
      return { row: r, sealed: await keyring.seal(plain, aad) };
    }));
    store.transaction(() => {
      const stmt = store.prepare(
        "UPDATE transcripts SET ciphertext = ?, iv = ?, key_id = ? WHERE account_id = ? AND id = ? AND key_id = ?",
      );
      for (const { row, sealed } of updates) {
        rewritten += Number(
          stmt.run(sealed.ciphertext, sealed.iv, sealed.keyId, row.account_id, row.id, row.key_id).changes,
        );
      }
    });
  }
  const requests = await rekeyRequests(store, keyring, batch);
  const fields = rekeyFields(store, keyring, { batch, onProgress: opts.onProgress });
  const used = new Set([
    ...fieldKeyIds(store),
    ...(store.prepare("SELECT DISTINCT key_id FROM transcripts").all() as { key_id: string }[]).map((r) =>
      r.key_id
    ),
    ...requestKeyIds(store),
  ]);
  const droppedKeys = keyring.retiredKeyIds.filter((id) => !used.has(id));
  for (const id of droppedKeys) keyring.dropRetired(id);
  return { rewritten, requests, fields, droppedKeys };
}
