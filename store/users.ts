// Users of the admin UI (admins, staff), per account. Password hashes are stored, never passwords.
import type { Store } from "./db.ts";
import { StoreConflictError, StoreNotFoundError } from "./errors.ts";
import type { PageOptions } from "./types.ts";
import { bit, isConstraint, many, one, page, requireOneOf, requireText, run } from "./_util.ts";

/** Role of a user within one account. */
export type UserRole = "admin" | "staff";

/** A user, without the password hash (see {@linkcode getPasswordHash}). */
export interface User {
  id: string;
  accountId: string;
  email: string;
  displayName: string;
  role: UserRole;
  /**
   * The appliance administrator (box-wide: keys, conversation strategies, accounts, engines, egress); an
   * admin without it administers only their account. Always an admin (trigger of migration 7).
   */
  applianceAdmin: boolean;
  disabled: boolean;
  createdAt: number;
}

/** Input of {@linkcode createUser}; `passwordHash` is an already computed hash (e.g. PBKDF2, scrypt). */
export interface NewUser {
  email: string;
  displayName: string;
  role: UserRole;
  passwordHash: string;
}

interface UserRow {
  id: string;
  account_id: string;
  email: string;
  display_name: string;
  role: UserRole;
  appliance_admin: number;
  disabled: number;
  created_at: number;
}

const COLUMNS = "id, account_id, email, display_name, role, appliance_admin, disabled, created_at";
const ROLES: readonly UserRole[] = ["admin", "staff"];
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function toUser(row: UserRow): User {
  return {
    id: row.id,
    accountId: row.account_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    applianceAdmin: row.appliance_admin === 1,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
  };
}

function normaliseEmail(what: string, email: unknown): string {
  const value = requireText(what, "email", email, 320).toLowerCase();
  if (!EMAIL.test(value)) throw new TypeError(`${what}: email must look like name@host`);
  return value;
}

/**
 * Creates a user; throws StoreConflictError if the email is taken in this account. The first administrator
 * of a box without an appliance administrator becomes it (first-run setup; migration 7 did the same for
 * existing databases).
 */
export function createUser(store: Store, accountId: string, input: NewUser): User {
  const what = "Cannot create user";
  const role = requireOneOf(what, "role", input.role, ROLES);
  const user: User = {
    id: store.newId(),
    accountId,
    email: normaliseEmail(what, input.email),
    displayName: requireText(what, "displayName", input.displayName),
    role,
    applianceAdmin: role === "admin" && !applianceAdminExists(store),
    disabled: false,
    createdAt: store.now(),
  };
  const hash = requireText(what, "passwordHash", input.passwordHash, 1000);
  try {
    store.prepare(
      `INSERT INTO users (${COLUMNS}, password_hash) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`,
    ).run(
      user.id,
      accountId,
      user.email,
      user.displayName,
      user.role,
      bit(user.applianceAdmin),
      user.createdAt,
      hash,
    );
  } catch (err) {
    if (isConstraint(err, "UNIQUE")) throw new StoreConflictError(`${what}: email is already in use`);
    if (isConstraint(err, "FOREIGN KEY")) throw new StoreNotFoundError(`${what}: no account ${accountId}`);
    throw err;
  }
  return user;
}

/** The user of this account, or undefined. */
export function getUser(store: Store, accountId: string, userId: string): User | undefined {
  const sql = `SELECT ${COLUMNS} FROM users WHERE account_id = ? AND id = ?`;
  const row = one<UserRow>(store.prepare(sql), accountId, userId);
  return row && toUser(row);
}

/** The user of this account with this email (case-insensitive), or undefined. */
export function findUserByEmail(store: Store, accountId: string, email: string): User | undefined {
  const sql = `SELECT ${COLUMNS} FROM users WHERE account_id = ? AND email = ?`;
  const row = one<UserRow>(store.prepare(sql), accountId, email.trim().toLowerCase());
  return row && toUser(row);
}

/** The stored password hash of an enabled user, for login; undefined if unknown or disabled. */
export function getPasswordHash(store: Store, accountId: string, userId: string): string | undefined {
  const sql = "SELECT password_hash FROM users WHERE account_id = ? AND id = ? AND disabled = 0";
  return one<{ password_hash: string }>(store.prepare(sql), accountId, userId)?.password_hash;
}

/** The account's users, by display name. */
export function listUsers(store: Store, accountId: string, opts?: PageOptions): User[] {
  const [limit, offset] = page(opts);
  const sql = `SELECT ${COLUMNS} FROM users WHERE account_id = ? ORDER BY display_name, id LIMIT ? OFFSET ?`;
  return many<UserRow>(store.prepare(sql), accountId, limit, offset).map(toUser);
}

/** Replaces the password hash; false if the user is not in this account. */
export function setPasswordHash(
  store: Store,
  accountId: string,
  userId: string,
  passwordHash: string,
): boolean {
  const hash = requireText("Cannot set password", "passwordHash", passwordHash, 1000);
  const sql = "UPDATE users SET password_hash = ? WHERE account_id = ? AND id = ?";
  return run(store.prepare(sql), hash, accountId, userId) === 1;
}

/** Disables or enables the user; false if the user is not in this account. */
export function setUserDisabled(store: Store, accountId: string, userId: string, disabled: boolean): boolean {
  const sql = "UPDATE users SET disabled = ? WHERE account_id = ? AND id = ?";
  return run(store.prepare(sql), bit(disabled), accountId, userId) === 1;
}

/** Deletes the user; false if the user is not in this account. */
export function deleteUser(store: Store, accountId: string, userId: string): boolean {
  return run(store.prepare("DELETE FROM users WHERE account_id = ? AND id = ?"), accountId, userId) === 1;
}

/** Whether any user exists in any account (first-run setup is offered only when none does). */
export function anyUserExists(store: Store): boolean {
  return store.prepare("SELECT 1 FROM users LIMIT 1").get() !== undefined;
}

/** Whether the box has an appliance administrator (box-level: not scoped by account on purpose). */
export function applianceAdminExists(store: Store): boolean {
  return store.prepare("SELECT 1 FROM users WHERE appliance_admin = 1 LIMIT 1").get() !== undefined;
}
