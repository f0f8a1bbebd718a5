/**
 * The browser/dev protocol's JSON messages (`WS /ws/stream/:callId`, DESIGN.md), as zod schemas.
 *
 * Client -> server: `start`, `stop`, `dtmf`, `ping` (audio travels as binary PCM16LE mono 16 kHz).
 * Server -> client: transport events (`connected`, `streaming_started`, `mark`, `clear`, `pong`,
 * `call_end`, `error`, a test call's simulated `transfer_ringing`) and pipeline events (`vad`, `stt_final`,
 * `llm_token`, `tts_audio`, `barge_in`, `turn_end`, `error`, `transfer`, `emergency`, ...), which the
 * answering stage emits with {@linkcode emitPipelineEvent}.
 *
 * @module
 */
import { z } from "zod";
import type { CallOutput } from "./contract.ts";
import { REQUEST_KINDS } from "../../store/mod.ts";

/** Version of the browser protocol, sent in `connected`. */
export const BROWSER_PROTOCOL_VERSION = 1;

const turn = z.number().int().min(0).max(1_000_000);
const ms = z.number().min(0).max(86_400_000);
const code = z.string().regex(/^[a-z0-9_]{1,64}$/);

// ---------------------------------------------------------------- client -> server

/** `{"type":"start"}`: begin the call; audio before it is refused. */
export const StartMessage = z.strictObject({
  type: z.literal("start"),
  /** The only rate the browser protocol carries. */
  sampleRate: z.literal(16_000).optional(),
  encoding: z.literal("pcm16le").optional(),
});
/** `{"type":"stop"}`: the caller hangs up. */
export const StopMessage = z.strictObject({
  type: z.literal("stop"),
  reason: z.string().max(200).optional(),
});
/** `{"type":"dtmf","digit":"5"}`: a key press. */
export const DtmfMessage = z.strictObject({
  type: z.literal("dtmf"),
  digit: z.string().regex(/^[0-9*#A-D]$/),
});
/** `{"type":"ping"}`: answered with `pong` carrying the same id. */
export const PingMessage = z.strictObject({
  type: z.literal("ping"),
  id: z.union([z.string().max(64), z.number().finite()]).optional(),
});
/** Any message a browser client may send. */
export const ClientMessage = z.discriminatedUnion("type", [
  StartMessage,
  StopMessage,
  DtmfMessage,
  PingMessage,
]);
/** Any message a browser client may send. */
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Parse one text frame; `error` is a short description safe to send back. */
export function parseClientMessage(
  text: string,
): { ok: true; message: ClientMessage } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: "Cannot parse message: not JSON" };
  }
  const r = ClientMessage.safeParse(raw);
  if (r.success) return { ok: true, message: r.data };
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.map(String).join(".").slice(0, 40) : "message";
  return {
    ok: false,
    error: `Cannot accept message: ${where}: ${issue?.message ?? "invalid"}`.slice(0, 200),
  };
}

// ---------------------------------------------------------------- pipeline events (answering stage -> client)

/** Voice activity of the caller. */
export const VadEvent = z.strictObject({
  type: z.literal("vad"),
  state: z.enum(["speech_start", "speech_end"]),
  /** Call time of the change, ms. */
  atMs: ms,
  probability: z.number().min(0).max(1).optional(),
});
/** The final transcript of one caller utterance. */
export const SttFinalEvent = z.strictObject({
  type: z.literal("stt_final"),
  turn,
  text: z.string().max(10_000),
  atMs: ms.optional(),
});
/** One token of TOM's answer as the LLM streams it. */
export const LlmTokenEvent = z.strictObject({
  type: z.literal("llm_token"),
  turn,
  token: z.string().max(1_000),
});
/** A piece of synthesized speech was queued (its audio follows as binary frames). */
export const TtsAudioEvent = z.strictObject({
  type: z.literal("tts_audio"),
  turn,
  /** The sentence being spoken, when known. */
  text: z.string().max(2_000).optional(),
  durationMs: ms,
});
/** The caller interrupted TOM: playback was flushed. */
export const BargeInEvent = z.strictObject({
  type: z.literal("barge_in"),
  turn,
  atMs: ms,
  /** The part of TOM's answer the caller heard before the interruption. */
  heardText: z.string().max(10_000).optional(),
});
/** One turn finished, with its stage latencies (ms by stage name, e.g. `stt`, `llm_first_token`). */
export const TurnEndEvent = z.strictObject({
  type: z.literal("turn_end"),
  turn,
  interrupted: z.boolean(),
  latencies: z.record(z.string().regex(/^[a-z0-9_]{1,40}$/), ms),
});
/** Something went wrong; `code` is machine-readable, `message` is for people (no personal data). */
export const ErrorEvent = z.strictObject({
  type: z.literal("error"),
  code,
  message: z.string().max(500),
});
/** TOM speaks one of its own fixed phrases (greeting, read-back of a noted request, question for a number). */
export const SayEvent = z.strictObject({
  type: z.literal("say"),
  text: z.string().max(2_000),
});
/** The model called a tool: accepted (validated) or refused, and why (the reason the model was told). */
export const ToolCallEvent = z.strictObject({
  type: z.literal("tool_call"),
  turn,
  name: z.string().max(64),
  accepted: z.boolean(),
  reason: z.string().max(500).optional(),
});
/** A request for the practice team was stored (no personal data: id, kind, urgency). */
export const RequestNotedEvent = z.strictObject({
  type: z.literal("request_noted"),
  requestId: z.string().max(64),
  kind: z.enum(REQUEST_KINDS),
  urgency: z.enum(["normal", "urgent"]),
});
/**
 * A transfer to a person: `started` when TOM decided (with why and, for staff, a short summary of the call
 * so far), then `connected` or `failed` as the telephone system answered.
 */
/**
 * Who is being put through, for staff: the number the network gave and the name of the person it matches
 * (or that TOM called). `identity` says how much that is worth: `number_match` is caller ID only, which
 * anyone can fake; `placed` is a call TOM made to the person's number; `verified` passed the practice's
 * check. Personal data: only on the account's own staff streams, never in logs.
 */
export const TransferCaller = z.strictObject({
  number: z.string().max(32).optional(),
  name: z.string().max(200).optional(),
  identity: z.enum(["unknown", "number_match", "placed", "verified"]),
});
export type TransferCaller = z.infer<typeof TransferCaller>;
export const TransferEvent = z.strictObject({
  type: z.literal("transfer"),
  reason: z.enum(["caller_asked", "dtmf_0", "tool", "not_understood", "engines_failed"]),
  targetKind: z.enum(["extension", "number", "voicemail", "none"]),
  outcome: z.enum(["started", "connected", "failed"]),
  /** Why it failed (busy, no_answer, unreachable, failed, timeout, no_target). */
  detail: z.string().max(200).optional(),
  /** What the caller wanted so far (from the call's own words or its noted request); personal data. */
  summary: z.string().max(500).optional(),
  /** Who is calling, as far as TOM knows (see TransferCaller). */
  caller: TransferCaller.optional(),
});
/** A red flag fired: the emergency advice is being said (flag and its German label for staff). */
export const EmergencyEvent = z.strictObject({
  type: z.literal("emergency"),
  flag: z.string().max(64),
  label: z.string().max(200),
});
/**
 * The caller's next words are a secret (the answer to the identity check's PIN question, spoken or keyed as
 * in-band tones): while `on`, a recording writes silence for the caller (gateway/recording.ts). No personal
 * data.
 */
export const PrivateEvent = z.strictObject({
  type: z.literal("private"),
  on: z.boolean(),
});
/** Events the answering stage may send to a browser client. */
export const PipelineEvent = z.discriminatedUnion("type", [
  VadEvent,
  SttFinalEvent,
  LlmTokenEvent,
  TtsAudioEvent,
  BargeInEvent,
  TurnEndEvent,
  ErrorEvent,
  SayEvent,
  ToolCallEvent,
  RequestNotedEvent,
  TransferEvent,
  EmergencyEvent,
  PrivateEvent,
]);
/** Events the answering stage may send to a browser client. */
export type PipelineEvent = z.infer<typeof PipelineEvent>;

// ---------------------------------------------------------------- transport events (server -> client)

/** First message after the upgrade. */
export const ConnectedEvent = z.strictObject({
  type: z.literal("connected"),
  callId: z.string(),
  protocol: z.literal(BROWSER_PROTOCOL_VERSION),
  sampleRate: z.literal(16_000),
  encoding: z.literal("pcm16le"),
  frameMs: z.literal(20),
});
/** The call started (answer to `start`); audio frames may follow. */
export const StreamingStartedEvent = z.strictObject({
  type: z.literal("streaming_started"),
  callId: z.string(),
});
/** Everything queued before `output.mark(name)` has been sent. */
export const MarkEvent = z.strictObject({ type: z.literal("mark"), name: z.string().max(200) });
/** Drop all audio not yet played (barge-in). */
export const ClearEvent = z.strictObject({ type: z.literal("clear") });
/** Answer to `ping`. */
export const PongEvent = z.strictObject({
  type: z.literal("pong"),
  id: z.union([z.string(), z.number()]).optional(),
  serverTime: z.number(),
});
/** The call ended; the socket closes after it. */
export const CallEndEvent = z.strictObject({
  type: z.literal("call_end"),
  reason: z.string().max(200),
  durationMs: ms,
});
/**
 * A test call's transfer is simulated (no telephone system behind the browser protocol): this target of
 * the practice would ring now, for `ringMs`; then the test call counts as handed over and ends
 * (gateway/browser/simulated_transfer.ts). The practice's own extension or number, never a caller's.
 */
export const TransferRingingEvent = z.strictObject({
  type: z.literal("transfer_ringing"),
  kind: z.enum(["extension", "number", "voicemail"]),
  target: z.string().max(100),
  ringMs: ms,
  simulated: z.literal(true),
});
/** Every JSON event the server sends on the browser protocol. */
export const ServerEvent = z.discriminatedUnion("type", [
  ConnectedEvent,
  StreamingStartedEvent,
  MarkEvent,
  ClearEvent,
  PongEvent,
  CallEndEvent,
  TransferRingingEvent,
  VadEvent,
  SttFinalEvent,
  LlmTokenEvent,
  TtsAudioEvent,
  BargeInEvent,
  TurnEndEvent,
  ErrorEvent,
  SayEvent,
  ToolCallEvent,
  RequestNotedEvent,
  TransferEvent,
  EmergencyEvent,
  PrivateEvent,
]);
/** Every JSON event the server sends on the browser protocol. */
export type ServerEvent = z.infer<typeof ServerEvent>;

// ---------------------------------------------------------------- the sink

/**
 * A {@linkcode CallOutput} that can also show pipeline progress to the peer. The browser transport
 * implements it; telephony transports do not (a phone cannot display tokens).
 */
export interface EventfulOutput extends CallOutput {
  /** Send a pipeline event to the peer (validated; invalid events are logged and dropped). */
  event(e: PipelineEvent): void;
}

/** True when the transport behind `output` can show pipeline events. */
export function hasEventSink(output: CallOutput): output is EventfulOutput {
  return typeof (output as Partial<EventfulOutput>).event === "function";
}

/**
 * Send a pipeline event to the caller's client when the transport can show it; a no-op otherwise.
 * This is how the answering stage reports `vad`, `stt_final`, `llm_token`, ... without knowing which
 * transport carries the call.
 *
 * @example
 * ```ts
 * import { emitPipelineEvent } from "./messages.ts";
 * import type { CallOutput } from "./contract.ts";
 *
 * const output: CallOutput = { audio() {}, mark() {}, clear() {}, hangup() {}, queuedMs: 0 };
 * emitPipelineEvent(output, { type: "llm_token", turn: 1, token: "Guten" }); // phone: nothing happens
 * ```
 */
export function emitPipelineEvent(output: CallOutput, e: PipelineEvent): void {
  if (hasEventSink(output)) output.event(e);
}

/** What {@linkcode tapOutput} sees of a call's output before the transport does. */
export interface OutputTaps {
  /** TOM's audio, before the transport queues it. */
  audio?(pcm: Int16Array): void;
  /** A barge-in flush, before the transport does it. */
  clear?(): void;
  /**
   * A pipeline event, before the transport shows it (the live feed). With this tap the wrapped output takes
   * pipeline events even when its transport cannot show them (a phone): they reach the tap only.
   */
  event?(e: PipelineEvent): void;
}

/**
 * Wrap a call's output so `taps` see TOM's audio, the flushes (recording, usage accounting) and the
 * pipeline events (live feed); everything else (marks, hang-up, `queuedMs`) goes straight to the transport.
 */
export function tapOutput(output: CallOutput, taps: OutputTaps): CallOutput {
  const tapped: CallOutput & Partial<Pick<EventfulOutput, "event">> = {
    audio(pcm, sent) {
      taps.audio?.(pcm);
      output.audio(pcm, sent);
    },
    mark: (name) => output.mark(name),
    clear() {
      taps.clear?.();
      output.clear();
    },
    hangup: (reason) => output.hangup(reason),
    get queuedMs() {
      return output.queuedMs;
    },
  };
  // A transport that transfers keeps doing so through every tap (recorder, live feed, usage counter).
  const transfer = output.transfer;
  if (transfer) tapped.transfer = (to, signal) => transfer.call(output, to, signal);
  const tap = taps.event;
  if (tap) {
    tapped.event = (e) => {
      tap(e);
      if (hasEventSink(output)) output.event(e);
    };
  } else if (hasEventSink(output)) tapped.event = (e) => output.event(e);
  return tapped;
}
