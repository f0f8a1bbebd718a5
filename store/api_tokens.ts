// API tokens of the admin UI's /api (ui_api_tokens): only the SHA-256 of a token is stored; each token has a
// scope chosen at creation and an expiry (migration 7).
import type { Store } from "./db.ts";
import { many, one, requireOneOf, run } from "./_util.ts";

/** What a token may do: GET only, the requests (inbox) API only, or whatever its user's role may. */
export type ApiTokenScope = "read" | "requests" | "full";

/** Every scope, least power first. */
export const API_TOKEN_SCOPES: readonly ApiTokenScope[] = ["read", "requests", "full"];

/** An API token as listed (never the secret). */
export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  scope: ApiTokenScope;
  createdAt: number;
  /** Unix ms after which the token is refused; null only for rows no migration gave an expiry. */
  expiresAt: number | null;
  lastUsedAt: number | null;
}

/** Input of {@linkcode insertApiToken}: the token's hash, never the secret. */
export interface NewApiToken {
  userId: string;
  name: string;
  tokenHash: string;
  scope: ApiTokenScope;
  expiresAt: number;
  /** When it was made (default now): the expiry is counted from it. */
  createdAt?: number;
}

/** A presented token's owner and limits; `expired` tokens must be refused (they are not marked used). */
export interface ApiTokenUse {
  accountId: string;
  userId: string;
  scope: ApiTokenScope;
  expiresAt: number | null;
  expired: boolean;
}

const COLUMNS = `id, user_id AS userId, name, scope, created_at AS createdAt, expires_at AS expiresAt,
  last_used_at AS lastUsedAt`;

/** Store a token of a user of this account; returns the row. */
export function insertApiToken(store: Store, accountId: string, input: NewApiToken): ApiToken {
  const scope = requireOneOf("Cannot create API token", "scope", input.scope, API_TOKEN_SCOPES);
  const id = store.newId();
  const createdAt = input.createdAt ?? store.now();
  store.prepare(
    `INSERT INTO ui_api_tokens (id, account_id, user_id, name, token_hash, scope, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, accountId, input.userId, input.name, input.tokenHash, scope, createdAt, input.expiresAt);
  return {
    id,
    userId: input.userId,
    name: input.name,
    scope,
    createdAt,
    expiresAt: input.expiresAt,
    lastUsedAt: null,
  };
}

/** The account's tokens, newest first. */
export function listApiTokens(store: Store, accountId: string): ApiToken[] {
  return many<ApiToken>(
    store.prepare(`SELECT ${COLUMNS} FROM ui_api_tokens WHERE account_id = ? ORDER BY created_at DESC`),
    accountId,
  );
}

/** Delete a token; false when it is not in this account. */
export function deleteApiToken(store: Store, accountId: string, id: string): boolean {
  return run(store.prepare("DELETE FROM ui_api_tokens WHERE account_id = ? AND id = ?"), accountId, id) === 1;
}

/**
 * The account, user, scope and expiry of a token hash (enabled users only), or undefined; a token found and
 * not expired is marked as used now.
 */
export function useApiToken(store: Store, tokenHash: string): ApiTokenUse | undefined {
  const row = one<Omit<ApiTokenUse, "expired">>(
    store.prepare(
      `SELECT t.account_id AS accountId, t.user_id AS userId, t.scope, t.expires_at AS expiresAt
       FROM ui_api_tokens t JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id
       WHERE t.token_hash = ? AND u.disabled = 0`,
    ),
    tokenHash,
  );
  if (!row) return undefined;
  const now = store.now();
  const expired = row.expiresAt !== null && row.expiresAt <= now;
  if (!expired) {
    store.prepare("UPDATE ui_api_tokens SET last_used_at = ? WHERE token_hash = ?").run(now, tokenHash);
  }
  return { ...row, expired };
}
