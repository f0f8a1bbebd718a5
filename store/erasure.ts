// Erasure (GDPR Art. 17) of a person and everything personal derived from their calls, so that nothing
// of them stays in tom.db, tom.db-wal or a backup taken afterwards; re-applied from the erasure log.
import type { Store } from "./db.ts";
import { many, one } from "./_util.ts";
import { appendErasure, readErasures } from "./erasure_log.ts";

/** What {@linkcode erasePerson} removed; the caller deletes the recording files. */
export interface Erasure {
  personId: string;
  anonymisedCalls: number;
  recordingPaths: string[];
}

/**
 * Erases a person (GDPR Art. 17): the person, their memory, and the transcripts, analyses, requests
 * (trigger `people_erase_requests`, migration 5) and recording paths of their calls; the calls stay as
 * anonymous metadata. Returns the recording files to delete, or undefined if the person is not in this
 * account. A call still being recorded loses its file twice over: the path is returned here, and its
 * recorder deletes the file when the call ends because the consent is gone (gateway/recording.ts); files
 * the database never named are swept by age.
 *
 * So that the bytes go too: the erasure is first appended to the erasure log (erasure_log.ts), the
 * deletion runs under `PRAGMA secure_delete = ON`, the store's setting (db.ts: freed cells and pages are
 * zeroed, index entries too),
 * and afterwards the WAL is checkpointed into the database and truncated (its frames held the rows).
 * Inside an outer transaction the checkpoint is left to the caller ({@linkcode scrubWal}).
 */
export function erasePerson(
  store: Store,
  accountId: string,
  personId: string,
  opts: { log?: boolean } = {},
): Erasure | undefined {
  if (!one(store.prepare("SELECT 1 FROM people WHERE account_id = ? AND id = ?"), accountId, personId)) {
    return undefined;
  }
  if (opts.log !== false) appendErasure(store.path, { accountId, personId, at: store.now() });
  // Freed cells and pages are zeroed: the store always runs with secure_delete ON (db.ts).
  const result = store.transaction((): Erasure | undefined => {
    const calls = many<{ recording_path: string | null }>(
      store.prepare("SELECT recording_path FROM calls WHERE account_id = ? AND person_id = ?"),
      accountId,
      personId,
    );
    const sql = "DELETE FROM people WHERE account_id = ? AND id = ?";
    if (Number(store.prepare(sql).run(accountId, personId).changes) !== 1) return undefined;
    return {
      personId,
      anonymisedCalls: calls.length,
      recordingPaths: calls.flatMap((c) => (c.recording_path === null ? [] : [c.recording_path])),
    };
  });
  if (!store.inTransaction) scrubWal(store);
  return result;
}

/**
 * Checkpoint the WAL into the database and truncate it, so that frames holding erased rows are gone.
 * Returns false when a reader (a running backup) kept part of the WAL; the next checkpoint finishes it.
 */
export function scrubWal(store: Store): boolean {
  if (store.path === ":memory:") return true;
  const r = store.db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number };
  return r.busy === 0;
}

/**
 * Apply the erasure log again: every logged person still in the database (restored from a backup taken
 * before their erasure) is erased once more, without a new log line. Returns what was erased.
 */
export function reapplyErasures(store: Store): Erasure[] {
  const out: Erasure[] = [];
  for (const e of readErasures(store.path)) {
    const done = erasePerson(store, e.accountId, e.personId, { log: false });
    if (done) out.push(done);
  }
  return out;
}
