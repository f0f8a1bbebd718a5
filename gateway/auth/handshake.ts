/**
 * Token check of the WebSocket handshake (DESIGN.md, JWT): the token comes as `Authorization: Bearer`
 * or `?token=`; its header algorithm must be on `jwt.algorithms` and picks the key (HS256: the
 * appliance secret; RS256/ES256/EdDSA: the configured public key), so a token signed with HS256 using
 * the public key as the secret never meets a key that would accept it. Then signature, `exp`, `nbf`,
 * `iat`, lifetime (at most `jwt.maxTtlSeconds`), `call_id` equal to the URL's, and finally the nonce,
 * which is spent in SQLite (kept until `exp`) only when everything else passed.
 *
 * The development bypass (`gateway.devBypass`) admits a connection without any token only when HTTP is
 * bound to loopback, the peer is loopback and the request's Host is loopback (no DNS rebinding).
 *
 * @module
 */
import { type CryptoKey, decodeProtectedHeader } from "jose";
import { type Config, ConfigError } from "../../infra/mod.ts";
import { loadOrCreateSecret } from "../../infra/mod.ts";
import { purgeExpiredNonces, type Store, useNonce } from "../../store/mod.ts";
import {
  type CallTokenClaims,
  hmacKey,
  importPublicKey,
  type TokenAlgorithm,
  verifyCallToken,
} from "./token.ts";
import { isLoopbackHost, isLoopbackIp } from "../guard/mod.ts";

/** Why a token was refused (a metric label; never shown to the peer). */
export type AuthFailureReason =
  | "missing"
  | "malformed"
  | "algorithm"
  | "signature"
  | "expired"
  | "not_yet_valid"
  | "lifetime"
  | "call_id"
  | "claims"
  | "replay"
  | "internal";

/** The outcome of {@linkcode Authenticator.authenticate}. */
export type AuthResult =
  | { ok: true; claims: CallTokenClaims; bypass: boolean }
  | { ok: false; reason: AuthFailureReason };

/** Keys that verify gateway tokens. */
export interface VerificationKeys {
  /** HS256 secret (present when HS256 is allowed). */
  hmac?: Uint8Array;
  /** Public keys by algorithm (from `jwt.publicKeyFile`). */
  publicKeys: Partial<Record<Exclude<TokenAlgorithm, "HS256">, CryptoKey>>;
}

/** Checks handshake tokens. */
export interface Authenticator {
  /** Check the request's token for `callId`; spends its nonce when it is accepted. */
  authenticate(req: Request, callId: string, remoteAddr?: string): Promise<AuthResult>;
}

/** Options of {@linkcode createAuthenticator}. */
export interface AuthOptions {
  /** Wall clock in ms (default `Date.now`). */
  now?: () => number;
}

/** Tokens longer than this are refused unread. */
const MAX_TOKEN_CHARS = 8192;
/** Expired nonces are purged at most this often, from within a handshake (no timer to leak). */
const PURGE_EVERY_MS = 60_000;

/**
 * Load the verification keys the configuration names. The HS256 key is the one `tom token` signs with
 * (`applianceHmacKey` in app/commands/token.ts: the configured secret, else the generated key file).
 *
 * @throws {ConfigError} when an asymmetric algorithm is allowed but the public key file is missing,
 * unreadable or holds no key usable for any allowed algorithm
 */
export async function loadVerificationKeys(config: Config): Promise<VerificationKeys> {
  const keys: VerificationKeys = { publicKeys: {} };
  if (config.jwt.algorithms.includes("HS256")) {
    keys.hmac = hmacKey(config.jwt.secret || loadOrCreateSecret(config.dataDir, "jwt.key", 32));
  }
  const asymmetric = config.jwt.algorithms.filter((a): a is Exclude<TokenAlgorithm, "HS256"> =>
    a !== "HS256"
  );
  if (asymmetric.length === 0) return keys;
  const where = "jwt.publicKeyFile (TOM_JWT_PUBLIC_KEY_FILE)";
  if (config.jwt.publicKeyFile === "") {
    throw new ConfigError([`${where}: required when jwt.algorithms includes ${asymmetric.join(", ")}`]);
  }
  let pem: string;
  try {
    pem = await Deno.readTextFile(config.jwt.publicKeyFile);
  } catch (e) {
    throw new ConfigError([
      `${where}: cannot read ${config.jwt.publicKeyFile}: ${e instanceof Error ? e.message : e}`,
    ]);
  }
  for (const alg of asymmetric) {
    try {
      keys.publicKeys[alg] = await importPublicKey(pem, alg);
    } catch {
      // Not a key of this algorithm's type (an RSA key cannot verify ES256): that algorithm stays unusable.
    }
  }
  if (Object.keys(keys.publicKeys).length === 0) {
    throw new ConfigError([`${where}: not a PEM public key (SPKI) usable for ${asymmetric.join(", ")}`]);
  }
  return keys;
}

/** The token of a request: `Authorization: Bearer <jwt>`, else `?token=<jwt>`. */
export function tokenFromRequest(req: Request): string | undefined {
  const header = req.headers.get("authorization");
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (m) return m[1];
  try {
    return new URL(req.url).searchParams.get("token") || undefined;
  } catch {
    return undefined;
  }
}

function hostOnly(hostHeader: string): string {
  if (hostHeader.startsWith("[")) return hostHeader.slice(0, hostHeader.indexOf("]") + 1);
  const parts = hostHeader.split(":");
  return parts.length === 2 ? parts[0] : hostHeader;
}

function classify(e: unknown): AuthFailureReason {
  const code = (e as { code?: unknown })?.code;
  const claim = (e as { claim?: unknown })?.claim;
  const message = e instanceof Error ? e.message : "";
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return claim === "nbf" || claim === "iat" ? "not_yet_valid" : "claims";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return "algorithm";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "signature";
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return "malformed";
  }
  if (message.includes("call_id does not match")) return "call_id";
  if (message.includes("issued in the future")) return "not_yet_valid";
  if (message.includes("lifetime over")) return "lifetime";
  if (message.includes("nonce missing")) return "claims";
  return "malformed";
}

/** Build the handshake token check. */
export function createAuthenticator(
  config: Config,
  store: Store,
  keys: VerificationKeys,
  opts: AuthOptions = {},
): Authenticator {
  const now = opts.now ?? Date.now;
  const algorithms = config.jwt.algorithms as TokenAlgorithm[];
  const bypassAllowed = config.gateway.devBypass && isLoopbackHost(config.http.host);
  let lastPurge = -Infinity;

  return {
    async authenticate(req, callId, remoteAddr) {
      const token = tokenFromRequest(req);
      if (token === undefined) {
        const host = req.headers.get("host") ?? "";
        if (bypassAllowed && remoteAddr && isLoopbackIp(remoteAddr) && isLoopbackHost(hostOnly(host))) {
          const iat = Math.floor(now() / 1000);
          const claims = { sub: "dev-bypass", call_id: callId, iat, exp: iat + 3600, nonce: "dev-bypass" };
          return { ok: true, claims, bypass: true };
        }
        return { ok: false, reason: "missing" };
      }
      if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: "malformed" };
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        return { ok: false, reason: "malformed" };
      }
      if (typeof alg !== "string" || !(algorithms as string[]).includes(alg)) {
        return { ok: false, reason: "algorithm" };
      }
      const key = alg === "HS256" ? keys.hmac : keys.publicKeys[alg as Exclude<TokenAlgorithm, "HS256">];
      if (!key) return { ok: false, reason: "algorithm" };
      let claims: CallTokenClaims;
      try {
        claims = await verifyCallToken(token, key, { algorithms: [alg as TokenAlgorithm], callId, now });
      } catch (e) {
        return { ok: false, reason: classify(e) };
      }
      if (claims.exp - claims.iat > config.jwt.maxTtlSeconds) return { ok: false, reason: "lifetime" };
      if (typeof claims.sub !== "string" || claims.nonce.length > 256) return { ok: false, reason: "claims" };
      try {
        const t = now();
        if (t - lastPurge > PURGE_EVERY_MS) {
          lastPurge = t;
          purgeExpiredNonces(store, t);
        }
        if (!useNonce(store, claims.nonce, callId, claims.exp * 1000, t)) {
          return { ok: false, reason: "replay" };
        }
      } catch {
        return { ok: false, reason: "internal" };
      }
      return { ok: true, claims, bypass: false };
    },
  };
}
