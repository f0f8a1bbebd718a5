/** base64url without padding (node:buffer does this natively). */
import { Buffer } from "node:buffer";

/** Encode bytes as base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}
