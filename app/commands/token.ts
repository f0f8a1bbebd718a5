/**
 * `tom token`: mint a gateway JWT with the appliance's key.
 *
 * @module
 */
import type { Config } from "../../infra/mod.ts";
import { loadOrCreateSecret } from "../../infra/mod.ts";
import {
  hmacKey,
  importPrivateKey,
  mintCallToken,
  type SigningKey,
  type TokenAlgorithm,
} from "../../gateway/mod.ts";

/** Arguments of {@linkcode tokenMain}, as typed on the command line. */
export interface TokenArgs {
  callId?: string;
  ttl?: string;
  sub?: string;
  privateKeyFile?: string;
  alg?: string;
}

/** The HS256 key of this appliance: the configured secret, else the generated key file. */
export function applianceHmacKey(config: Config): Uint8Array {
  return hmacKey(config.jwt.secret || loadOrCreateSecret(config.dataDir, "jwt.key", 32));
}

/** Mint and print a token; returns the exit code (2 for bad arguments). */
export async function tokenMain(config: Config, args: TokenArgs): Promise<number> {
  if (!args.callId) {
    console.error("tom token: --call-id is required\n\nUsage: tom token --call-id ID [--ttl SECONDS]");
    return 2;
  }
  const ttl = args.ttl === undefined ? Math.min(300, config.jwt.maxTtlSeconds) : Number(args.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > config.jwt.maxTtlSeconds) {
    console.error(`tom token: --ttl must be a whole number of seconds from 1 to ${config.jwt.maxTtlSeconds}`);
    return 2;
  }
  const alg = (args.alg ?? (args.privateKeyFile ? "ES256" : "HS256")) as TokenAlgorithm;
  if (!config.jwt.algorithms.includes(alg)) {
    console.error(`tom token: algorithm ${alg} is not allowed (TOM_JWT_ALGORITHMS=${config.jwt.algorithms})`);
    return 2;
  }
  let key: SigningKey;
  try {
    key = alg === "HS256"
      ? applianceHmacKey(config)
      : await importPrivateKey(await Deno.readTextFile(args.privateKeyFile ?? ""), alg);
  } catch (e) {
    console.error(`tom token: cannot load the signing key: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  try {
    console.log(
      await mintCallToken(key, { callId: args.callId, ttlSeconds: ttl, subject: args.sub, algorithm: alg }),
    );
  } catch (e) {
    console.error(`tom token: ${e instanceof Error ? e.message : e}`);
    return 2;
  }
  return 0;
}
