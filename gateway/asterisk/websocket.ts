/**
 * Asterisk chan_websocket on `WS /ws/asterisk` (subprotocol `media`), the connection Asterisk opens for
 * `Dial(WebSocket/<client>/c(ulaw))` with a `websocket_client.conf` entry whose `uri` points here
 * (tests/_rigs/asterisk/config.ts writes one).
 *
 * - The front door: telephony peers only, a slot per address (HTTP 403/429 before the upgrade), the
 *   token bucket and size cap per connection (1013/1009).
 * - `MEDIA_START` (plain text or JSON) opens the call with its `format` (ulaw, alaw, slin, slin16 ...);
 *   binary frames are raw codec bytes of that format, decoded, resampled and cut to 20 ms frames;
 *   `DTMF_END` becomes a DTMF event.
 * - TOM's audio goes out encoded in the same format, in frames of `optimal_frame_size`, at most `leadMs`
 *   ahead of the listener (Asterisk re-times it); `MEDIA_XOFF`/`MEDIA_XON` pause and resume sending.
 *   While TOM is silent, silence frames go out on the real-time schedule: Asterisk sends the caller
 *   nothing of its own then, and a media path without packets for seconds looks dead to NATs, SBCs and
 *   phones with inactivity timers. TOM's audio is converted a few frames per tick as the schedule
 *   needs it, never a whole TTS chunk at once (that would hold the event loop past the next slot).
 *   A mark is sent as `MARK_MEDIA` after the audio before it and fires when Asterisk answers
 *   `MEDIA_MARK_PROCESSED` (or, on an Asterisk without marks, when TOM's estimate says it played, plus
 *   `markTimeoutMs`). `clear` drops TOM's queue and sends `FLUSH_MEDIA`; `hangup` sends `HANGUP`.
 *
 * @module
 */
import type { Hono } from "hono";
import { CallsFullError, type Logger } from "../../infra/mod.ts";
import type { CallOutput } from "../call/contract.ts";
import type { CallSession, GatewayDeps } from "../call/session.ts";
import { openAsteriskCall } from "./open_call.ts";
import type { AsteriskCallRef, AsteriskTransferer } from "./ami_transfer.ts";
import { admitWebSocket, CLOSE, closeSocket, type Guard } from "../guard/mod.ts";
import { InboundAudio, OutboundAudio, Pacer, type Ticker } from "../audio/mod.ts";
import { MediaSockets } from "../call/media_sockets.ts";
import { formatByName, KNOWN_FORMATS, type MediaFormat } from "./formats.ts";
import {
  type Command,
  type ControlEvent,
  dtmfDigit,
  formatCommand,
  markId,
  MediaStart,
  parseControl,
} from "./websocket_wire.ts";

/** The path Asterisk's websocket_client `uri` points at. */
export const ASTERISK_WS_PATH = "/ws/asterisk";
/** The subprotocol chan_websocket asks for. */
export const ASTERISK_WS_PROTOCOL = "media";
/** Largest binary message Asterisk accepts (its websocket code closes the call above 65500 bytes). */
const MAX_MESSAGE_BYTES = 65_000;

/** Options of {@linkcode mountAsteriskWebSocket}. */
export interface AsteriskWebSocketOptions {
  /**
   * How far TOM's audio may run ahead of the listener inside Asterisk's queue, in ms (default 400):
   * enough to ride out event-loop stalls, far below the XOFF level (900 frames = 18 s); FLUSH_MEDIA takes
   * it back on barge-in.
   */
  leadMs?: number;
  /** Extra wait for `MEDIA_MARK_PROCESSED` beyond TOM's estimate before a mark fires anyway (default 2000). */
  markTimeoutMs?: number;
  /** `MEDIA_START` must arrive this many ms after the upgrade (default 5000). */
  startTimeoutMs?: number;
  /** Unparseable text messages tolerated before closing with 1008 (default 10). */
  maxInvalidMessages?: number;
  /** Send `ANSWER` once the call is open (default true; needed when the dial string has `n`). */
  answer?: boolean;
  /** Pacing grid (default the shared 10 ms ticker). */
  ticker?: Ticker;
  /** Cold transfer through AMI (ami_transfer.ts); without it the calls' outputs have no `transfer`. */
  transfer?: AsteriskTransferer;
  /** The caller's number, asked of Asterisk (ami_caller.ts) before the call opens; bounded by its caller. */
  callerId?: (call: AsteriskCallRef) => Promise<string | undefined>;
}

/** The mounted transport. */
export interface AsteriskWebSocket {
  /** Open connections. */
  readonly size: number;
  /** Hang up every open call (shutdown). */
  close(): void;
}

/**
 * Mount `GET /ws/asterisk` on `app`.
 *
 * @param guard the shared front door (default: one built from `deps.config`)
 */
export function mountAsteriskWebSocket(
  app: Hono,
  deps: GatewayDeps,
  guard?: Guard,
  opts: AsteriskWebSocketOptions = {},
): AsteriskWebSocket {
  const open = new MediaSockets<AsteriskWsCall>(deps, "chan_websocket", guard);
  app.get(ASTERISK_WS_PATH, async function asteriskWebSocket(c) {
    await open.ready();
    const up = admitWebSocket(c, open.guard, "chan_websocket", { protocol: ASTERISK_WS_PROTOCOL });
    if (up instanceof Response) return up;
    return open.register(up, new AsteriskWsCall(up.socket, deps, open.log, opts));
  });
  return {
    get size() {
      return open.size;
    },
    close: () => void open.hangupAll(),
  };
}

interface PendingMark {
  name: string;
  timer: ReturnType<typeof setTimeout>;
}

/** One chan_websocket connection: one call. */
class AsteriskWsCall {
  readonly #socket: WebSocket;
  readonly #deps: GatewayDeps;
  readonly #opts: AsteriskWebSocketOptions;
  readonly #output: CallOutput;
  readonly #marks = new Map<string, PendingMark>();
  #log: Logger;
  #state: "open" | "call" | "ended" = "open";
  #json = false;
  #session: CallSession | undefined;
  #inbound: InboundAudio | undefined;
  #outbound: OutboundAudio | undefined;
  #pacer: Pacer<Uint8Array> | undefined;
  #invalid = 0;
  #markSeq = 0;
  #marksConfirmed = false;
  #startedAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The WebSocket channel's name from MEDIA_START (the caller is its bridge peer). */
  #channel: string | undefined;

  constructor(socket: WebSocket, deps: GatewayDeps, log: Logger, opts: AsteriskWebSocketOptions) {
    this.#socket = socket;
    this.#deps = deps;
    this.#log = log;
    this.#opts = opts;
    this.#output = this.#makeOutput();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state === "open") this.#close(CLOSE.policy, "no MEDIA_START");
    }, opts.startTimeoutMs ?? 5000);
    socket.addEventListener("close", (ev) => this.#onClose(ev.code));
  }

  /** A message from Asterisk (already admitted by the guard). */
  receive(data: string | ArrayBuffer): void {
    if (this.#state === "ended") return;
    if (typeof data !== "string") {
      if (this.#state === "call" && data.byteLength > 0) {
        this.#inbound?.push(new Uint8Array(data), this.#now() - this.#startedAt);
      }
      return;
    }
    const e = parseControl(data);
    if (!e) return this.#invalidMessage("not a control message");
    if (this.#state === "open") {
      if (e.event !== "MEDIA_START") return this.#invalidMessage(`${e.event} before MEDIA_START`);
      return this.#start(e);
    }
    switch (e.event) {
      case "DTMF_END": {
        const digit = dtmfDigit(e);
        if (digit) this.#session?.deliver({ type: "dtmf", digit });
        return;
      }
      case "MEDIA_MARK_PROCESSED":
        return this.#markProcessed(markId(e));
      case "MEDIA_XOFF":
        this.#log.debug("Asterisk's queue is full: pausing");
        return this.#pacer?.pause();
      case "MEDIA_XON":
        return this.#pacer?.resume();
      case "ERROR":
        this.#log.warn("Asterisk reported an error", { error_text: String(e.fields.error_text ?? "") });
        return;
      case "MEDIA_START":
        return this.#invalidMessage("second MEDIA_START");
      default:
        // STATUS, QUEUE_DRAINED, MEDIA_BUFFERING_COMPLETED, DTMF_BEGIN...: nothing to do.
        this.#log.debug("Asterisk event", { event: e.event });
    }
  }

  /** The guard is closing the socket (rate, size): stop sending so its close frame is not stuck behind audio. */
  stopSending(): void {
    this.#finish();
  }

  /** End the call from TOM's side: HANGUP (Asterisk then closes the socket), end the session. */
  hangup(reason: string): void {
    if (this.#state === "ended") return;
    const wasCall = this.#state === "call";
    this.#finish();
    if (wasCall) {
      this.#command("HANGUP");
      // Asterisk closes the socket after HANGUP; close it ourselves if it does not.
      this.#timer = setTimeout(() => this.#close(CLOSE.normal, reason), 2000);
    } else this.#close(CLOSE.goingAway, reason);
    const session = this.#session;
    if (session) queueMicrotask(() => session.end(reason));
  }

  #makeOutput(): CallOutput {
    // deno-lint-ignore no-this-alias -- the getter needs the connection
    const call = this;
    const transferer = this.#opts.transfer;
    return {
      ...(transferer
        ? {
          transfer: (to, signal) =>
            this.#state === "call" && this.#channel
              ? transferer.transfer(
                {
                  transport: "chan_websocket",
                  channel: this.#channel,
                  // With TOM's call id a caller nobody answers comes back linked (ami_transfer.ts).
                  callId: this.#session?.id,
                  accountId: this.#session?.accountId,
                },
                to,
                signal,
              )
              : Promise.resolve({ ok: false, reason: "failed", detail: "no channel to transfer" } as const),
        }
        : {}),
      audio: (pcm, sent) => {
        if (this.#state === "call") this.#outbound?.push(pcm, sent);
      },
      mark: (name) => {
        if (this.#outbound) this.#outbound.mark(name);
        else queueMicrotask(() => this.#session?.deliver({ type: "mark", name, cleared: true }));
      },
      clear: () => {
        const unconverted = this.#outbound?.clear() ?? [];
        // Marks already in Asterisk's queue come first in the stream: they fire (cleared) first.
        this.#dropSentMarks();
        this.#pacer?.clear();
        if (unconverted.length > 0) {
          queueMicrotask(() => {
            for (const name of unconverted) this.#session?.deliver({ type: "mark", name, cleared: true });
          });
        }
        if (this.#state === "call") this.#command("FLUSH_MEDIA");
      },
      hangup: (reason) => this.hangup(reason),
      get queuedMs() {
        const p = call.#pacer;
        return p ? p.queuedMs + p.aheadMs + (call.#outbound?.pendingMs ?? 0) : 0;
      },
    };
  }

  #start(e: ControlEvent): void {
    const parsed = MediaStart.safeParse(e.fields);
    if (!parsed.success) return this.#refuse(`invalid MEDIA_START: ${parsed.error.issues[0]?.message}`);
    const start = parsed.data;
    this.#json = e.json;
    const format = formatByName(start.format);
    if (!format) {
      return this.#refuse(`format ${start.format} is not supported (use one of ${KNOWN_FORMATS.join(", ")})`);
    }
    const frameSamples = start.optimal_frame_size / format.bytesPerSample;
    const frameMs = (frameSamples * 1000) / format.rate;
    if (!Number.isInteger(frameSamples) || !Number.isInteger(frameMs) || frameMs % 10 !== 0) {
      return this.#refuse(
        `optimal_frame_size ${start.optimal_frame_size} is not a whole 10 ms of ${format.name}`,
      );
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#state = "call";
    this.#channel = start.channel;
    this.#startedAt = this.#now();
    const pacer = new Pacer<Uint8Array>({
      frameMs,
      leadMs: this.#opts.leadMs ?? 400,
      maxBurst: 3,
      prebufferMs: 20,
      ...(this.#opts.ticker ? { ticker: this.#opts.ticker } : {}),
      send: (frames) => this.#sendFrames(frames),
      onMark: (name, cleared) => this.#markPassed(name, cleared),
      refill: (frames) => this.#outbound?.fill(frames),
    });
    this.#pacer = pacer;
    const outbound = new OutboundAudio({
      codec: format.codec,
      rate: format.rate,
      frameMs,
      sliceFrames: 5,
      onFrame: (frame) => pacer.enqueue(frame),
      onMark: (name) => pacer.mark(name),
      onCue: (sent) => pacer.cue(sent),
    });
    this.#outbound = outbound;
    pacer.silence = outbound.encode(new Int16Array(outbound.frameSamples));
    // Asterisk sends nothing while the far side is silent on some channels: time frames by arrival.
    this.#inbound = new InboundAudio({
      codec: format.codec,
      rate: format.rate,
      timing: "arrival",
      onFrame: (pcm, atMs) => this.#session?.deliver({ type: "audio", pcm, atMs }),
    });
    const lookup = this.#opts.callerId;
    if (!lookup || !start.channel) return this.#open(start, format, undefined);
    // The caller ID is not in MEDIA_START: ask Asterisk (bounded) before TOM answers.
    lookup({ transport: "chan_websocket", channel: start.channel }).catch(() => undefined).then((from) => {
      if (this.#state === "call" && !this.#session) this.#open(start, format, from);
    });
  }

  #open(start: MediaStart, format: MediaFormat, from: string | undefined): void {
    try {
      this.#session = openAsteriskCall(this.#deps, {
        transport: "chan_websocket",
        direction: "inbound",
        externalId: start.channel_id ?? start.connection_id,
        ...(from ? { from } : {}),
        peerRate: format.rate,
        meta: {
          connection_id: start.connection_id,
          channel: start.channel,
          channel_id: start.channel_id,
          format: format.name,
          control: this.#json ? "json" : "plain-text",
        },
      }, this.#output);
      this.#log = this.#session.log.child({ component: "gateway" });
    } catch (err) {
      // Shutting down or at the maximum of calls (a race past the front door): refused, not an error.
      const refused = this.#deps.calls.draining || err instanceof CallsFullError;
      if (!refused) this.#log.error("cannot open the call", { error: err });
      this.#finish();
      this.#command("HANGUP");
      this.#close(refused ? CLOSE.tryAgain : CLOSE.internal, "call refused");
      return;
    }
    if (this.#opts.answer ?? true) this.#command("ANSWER");
  }

  #sendFrames(frames: Uint8Array[]): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    const perMessage = Math.max(1, Math.floor(MAX_MESSAGE_BYTES / frames[0].length));
    for (let i = 0; i < frames.length; i += perMessage) {
      const part = frames.slice(i, i + perMessage);
      this.#socket.send(part.length === 1 ? part[0] : concat(part));
    }
  }

  /** The pacer passed a mark: ask Asterisk to confirm when it has played the audio before it. */
  #markPassed(name: string, cleared: boolean): void {
    if (cleared || this.#state !== "call") {
      queueMicrotask(() => this.#session?.deliver({ type: "mark", name, cleared: true }));
      return;
    }
    const id = `m${++this.#markSeq}`;
    const wait = (this.#pacer?.aheadMs ?? 0) + (this.#opts.markTimeoutMs ?? 2000);
    const timer = setTimeout(() => {
      if (!this.#marks.has(id)) return;
      if (!this.#marksConfirmed) this.#log.debug("no MEDIA_MARK_PROCESSED from Asterisk: mark fired by time");
      this.#markProcessed(id, false);
    }, wait);
    this.#marks.set(id, { name, timer });
    this.#command("MARK_MEDIA", id);
  }

  /** Asterisk played up to mark `id`: it and every mark before it fire, in order. */
  #markProcessed(id: string | undefined, confirmed = true): void {
    if (id === undefined || !this.#marks.has(id)) return;
    if (confirmed) this.#marksConfirmed = true;
    for (const [k, m] of this.#marks) {
      this.#marks.delete(k);
      clearTimeout(m.timer);
      this.#session?.deliver({ type: "mark", name: m.name, cleared: false });
      if (k === id) break;
    }
  }

  /** After FLUSH_MEDIA: marks Asterisk still held were dropped with their audio. */
  #dropSentMarks(): void {
    const dropped = [...this.#marks.values()];
    this.#marks.clear();
    for (const m of dropped) clearTimeout(m.timer);
    if (dropped.length === 0) return;
    queueMicrotask(() => {
      for (const m of dropped) this.#session?.deliver({ type: "mark", name: m.name, cleared: true });
    });
  }

  #command(command: Command, id?: string): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(formatCommand(command, this.#json, id));
  }

  #invalidMessage(why: string): void {
    this.#invalid++;
    this.#log.debug("invalid message from Asterisk", { reason: why });
    if (this.#invalid >= (this.#opts.maxInvalidMessages ?? 10)) {
      this.#log.warn("chan_websocket connection closed: too many invalid messages", { reason: why });
      if (this.#state === "call") this.hangup("too many invalid messages");
      else this.#close(CLOSE.policy, "too many invalid messages");
    }
  }

  /** A call TOM cannot take (bad MEDIA_START): HANGUP, then close. */
  #refuse(why: string): void {
    this.#log.error("chan_websocket call refused", { reason: why });
    this.#finish();
    this.#command("HANGUP");
    this.#close(CLOSE.policy, "unsupported call");
  }

  #finish(): void {
    this.#state = "ended";
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pacer?.stop();
    for (const m of this.#marks.values()) clearTimeout(m.timer);
    this.#marks.clear();
  }

  #onClose(code: number): void {
    if (this.#state !== "ended") this.#finish();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inbound?.dispose();
    this.#outbound?.dispose();
    this.#inbound = undefined;
    this.#outbound = undefined;
    const session = this.#session;
    if (session && !session.ended) {
      session.end(
        code === CLOSE.normal || code === CLOSE.goingAway ? "caller hung up" : `socket closed (${code})`,
        code === CLOSE.internal ? "failed" : "completed",
      );
    }
  }

  #close(code: number, reason: string): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    closeSocket(this.#socket, code, reason);
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
