/** Shared value types of the store's public API. */

/** A JSON value, as stored in the `*_json` TEXT columns. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object (the shape of every `*_json` column). */
export type JsonObject = { [key: string]: Json };

/** Tenant kind: a private household (seniors) or a clinic/care service (patients). */
export type AccountKind = "private" | "clinical";

/** Options for list functions; `limit` defaults to 100 and is capped at 1000. */
export interface PageOptions {
  limit?: number;
  offset?: number;
}
