/**
 * The media edge: the call contract every peer and the pipeline share (call/: events, outputs, the
 * answerer, the call session, the echo answerer); the audio kit (audio/: G.711, resampler, the media path
 * in and out, pacing, WAV); one folder per peer (browser/, twilio/, freeswitch/, asterisk/), each with its
 * wire format and socket glue; the front door (guard/: peer and Origin allow-lists, caps, WebSocket
 * admission; auth/: call tokens and the handshake); outbound calls and their schedule (outbound/); the
 * call recorder and the recovery of calls a crash interrupted. The gateway stands on store/ and infra/;
 * other folders import it only through this module.
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
} from "./auth/token.ts";
export {
  type Answerer,
  type CallContext,
  type CallEvent,
  type CallHandler,
  type CallOutput,
  PIPELINE_FRAME_SAMPLES,
  PIPELINE_RATE,
  type TransferBriefing,
  type TransferOutcome,
  type TransferTo,
  type TransportKind,
} from "./call/contract.ts";
export {
  callIdentity,
  CallSession,
  type CallStartInfo,
  type CallWatch,
  type CallWatcher,
  defaultAccountId,
  type GatewayDeps,
  type WatchedCall,
} from "./call/session.ts";
export { echoAnswerer, GREETING_TONE, tone } from "./call/echo.ts";
export { CallRecorder, recordingsDir, sweepRecordingFiles } from "./recording.ts";
export { encodeWav, readWav, type WavAudio, WavReadError } from "./audio/mod.ts";
export { INTERRUPTED_REASON, recoverInterruptedCalls, type Recovery } from "./recovery.ts";
export {
  type BrowserTransport,
  type GatewayHandle,
  mountBrowser,
  mountGateway,
  type MountGatewayOptions,
  type TransportMount,
} from "./server.ts";
export {
  admit,
  admitWebSocket,
  assertGatewayConfig,
  CLOSE,
  closeSocket,
  createGuard,
  gatewayConfigProblems,
  type Guard,
  type GuardOptions,
  guardSocket,
  refuse,
  remoteAddress,
  upgradeWebSocket,
} from "./guard/mod.ts";
export {
  type Authenticator,
  type AuthResult,
  createAuthenticator,
  loadVerificationKeys,
  tokenFromRequest,
  type VerificationKeys,
} from "./auth/handshake.ts";
export {
  BROWSER_PROTOCOL_VERSION,
  ClientMessage,
  emitPipelineEvent,
  type EventfulOutput,
  hasEventSink,
  type OutputTaps,
  parseClientMessage,
  PipelineEvent,
  ServerEvent,
  tapOutput,
  TransferCaller,
} from "./call/messages.ts";
export {
  FREESWITCH_WS_PATH,
  FREESWITCH_WS_PROTOCOL,
  type FreeswitchOptions,
  type FreeswitchTransport,
  mountFreeswitch,
} from "./freeswitch/fork.ts";
export { EslClient } from "./freeswitch/esl.ts";
export { mountTwilio, TWILIO_PATHS, type TwilioTransport } from "./twilio/webhook.ts";
export {
  ASTERISK_WS_PATH,
  ASTERISK_WS_PROTOCOL,
  type AsteriskWebSocket,
  mountAsteriskWebSocket,
} from "./asterisk/websocket.ts";
export {
  type AudioSocketOptions,
  type AudioSocketServer,
  startAudioSocketServer,
} from "./asterisk/audiosocket.ts";
export { AmiClient, type AmiOptions, AmiUnavailableError } from "./asterisk/ami.ts";
export { amiTransferer, type AsteriskCallRef, type AsteriskTransferer } from "./asterisk/ami_transfer.ts";
export { amiCallerNumber } from "./asterisk/ami_caller.ts";
export { type ReturnEntry, ReturningCalls, type ReturningOptions } from "./call/returning.ts";
export {
  type OutboundVia,
  placeCall,
  type PlaceCallRequest,
  type PlaceCallResult,
  TWILIO_EGRESS_DENIED,
} from "./outbound/place.ts";
export { canonicalIp, type Cidr, inCidr, parseCidr, parseIp } from "./guard/mod.ts";
export {
  AudioSocketParser,
  encodeAudio,
  encodeMessage,
  KIND,
  uuidBytes,
} from "./asterisk/audiosocket_wire.ts";
export { type CallSchedule, OutboundScheduler } from "./outbound/schedule.ts";
