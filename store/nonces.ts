// Single-use JWT nonces of the gateway. Global (not per account): the nonce is checked during the
// WebSocket handshake, before any account is known, and holds no personal data.
import type { Store } from "./db.ts";
import { requireInt, requireText, run } from "./_util.ts";

/**
 * Marks the nonce as used, kept until `expiresAt` (the token's exp, unix ms). True the first time;
 * false if it was used before or has already expired, so a replayed token is refused.
 */
export function useNonce(
  store: Store,
  nonce: string,
  callId: string,
  expiresAt: number,
  now: number,
): boolean {
  const what = "Cannot use nonce";
  requireText(what, "nonce", nonce);
  requireInt(what, "expiresAt", expiresAt, 0, Number.MAX_SAFE_INTEGER);
  if (expiresAt <= now) return false;
  const sql =
    "INSERT INTO nonces (nonce, call_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (nonce) DO NOTHING";
  return run(store.prepare(sql), nonce, callId, expiresAt) === 1;
}

/** Deletes nonces that expired at or before `now`; returns how many. */
export function purgeExpiredNonces(store: Store, now: number): number {
  return run(store.prepare("DELETE FROM nonces WHERE expires_at <= ?"), now);
}
