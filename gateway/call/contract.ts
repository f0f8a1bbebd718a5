/**
 * The one internal shape of a call, whatever transport carried it. Every serializer (browser,
 * mod_audio_fork, Twilio, AudioSocket, chan_websocket) turns its peer's messages into {@linkcode CallEvent}s
 * and implements {@linkcode CallOutput} in its peer's format; the answering stage (the pipeline, or the
 * diagnostic echo) only ever sees these.
 *
 * Audio inside TOM is 16-bit signed PCM, mono, at {@linkcode PIPELINE_RATE}. Serializers decode, downmix,
 * resample and re-frame on the way in, and resample, encode and pace on the way out.
 *
 * @module
 */
import type { Logger } from "../../infra/mod.ts";

/** Sample rate of all audio inside TOM. */
export const PIPELINE_RATE = 16_000;
/** Samples in one 20 ms frame at {@linkcode PIPELINE_RATE}. */
export const PIPELINE_FRAME_SAMPLES = 320;

/** Which peer carried the call. */
export type TransportKind = "browser" | "freeswitch" | "twilio" | "audiosocket" | "chan_websocket";

/** What a transport tells the answering stage. */
export type CallEvent =
  | {
    type: "start";
    callId: string;
    transport: TransportKind;
    direction: "inbound" | "outbound";
    /** Caller (E.164 or SIP user) when the peer says; personal data: log only hashed. */
    from?: string;
    /** Called number or extension when the peer says. */
    to?: string;
    /** The peer's own sample rate (informational; audio events are always at PIPELINE_RATE). */
    peerRate: number;
    /** Transport-specific details (stream sid, channel id, custom parameters). */
    meta: Record<string, unknown>;
  }
  /** 20 ms of caller audio (PIPELINE_FRAME_SAMPLES samples) at PIPELINE_RATE; `atMs` = call time of its first sample. */
  | { type: "audio"; pcm: Int16Array; atMs: number }
  | { type: "dtmf"; digit: string }
  /** Everything queued before `output.mark(name)` has been played to the caller (or was cleared). */
  | { type: "mark"; name: string; cleared: boolean }
  | { type: "stop"; reason: string };

/** What the answering stage can do to the call; the transport does it in its peer's format. */
export interface CallOutput {
  /**
   * Queue PIPELINE_RATE PCM for the caller (any length; the transport re-frames and paces it).
   *
   * @param sent called once the first frame holding these samples has been written to the peer's socket
   *   (what the caller hears from then on); never when it is cleared first. A transport that cannot tell
   *   calls it when it hands the audio on.
   */
  audio(pcm: Int16Array, sent?: () => void): void;
  /** Ask for a `mark` event once everything queued so far has been played. */
  mark(name: string): void;
  /** Barge-in: drop everything queued or playing, at once (`clear`, `killAudio`+`uuid_break`, `FLUSH_MEDIA`...). */
  clear(): void;
  /** End the call from TOM's side. */
  hangup(reason: string): void;
  /** Milliseconds of queued audio not yet played (as far as TOM can tell). */
  readonly queuedMs: number;
  /**
   * Cold transfer: hand the caller to a person (the practice's target for this moment). Resolves when the
   * peer confirmed or refused it (bounded by `signal`); a transport that cannot transfer leaves this out.
   * On success the peer takes the caller away: the call's `stop` follows.
   */
  transfer?(to: TransferTo, signal: AbortSignal): Promise<TransferOutcome>;
}

/** Where TOM hands a call: the practice's transfer target resolved for this moment. */
export interface TransferTo {
  kind: "extension" | "number" | "voicemail";
  /** An extension ("21"), a number (E.164 or national digits) or the voicemail box, as the practice set it. */
  target: string;
  /**
   * What TOM tells the staff member before it puts the caller through (a warm transfer, where the transport
   * makes one: Asterisk with `asterisk.warmTransfer`, FreeSWITCH with `freeswitch.warmTransfer`); a cold transfer
   * ignores it.
   */
  briefing?: TransferBriefing;
}

/** The spoken summary of a warm transfer, made by the answering stage (it owns the call's TTS). */
export interface TransferBriefing {
  /** What is said (German; the caller's name when known, the reason; never read into a log). */
  text: string;
  /**
   * The spoken text as PIPELINE_RATE PCM, made when the staff member answered.
   *
   * @throws when it cannot be made in time (the transport then puts the caller through unannounced)
   */
  audio(signal: AbortSignal): Promise<Int16Array>;
}

/** How a transfer ended, as the peer reported it. */
export type TransferOutcome =
  | { ok: true }
  | {
    ok: false;
    /** busy / no_answer / unreachable: the target; failed: the peer refused or its control link is down. */
    reason: "busy" | "no_answer" | "unreachable" | "failed" | "timeout";
    /** For the log (no phone numbers). */
    detail?: string;
  };

/**
 * What the answering stage gets for one call. The session decides once, when it opens the call, whose call
 * it is; the answering stage takes that as given and never looks the call up again.
 */
export interface CallContext {
  callId: string;
  transport: TransportKind;
  direction: "inbound" | "outbound";
  /** The account the call belongs to (the session's decision: transport, token, placed call or default). */
  accountId: string;
  /**
   * The person the call's record names (a placed call's callee, the person of a ringing record the call
   * continues, or the person whose stored number the caller ID matched); null: not known. Taken from the
   * record as the session wrote or adopted it; never re-derived downstream.
   */
  personId: string | null;
  /**
   * How far the person is proven when the call starts (store/caller_identity.ts): `placed` (TOM called the
   * person's number), `number_match` (only the caller ID matched: no health data), `unknown` (no person).
   * The answering stage may raise it to `verified` after the practice's check.
   */
  identity?: "unknown" | "number_match" | "placed";
  /**
   * The caller's number as the peer gave it (inbound caller ID, or the number TOM dialled): personal data,
   * never logged; not proof of identity. The answering stage may offer it as the callback number, after
   * the caller confirmed it. Null when the peer gives none.
   */
  callerId?: string | null;
  output: CallOutput;
  /** A logger with `call_id` set. */
  log: Logger;
  /** Aborted when the call ends, from either side. */
  signal: AbortSignal;
}

/** The answering stage's side of one call: it receives the call's events in order. */
export interface CallHandler {
  handle(event: CallEvent): void;
}

/** Creates the answering stage for a new call (the pipeline, or the diagnostic echo). */
export type Answerer = (ctx: CallContext) => CallHandler;
