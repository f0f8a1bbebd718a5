/** Errors thrown by the store, beside TypeError/RangeError for invalid input. */

/** A write collided with existing data: a duplicate key, or a stale version (optimistic concurrency). */
export class StoreConflictError extends Error {
  override name = "StoreConflictError";
}

/** A write referred to a row that does not exist in the given account. */
export class StoreNotFoundError extends Error {
  override name = "StoreNotFoundError";
}

/**
 * Whether an error says the disk (or the database's size limit) is full: SQLite's SQLITE_FULL (13, also
 * as the low byte of an extended code) or the file system's ENOSPC. Pages and `/readyz` tell the
 * administrator so instead of a bare 500.
 */
export function isStorageFull(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { errcode?: unknown; code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.errcode === "number" && (e.errcode & 0xff) === 13) return true;
  if (e.code === "ENOSPC") return true;
  const message = typeof e.message === "string" ? e.message : "";
  if (/database or disk is full|no space left on device/i.test(message)) return true;
  return e.cause !== undefined && e.cause !== err && isStorageFull(e.cause);
}
