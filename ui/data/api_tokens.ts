// API tokens for /api: random secrets shown once; only their SHA-256 is stored (store/api_tokens.ts). Each has a
// scope (read, requests, full) and an expiry chosen at creation.
import type { ApiToken, ApiTokenScope, ApiTokenUse, Store } from "../../store/mod.ts";
import { insertApiToken, useApiToken } from "../../store/mod.ts";
import { randomToken, sha256Hex } from "../auth/sessions.ts";

/** Prefix of every token, so leaked ones are easy to find in code and logs. */
export const TOKEN_PREFIX = "tomapi_";

/** Days a token lives unless the creator chooses otherwise, and the most they may choose. */
export const TOKEN_DAYS_DEFAULT = 90;
export const TOKEN_DAYS_MAX = 365;

const DAY_MS = 86_400_000;

/** Options of {@linkcode createApiToken}. */
export interface TokenOptions {
  /** Default "full" (the user's role). */
  scope?: ApiTokenScope;
  /** 1..{@linkcode TOKEN_DAYS_MAX}; default {@linkcode TOKEN_DAYS_DEFAULT}. */
  days?: number;
}

/** Create a token for a user; returns the secret (shown once) and the row. */
export function createApiToken(
  store: Store,
  accountId: string,
  userId: string,
  name: string,
  opts: TokenOptions = {},
): { secret: string; token: ApiToken } {
  const days = opts.days ?? TOKEN_DAYS_DEFAULT;
  if (!Number.isInteger(days) || days < 1 || days > TOKEN_DAYS_MAX) {
    throw new RangeError(`Cannot create API token: days must be 1..${TOKEN_DAYS_MAX}, got ${days}`);
  }
  const secret = TOKEN_PREFIX + randomToken();
  const trimmed = name.trim().slice(0, 100) || "API";
  const createdAt = store.now();
  const token = insertApiToken(store, accountId, {
    userId,
    name: trimmed,
    tokenHash: sha256Hex(secret),
    scope: opts.scope ?? "full",
    createdAt,
    expiresAt: createdAt + days * DAY_MS,
  });
  return { secret, token };
}

/** The owner, scope and expiry of a presented token (enabled users only), or undefined. */
export function resolveApiToken(store: Store, secret: string): ApiTokenUse | undefined {
  if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return undefined;
  return useApiToken(store, sha256Hex(secret));
}

/** Paths a "requests" token may use: the requests API and the inbox stream. */
const REQUESTS_PATHS = /^\/api\/(?:requests(?:\/[^/]+)?|live\/inbox)$/;

/** Why a token of this scope may not make this request, or undefined when it may. */
export function scopeRefusal(
  scope: ApiTokenScope,
  method: string,
  path: string,
): "read" | "requests" | undefined {
  if (scope === "read" && method !== "GET") return "read";
  if (scope === "requests" && !REQUESTS_PATHS.test(path)) return "requests";
  return undefined;
}
