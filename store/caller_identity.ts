/**
 * Caller identity (migration 8): a call's identity level, the check a practice chose for callers whose
 * number matches a person, and what the check compares with: the person's date of birth (sealed with the
 * keyring, like people's notes) and PIN (a salted scrypt hash, never in clear). Comparisons happen here;
 * neither value ever leaves the store in clear except the date of birth to the caller of
 * {@linkcode getBirthDate} (the admin UI).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import type { Store } from "./db.ts";
import { StoreNotFoundError } from "./errors.ts";
import { isConstraint, one, requireInt, requireOneOf, run } from "./_util.ts";
import { openNullable, sealField } from "./crypto/sealed_fields.ts";
import type { TranscriptKeyring } from "./crypto/keyring.ts";

/** How far TOM trusts who is on the line (the same names as the transfer's `TransferCaller.identity`). */
export type CallIdentity = "unknown" | "number_match" | "placed" | "verified";
export const CALL_IDENTITIES: readonly CallIdentity[] = ["unknown", "number_match", "placed", "verified"];

/** The levels that may see and change a person's health-related memory. */
export function identityTrusted(identity: CallIdentity): boolean {
  return identity === "placed" || identity === "verified";
}

/** The check a practice asks of a caller whose number matches a person. */
export type CheckMethod = "none" | "birth_date" | "pin";
export const CHECK_METHODS: readonly CheckMethod[] = ["none", "birth_date", "pin"];

/** A practice's choice. */
export interface CallerCheck {
  method: CheckMethod;
  /** Attempts per call (1..5). */
  maxAttempts: number;
}

/** Default: no check (a number match then never gets health data). */
export const NO_CHECK: CallerCheck = Object.freeze({ method: "none", maxAttempts: 3 });

/** A PIN: 4 to 8 digits. */
export const PIN_PATTERN = /^\d{4,8}$/;

const BIRTH = (accountId: string, personId: string) => ({
  table: "person_identity",
  column: "birth_date_sealed",
  accountId,
  rowId: personId,
});

/** The identity level recorded for a call; undefined when the call is not found in the account. */
export function getCallIdentity(store: Store, accountId: string, callId: string): CallIdentity | undefined {
  return one<{ identity: CallIdentity }>(
    store.prepare("SELECT identity FROM calls WHERE account_id = ? AND id = ?"),
    accountId,
    callId,
  )?.identity;
}

/** Record a call's identity level. @throws {StoreNotFoundError} when the call is not in the account. */
export function setCallIdentity(
  store: Store,
  accountId: string,
  callId: string,
  identity: CallIdentity,
): void {
  const level = requireOneOf("Cannot set call identity", "identity", identity, CALL_IDENTITIES);
  const n = run(
    store.prepare("UPDATE calls SET identity = ? WHERE account_id = ? AND id = ?"),
    level,
    accountId,
    callId,
  );
  if (n === 0) throw new StoreNotFoundError(`Cannot set call identity: call ${callId} not found`);
}

/** The practice's check (default {@linkcode NO_CHECK}). */
export function getCallerCheck(store: Store, accountId: string): CallerCheck {
  const row = one<{ method: CheckMethod; max_attempts: number }>(
    store.prepare("SELECT method, max_attempts FROM caller_checks WHERE account_id = ?"),
    accountId,
  );
  return row ? { method: row.method, maxAttempts: row.max_attempts } : { ...NO_CHECK };
}

/** Choose the practice's check. @throws {TypeError|RangeError} on an unknown method or attempts out of 1..5 */
export function setCallerCheck(store: Store, accountId: string, check: CallerCheck): CallerCheck {
  const what = "Cannot set the caller check";
  const method = requireOneOf(what, "method", check.method, CHECK_METHODS);
  const maxAttempts = requireInt(what, "maxAttempts", check.maxAttempts, 1, 5);
  run(
    store.prepare(
      `INSERT INTO caller_checks (account_id, method, max_attempts, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (account_id) DO UPDATE SET method = excluded.method, max_attempts = excluded.max_attempts,
      updated_at = excluded.updated_at`,
    ),
    accountId,
    method,
    maxAttempts,
    store.now(),
  );
  return { method, maxAttempts };
}

/** A date of birth as `YYYY-MM-DD` when it is a real calendar date from 1900 to today's year; else null. */
export function birthDateOf(text: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  const ok = y >= 1900 && y <= new Date().getUTCFullYear() && date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d;
  return ok ? text : null;
}

function upsert(
  store: Store,
  accountId: string,
  personId: string,
  column: string,
  value: string | null,
): void {
  const what = `Cannot store the person's ${column === "pin_hash" ? "PIN" : "date of birth"}`;
  try {
    run(
      store.prepare(
        `INSERT INTO person_identity (person_id, account_id, ${column}, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (person_id) DO UPDATE SET ${column} = excluded.${column}, updated_at = excluded.updated_at
        WHERE person_identity.account_id = excluded.account_id`,
      ),
      personId,
      accountId,
      value,
      store.now(),
    );
  } catch (err) {
    if (isConstraint(err, "FOREIGN KEY")) {
      throw new StoreNotFoundError(`${what}: person ${personId} not found`);
    }
    throw err;
  }
}

/**
 * Store (or with null remove) a person's date of birth, sealed.
 * @throws {TypeError} when it is no date `YYYY-MM-DD`; {@linkcode StoreNotFoundError} without the person
 */
export function setBirthDate(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  personId: string,
  date: string | null,
): void {
  if (date !== null && birthDateOf(date) === null) {
    throw new TypeError("Cannot store the date of birth: it must be a date YYYY-MM-DD");
  }
  upsert(
    store,
    accountId,
    personId,
    "birth_date_sealed",
    date === null ? null : sealField(keyring, BIRTH(accountId, personId), date),
  );
}

/** The person's date of birth (`YYYY-MM-DD`), or null when none is stored. */
export function getBirthDate(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  personId: string,
): string | null {
  const row = one<{ birth_date_sealed: string | null }>(
    store.prepare("SELECT birth_date_sealed FROM person_identity WHERE account_id = ? AND person_id = ?"),
    accountId,
    personId,
  );
  return openNullable(keyring, BIRTH(accountId, personId), row?.birth_date_sealed ?? null);
}

const SCRYPT_N = 16_384;

function pinHash(pin: string, salt: Buffer): Buffer {
  return scryptSync(pin, salt, 32, { N: SCRYPT_N, r: 8, p: 1 });
}

/**
 * Store (or with null remove) a person's PIN as `scrypt$N$salt$hash`.
 * @throws {TypeError} when it is not 4 to 8 digits; {@linkcode StoreNotFoundError} without the person
 */
export function setPin(store: Store, accountId: string, personId: string, pin: string | null): void {
  if (pin !== null && !PIN_PATTERN.test(pin)) {
    throw new TypeError("Cannot store the PIN: it must be 4 to 8 digits");
  }
  let stored: string | null = null;
  if (pin !== null) {
    const salt = randomBytes(16);
    stored = `scrypt$${SCRYPT_N}$${salt.toString("base64")}$${pinHash(pin, salt).toString("base64")}`;
  }
  upsert(store, accountId, personId, "pin_hash", stored);
}

/** What is stored for a person's check (without the values). */
export function identityData(
  store: Store,
  accountId: string,
  personId: string,
): { birthDate: boolean; pin: boolean } {
  const row = one<{ b: number; p: number }>(
    store.prepare(`SELECT birth_date_sealed IS NOT NULL AS b, pin_hash IS NOT NULL AS p FROM person_identity
      WHERE account_id = ? AND person_id = ?`),
    accountId,
    personId,
  );
  return { birthDate: row?.b === 1, pin: row?.p === 1 };
}

/** Whether `entry` is the person's PIN (false when none is stored). Constant-time comparison. */
export function pinMatches(store: Store, accountId: string, personId: string, entry: string): boolean {
  const row = one<{ pin_hash: string | null }>(
    store.prepare("SELECT pin_hash FROM person_identity WHERE account_id = ? AND person_id = ?"),
    accountId,
    personId,
  );
  const parts = row?.pin_hash?.split("$");
  if (!parts || parts.length !== 4 || !PIN_PATTERN.test(entry)) return false;
  const want = Buffer.from(parts[3], "base64");
  const got = scryptSync(entry, Buffer.from(parts[2], "base64"), want.length, {
    N: Number(parts[1]),
    r: 8,
    p: 1,
  });
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Whether `date` (`YYYY-MM-DD`) is the person's date of birth (false when none is stored). */
export function birthDateMatches(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  personId: string,
  date: string,
): boolean {
  const stored = getBirthDate(store, keyring, accountId, personId);
  return stored !== null && stored === date;
}
