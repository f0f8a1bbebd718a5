/**
 * Login sessions: a random 256-bit id in an HttpOnly, SameSite=Strict cookie; the database keeps only
 * its SHA-256, so a copy of the database cannot be used to log in. A new id is issued at every login
 * (no session fixation); logout and password changes delete sessions.
 *
 * @module
 */
import { createHash, createHmac } from "node:crypto";
import type { Store } from "../../store/mod.ts";
import { encodeBase64Url } from "../../infra/mod.ts";

/** A live session. */
export interface Session {
  idHash: string;
  accountId: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

/** SHA-256 hex of a secret token (session id, API token). */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A new random token: 32 bytes, base64url. */
export function randomToken(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Sessions in the `ui_sessions` table. */
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
    this.#store.prepare(
      `INSERT INTO ui_sessions (id_hash, account_id, user_id, created_at, last_seen_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(session.idHash, accountId, userId, now, now, session.expiresAt);
    return { id, session };
  }

  /** The live session of a cookie value, or undefined (unknown, expired, or its user disabled). */
  get(id: string | undefined): Session | undefined {
    if (!id || id.length > 100) return undefined;
    const now = this.#store.now();
    const row = this.#store.prepare(
      `SELECT s.id_hash AS idHash, s.account_id AS accountId, s.user_id AS userId, s.created_at AS createdAt,
         s.expires_at AS expiresAt, s.last_seen_at AS lastSeen
       FROM ui_sessions s JOIN users u ON u.id = s.user_id AND u.account_id = s.account_id
       WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled = 0`,
    ).get(sha256Hex(id), now) as (Session & { lastSeen: number }) | undefined;
    if (!row) return undefined;
    if (now - row.lastSeen > this.#idleWriteMs) {
      this.#store.prepare("UPDATE ui_sessions SET last_seen_at = ? WHERE id_hash = ?").run(now, row.idHash);
    }
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
    if (id) this.#store.prepare("DELETE FROM ui_sessions WHERE id_hash = ?").run(sha256Hex(id));
  }

  /** End every session of a user (password change, user disabled). */
  deleteForUser(accountId: string, userId: string): number {
    return Number(
      this.#store.prepare("DELETE FROM ui_sessions WHERE account_id = ? AND user_id = ?").run(
        accountId,
        userId,
      )
        .changes,
    );
  }

  /** Remove expired sessions; returns how many. */
  purgeExpired(): number {
    return Number(
      this.#store.prepare("DELETE FROM ui_sessions WHERE expires_at <= ?").run(this.#store.now()).changes,
    );
  }
}

/**
 * The CSRF token of a session (or of an anonymous visitor's pre-session): an HMAC of its id, so it
 * changes with the session id and cannot be derived without the server key.
 */
export function csrfTokenFor(key: string, sessionId: string): string {
  return createHmac("sha256", key).update("csrf\0" + sessionId).digest("base64url");
}
