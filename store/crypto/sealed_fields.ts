/**
 * Personal free text in plain columns, sealed at rest: people's names, numbers and notes, a person's memory and a call's
 * analysis (reason, summary, memory update). Each value is sealed with the keyring's one seal/open
 * (keyring.ts, AES-256-GCM) bound to its table, column, account and row id, and stored as a small JSON
 * envelope `{"tomseal":1,"k":key id,"iv":..,"ct":..}` — valid JSON, so the columns' json_valid checks
 * hold without a schema change, and the key id is visible to SQL, so rotation finds the rows still under
 * an old key (or still plain, from before this build) in batches, one transaction each: re-running after
 * a crash continues where it stopped.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { StatementSync } from "node:sqlite";
import type { Store } from "../db.ts";
import { aadOf, type TranscriptKeyring } from "./keyring.ts";
import { scrubWal } from "../erasure.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const PREFIX = '{"tomseal":1,"k":"';

/** A sealed column: its table, column and the column naming the row (scoped by account_id). */
export interface SealedColumn {
  table: string;
  column: string;
  rowId: string;
}

/** Every column of personal free text outside transcripts and requests (which have their own blobs). */
export const SEALED_COLUMNS: readonly SealedColumn[] = Object.freeze([
  { table: "people", column: "display_name", rowId: "id" },
  { table: "people", column: "phone_e164", rowId: "id" },
  { table: "people", column: "notes", rowId: "id" },
  { table: "memory_state", column: "memory_json", rowId: "person_id" },
  { table: "call_analysis", column: "reason", rowId: "call_id" },
  { table: "call_analysis", column: "summary_json", rowId: "call_id" },
  { table: "call_analysis", column: "memory_update_json", rowId: "call_id" },
  { table: "person_identity", column: "birth_date_sealed", rowId: "person_id" },
]);

/** Which value a sealed text is: bound to these, so a value copied to another row fails to open. */
export interface FieldBinding {
  table: string;
  column: string;
  accountId: string;
  rowId: string;
}

function aad(b: FieldBinding): Uint8Array {
  return aadOf("tom-field-v1", b.table, b.column, b.accountId, b.rowId);
}

/** Seal `text` for one column of one row: the envelope that is stored. */
export function sealField(keyring: TranscriptKeyring, b: FieldBinding, text: string): string {
  const s = keyring.sealSync(enc.encode(text), aad(b));
  const b64 = (u: Uint8Array) => Buffer.from(u).toString("base64");
  return `${PREFIX}${s.keyId}","iv":"${b64(s.iv)}","ct":"${b64(s.ciphertext)}"}`;
}

/** The key id of a stored envelope, or undefined for a plain value (written before sealing). */
export function sealedKeyId(stored: string): string | undefined {
  return stored.startsWith(PREFIX)
    ? stored.slice(PREFIX.length, stored.indexOf('"', PREFIX.length))
    : undefined;
}

/**
 * Open a stored value. A plain value (from before this build, not yet sealed by the start-up step) is
 * returned as it is.
 *
 * @throws {Error} when the envelope was altered, copied from another row, or its key is gone.
 */
export function openField(keyring: TranscriptKeyring, b: FieldBinding, stored: string): string {
  if (sealedKeyId(stored) === undefined) return stored;
  const env = JSON.parse(stored) as { k: string; iv: string; ct: string };
  const u8 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
  return dec.decode(keyring.unsealSync({ keyId: env.k, iv: u8(env.iv), ciphertext: u8(env.ct) }, aad(b)));
}

/** {@linkcode openField} for a nullable column. */
export function openNullable(
  keyring: TranscriptKeyring,
  b: FieldBinding,
  stored: string | null,
): string | null {
  return stored === null ? null : openField(keyring, b, stored);
}

/** Progress of {@linkcode rekeyFields}: one call per committed batch. */
export interface FieldProgress {
  table: string;
  column: string;
  /** Rows of this column rewritten so far in this run. */
  done: number;
}

interface Row {
  account_id: string;
  row_id: string;
  value: string;
}

/**
 * Seal every value of {@linkcode SEALED_COLUMNS} that is plain or under another key than the current one,
 * `batch` rows per transaction; `onProgress` is called after each commit. Resumable: finished rows are
 * under the current key and are not selected again. Returns how many values were rewritten.
 */
export function rekeyFields(
  store: Store,
  keyring: TranscriptKeyring,
  opts: { batch?: number; onProgress?: (p: FieldProgress) => void } = {},
): number {
  // The values replaced may be clear text (rows from before sealing): their cells are zeroed (the store
  // runs with secure_delete ON, db.ts), and the WAL that held them is checkpointed and truncated afterwards.
  const total = rekeyColumns(store, keyring, opts.batch ?? 200, opts.onProgress);
  if (total > 0 && !store.inTransaction) scrubWal(store);
  return total;
}

function rekeyColumns(
  store: Store,
  keyring: TranscriptKeyring,
  batch: number,
  onProgress: ((p: FieldProgress) => void) | undefined,
): number {
  const current = `${PREFIX}${keyring.currentKeyId}"%`;
  let total = 0;
  for (const c of SEALED_COLUMNS) {
    const select = store.prepare(
      `SELECT account_id, ${c.rowId} AS row_id, ${c.column} AS value FROM ${c.table}
       WHERE ${c.column} IS NOT NULL AND ${c.column} NOT LIKE ? LIMIT ?`,
    );
    const update = store.prepare(
      `UPDATE ${c.table} SET ${c.column} = ? WHERE account_id = ? AND ${c.rowId} = ? AND ${c.column} = ?`,
    );
    let done = 0;
    for (;;) {
      const rows = select.all(current, batch) as unknown as Row[];
      if (rows.length === 0) break;
      store.transaction(() => {
        for (const r of rows) {
          const b = { table: c.table, column: c.column, accountId: r.account_id, rowId: r.row_id };
          const fresh = sealField(keyring, b, openField(keyring, b, r.value));
          done += Number(update.run(fresh, r.account_id, r.row_id, r.value).changes);
        }
      });
      onProgress?.({ table: c.table, column: c.column, done });
    }
    total += done;
  }
  return total;
}

/** Key ids the sealed columns use (a retired key is dropped only when no column uses it). */
export function fieldKeyIds(store: { prepare(sql: string): StatementSync }): string[] {
  const ids = new Set<string>();
  for (const c of SEALED_COLUMNS) {
    const sql = `SELECT DISTINCT substr(${c.column}, ${PREFIX.length + 1}, 17) AS k FROM ${c.table}
      WHERE ${c.column} LIKE ?`;
    for (const r of store.prepare(sql).all(`${PREFIX}%`) as { k: string }[]) ids.add(r.k);
  }
  return [...ids];
}
