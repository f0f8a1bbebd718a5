// API tokens of the admin UI's /api (ui_api_tokens): only the SHA-256 of a token is stored.
import type { Store } from "./db.ts";
import { many, one, run } from "./_util.ts";

/** An API token as listed (never the secret). */
export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** Input of {@linkcode insertApiToken}: the token's hash, never the secret. */
export interface NewApiToken {
  userId: string;
  name: string;
  tokenHash: string;
}

/** Store a token of a user of this account; returns the row. */
export function insertApiToken(store: Store, accountId: string, input: NewApiToken): ApiToken {
  const id = store.newId();
  store.prepare(
    `INSERT INTO ui_api_tokens (id, account_id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(id, accountId, input.userId, input.name, input.tokenHash, store.now());
  return { id, userId: input.userId, name: input.name, createdAt: store.now(), lastUsedAt: null };
}

/** The account's tokens, newest first. */
export function listApiTokens(store: Store, accountId: string): ApiToken[] {
  return many<ApiToken>(
    store.prepare(
      `SELECT id, user_id AS userId, name, created_at AS createdAt, last_used_at AS lastUsedAt FROM ui_api_tokens
       WHERE account_id = ? ORDER BY created_at DESC`,
    ),
    accountId,
  );
}

/** Delete a token; false when it is not in this account. */
export function deleteApiToken(store: Store, accountId: string, id: string): boolean {
  return run(store.prepare("DELETE FROM ui_api_tokens WHERE account_id = ? AND id = ?"), accountId, id) === 1;
}

/**
 * The account and user of a token hash (enabled users only), or undefined; a token found is marked as
 * used now.
 */
export function useApiToken(
  store: Store,
  tokenHash: string,
): { accountId: string; userId: string } | undefined {
  const row = one<{ accountId: string; userId: string }>(
    store.prepare(
      `SELECT t.account_id AS accountId, t.user_id AS userId FROM ui_api_tokens t
       JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id WHERE t.token_hash = ? AND u.disabled = 0`,
    ),
    tokenHash,
  );
  if (row) {
    store.prepare("UPDATE ui_api_tokens SET last_used_at = ? WHERE token_hash = ?").run(
      store.now(),
      tokenHash,
    );
  }
  return row;
}
