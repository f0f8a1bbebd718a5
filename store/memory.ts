// Memory: what TOM remembers about a person across calls (facts, preferences, people, topics).
import type { Store } from "./db.ts";
import { StoreConflictError, StoreNotFoundError } from "./errors.ts";
import type { JsonObject } from "./types.ts";
import { isConstraint, jsonText, one, parseJson, requireInt, run } from "./_util.ts";
import { openField, sealField } from "./crypto/sealed_fields.ts";

// memory_json is sealed at rest (crypto/sealed_fields.ts), bound to the account and the person.
const field = (accountId: string, personId: string) => ({
  table: "memory_state",
  column: "memory_json",
  accountId,
  rowId: personId,
});

/** A person's memory. `version` grows by one per save (optimistic concurrency). */
export interface MemoryState {
  personId: string;
  accountId: string;
  memory: JsonObject;
  version: number;
  updatedAt: number;
}

/** Largest memory document, in bytes of JSON: it is injected into every prompt. */
export const MAX_MEMORY_BYTES = 64 * 1024;

interface MemoryRow {
  personId: string;
  accountId: string;
  memory: string;
  version: number;
  updatedAt: number;
}

const COLUMNS =
  "person_id AS personId, account_id AS accountId, memory_json AS memory, version, updated_at AS updatedAt";

/** The person's memory, or undefined if none was saved (or the person is not in this account). */
export function getMemory(store: Store, accountId: string, personId: string): MemoryState | undefined {
  const sql = `SELECT ${COLUMNS} FROM memory_state WHERE account_id = ? AND person_id = ?`;
  const row = one<MemoryRow>(store.prepare(sql), accountId, personId);
  return row &&
    { ...row, memory: parseJson(openField(store.keyring, field(accountId, personId), row.memory)) };
}

/**
 * Saves the memory if nobody saved since `expectedVersion` was read (0: no memory yet). Throws
 * StoreConflictError when another analysis saved first (re-read, merge, retry) and StoreNotFoundError
 * when the person is not in this account.
 */
export function saveMemory(
  store: Store,
  accountId: string,
  personId: string,
  memory: JsonObject,
  expectedVersion: number,
): MemoryState {
  const what = "Cannot save memory";
  requireInt(what, "expectedVersion", expectedVersion, 0, Number.MAX_SAFE_INTEGER);
  const text = jsonText(what, "memory", memory);
  if (new TextEncoder().encode(text).byteLength > MAX_MEMORY_BYTES) {
    throw new RangeError(`${what}: memory is larger than ${MAX_MEMORY_BYTES} bytes of JSON`);
  }
  const now = store.now();
  const sealed = sealField(store.keyring, field(accountId, personId), text);
  return store.transaction(() => {
    let changed: number;
    if (expectedVersion === 0) {
      const sql = `INSERT INTO memory_state (person_id, account_id, memory_json, version, updated_at)
        SELECT id, account_id, ?, 1, ? FROM people WHERE account_id = ? AND id = ?`;
      try {
        changed = run(store.prepare(sql), sealed, now, accountId, personId);
      } catch (err) {
        if (!isConstraint(err, "UNIQUE")) throw err;
        changed = -1;
      }
    } else {
      const sql = `UPDATE memory_state SET memory_json = ?, version = version + 1, updated_at = ?
        WHERE account_id = ? AND person_id = ? AND version = ?`;
      changed = run(store.prepare(sql), sealed, now, accountId, personId, expectedVersion);
    }
    if (changed === 1) {
      return { personId, accountId, memory: parseJson(text), version: expectedVersion + 1, updatedAt: now };
    }
    if (!one(store.prepare("SELECT 1 FROM people WHERE account_id = ? AND id = ?"), accountId, personId)) {
      throw new StoreNotFoundError(`${what}: no person ${personId} in account ${accountId}`);
    }
    throw new StoreConflictError(`${what}: version ${expectedVersion} is stale for person ${personId}`);
  });
}

/** Forgets the person's memory; false if there was none in this account. */
export function deleteMemory(store: Store, accountId: string, personId: string): boolean {
  return run(
    store.prepare("DELETE FROM memory_state WHERE account_id = ? AND person_id = ?"),
    accountId,
    personId,
  ) ===
    1;
}
