/**
 * Transcript encryption at rest: AES-256-GCM with keys from a key file (keyring.ts), each utterance sealed
 * to its account, call, turn and speaker (sealed_transcripts.ts), rotation with re-encryption. Part of
 * store/, with its own face. Requests are sealed with the same keyring (sealed_requests.ts).
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
export { aadOf, keyIdOf, type Sealed, TranscriptKeyring } from "./keyring.ts";
export {
  type FieldBinding,
  fieldKeyIds,
  type FieldProgress,
  openField,
  rekeyFields,
  SEALED_COLUMNS,
  sealField,
} from "./sealed_fields.ts";
export {
  type PlainTurn,
  readTranscript,
  type RekeyResult,
  rekeyTranscripts,
  storeTranscriptTurn,
  turnAad,
  type TurnBinding,
} from "./sealed_transcripts.ts";
export {
  createRequest,
  getRequest,
  listPersonRequests,
  listRequests,
  rekeyRequests,
  requestAad,
  type RequestPatch,
  updateRequest,
} from "./sealed_requests.ts";
