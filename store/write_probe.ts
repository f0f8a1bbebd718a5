// Write probe for `/readyz`: a real committed write, because a full disk lets reads (SELECT 1) pass while
// every write (an audit row per page view, a call's row) fails.
import type { Store } from "./db.ts";

/**
 * Commit one small write (the probe's time in `store_meta`). Throws what SQLite throws, e.g. SQLITE_FULL
 * ("database or disk is full", see `isStorageFull` in errors.ts) when the disk has no room for it.
 */
export function probeWrite(store: Store): void {
  const sql = `INSERT INTO store_meta (key, value) VALUES ('write_probe', ?)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
  store.transaction(() => store.prepare(sql).run(String(store.now())));
}
