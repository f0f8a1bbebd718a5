/**
 * One call's life inside TOM, shared by every transport: the serializer opens a session when its peer
 * starts a call, feeds it events, and ends it once. The session registers the call (so shutdown can drain
 * it), records it in the store, runs the answering stage, and makes sure `stop` is delivered exactly once
 * and the call's record is completed whatever happens.
 *
 * @module
 */
import type { Meter } from "@opentelemetry/api";
import type { Config } from "../../infra/mod.ts";
import type { Logger } from "../../infra/mod.ts";
import { type CallRegistry, CallsFullError } from "../../infra/mod.ts";
import {
  type Call,
  createAccount,
  createCall,
  endCall,
  findPersonIdByPhone,
  getCall,
  listAccounts,
  markCallAnswered,
  setCallIdentity,
  type Store,
} from "../../store/mod.ts";
import type { Answerer, CallEvent, CallHandler, CallOutput, TransportKind } from "./contract.ts";
import { callerE164 } from "./phone.ts";
import { type CallRecorder, recordOutput, startRecording } from "../recording.ts";

/** What every transport needs from the appliance. */
export interface GatewayDeps {
  config: Config;
  store: Store;
  log: Logger;
  meter: Meter;
  calls: CallRegistry;
  /** The answering stage (the pipeline, or the diagnostic echo). */
  answer: Answerer;
  /** The account an inbound call belongs to (default: {@linkcode defaultAccountId}). */
  accountFor?: (info: CallStartInfo) => string;
  /** Follows every call through its output (the live feed); the composition root passes it in. */
  watch?: CallWatcher;
  now?: () => number;
}

/** How a transport describes a call that starts. */
export interface CallStartInfo {
  transport: TransportKind;
  direction: "inbound" | "outbound";
  /** The peer's id for the call (FreeSWITCH uuid, Twilio CallSid, AudioSocket UUID...). */
  externalId?: string;
  /** TOM's call id when it is already known (browser URL, outbound calls TOM placed). */
  callId?: string;
  /**
   * The ringing record of a call TOM placed, as the transport read it (gateway/outbound/attach.ts):
   * the session continues it (same id, account and person) instead of starting another, without reading
   * it again. Without it, a known `callId` is looked up once.
   */
  placed?: Call;
  /** Account, when already known (outbound calls, browser tokens). */
  accountId?: string;
  personId?: string;
  from?: string;
  to?: string;
  peerRate: number;
  meta?: Record<string, unknown>;
}

/** What a {@linkcode CallWatcher} learns of a call that starts (no phone numbers). */
export interface WatchedCall {
  accountId: string;
  callId: string;
  transport: TransportKind;
  direction: "inbound" | "outbound";
  startedAt: number;
}

/** One watched call: the output the answering stage gets (wrapping the transport's), and its end. */
export interface CallWatch {
  output: CallOutput;
  /** The call ended and its record is complete. */
  end(info: { reason: string; status: "completed" | "failed"; durationMs: number }): void;
}

/** Wraps a call's output when the call starts, like the recorder does (the live feed). */
export type CallWatcher = (call: WatchedCall, output: CallOutput) => CallWatch;

/** The account inbound calls belong to when nothing else says: the oldest account, created if none exists. */
export function defaultAccountId(store: Store): string {
  const accounts = listAccounts(store);
  if (accounts.length > 0) return accounts.sort((a, b) => a.createdAt - b.createdAt)[0].id;
  return createAccount(store, { name: "Praxis", kind: "clinical" }).id;
}

/**
 * A call's identity level at its start: a call out to a person (TOM dialled the stored number) is
 * `placed`; an inbound call with a person (its caller ID matched, or the transport named the person) only
 * `number_match`: caller ID can be spoofed.
 */
export function callIdentity(
  direction: "inbound" | "outbound",
  personId: string | null,
): "unknown" | "number_match" | "placed" {
  if (!personId) return "unknown";
  return direction === "outbound" ? "placed" : "number_match";
}

/** A live call. */
export class CallSession {
  readonly id: string;
  readonly accountId: string;
  /** The person the call's record names (null: not known); what the answering stage is told. */
  readonly personId: string | null;
  /** How far that person is proven at the start (raised to "verified" by the answering stage's check). */
  readonly identity: "unknown" | "number_match" | "placed";
  readonly transport: TransportKind;
  readonly log: Logger;
  readonly #abort = new AbortController();
  readonly #handler: CallHandler;
  readonly #deps: GatewayDeps;
  readonly #unregister: () => void;
  readonly #started: number;
  /** Set when the call is recorded (config, account setting and the person's consent). */
  readonly #recorder: CallRecorder | undefined;
  /** Set when the composition root watches calls (live feed). */
  readonly #watch: CallWatch | undefined;
  #ended = false;

  private constructor(deps: GatewayDeps, info: CallStartInfo, output: CallOutput) {
    this.#deps = deps;
    const now = deps.now ?? Date.now;
    this.#started = now();
    this.transport = info.transport;
    this.accountId = info.accountId ?? deps.accountFor?.(info) ?? defaultAccountId(deps.store);
    let personId = info.personId ?? null;
    const fromE164 = callerE164(info.from);
    if (!personId && fromE164) {
      personId = findPersonIdByPhone(deps.store, this.accountId, fromE164) ?? null;
    }
    // A call TOM placed itself already has its (ringing) row: continue it instead of starting another.
    // The transport hands over the row it already read (gateway/outbound/attach.ts); with only the id
    // (a browser URL), the session reads it once.
    const placed = info.placed ??
      (info.callId ? getCall(deps.store, this.accountId, info.callId) : undefined);
    const adopt = placed && placed.status === "ringing" && placed.direction === info.direction &&
      placed.transport === info.transport;
    const call = adopt ? placed : createCall(deps.store, this.accountId, {
      id: info.callId,
      direction: info.direction,
      transport: info.transport,
      externalId: info.externalId ?? null,
      personId,
      startedAt: this.#started,
    });
    markCallAnswered(deps.store, this.accountId, call.id, this.#started);
    this.id = call.id;
    this.personId = call.personId;
    this.identity = callIdentity(info.direction, call.personId);
    setCallIdentity(deps.store, this.accountId, call.id, this.identity);
    this.log = deps.log.child({ call_id: this.id, transport: info.transport });
    const recorded = { accountId: this.accountId, callId: this.id, startedAt: this.#started };
    this.#recorder = startRecording({ ...deps, log: this.log }, recorded);
    this.#unregister = deps.calls.add({ id: this.id, end: (reason) => this.#endByTom(reason, output) });
    const recordedOutput = this.#recorder ? recordOutput(output, this.#recorder) : output;
    try {
      this.#watch = deps.watch?.(
        { ...recorded, transport: info.transport, direction: info.direction },
        recordedOutput,
      );
    } catch (e) {
      this.log.error("cannot watch the call", { error: e });
    }
    this.#handler = deps.answer({
      callId: this.id,
      transport: info.transport,
      direction: info.direction,
      accountId: this.accountId,
      personId: this.personId,
      identity: this.identity,
      callerId: (info.direction === "outbound" ? info.to : info.from) ?? null,
      output: this.#watch?.output ?? recordedOutput,
      log: this.log,
      signal: this.#abort.signal,
    });
    this.log.info("call started", { direction: info.direction, from: info.from, to: info.to });
    this.#deliver({
      type: "start",
      callId: this.id,
      transport: info.transport,
      direction: info.direction,
      from: info.from,
      to: info.to,
      peerRate: info.peerRate,
      meta: info.meta ?? {},
    });
  }

  /**
   * Open a session for a call that starts.
   *
   * @throws {Error} when the appliance is shutting down, or {@linkcode CallsFullError} when TOM holds its
   * maximum of calls (`maxCalls`), before anything is recorded: the transport refuses the call.
   */
  static open(deps: GatewayDeps, info: CallStartInfo, output: CallOutput): CallSession {
    if (deps.calls.draining) throw new Error("Cannot accept call: the appliance is shutting down");
    if (deps.calls.full) throw new CallsFullError(deps.calls.max);
    return new CallSession(deps, info, output);
  }

  /** Aborted when the call ends. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Whether the call has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Hand an event from the peer to the answering stage (ignored after the end). */
  deliver(event: Exclude<CallEvent, { type: "start" } | { type: "stop" }>): void {
    if (this.#ended) return;
    if (event.type === "audio") this.#recorder?.caller(event.pcm, event.atMs);
    this.#deliver(event);
  }

  /** The call ended (peer hung up, socket closed, TOM hung up). Idempotent. */
  end(reason: string, status: "completed" | "failed" = "completed"): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#deliver({ type: "stop", reason });
    this.#abort.abort(new Error(`call ended: ${reason}`));
    this.#recorder?.close();
    try {
      endCall(this.#deps.store, this.accountId, this.id, {
        status,
        at: (this.#deps.now ?? Date.now)(),
        failureReason: status === "failed" ? reason.slice(0, 200) : undefined,
      });
    } catch (e) {
      this.log.error("could not record the end of the call", { error: e });
    }
    this.#unregister();
    const durationMs = (this.#deps.now ?? Date.now)() - this.#started;
    try {
      this.#watch?.end({ reason, status, durationMs });
    } catch (e) {
      this.log.error("cannot report the end of the call", { error: e });
    }
    this.log.info("call ended", { reason, duration_ms: durationMs });
  }

  #deliver(event: CallEvent): void {
    try {
      this.#handler.handle(event);
    } catch (e) {
      this.log.error("answering stage failed on an event", { event: event.type, error: e });
    }
  }

  async #endByTom(reason: string, output: CallOutput): Promise<void> {
    if (this.#ended) return;
    output.hangup(reason);
    this.end(reason);
    await Promise.resolve();
  }
}
