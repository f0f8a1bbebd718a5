/**
 * Transcript encryption at rest: AES-256-GCM with keys from a key file, rotation with re-encryption.
 *
 * @example
 * ```ts
 * import { readTranscript, storeTranscriptTurn, TranscriptKeyring } from "./mod.ts";
 * const keyring = await TranscriptKeyring.open("/var/lib/tom/secrets/transcripts.key");
 * await storeTranscriptTurn(store, keyring, accountId, { callId, turnIndex: 0, speaker: "caller", text: "Hallo" });
 * const turns = await readTranscript(store, keyring, accountId, callId);
 * ```
 *
 * @module
 */
export { keyIdOf, type Sealed, TranscriptKeyring } from "./keyring.ts";
export {
  type PlainTurn,
  readTranscript,
  type RekeyResult,
  rekeyTranscripts,
  storeTranscriptTurn,
  turnAad,
  type TurnBinding,
} from "./transcripts.ts";
