/**
 * Asterisk AudioSocket (protocols.md section 4): a TCP server on `audiosocket.host:port` (default
 * 127.0.0.1:9092) that Asterisk's `AudioSocket(uuid,host:port)` application or
 * `Dial(AudioSocket/host:port/uuid/c(slin16))` connects to, one connection per call.
 *
 * - The front door: telephony peers only (`gateway.telephonyPeers`, loopback by default), a connection
 *   slot per address, a token bucket per connection; a refused peer is closed before a byte is read.
 * - The first message must be the call's UUID (within `uuidTimeoutMs`); then slin audio (kind 0x10 at
 *   `slinRate`, 0x11..0x18 at their rates), DTMF, hang-up, error. An unknown kind or an oversize length
 *   closes the connection (logged, counted); nothing the peer sends can throw out of the server.
 * - TOM answers in slin at the caller's own kind and rate, in 20 ms frames on the real-time schedule,
 *   with silence frames whenever it has nothing to say (Asterisk hangs up after 2 s without a frame).
 *   `clear` drops the queue; a mark fires when the paced sender passes it; `hangup` sends kind 0x00 and
 *   closes.
 * - Shutting down or at the maximum of calls (`maxCalls`), a connection is refused (kind 0xff) right after its
 *   UUID, before any audio, so the dialplan falls back to a person.
 * - A UUID a warm transfer registered (ami_warm.ts) is the staff member's leg, not a call: TOM plays the
 *   briefing and hangs up that connection (the dialplan then bridges the caller to the person). Part of a call
 *   TOM holds, it is taken also at the maximum of calls and while draining.
 * - A UUID a transfer registered for the way back (call/returning.ts) opens a call of the transferred call's
 *   account with `meta.returnedFromTransfer` and `meta.previousCallId`: TOM offers a callback at once.
 *
 * @module
 */
import type { Logger } from "../../infra/mod.ts";
import { type CallOutput, PIPELINE_RATE } from "../call/contract.ts";
import type { CallSession, GatewayDeps } from "../call/session.ts";
import { CallsFullError } from "../../infra/mod.ts";
import { openAsteriskCall } from "./open_call.ts";
import type { AsteriskCallRef, AsteriskTransferer } from "./ami_transfer.ts";
import type { WarmLeg } from "./ami_warm.ts";
import { createGuard, type Guard, type SocketLimiter } from "../guard/mod.ts";
import { InboundAudio, loadResampler, OutboundAudio, Pacer, type Ticker } from "../audio/mod.ts";
import {
  type AudioSocketMessage,
  AudioSocketParser,
  HANGUP_MESSAGE,
  KIND,
  REFUSE_MESSAGE,
  slinKindFor,
} from "./audiosocket_wire.ts";

/** Options of {@linkcode startAudioSocketServer}. */
export interface AudioSocketOptions {
  /** Address to listen on (default `audiosocket.host`). */
  hostname?: string;
  /** Port (default `audiosocket.port`; 0 picks a free one). */
  port?: number;
  /**
   * Rate of kind 0x10 audio (default 8000). Asterisk before 22.6/21.11/20.16 sends 0x10 whatever the
   * channel's rate: a dialplan that dials `c(slin16)` on such an Asterisk needs a listener with 16000.
   */
  slinRate?: number;
  /** Milliseconds to wait for the UUID message before closing (default 5000). */
  uuidTimeoutMs?: number;
  /**
   * Milliseconds to wait after the UUID for the caller's first audio, whose kind TOM then answers in
   * (default 100); without audio by then TOM answers in kind 0x10 at `slinRate`. Answering a slin16
   * channel in 0x10 first and 0x12 later costs Asterisk 10-25 ms of audio at the switch (measured).
   */
  formatWaitMs?: number;
  /** Writes queued on a connection whose peer stops reading, before it is closed (default 100 = 2 s). */
  maxPendingWrites?: number;
  /** Pacing grid (default the shared 10 ms ticker). */
  ticker?: Ticker;
  /** Cold transfer through AMI (ami_transfer.ts); without it the calls' outputs have no `transfer`. */
  transfer?: AsteriskTransferer;
  /** The caller's number, asked of Asterisk (ami_caller.ts) before the call opens; bounded by its caller. */
  callerId?: (call: AsteriskCallRef) => Promise<string | undefined>;
}

/** The running server. */
export interface AudioSocketServer {
  readonly addr: Deno.NetAddr;
  /** Open connections. */
  readonly size: number;
  /** Stop listening, hang up every open call (kind 0x00), wait until their sockets are closed. */
  close(): Promise<void>;
}

/**
 * Listen for AudioSocket connections.
 *
 * @param deps the appliance (config, store, registry, answering stage)
 * @param guard the shared front door (default: one built from `deps.config`)
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export async function startAudioSocketServer(
  deps: GatewayDeps,
  guard?: Guard,
  opts: AudioSocketOptions = {},
): Promise<AudioSocketServer> {
  const g = guard ?? createGuard(deps.config, deps.meter, deps.log, {
    draining: () => deps.calls.draining,
    full: () => deps.calls.full,
  });
  const slinRate = opts.slinRate ?? 8000;
  if (slinKindFor(slinRate) === undefined) {
    throw new RangeError(`Cannot start AudioSocket: slinRate ${slinRate} is not an AudioSocket rate`);
  }
  await loadResampler();
  const log = deps.log.child({ component: "gateway", transport: "audiosocket" });
  const errors = deps.meter.createCounter("tom_audiosocket_protocol_errors_total", {
    description: "AudioSocket connections closed for a malformed stream",
  });
  const listener = Deno.listen({
    hostname: opts.hostname ?? deps.config.audiosocket.host,
    port: opts.port ?? deps.config.audiosocket.port,
    transport: "tcp",
  });
  const open = new Set<AudioSocketCall>();
  const accepting = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
        log.error("accept failed", { error: e });
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const remote = conn.remoteAddr.hostname;
      if (!g.checkPeer(remote, "audiosocket")) {
        conn.close();
        continue;
      }
      const release = g.connectionSlot(remote, "audiosocket");
      if (!release) {
        conn.close();
        continue;
      }
      conn.setNoDelay(true);
      const call = new AudioSocketCall(conn, deps, log, g.socketLimiter("audiosocket"), {
        slinRate,
        uuidTimeoutMs: opts.uuidTimeoutMs ?? 5000,
        formatWaitMs: opts.formatWaitMs ?? 100,
        maxPendingWrites: opts.maxPendingWrites ?? 100,
        ticker: opts.ticker,
        transfer: opts.transfer,
        callerId: opts.callerId,
        onProtocolError: () => errors.add(1),
        admit: () => {
          const refusal = g.draining() ? "draining" : g.full() ? "full" : undefined;
          if (refusal) g.reject("audiosocket", refusal, remote);
          return refusal === undefined;
        },
        peer: g.peerLabel(remote),
      });
      open.add(call);
      call.finished.finally(() => {
        release();
        open.delete(call);
      });
    }
  })();
  let closing: Promise<void> | undefined;
  return {
    addr: listener.addr,
    get size() {
      return open.size;
    },
    close() {
      closing ??= (async () => {
        try {
          listener.close();
        } catch {
          // already closed
        }
        await accepting;
        const calls = [...open];
        for (const c of calls) c.hangup("shutting down");
        await Promise.allSettled(calls.map((c) => c.finished));
      })();
      return closing;
    },
  };
}

interface CallOptions {
  slinRate: number;
  uuidTimeoutMs: number;
  formatWaitMs: number;
  maxPendingWrites: number;
  ticker: Ticker | undefined;
  transfer: AsteriskTransferer | undefined;
  callerId: ((call: AsteriskCallRef) => Promise<string | undefined>) | undefined;
  onProtocolError: () => void;
  /** False (counted and logged) while shutting down or at the maximum of calls: a new call is refused. */
  admit: () => boolean;
  peer: string;
}

/** One AudioSocket connection: one call. */
class AudioSocketCall {
  readonly finished: Promise<void>;
  readonly #conn: Deno.TcpConn;
  readonly #deps: GatewayDeps;
  readonly #limiter: SocketLimiter;
  readonly #opts: CallOptions;
  readonly #parser: AudioSocketParser;
  readonly #pacer: Pacer<Uint8Array>;
  readonly #output: CallOutput;
  #log: Logger;
  #session: CallSession | undefined;
  #inbound: InboundAudio | undefined;
  #inKind = -1;
  /** Undefined until the answer's format is decided; audio and marks wait in `#pending` meanwhile. */
  #outbound: OutboundAudio | undefined;
  #outKind = -1;
  #pending: ({ pcm: Int16Array; sent?: () => void } | string)[] = [];
  #pendingMs = 0;
  #formatTimer: ReturnType<typeof setTimeout> | undefined;
  #state: "uuid" | "call" | "ended" = "uuid";
  #writing: Promise<unknown> = Promise.resolve();
  #pendingWrites = 0;
  #uuidTimer: ReturnType<typeof setTimeout> | undefined;
  #startedAt = 0;
  #readFailed = false;
  #uuid = "";
  /** The staff leg of a warm transfer this connection is (no call is opened for it). */
  #warm: WarmLeg | undefined;

  constructor(conn: Deno.TcpConn, deps: GatewayDeps, log: Logger, limiter: SocketLimiter, opts: CallOptions) {
    this.#conn = conn;
    this.#deps = deps;
    this.#log = log;
    this.#limiter = limiter;
    this.#opts = opts;
    this.#parser = new AudioSocketParser({ slinRate: opts.slinRate, maxPayloadBytes: limiter.maxBytes });
    this.#pacer = new Pacer<Uint8Array>({
      send: (frames) => this.#write(frames.length === 1 ? frames[0] : concat(frames)),
      // TOM's audio is converted a few frames per tick, as the schedule needs it (a long TTS chunk
      // converted at once would hold the event loop past the next frame's slot).
      refill: (frames) => this.#outbound?.fill(frames),
      // A frame of slack for just-in-time sources (the echo, real-time TTS); bursts start at once.
      prebufferMs: 20,
      onMark: (name, cleared) => {
        if (name === BRIEFED && this.#warm) return this.#briefed(this.#warm);
        // clear() fires its marks inside the answering stage's own call: deliver them after it returns.
        const deliver = () => this.#session?.deliver({ type: "mark", name, cleared });
        if (cleared) queueMicrotask(deliver);
        else deliver();
      },
      ...(opts.ticker ? { ticker: opts.ticker } : {}),
    });
    this.#output = this.#makeOutput();
    this.#uuidTimer = setTimeout(() => {
      this.#uuidTimer = undefined;
      if (this.#state === "uuid") this.#fail("no UUID message in time");
    }, opts.uuidTimeoutMs);
    this.finished = this.#run();
  }

  /** End the call from TOM's side: hang-up message, close, end the session. */
  hangup(reason: string): void {
    if (this.#state === "ended") return;
    this.#finish(reason, true);
    const session = this.#session;
    // The answering stage may be calling from inside its own handler: end the session after it returns.
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
            this.#state === "call"
              ? transferer.transfer(
                {
                  transport: "audiosocket",
                  uuid: this.#uuid,
                  callId: this.#session?.id,
                  accountId: this.#session?.accountId,
                },
                to,
                signal,
              )
              : Promise.resolve({ ok: false, reason: "failed", detail: "the call has ended" } as const),
        }
        : {}),
      audio: (pcm, sent) => {
        if (this.#state !== "call") return;
        if (this.#outbound) return this.#outbound.push(pcm, sent);
        this.#pending.push({ pcm, sent });
        this.#pendingMs += (pcm.length * 1000) / PIPELINE_RATE;
      },
      mark: (name) => {
        if (!this.#outbound) return void this.#pending.push(name);
        this.#outbound.mark(name);
      },
      clear: () => {
        // In stream order: the pacer's marks, then those still waiting for conversion, then the pending.
        const dropped = [
          ...(this.#outbound?.clear() ?? []),
          ...this.#pending.filter((p): p is string => typeof p === "string"),
        ];
        this.#pending = [];
        this.#pendingMs = 0;
        this.#pacer.clear();
        if (dropped.length > 0) {
          queueMicrotask(() => {
            for (const name of dropped) this.#session?.deliver({ type: "mark", name, cleared: true });
          });
        }
      },
      hangup: (reason) => this.hangup(reason),
      get queuedMs() {
        return call.#pendingMs + call.#pacer.queuedMs + (call.#outbound?.pendingMs ?? 0);
      },
    };
  }

  /** Answer in `kind` from now on (frames already queued keep theirs: each message names its kind). */
  #answerIn(kind: number, rate: number): void {
    clearTimeout(this.#formatTimer);
    this.#formatTimer = undefined;
    // What the old format still holds goes out in it (a switch happens once, at the start of the call).
    this.#outbound?.fill(Infinity);
    this.#outbound?.flush();
    this.#outbound?.dispose();
    const out = new OutboundAudio({
      codec: "l16",
      rate,
      sliceFrames: SLICE_FRAMES,
      wrap: (bytes) => wrapAudio(kind, bytes),
      onFrame: (frame) => this.#pacer.enqueue(frame),
      onMark: (name) => this.#pacer.mark(name),
      onCue: (sent) => this.#pacer.cue(sent),
    });
    this.#outbound = out;
    this.#outKind = kind;
    this.#pacer.silence = out.encode(new Int16Array(out.frameSamples));
    for (const p of this.#pending.splice(0)) {
      if (typeof p === "string") out.mark(p);
      else out.push(p.pcm, p.sent);
    }
    this.#pendingMs = 0;
  }

  async #run(): Promise<void> {
    const buf = new Uint8Array(16 * 1024);
    try {
      while (this.#state !== "ended") {
        let n: number | null;
        try {
          n = await this.#conn.read(buf);
        } catch (e) {
          if (!this.#ended()) this.#log.debug("read failed", { error: e });
          this.#readFailed = true;
          n = null;
        }
        if (n === null) {
          // Asterisk closes the connection when the caller hangs up (it sends no hang-up message then).
          this.#peerGone(this.#readFailed ? "connection lost" : "caller hung up");
          break;
        }
        for (const m of this.#parser.push(buf.subarray(0, n))) {
          if (this.#ended()) break;
          const verdict = this.#limiter.admit(m.bytes);
          if (verdict !== "ok") {
            this.#fail(verdict === "rate" ? "message rate limit" : "message too big");
            break;
          }
          this.#handle(m);
        }
        const error = this.#parser.error;
        if (error && !this.#ended()) {
          this.#opts.onProtocolError();
          this.#fail(error.message);
        }
      }
    } catch (e) {
      this.#log.error("AudioSocket connection failed", { error: e });
      this.#finish("internal error", false);
      this.#session?.end("internal error", "failed");
    } finally {
      clearTimeout(this.#uuidTimer);
      this.#pacer.stop();
      await this.#writing;
      this.#inbound?.dispose();
      this.#outbound?.dispose();
      try {
        this.#conn.close();
      } catch {
        // already closed
      }
    }
  }

  #handle(m: AudioSocketMessage): void {
    if (this.#state === "uuid") {
      if (m.kind === "hangup") return this.#peerGone("hung up before the UUID");
      if (m.kind !== "uuid") {
        this.#opts.onProtocolError();
        return this.#fail(`expected the UUID message first, got ${m.kind}`);
      }
      return this.#start(m.uuid);
    }
    switch (m.kind) {
      case "audio":
        return this.#audio(m.type, m.rate, m.pcm);
      case "dtmf":
        return this.#session?.deliver({ type: "dtmf", digit: m.digit });
      case "hangup":
        return this.#peerGone("caller hung up");
      case "error":
        if (m.code === 0x01) return this.#peerGone("caller hung up");
        this.#log.warn("Asterisk reported an AudioSocket error", { code: m.code });
        return;
      case "uuid":
        this.#log.debug("second UUID message ignored");
        return;
    }
  }

  #start(uuid: string): void {
    clearTimeout(this.#uuidTimer);
    this.#uuidTimer = undefined;
    this.#state = "call";
    this.#uuid = uuid;
    this.#startedAt = this.#now();
    this.#formatTimer = setTimeout(() => {
      this.#formatTimer = undefined;
      if (!this.#outbound && this.#state === "call") this.#answerIn(KIND.slin, this.#opts.slinRate);
    }, this.#opts.formatWaitMs);
    // The staff leg of a warm transfer belongs to a call TOM already holds: never refused for capacity. Only
    // the one-use id TOM gave that transfer's Originate makes a connection one (takeWarm).
    const warm = this.#opts.transfer?.takeWarm?.(uuid);
    if (warm) return void this.#brief(warm);
    // Shutting down or at the maximum of calls: refuse a new call before any audio, so the dialplan falls back
    // to a person (REFUSE_MESSAGE fails AudioSocket(); Dial(AudioSocket/...) sees a call under 1.5 s).
    if (!this.#opts.admit()) return this.#finish("refused", "refuse");
    const lookup = this.#opts.callerId;
    if (!lookup) return this.#open(uuid, undefined);
    // The caller ID is not on the AudioSocket: ask Asterisk (bounded) before TOM answers.
    lookup({ transport: "audiosocket", uuid }).catch(() => undefined).then((from) => {
      if (this.#state === "call" && !this.#session) this.#open(uuid, from);
    });
  }

  /** Brief the staff member of a warm transfer, then hang up (the mark {@linkcode BRIEFED} ends it). */
  async #brief(leg: WarmLeg): Promise<void> {
    this.#warm = leg;
    leg.connected();
    const pcm = await leg.audio().catch((e) => {
      this.#log.warn("no briefing for the warm transfer: the caller is put through unannounced", {
        error: e,
      });
      return new Int16Array(0);
    });
    if (this.#state !== "call") return;
    // A little silence after the words, so the hang-up never cuts their end.
    this.#output.audio(pcm);
    this.#output.audio(new Int16Array((PIPELINE_RATE * BRIEFING_TAIL_MS) / 1000));
    this.#output.mark(BRIEFED);
  }

  #briefed(leg: WarmLeg): void {
    leg.briefed();
    this.hangup("briefing done");
  }

  #open(uuid: string, from: string | undefined): void {
    try {
      // A caller back from a transfer nobody answered (call/returning.ts): the same practice, linked.
      const back = this.#opts.transfer?.takeReturn?.(uuid);
      this.#session = openAsteriskCall(this.#deps, {
        transport: "audiosocket",
        direction: "inbound",
        externalId: uuid,
        ...(from ? { from } : {}),
        peerRate: this.#opts.slinRate,
        ...(back ? { accountId: back.accountId } : {}),
        meta: back ? { uuid, returnedFromTransfer: true, previousCallId: back.callId } : { uuid },
      }, this.#output);
      this.#log = this.#session.log.child({ component: "gateway" });
    } catch (e) {
      const refused = this.#deps.calls.draining || e instanceof CallsFullError;
      if (!refused) this.#log.error("cannot open the call", { error: e });
      this.#finish(
        this.#deps.calls.draining ? "shutting down" : refused ? "full" : "cannot open the call",
        "refuse",
      );
    }
  }

  #audio(kind: number, rate: number, pcm: Int16Array): void {
    if (kind !== this.#inKind) {
      this.#inbound?.dispose();
      // Asterisk sends nothing while the far side is silent on some channels: time frames by arrival.
      this.#inbound = new InboundAudio({
        codec: "l16",
        rate,
        timing: "arrival",
        onFrame: (pcm, atMs) => this.#session?.deliver({ type: "audio", pcm, atMs }),
      });
      this.#inKind = kind;
      if (kind !== this.#outKind) {
        this.#answerIn(kind, rate);
        this.#log.debug("answering in the caller's format", { kind, rate });
      }
    }
    this.#inbound?.pushPcm(pcm, this.#now() - this.#startedAt);
  }

  /** Queue a write; the promise settles once the bytes are written (or the write failed). */
  #write(bytes: Uint8Array, always = false): Promise<unknown> | undefined {
    if (!always && this.#pendingWrites >= this.#opts.maxPendingWrites) {
      this.#fail("peer is not reading");
      return undefined;
    }
    this.#pendingWrites++;
    this.#writing = this.#writing.then(async () => {
      try {
        let at = 0;
        while (at < bytes.length) at += await this.#conn.write(bytes.subarray(at));
      } catch {
        if (this.#state !== "ended") this.#peerGone("socket write failed");
      } finally {
        this.#pendingWrites--;
      }
    });
    return this.#writing;
  }

  /** The peer ended the call (hang-up, error 0x01, EOF). */
  #peerGone(reason: string): void {
    if (this.#state === "ended") return;
    this.#finish(reason, false);
    this.#session?.end(reason);
  }

  /** A protocol violation or a limit: log, hang up, close. */
  #fail(why: string): void {
    if (this.#state === "ended") return;
    this.#log.warn("AudioSocket connection closed", { reason: why, peer: this.#opts.peer });
    this.#finish(why, true);
    this.#session?.end(why, "failed");
  }

  /** `send`: true the hang-up (TOM ended the call), "refuse" the refusal (the dialplan falls back). */
  #finish(reason: string, send: boolean | "refuse"): void {
    this.#state = "ended";
    clearTimeout(this.#uuidTimer);
    clearTimeout(this.#formatTimer);
    this.#pacer.stop();
    if (send) this.#write(send === "refuse" ? REFUSE_MESSAGE : HANGUP_MESSAGE, true);
    // Closing wakes the read loop; writes already queued (the hang-up) go out first.
    this.#writing = this.#writing.then(() => {
      try {
        this.#conn.close();
      } catch {
        // already closed
      }
    });
    this.#log.debug("AudioSocket call finished", {
      reason,
      frames_sent: this.#pacer.sentFrames,
      frames_slipped: this.#pacer.slippedFrames,
    });
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }

  /** A method, so TypeScript does not narrow the state across awaits and callbacks. */
  #ended(): boolean {
    return this.#state === "ended";
  }
}

/** The mark after a warm transfer's briefing. */
const BRIEFED = "tom-warm-briefed";
/** Silence after the briefing before TOM hangs up its leg. */
const BRIEFING_TAIL_MS = 200;

/** Frames converted when TOM's audio arrives; the rest as the schedule needs them. */
const SLICE_FRAMES = 5;

function wrapAudio(kind: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 + bytes.length);
  out[0] = kind;
  out[1] = bytes.length >> 8;
  out[2] = bytes.length & 0xff;
  out.set(bytes, 3);
  return out;
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
