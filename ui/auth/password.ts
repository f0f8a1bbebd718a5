/**
 * Password hashing with scrypt (memory-hard; RFC 7914) from `node:crypto`: built into Deno, native
 * speed, works unchanged in a compiled binary, no WASM or native add-on to ship. Parameters follow
 * OWASP's scrypt minimum raised to N=2^15, r=8, p=1 (32 MiB per hash). The stored form carries its
 * parameters, so they can be raised later and old hashes still verify (and get rehashed on login).
 *
 * Format: `scrypt$<log2 N>$<r>$<p>$<salt base64>$<hash base64>`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost parameters: N = 2^logN, block size r, parallelism p, key length in bytes. */
export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
  keyLen: number;
}

/** Cost parameters of new hashes. */
export const SCRYPT_PARAMS: Readonly<ScryptParams> = { logN: 15, r: 8, p: 1, keyLen: 32 };
/** Shortest accepted password (NIST SP 800-63B asks for at least 8; practices get 10). */
export const MIN_PASSWORD_LENGTH = 10;
const MAX_PASSWORD_LENGTH = 1024;

function derive(password: string, salt: Uint8Array, logN: number, r: number, p: number, len: number) {
  const N = 2 ** logN;
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(
      password.normalize("NFKC"),
      salt,
      len,
      { N, r, p, maxmem: 256 * N * r + 1024 * 1024 },
      (e, k) => e ? reject(e) : resolve(k),
    )
  );
}

/**
 * Hash a password for storage.
 *
 * @throws {RangeError} when the password is longer than 1024 characters.
 */
export async function hashPassword(password: string, params: ScryptParams = SCRYPT_PARAMS): Promise<string> {
  if (password.length > MAX_PASSWORD_LENGTH) throw new RangeError("Cannot hash password: longer than 1024");
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await derive(password, salt, params.logN, params.r, params.p, params.keyLen);
  return [
    "scrypt",
    params.logN,
    params.r,
    params.p,
    Buffer.from(salt).toString("base64"),
    key.toString("base64"),
  ]
    .join("$");
}

/** Whether `password` matches `stored`; false for malformed hashes (never throws on user input). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt" || password.length > MAX_PASSWORD_LENGTH) return false;
  const [logN, r, p] = parts.slice(1, 4).map(Number);
  if (![logN, r, p].every(Number.isInteger) || logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16) {
    return false;
  }
  const salt = Buffer.from(parts[4], "base64");
  const expected = Buffer.from(parts[5], "base64");
  if (expected.length < 16) return false;
  const key = await derive(password, salt, logN, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

/** Whether a stored hash uses weaker parameters than {@linkcode SCRYPT_PARAMS} (rehash on login). */
export function needsRehash(stored: string): boolean {
  const [kind, logN, r] = stored.split("$");
  return kind !== "scrypt" || Number(logN) < SCRYPT_PARAMS.logN || Number(r) < SCRYPT_PARAMS.r;
}

let dummy: Promise<string> | undefined;
/** A hash of a random password: verifying against it costs the same as a real one (no user oracle). */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomUUID());
  return dummy;
}
