/**
 * The browser/dev protocol on `WS /ws/stream/:callId` (DESIGN.md), after the handshake (`mountBrowser`
 * in server.ts: Origin and per-address cap 403/429, token 401, all before the upgrade):
 *
 * - server sends `connected`; the client sends `{"type":"start"}`, the call opens (store record,
 *   answering stage) and the server answers `streaming_started`;
 * - client binary frames (PCM16LE mono 16 kHz, any size, split anywhere, even mid-sample) are re-framed
 *   to 20 ms and delivered as `audio` events; `dtmf` and `ping` are understood;
 * - the answering stage's audio is re-framed to 20 ms and paced out in real time as binary frames; a
 *   mark fires when its position has been sent (`mark` event to the client too); `clear` drops the queue
 *   and tells the client to flush with `{"type":"clear"}`; pipeline events go out as JSON through
 *   {@linkcode EventfulOutput.event};
 * - `{"type":"stop"}` or a hang-up from TOM sends `call_end` and closes with 1000;
 * - a transfer is simulated (there is no telephone system): `transfer_ringing`, a short ringing time, then
 *   the transfer counts as connected and the call ends with `call_end` "transferred to a person (test
 *   call)" (simulated_transfer.ts).
 *
 * Invalid messages get an `error` event; after `maxInvalidMessages` of them the socket closes with 1008.
 *
 * @module
 */
import type { Logger } from "../../infra/mod.ts";
import { StoreConflictError } from "../../store/mod.ts";
import { PIPELINE_RATE, type TransferOutcome, type TransferTo } from "../call/contract.ts";
import { CallSession, type GatewayDeps } from "../call/session.ts";
import { CLOSE, closeSocket, type Guard, guardSocket } from "../guard/mod.ts";
import type { CallTokenClaims } from "../auth/token.ts";
import {
  BROWSER_PROTOCOL_VERSION,
  type EventfulOutput,
  parseClientMessage,
  PipelineEvent,
  type ServerEvent,
} from "../call/messages.ts";
import { InboundAudio, OutboundAudio, Pacer, type Ticker } from "../audio/mod.ts";
import { ringThenAnswer, TRANSFERRED_REASON } from "./simulated_transfer.ts";

/** Call ids a URL may carry (the same set `mintCallToken` accepts). */
export const CALL_ID_PATTERN: RegExp = /^[A-Za-z0-9._:-]{1,128}$/;

/** Options of the browser transport. */
export interface BrowserOptions {
  /** Milliseconds to wait for `start` after the upgrade before closing with 1008 (default 10 000). */
  startTimeoutMs?: number;
  /** Invalid messages tolerated on one connection before closing with 1008 (default 10). */
  maxInvalidMessages?: number;
  /** Pacing grid (default the shared 10 ms ticker). */
  ticker?: Ticker;
  /** Ringing time of a simulated transfer, ms (default `gateway.testTransferRingMs`). */
  transferRingMs?: number;
}

/**
 * One browser connection after the upgrade (the handshake is `mountBrowser` in server.ts): protocol
 * state, re-framing in, pacing out.
 */
export class BrowserConnection {
  readonly #socket: WebSocket;
  readonly #deps: GatewayDeps;
  readonly #log: Logger;
  readonly #callId: string;
  readonly #claims: CallTokenClaims;
  readonly #maxInvalid: number;
  readonly #inbound: InboundAudio;
  readonly #outbound: OutboundAudio;
  readonly #pacer: Pacer<Uint8Array>;
  readonly #output: EventfulOutput;
  readonly #transferRingMs: number;
  /** Aborted once the connection ends: a simulated transfer stops ringing. */
  readonly #gone = new AbortController();
  #session: CallSession | undefined;
  #state: "open" | "streaming" | "ended" = "open";
  #invalid = 0;
  #startedAt = 0;
  #startTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set once a close is under way: nothing more is sent. */
  #quiet = false;

  /** Take over an upgraded socket for `callId` (sends `connected` once it opens). */
  constructor(
    socket: WebSocket,
    deps: GatewayDeps,
    guard: Guard,
    log: Logger,
    callId: string,
    claims: CallTokenClaims,
    opts: BrowserOptions,
  ) {
    this.#socket = socket;
    this.#deps = deps;
    this.#log = log.child({ call_id: callId });
    this.#callId = callId;
    this.#claims = claims;
    this.#maxInvalid = opts.maxInvalidMessages ?? 10;
    this.#transferRingMs = opts.transferRingMs ?? deps.config.gateway.testTransferRingMs;
    // The browser speaks the pipeline's own format (PCM16LE mono 16 kHz): no resampling either way.
    this.#inbound = new InboundAudio({
      codec: "l16",
      rate: PIPELINE_RATE,
      onFrame: (pcm, atMs) => {
        if (this.#state === "streaming") this.#session?.deliver({ type: "audio", pcm, atMs });
      },
    });
    const pacer = new Pacer<Uint8Array>({
      ...(opts.ticker ? { ticker: opts.ticker } : {}),
      send: (frames) => {
        for (const frame of frames) {
          if (!this.#quiet && socket.readyState === WebSocket.OPEN) socket.send(frame);
        }
      },
      onMark: (name, cleared) => {
        if (!cleared) this.#send({ type: "mark", name: name.slice(0, 200) });
        // A clear() fires its marks synchronously inside the answering stage's own call: defer them.
        const deliver = () => this.#session?.deliver({ type: "mark", name, cleared });
        if (cleared) queueMicrotask(deliver);
        else deliver();
      },
    });
    this.#pacer = pacer;
    this.#outbound = new OutboundAudio({
      codec: "l16",
      rate: PIPELINE_RATE,
      onFrame: (frame) => pacer.enqueue(frame),
      onMark: (name) => pacer.mark(name),
      onCue: (sent) => pacer.cue(sent),
    });
    this.#output = this.#makeOutput();
    this.#startTimer = setTimeout(() => {
      this.#startTimer = undefined;
      if (this.#state === "open") this.#close(CLOSE.policy, "start timeout");
    }, opts.startTimeoutMs ?? 10_000);
    socket.addEventListener("open", () => {
      this.#send({
        type: "connected",
        callId,
        protocol: BROWSER_PROTOCOL_VERSION,
        sampleRate: PIPELINE_RATE,
        encoding: "pcm16le",
        frameMs: 20,
      });
    });
    socket.addEventListener("close", (ev) => this.#onClose(ev.code));
    guardSocket(socket, guard.socketLimiter("browser"), (data) => this.#onMessage(data), {
      log: this.#log,
      onRefused: (code) => this.#refused(code),
    });
  }

  /** End the call from TOM's side: `call_end`, close, end the session. */
  hangup(reason: string, code: number = CLOSE.normal): void {
    if (this.#state === "ended") return;
    this.#finish(reason, code);
    const session = this.#session;
    // The answering stage may be calling us from inside its own handler: end the session after it returns.
    if (session) queueMicrotask(() => session.end(reason));
  }

  #makeOutput(): EventfulOutput {
    // deno-lint-ignore no-this-alias -- the output object's getter needs the connection
    const conn = this;
    return {
      audio: (pcm, sent) => {
        if (this.#state === "streaming") this.#outbound.push(pcm, sent);
      },
      mark: (name) => this.#outbound.mark(name),
      clear: () => {
        this.#outbound.clear();
        this.#pacer.clear();
        this.#send({ type: "clear" });
      },
      hangup: (reason) => this.hangup(reason),
      transfer: (to, signal) => this.#transfer(to, signal),
      get queuedMs() {
        return conn.#pacer.queuedMs + conn.#outbound.pendingMs;
      },
      event: (e) => {
        const r = PipelineEvent.safeParse(e);
        if (r.success) return this.#send(r.data);
        const type = String((e as { type?: unknown })?.type).slice(0, 40);
        this.#log.warn("invalid pipeline event dropped", { event: type });
      },
    };
  }

  /** A simulated transfer (see simulated_transfer.ts): ring, answer, end the test call. */
  async #transfer(to: TransferTo, signal: AbortSignal): Promise<TransferOutcome> {
    if (this.#state !== "streaming") return { ok: false, reason: "failed", detail: "the call is not live" };
    const ringMs = this.#transferRingMs;
    this.#send({
      type: "transfer_ringing",
      kind: to.kind,
      target: to.target.slice(0, 100),
      ringMs,
      simulated: true,
    });
    this.#log.info("simulated transfer ringing", { target_kind: to.kind, ring_ms: ringMs });
    const outcome = await ringThenAnswer(ringMs, AbortSignal.any([signal, this.#gone.signal]));
    // The person "answered": the test call leaves TOM, after the answering stage has seen the outcome.
    if (outcome.ok) setTimeout(() => this.hangup(TRANSFERRED_REASON), 0);
    return outcome;
  }

  #onMessage(data: string | ArrayBuffer): void {
    if (this.#state === "ended") return;
    if (typeof data !== "string") return this.#onAudio(new Uint8Array(data));
    const parsed = parseClientMessage(data);
    if (!parsed.ok) return this.#invalidMessage(parsed.error);
    const m = parsed.message;
    switch (m.type) {
      case "start":
        return this.#start();
      case "stop":
        // The caller hung up: end the session first, so the record is complete when `call_end` arrives.
        this.#session?.end("caller stop");
        return this.hangup("caller stop");
      case "dtmf":
        if (this.#state !== "streaming") return this.#invalidMessage("Cannot accept dtmf: send start first");
        return this.#session?.deliver({ type: "dtmf", digit: m.digit });
      case "ping":
        return this.#send({
          type: "pong",
          ...(m.id !== undefined ? { id: m.id } : {}),
          serverTime: Date.now(),
        });
    }
  }

  #onAudio(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#state !== "streaming") return this.#invalidMessage("Cannot accept audio: send start first");
    this.#inbound.push(bytes);
  }

  #invalidMessage(message: string): void {
    this.#invalid++;
    this.#send({ type: "error", code: "invalid_message", message });
    if (this.#invalid >= this.#maxInvalid) {
      this.#endSession("too many invalid messages", "failed");
      this.#close(CLOSE.policy, "too many invalid messages");
    }
  }

  #start(): void {
    if (this.#state !== "open") return this.#invalidMessage("Cannot start: the call has already started");
    clearTimeout(this.#startTimer);
    this.#startTimer = undefined;
    this.#state = "streaming";
    this.#startedAt = this.#now();
    try {
      this.#session = CallSession.open(this.#deps, {
        transport: "browser",
        direction: "inbound",
        callId: this.#callId,
        peerRate: PIPELINE_RATE,
        meta: { subject: this.#claims.sub.slice(0, 64) },
      }, this.#output);
    } catch (e) {
      this.#state = "open";
      if (this.#deps.calls.draining) {
        this.#send({ type: "error", code: "shutting_down", message: "The appliance is shutting down" });
        return this.#close(CLOSE.tryAgain, "shutting down");
      }
      if (e instanceof StoreConflictError) {
        this.#send({ type: "error", code: "call_exists", message: "This call id has already been used" });
        return this.#close(CLOSE.policy, "call exists");
      }
      this.#log.error("cannot open the call", { error: e });
      this.#send({ type: "error", code: "internal", message: "Cannot start the call" });
      return this.#close(CLOSE.internal, "internal error");
    }
    this.#send({ type: "streaming_started", callId: this.#callId });
  }

  #finish(reason: string, code: number): void {
    this.#state = "ended";
    this.#pacer.stop();
    const durationMs = this.#startedAt ? Math.max(0, this.#now() - this.#startedAt) : 0;
    this.#send({ type: "call_end", reason: reason.slice(0, 200), durationMs });
    this.#close(code, reason);
  }

  /** The guard closes the socket (1009 size, 1013 rate, 1011 handler failure): the call fails. */
  #refused(code: number): void {
    this.#state = "ended";
    this.#quiesce();
    const reason = code === CLOSE.tooBig
      ? "message too big"
      : code === CLOSE.tryAgain
      ? "rate limit"
      : code === CLOSE.internal
      ? "internal error"
      : "unsupported message";
    this.#endSession(reason, "failed");
  }

  #onClose(code: number): void {
    this.#state = "ended";
    clearTimeout(this.#startTimer);
    this.#startTimer = undefined;
    this.#pacer.stop();
    this.#gone.abort();
    this.#endSession(`socket closed (${code})`, code === CLOSE.internal ? "failed" : "completed");
  }

  #endSession(reason: string, status: "completed" | "failed"): void {
    const session = this.#session;
    if (session && !session.ended) session.end(reason, status);
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }

  #send(event: ServerEvent): void {
    if (!this.#quiet && this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(event));
  }

  /** Stop sending before a close, so the close frame is not queued behind audio. */
  #quiesce(): void {
    this.#quiet = true;
    this.#gone.abort();
    this.#pacer.stop();
  }

  #close(code: number, reason: string): void {
    this.#state = "ended";
    this.#quiesce();
    clearTimeout(this.#startTimer);
    this.#startTimer = undefined;
    closeSocket(this.#socket, code, reason);
  }
}
