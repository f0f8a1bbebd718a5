/**
 * Login sessions: a random 256-bit id in an HttpOnly, SameSite=Strict cookie; the database keeps only
 * its SHA-256, so a copy of the database cannot be used to log in. A new id is issued at every login
 * (no session fixation); logout and password changes delete sessions.
 *
 * @module
 */
import { createHash, createHmac } from "node:crypto";
import type { Session, Store } from "../../store/mod.ts";
import {
  deleteSession,
  deleteUserSessions,
  findLiveSession,
  insertSession,
  purgeExpiredSessions,
  touchSession,
} from "../../store/mod.ts";
import { encodeBase64Url } from "../../infra/mod.ts";

/** SHA-256 hex of a secret token (session id, API token). */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A new random token: 32 bytes, base64url. */
export function randomToken(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Sessions in the `ui_sessions` table (store/sessions.ts). */
export class SessionStore {
  readonly #store: Store;
  readonly #ttlMs: number;
  readonly #idleWriteMs = 60_000;

  constructor(store: Store, opts: { ttlHours: number }) {
    if (!(opts.ttlHours >= 1)) throw new RangeError(`Cannot create sessions: ttlHours must be >= 1`);
    this.#store = store;
    this.#ttlMs = opts.ttlHours * 3_600_000;
  }

  /** Start a session; returns the id for the cookie (shown once, stored only hashed). */
  create(accountId: string, userId: string): { id: string; session: Session } {
    const id = randomToken();
    const now = this.#store.now();
    const session = {
      idHash: sha256Hex(id),
      accountId,
      userId,
      createdAt: now,
      expiresAt: now + this.#ttlMs,
    };
    insertSession(this.#store, session);
    return { id, session };
  }

  /** The live session of a cookie value, or undefined (unknown, expired, or its user disabled). */
  get(id: string | undefined): Session | undefined {
    if (!id || id.length > 100) return undefined;
    const now = this.#store.now();
    const row = findLiveSession(this.#store, sha256Hex(id), now);
    if (!row) return undefined;
    if (now - row.lastSeenAt > this.#idleWriteMs) touchSession(this.#store, row.idHash, now);
    return {
      idHash: row.idHash,
      accountId: row.accountId,
      userId: row.userId,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
    };
  }

  /** End one session. */
  delete(id: string | undefined): void {
    if (id) deleteSession(this.#store, sha256Hex(id));
  }

  /** End every session of a user (password change, user disabled). */
  deleteForUser(accountId: string, userId: string): number {
    return deleteUserSessions(this.#store, accountId, userId);
  }

  /** Remove expired sessions; returns how many. */
  purgeExpired(): number {
    return purgeExpiredSessions(this.#store, this.#store.now());
  }
}

/**
 * The CSRF token of a session (or of an anonymous visitor's pre-session): an HMAC of its id, so it
 * changes with the session id and cannot be derived without the server key.
 */
export function csrfTokenFor(key: string, sessionId: string): string {
  return createHmac("sha256", key).update("csrf\0" + sessionId).digest("base64url");
}
