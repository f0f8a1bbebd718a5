/**
 * One Twilio Media Stream (bidirectional, from `<Connect><Stream>`): one call.
 *
 * - In: `start` opens the call (the `<Parameter>`s of TOM's TwiML carry the caller, the callee and, for
 *   calls TOM placed, the call row to continue; the transport first checks their call token); `media` payloads (base64 mu-law 8 kHz) are decoded,
 *   resampled to 16 kHz and cut into 20 ms frames; `dtmf` becomes a DTMF event; `stop` ends the call.
 *   Binary frames are not part of the protocol: the socket closes with 1003.
 * - Out: TOM's audio is resampled to 8 kHz, cut into 20 ms frames, mu-law encoded and paced at real time
 *   (Twilio would buffer a burst, but then `clear` could not take much back). A mark goes to Twilio as
 *   `{"event":"mark"}` right after the audio it follows; the call's mark event fires when Twilio echoes
 *   it (the audio has played). `clear` empties TOM's queue and sends `{"event":"clear"}`; marks not yet
 *   echoed fire at once with `cleared: true` (Twilio's later echoes of them are ignored).
 * - Hang-up from TOM closes the socket: with nothing after `<Connect>` in the TwiML, Twilio ends the call.
 * - Cold transfer: the live call gets `<Dial>` TwiML through the REST API (rest_transfer.ts); Twilio then
 *   stops the stream and the call ends for TOM. The `<Dial action>` carries a return id (call/returning.ts):
 *   when nobody answers, the caller comes back on a new stream whose `start` has `tom_return`
 *   (dial_result.ts), and that call opens as returned (`meta.returnedFromTransfer`, `previousCallId`).
 *
 * @module
 */
import { CallsFullError, type Logger } from "../../infra/mod.ts";
import type { CallOutput, TransferOutcome, TransferTo } from "../call/contract.ts";
import type { CallSession, GatewayDeps } from "../call/session.ts";
import { CLOSE } from "../guard/mod.ts";
import { InboundAudio, OutboundAudio, Pacer, type Ticker } from "../audio/mod.ts";
import {
  clearMessage,
  decodeBase64,
  markMessage,
  mediaMessage,
  parseTwilioMessage,
  type TwilioStart,
} from "./wire.ts";
import { isSafeId, openTelephonySession } from "../outbound/attach.ts";
import { twilioTransfer, type TwilioTransferOptions } from "./rest_transfer.ts";
import type { ReturningCalls } from "../call/returning.ts";
import { dialActionUrl, RETURN_PARAMETER } from "./dial_result.ts";

const TWILIO_RATE = 8000;
/** Close code for an unsupported data type (binary on a JSON-only protocol). */
export const CLOSE_UNSUPPORTED = 1003;

/** Options of a stream. */
export interface TwilioStreamOptions {
  /** `start` must arrive this many ms after the upgrade (default 10000). */
  startTimeoutMs?: number;
  /** Invalid messages tolerated before closing with 1008 (default 10). */
  maxInvalidMessages?: number;
  /** Pacing grid (default the shared 10 ms ticker). */
  ticker?: Ticker;
  /** Test seams of the REST call a transfer makes. */
  transfer?: Pick<TwilioTransferOptions, "fetch" | "netAllowed">;
  /** The registry of the way back after a transfer (default: one of the transport's own). */
  returning?: ReturningCalls;
}

/** What a stream needs from its transport. */
export interface TwilioStreamEnv {
  deps: GatewayDeps;
  log: Logger;
  opts: TwilioStreamOptions;
  /** Live streams by CallSid (the status callback leaves their end to them). */
  live: Map<string, TwilioStreamCall>;
  /** Whether this `start` belongs to a call TOM answered (its call token): the reason to refuse it, if any. */
  admitStart: (start: TwilioStart["start"]) => string | undefined;
  /** Return ids of transferred calls (the `<Dial action>` brings a caller nobody answered back). */
  returning: ReturningCalls;
}

/** One Media Streams WebSocket. */
export class TwilioStreamCall {
  readonly #socket: WebSocket;
  readonly #env: TwilioStreamEnv;
  /** TOM's public base URL as Twilio reached this stream (for the `<Dial action>` URL). */
  readonly #base: string;
  #log: Logger;
  #state: "open" | "call" | "ended" = "open";
  #streamSid = "";
  #callSid = "";
  #accountSid = "";
  #transferred = false;
  #session: CallSession | undefined;
  #inbound: InboundAudio | undefined;
  #outbound: OutboundAudio | undefined;
  #pacer: Pacer<Uint8Array> | undefined;
  #sentMarks = new Map<string, string>();
  #markSeq = 0;
  #invalid = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: WebSocket, env: TwilioStreamEnv, publicBase: string) {
    this.#socket = socket;
    this.#env = env;
    this.#base = publicBase.replace(/\/+$/, "");
    this.#log = env.log;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state === "open") this.#refuse(CLOSE.policy, "no start message in time");
    }, env.opts.startTimeoutMs ?? 10_000);
    socket.addEventListener("close", (ev) => this.#onClose(ev.code));
  }

  /** A message from Twilio (already admitted by the guard). */
  receive(data: string | ArrayBuffer): void {
    if (this.#state === "ended") return;
    if (typeof data !== "string") {
      return this.#refuse(CLOSE_UNSUPPORTED, "binary frames are not part of Media Streams");
    }
    const m = parseTwilioMessage(data);
    if (!m) return this.#invalidMessage("not a Media Streams message");
    if (this.#state === "open") {
      if (m.event === "connected") return;
      if (m.event !== "start") return this.#invalidMessage(`${m.event} before start`);
      return this.#start(m);
    }
    switch (m.event) {
      case "media":
        if (m.media.track === undefined || m.media.track === "inbound" || m.media.track === "inbound_track") {
          const bytes = decodeBase64(m.media.payload);
          if (!bytes) return this.#invalidMessage("media payload is not base64");
          this.#inboundAudio(bytes);
        }
        return;
      case "dtmf":
        this.#session?.deliver({ type: "dtmf", digit: m.dtmf.digit.toUpperCase() });
        return;
      case "mark":
        return this.#markEchoed(m.mark.name);
      case "stop":
        this.#end(this.#transferred ? "transferred to a person" : "caller hung up (stream stopped)");
        return this.#close(CLOSE.normal, "stopped");
      case "start":
        return this.#invalidMessage("second start");
      case "connected":
        return;
    }
  }

  /** The guard is closing the socket: stop the pacer so the close frame is not stuck behind audio. */
  stopSending(): void {
    this.#pacer?.stop();
  }

  /** End the call from TOM's side: closing the stream ends a `<Connect><Stream>` call. */
  hangup(reason: string): void {
    if (this.#state === "ended") return;
    this.#end(reason);
    this.#close(CLOSE.normal, "hangup");
  }

  #start(m: TwilioStart): void {
    const s = m.start;
    const f = s.mediaFormat;
    if (
      f && ((f.encoding && f.encoding !== "audio/x-mulaw") || (f.sampleRate && f.sampleRate !== TWILIO_RATE))
    ) {
      return this.#refuse(CLOSE.policy, `unsupported media format ${f.encoding}/${f.sampleRate}`);
    }
    // The parameters choose the caller's number and the call row: only with the token TOM's TwiML issued.
    const refused = this.#env.admitStart(s);
    if (refused) return this.#refuse(CLOSE.policy, `start not bound to a call TOM answered (${refused})`);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#state = "call";
    this.#streamSid = s.streamSid;
    this.#callSid = s.callSid ?? "";
    this.#accountSid = s.accountSid ?? "";
    const custom = s.customParameters ?? {};
    const str = (
      k: string,
    ) => (typeof custom[k] === "string" && custom[k] !== "" ? custom[k] as string : undefined);
    const pacer = new Pacer<Uint8Array>({
      send: (frames) => {
        for (const frame of frames) this.#send(mediaMessage(this.#streamSid, frame));
      },
      onMark: (name, cleared) => this.#markReached(name, cleared),
      ...(this.#env.opts.ticker ? { ticker: this.#env.opts.ticker } : {}),
    });
    this.#pacer = pacer;
    this.#outbound = new OutboundAudio({
      codec: "mulaw",
      rate: TWILIO_RATE,
      onFrame: (frame) => pacer.enqueue(frame),
      onMark: (name) => pacer.mark(name),
      onCue: (sent) => pacer.cue(sent),
    });
    this.#inbound = new InboundAudio({
      codec: "mulaw",
      rate: TWILIO_RATE,
      onFrame: (pcm, atMs) => this.#session?.deliver({ type: "audio", pcm, atMs }),
    });
    const callId = str("tom_call_id");
    const accountId = str("tom_account_id");
    // Back from a transfer nobody answered: the same practice, linked; an unknown or used id is a new call.
    // Either way the CallSid stays with the first call's record (it is unique there).
    const returnId = str(RETURN_PARAMETER);
    const back = returnId ? this.#env.returning.take(returnId) : undefined;
    const meta = { streamSid: s.streamSid, callSid: this.#callSid, tracks: s.tracks ?? [] };
    try {
      this.#session = openTelephonySession(
        this.#env.deps,
        {
          transport: "twilio",
          direction: "inbound",
          externalId: returnId ? undefined : this.#callSid || undefined,
          from: str("from"),
          to: str("to"),
          peerRate: TWILIO_RATE,
          ...(back ? { accountId: back.accountId } : {}),
          meta: back ? { ...meta, returnedFromTransfer: true, previousCallId: back.callId } : meta,
        },
        this.#makeOutput(),
        { callId: isSafeId(callId) ? callId : undefined, accountId },
      );
    } catch (e) {
      // Shutting down or at the maximum of calls (a race past the front door): refused, not an error.
      const draining = this.#env.deps.calls.draining || e instanceof CallsFullError;
      if (!draining) this.#log.error("cannot open the call", { error: e });
      this.#end("call refused");
      return this.#close(draining ? CLOSE.tryAgain : CLOSE.internal, "call refused");
    }
    this.#log = this.#session.log.child({ component: "gateway" });
    if (this.#callSid) this.#env.live.set(this.#callSid, this);
  }

  #inboundAudio(mulaw: Uint8Array): void {
    if (this.#session) this.#inbound?.push(mulaw);
  }

  #makeOutput(): CallOutput {
    // deno-lint-ignore no-this-alias -- the getter needs the stream
    const call = this;
    return {
      audio: (pcm, sent) => {
        if (this.#state === "call") this.#outbound?.push(pcm, sent);
      },
      mark: (name) => {
        const outbound = this.#outbound;
        if (this.#state !== "call" || !outbound) {
          queueMicrotask(() => this.#session?.deliver({ type: "mark", name, cleared: true }));
          return;
        }
        outbound.mark(name);
      },
      clear: () => {
        if (this.#state !== "call") return;
        this.#outbound?.clear();
        this.#pacer?.clear();
        this.#send(clearMessage(this.#streamSid));
        const dropped = [...this.#sentMarks.values()];
        this.#sentMarks.clear();
        if (dropped.length > 0) {
          queueMicrotask(() =>
            dropped.forEach((name) => this.#session?.deliver({ type: "mark", name, cleared: true }))
          );
        }
      },
      hangup: (reason) => this.hangup(reason),
      transfer: (to, signal) => this.#transfer(to, signal),
      get queuedMs() {
        return Math.round((call.#pacer?.queuedMs ?? 0) + (call.#outbound?.pendingMs ?? 0));
      },
    };
  }

  /** Cold transfer: new TwiML for the live call; on success Twilio stops the stream. */
  async #transfer(to: TransferTo, signal: AbortSignal): Promise<TransferOutcome> {
    if (this.#state !== "call") return { ok: false, reason: "failed", detail: "the call has ended" };
    const tw = this.#env.deps.config.twilio;
    const session = this.#session;
    const returnId = session
      ? this.#env.returning.register({ callId: session.id, accountId: session.accountId })
      : undefined;
    const outcome = await twilioTransfer(
      { ...tw, accountSid: tw.accountSid || this.#accountSid },
      this.#callSid,
      to,
      signal,
      {
        ringSeconds: tw.transferRingSeconds,
        ...(returnId ? { action: dialActionUrl(this.#base, returnId) } : {}),
        ...this.#env.opts.transfer,
      },
    );
    // Accepted means handed over; whether the person answers comes to the Dial action later.
    if (outcome.ok) this.#transferred = true;
    else if (returnId) this.#env.returning.drop(returnId);
    this.#log.info("Twilio transfer outcome", {
      kind: to.kind,
      ok: outcome.ok,
      ...(outcome.ok ? {} : { reason: outcome.reason, detail: outcome.detail }),
    });
    return outcome;
  }

  /** The pacer passed a mark: tell Twilio, which echoes it once the audio before it has played. */
  #markReached(name: string, cleared: boolean): void {
    if (cleared || this.#state !== "call") {
      queueMicrotask(() => this.#session?.deliver({ type: "mark", name, cleared: true }));
      return;
    }
    const wire = `m${++this.#markSeq}`;
    this.#sentMarks.set(wire, name);
    this.#send(markMessage(this.#streamSid, wire));
  }

  /** Twilio echoed mark `wire`: it and every mark sent before it have played. */
  #markEchoed(wire: string): void {
    if (!this.#sentMarks.has(wire)) return; // cleared already, or not ours
    for (const [k, name] of this.#sentMarks) {
      this.#sentMarks.delete(k);
      this.#session?.deliver({ type: "mark", name, cleared: false });
      if (k === wire) break;
    }
  }

  #invalidMessage(why: string): void {
    this.#invalid++;
    this.#log.debug("invalid message from Twilio", { reason: why });
    if (this.#invalid >= (this.#env.opts.maxInvalidMessages ?? 10)) {
      this.#refuse(CLOSE.policy, `too many invalid messages: ${why}`);
    }
  }

  #refuse(code: number, why: string): void {
    this.#log.warn("Twilio stream closed", { reason: why });
    this.#end(why);
    this.#close(code, why.slice(0, 100));
  }

  /** The call is over (idempotent). */
  #end(reason: string, status: "completed" | "failed" = "completed"): void {
    if (this.#state === "ended") return;
    this.#state = "ended";
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#callSid && this.#env.live.get(this.#callSid) === this) this.#env.live.delete(this.#callSid);
    this.#pacer?.stop();
    this.#sentMarks.clear();
    this.#inbound?.dispose();
    this.#outbound?.dispose();
    this.#inbound = this.#outbound = undefined;
    const session = this.#session;
    if (session && !session.ended) session.end(reason, status);
  }

  #onClose(code: number): void {
    const normal = code === CLOSE.normal || code === CLOSE.goingAway || code === 1005;
    this.#end(
      normal ? "stream closed" : `stream socket closed (${code})`,
      code === CLOSE.internal ? "failed" : "completed",
    );
  }

  #send(text: string): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(text);
  }

  #close(code: number, reason: string): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      this.#socket.close(code, reason);
    } catch {
      // already closing
    }
  }
}
