/**
 * The gateway: telephony transports and their front door. This issue provides the call tokens;
 * the transports follow.
 *
 * @module
 */
export {
  type CallTokenClaims,
  hmacKey,
  importPrivateKey,
  importPublicKey,
  MAX_TOKEN_TTL_SECONDS,
  mintCallToken,
  type MintOptions,
  type SigningKey,
  type TokenAlgorithm,
  verifyCallToken,
  type VerifyOptions,
} from "./token.ts";
