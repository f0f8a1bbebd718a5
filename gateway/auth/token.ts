/**
 * Gateway JWTs: minted by `tom token` (and by the admin UI for test calls), checked by the gateway.
 * Claims: `sub`, `call_id`, `iat`, `exp` (at most 1 h after `iat`), `nonce` (single use).
 *
 * @module
 */
import { type CryptoKey, importPKCS8, importSPKI, type JWTPayload, jwtVerify, SignJWT } from "jose";

/** Algorithms a gateway token may use. */
export type TokenAlgorithm = "HS256" | "RS256" | "ES256" | "EdDSA";
/** The longest lifetime a gateway token may have, in seconds. */
export const MAX_TOKEN_TTL_SECONDS = 3600;

/** Claims of a gateway token. */
export interface CallTokenClaims extends JWTPayload {
  sub: string;
  call_id: string;
  iat: number;
  exp: number;
  nonce: string;
}

/** Options of {@linkcode mintCallToken}. */
export interface MintOptions {
  callId: string;
  /** Seconds until expiry, 1..3600 (default 300). */
  ttlSeconds?: number;
  subject?: string;
  algorithm?: TokenAlgorithm;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
}

/** A signing key: an HS256 secret (at least 32 bytes) or an imported private key. */
export type SigningKey = Uint8Array | CryptoKey;

/** Turn a text secret into HS256 key bytes, refusing short ones. */
export function hmacKey(secret: string): Uint8Array {
  const bytes = new TextEncoder().encode(secret);
  if (bytes.length < 32) throw new Error("Cannot use JWT secret: it must be at least 32 bytes long");
  return bytes;
}

/** Import a PEM private key (PKCS#8) for RS256/ES256/EdDSA signing. */
export function importPrivateKey(pem: string, alg: Exclude<TokenAlgorithm, "HS256">): Promise<CryptoKey> {
  return importPKCS8(pem, alg);
}

/** Import a PEM public key (SPKI) for RS256/ES256/EdDSA verification. */
export function importPublicKey(pem: string, alg: Exclude<TokenAlgorithm, "HS256">): Promise<CryptoKey> {
  return importSPKI(pem, alg);
}

/**
 * Mint a gateway token for one call.
 *
 * @throws {RangeError} when the lifetime is outside 1..3600 s or the call id is empty.
 */
export async function mintCallToken(key: SigningKey, opts: MintOptions): Promise<string> {
  const ttl = opts.ttlSeconds ?? 300;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
    throw new RangeError(
      `Cannot mint token: ttl must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS} s, got ${ttl}`,
    );
  }
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(opts.callId)) {
    throw new RangeError("Cannot mint token: call id must be 1-128 characters of A-Z a-z 0-9 . _ : -");
  }
  const iat = Math.floor((opts.now ?? Date.now)() / 1000);
  return await new SignJWT({ call_id: opts.callId, nonce: crypto.randomUUID() })
    .setProtectedHeader({ alg: opts.algorithm ?? "HS256", typ: "JWT" })
    .setSubject(opts.subject ?? "tom-cli")
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(key);
}

/** Options of {@linkcode verifyCallToken}. */
export interface VerifyOptions {
  algorithms: TokenAlgorithm[];
  /** The call id from the URL; the token's `call_id` must equal it. */
  callId: string;
  now?: () => number;
}

/**
 * Verify a gateway token's signature, algorithm, lifetime and call id. The single-use nonce is checked
 * by the caller against the store.
 *
 * @throws {Error} with a message saying why the token is refused.
 */
export async function verifyCallToken(
  token: string,
  key: SigningKey,
  opts: VerifyOptions,
): Promise<CallTokenClaims> {
  const nowSec = Math.floor((opts.now ?? Date.now)() / 1000);
  const { payload } = await jwtVerify(token, key, {
    algorithms: opts.algorithms,
    currentDate: new Date(nowSec * 1000),
    requiredClaims: ["sub", "iat", "exp", "call_id", "nonce"],
  });
  const p = payload as CallTokenClaims;
  if (typeof p.call_id !== "string" || p.call_id !== opts.callId) {
    throw new Error("Cannot accept token: call_id does not match the URL");
  }
  if (typeof p.nonce !== "string" || p.nonce.length < 8) {
    throw new Error("Cannot accept token: nonce missing");
  }
  if (p.exp - p.iat > MAX_TOKEN_TTL_SECONDS) throw new Error("Cannot accept token: lifetime over 1 h");
  if (p.iat > nowSec + 60) throw new Error("Cannot accept token: issued in the future");
  return p;
}
