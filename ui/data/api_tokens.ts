// API tokens for /api: random secrets shown once; only their SHA-256 is stored (store/api_tokens.ts).
import type { ApiToken, Store } from "../../store/mod.ts";
import { insertApiToken, useApiToken } from "../../store/mod.ts";
import { randomToken, sha256Hex } from "../auth/sessions.ts";

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
  const trimmed = name.trim().slice(0, 100) || "API";
  const token = insertApiToken(store, accountId, { userId, name: trimmed, tokenHash: sha256Hex(secret) });
  return { secret, token };
}

/** The account and user of a presented token (enabled users only), or undefined. */
export function resolveApiToken(
  store: Store,
  secret: string,
): { accountId: string; userId: string } | undefined {
  if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return undefined;
  return useApiToken(store, sha256Hex(secret));
}
