// Feedback: the caller's rating at the end of a call (spoken or DTMF), at most one per call.
import type { Store } from "./db.ts";
import { StoreNotFoundError } from "./errors.ts";
import { many, one, requireInt, requireOneOf, run } from "./_util.ts";

/** How the rating was given. */
export type FeedbackSource = "voice" | "dtmf";

/** A rating; `rating` is null when the caller was asked but gave none. */
export interface Feedback {
  id: string;
  accountId: string;
  callId: string;
  rating: number | null;
  source: FeedbackSource;
  createdAt: number;
}

/** Input of {@linkcode recordFeedback}. */
export interface NewFeedback {
  callId: string;
  rating: number | null;
  source: FeedbackSource;
}

/** Ratings per policy variant (for the deploy guard and the admin UI). */
export interface VariantFeedback {
  variantId: string | null;
  ratings: number;
  avgRating: number | null;
}

const COLUMNS = "id, account_id AS accountId, call_id AS callId, rating, source, created_at AS createdAt";
const SOURCES: readonly FeedbackSource[] = ["voice", "dtmf"];

/**
 * Records the call's rating; returns undefined if the call already has one (the first rating counts).
 * Throws StoreNotFoundError if the call is not in this account.
 */
export function recordFeedback(store: Store, accountId: string, input: NewFeedback): Feedback | undefined {
  const what = "Cannot record feedback";
  const feedback: Feedback = {
    id: store.newId(),
    accountId,
    callId: input.callId,
    rating: input.rating === null ? null : requireInt(what, "rating", input.rating, 1, 5),
    source: requireOneOf(what, "source", input.source, SOURCES),
    createdAt: store.now(),
  };
  const sql = `INSERT INTO feedback (id, account_id, call_id, rating, source, created_at)
    SELECT ?, account_id, id, ?, ?, ? FROM calls WHERE account_id = ? AND id = ?
    ON CONFLICT (call_id) DO NOTHING`;
  const params = [
    feedback.id,
    feedback.rating,
    feedback.source,
    feedback.createdAt,
    accountId,
    feedback.callId,
  ];
  if (run(store.prepare(sql), ...params) === 1) return feedback;
  if (
    !one(store.prepare("SELECT 1 FROM calls WHERE account_id = ? AND id = ?"), accountId, feedback.callId)
  ) {
    throw new StoreNotFoundError(`${what}: no call ${feedback.callId} in account ${accountId}`);
  }
  return undefined;
}

/** The call's rating, or undefined. */
export function getFeedback(store: Store, accountId: string, callId: string): Feedback | undefined {
  const sql = `SELECT ${COLUMNS} FROM feedback WHERE account_id = ? AND call_id = ?`;
  return one<Feedback>(store.prepare(sql), accountId, callId);
}

/** Number of ratings and average rating per policy variant, for calls since a time. */
export function feedbackByVariant(store: Store, accountId: string, since = 0): VariantFeedback[] {
  const sql = `SELECT c.policy_variant_id AS variantId, count(f.rating) AS ratings, avg(f.rating) AS avgRating
    FROM feedback f JOIN calls c ON c.id = f.call_id AND c.account_id = f.account_id
    WHERE f.account_id = ? AND f.created_at >= ?
    GROUP BY c.policy_variant_id ORDER BY c.policy_variant_id`;
  return many<VariantFeedback>(store.prepare(sql), accountId, since);
}

/** Deletes the call's rating; false if there was none in this account. */
export function deleteFeedback(store: Store, accountId: string, callId: string): boolean {
  return run(
    store.prepare("DELETE FROM feedback WHERE account_id = ? AND call_id = ?"),
    accountId,
    callId,
  ) === 1;
}
