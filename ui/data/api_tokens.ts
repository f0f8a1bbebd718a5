// API tokens for /api: random secrets shown once; only their SHA-256 is stored.
import type { Store } from "../../store/mod.ts";
import { randomToken, sha256Hex } from "../auth/sessions.ts";

/** An API token as listed (never the secret). */
export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** Prefix of every token, so leaked ones are easy to find in code and logs. */
export const TOKEN_PREFIX = "tomapi_";

/** Create a token for a user; returns the secret (shown once) and the row. */
export function createApiToken(
  store: Store,
  accountId: string,
  userId: string,
  name: string,
): { secret: string; token: ApiToken } {
  const secret = TOKEN_PREFIX + randomToken();
  const id = store.newId();
  const trimmed = name.trim().slice(0, 100) || "API";
  store.prepare(
    `INSERT INTO ui_api_tokens (id, account_id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(id, accountId, userId, trimmed, sha256Hex(secret), store.now());
  return {
    secret,
    token: { id, userId, name: trimmed, createdAt: store.now(), lastUsedAt: null } as ApiToken,
  };
}

/** The account's tokens, newest first. */
export function listApiTokens(store: Store, accountId: string): ApiToken[] {
  return store.prepare(
    `SELECT id, user_id AS userId, name, created_at AS createdAt, last_used_at AS lastUsedAt FROM ui_api_tokens
     WHERE account_id = ? ORDER BY created_at DESC`,
  ).all(accountId) as unknown as ApiToken[];
}

/** Delete a token; false when it is not in this account. */
export function deleteApiToken(store: Store, accountId: string, id: string): boolean {
  return Number(
    store.prepare("DELETE FROM ui_api_tokens WHERE account_id = ? AND id = ?").run(accountId, id).changes,
  ) ===
    1;
}

/** The account and user of a presented token (enabled users only), or undefined. */
export function resolveApiToken(
  store: Store,
  secret: string,
): { accountId: string; userId: string } | undefined {
  if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return undefined;
  const hash = sha256Hex(secret);
  const row = store.prepare(
    `SELECT t.account_id AS accountId, t.user_id AS userId FROM ui_api_tokens t
     JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id WHERE t.token_hash = ? AND u.disabled = 0`,
  ).get(hash) as { accountId: string; userId: string } | undefined;
  if (row) {
    store.prepare("UPDATE ui_api_tokens SET last_used_at = ? WHERE token_hash = ?").run(store.now(), hash);
  }
  return row ? { accountId: row.accountId, userId: row.userId } : undefined;
}
