/** Errors thrown by the store, beside TypeError/RangeError for invalid input. */

/** A write collided with existing data: a duplicate key, or a stale version (optimistic concurrency). */
export class StoreConflictError extends Error {
  override name = "StoreConflictError";
}

/** A write referred to a row that does not exist in the given account. */
export class StoreNotFoundError extends Error {
  override name = "StoreNotFoundError";
}
