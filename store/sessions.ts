// Login sessions of the admin UI (ui_sessions): only the SHA-256 of a session id is stored.
import type { Store } from "./db.ts";
import { one, run } from "./_util.ts";

/** A live session. */
export interface Session {
  idHash: string;
  accountId: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

/** A session as {@linkcode findLiveSession} reads it: with when it was last seen. */
export interface SessionRow extends Session {
  lastSeenAt: number;
}

/** Store a new session (its id already hashed); it was last seen when it was created. */
export function insertSession(store: Store, session: Session): void {
  store.prepare(
    `INSERT INTO ui_sessions (id_hash, account_id, user_id, created_at, last_seen_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(
    session.idHash,
    session.accountId,
    session.userId,
    session.createdAt,
    session.createdAt,
    session.expiresAt,
  );
}

/** The session of an id hash if it has not expired at `now` and its user is enabled. */
export function findLiveSession(store: Store, idHash: string, now: number): SessionRow | undefined {
  return one<SessionRow>(
    store.prepare(
      `SELECT s.id_hash AS idHash, s.account_id AS accountId, s.user_id AS userId, s.created_at AS createdAt,
         s.expires_at AS expiresAt, s.last_seen_at AS lastSeenAt
       FROM ui_sessions s JOIN users u ON u.id = s.user_id AND u.account_id = s.account_id
       WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled = 0`,
    ),
    idHash,
    now,
  );
}

/** Note that a session was seen at `at`. */
export function touchSession(store: Store, idHash: string, at: number): void {
  store.prepare("UPDATE ui_sessions SET last_seen_at = ? WHERE id_hash = ?").run(at, idHash);
}

/** Delete one session by its id hash. */
export function deleteSession(store: Store, idHash: string): void {
  store.prepare("DELETE FROM ui_sessions WHERE id_hash = ?").run(idHash);
}

/** Delete every session of a user of this account; returns how many. */
export function deleteUserSessions(store: Store, accountId: string, userId: string): number {
  return run(
    store.prepare("DELETE FROM ui_sessions WHERE account_id = ? AND user_id = ?"),
    accountId,
    userId,
  );
}

/** Delete the sessions expired at `now`; returns how many. */
export function purgeExpiredSessions(store: Store, now: number): number {
  return run(store.prepare("DELETE FROM ui_sessions WHERE expires_at <= ?"), now);
}
