/**
 * FreeSWITCH on `WS /ws/freeswitch` (mod_audio_fork, subprotocol `audio.drachtio.org`), with the event
 * socket (gateway/freeswitch/esl.ts) for everything mod_audio_fork cannot do: playing TOM's voice, barge-in, DTMF,
 * hang-up.
 *
 * The dialplan TOM expects (context `freeswitch.context`, default `tom`; TOM and FreeSWITCH on one box):
 *
 * ```xml
 * <context name="tom">
 *   <extension name="tom">
 *     <condition field="destination_number" expression="^(.+)$">
 *       <action application="answer"/>
 *       <action application="set" data="tom_meta={&quot;caller&quot;:&quot;${caller_id_number}&quot;,&quot;callee&quot;:&quot;${destination_number}&quot;,&quot;tom_call_id&quot;:&quot;${tom_call_id}&quot;,&quot;tom_account_id&quot;:&quot;${tom_account_id}&quot;,&quot;rate&quot;:16000,&quot;mix&quot;:&quot;mono&quot;,&quot;uuid&quot;:&quot;${uuid}&quot;}"/>
 *       <action application="set" data="tom_fork=${uuid_audio_fork(${uuid} start ws://127.0.0.1:8080/ws/freeswitch mono 16k tom ${tom_meta})}"/>
 *       <action application="park"/>
 *     </condition>
 *   </extension>
 * </context>
 * ```
 *
 * The metadata JSON must not contain spaces (mod_audio_fork splits its arguments on spaces). Calls TOM
 * places (gateway/outbound/place.ts) come through the same extension with `tom_call_id` and `tom_account_id`
 * set by `originate`, so their audio continues the call row TOM created when it dialled.
 *
 * - Inbound: the metadata frame first (freeswitch_meta.ts), then binary L16 of any size, re-framed to
 *   20 ms at 16 kHz; `stereo` takes the caller's channel; a zero-length binary frame (mod_audio_fork's
 *   `graceful-shutdown`) ends the call cleanly. DTMF comes from ESL `DTMF` events.
 * - Outbound: WAV files played with `uuid_broadcast` (freeswitch_playback.ts); marks fire on
 *   PLAYBACK_STOP; `clear` sends `killAudio` and `uuid_break <uuid> all`.
 * - Hang-up from TOM: `uuid_kill <uuid>` over ESL plus `{"type":"disconnect"}`, then the socket closes.
 * - Cold transfer: `uuid_transfer` over ESL (esl_transfer.ts); once the target answered, TOM stops its fork
 *   (`uuid_audio_fork <uuid> stop`) and the call ends for TOM (the caller stays with the person). Warm
 *   (`freeswitch.warmTransfer`, esl_warm.ts): TOM calls and briefs the person first, then `uuid_bridge`.
 *   From the caller: CHANNEL_HANGUP_COMPLETE or the socket closing.
 *
 * @module
 */
import type { Hono } from "hono";
import { join } from "node:path";
import { CallsFullError, type Logger } from "../../infra/mod.ts";
import type { CallOutput, TransferOutcome, TransferTo } from "../call/contract.ts";
import type { CallSession, GatewayDeps } from "../call/session.ts";
import { admitWebSocket, CLOSE, type Guard } from "../guard/mod.ts";
import { type Clock, InboundAudio } from "../audio/mod.ts";
import { MediaSockets } from "../call/media_sockets.ts";
import { EslClient, type EslEvent } from "./esl.ts";
import { type ForkMetadata, parseForkMetadata } from "./meta.ts";
import { FsPlayback } from "./playback.ts";
import { fsTransfer } from "./esl_transfer.ts";
import { fsWarmTransfer } from "./esl_warm.ts";
import { openTelephonySession } from "../outbound/attach.ts";

/** The path of the WebSocket mod_audio_fork connects to. */
export const FREESWITCH_WS_PATH = "/ws/freeswitch";
/**
 * The channel variable TOM sets (`uuid_setvar <uuid> tom_taken true`) once it has taken a call: the shipped
 * dialplan checks it a moment after starting the fork and sends a call without it to the fallback.
 */
export const TAKEN_VARIABLE = "tom_taken";
/** mod_audio_fork's subprotocol. */
export const FREESWITCH_WS_PROTOCOL = "audio.drachtio.org";

/** Options of {@linkcode mountFreeswitch}. */
export interface FreeswitchOptions {
  /** The event socket client (default: one built from `freeswitch.*`, started here, closed by `close()`). */
  esl?: EslClient;
  /** Where playback files go (default `freeswitch.playbackDir`, or `<dataDir>/playback`). */
  playbackDir?: string;
  /** File batching and mark timing (freeswitch_playback.ts). */
  playback?: { gapMs?: number; firstFileMs?: number; maxFileMs?: number; markSlackMs?: number };
  /** The metadata frame must arrive this many ms after the upgrade (default 5000). */
  metadataTimeoutMs?: number;
  /** Invalid messages tolerated before closing with 1008 (default 10). */
  maxInvalidMessages?: number;
  clock?: Clock;
}

/** The mounted transport. */
export interface FreeswitchTransport {
  /** The event socket client (shared with outbound calls). */
  readonly esl: EslClient;
  /** Open audio forks. */
  readonly size: number;
  /** Hang up every open call, then close the event socket if this transport created it. */
  close(): Promise<void>;
}

/** The playback directory for a configuration. */
export function playbackDirOf(deps: GatewayDeps): string {
  return deps.config.freeswitch.playbackDir || join(deps.config.dataDir, "playback");
}

/**
 * Mount `GET /ws/freeswitch` on `app` and connect to the event socket.
 *
 * @param guard the shared front door (default: one built from `deps.config`)
 */
export function mountFreeswitch(
  app: Hono,
  deps: GatewayDeps,
  guard?: Guard,
  opts: FreeswitchOptions = {},
): FreeswitchTransport {
  const open = new MediaSockets<ForkCall>(deps, "freeswitch", guard);
  const log = open.log;
  const fs = deps.config.freeswitch;
  const ownEsl = opts.esl === undefined;
  const esl = opts.esl ??
    new EslClient({ host: fs.eslHost, port: fs.eslPort, password: fs.eslPassword, log: deps.log });
  esl.start();
  const dir = opts.playbackDir ?? playbackDirOf(deps);
  removeStaleFiles(dir, log);
  const calls = new Map<string, ForkCall>();
  const offEvents = esl.onEvent((e) => {
    if (e.uuid) calls.get(e.uuid)?.onEsl(e);
  });
  const env = { deps, esl, dir, calls, opts, log };

  app.get(FREESWITCH_WS_PATH, async function freeswitchAudioFork(c) {
    await open.ready();
    const up = admitWebSocket(c, open.guard, "freeswitch", { protocol: FREESWITCH_WS_PROTOCOL });
    if (up instanceof Response) return up;
    return open.register(up, new ForkCall(up.socket, env, new URL(c.req.url).searchParams));
  });

  let closing: Promise<void> | undefined;
  return {
    esl,
    get size() {
      return open.size;
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled(open.hangupAll());
        offEvents();
        if (ownEsl) await esl.close();
      })();
      return closing;
    },
  };
}

interface ForkEnv {
  deps: GatewayDeps;
  esl: EslClient;
  dir: string;
  calls: Map<string, ForkCall>;
  opts: FreeswitchOptions;
  log: Logger;
}

/** One mod_audio_fork connection: one call. */
class ForkCall {
  readonly #socket: WebSocket;
  readonly #env: ForkEnv;
  readonly #query: URLSearchParams;
  #log: Logger;
  #state: "open" | "call" | "ended" = "open";
  #meta: ForkMetadata | undefined;
  #session: CallSession | undefined;
  #inbound: InboundAudio | undefined;
  #playback: FsPlayback | undefined;
  #invalid = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: WebSocket, env: ForkEnv, query: URLSearchParams) {
    this.#socket = socket;
    this.#env = env;
    this.#query = query;
    this.#log = env.log;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state === "open") this.#refuse("no metadata frame in time");
    }, env.opts.metadataTimeoutMs ?? 5000);
    socket.addEventListener("close", (ev) => this.#onClose(ev.code));
  }

  /** A message from mod_audio_fork (already admitted by the guard). */
  receive(data: string | ArrayBuffer): void {
    if (this.#state === "ended") return;
    if (typeof data !== "string") {
      if (this.#state === "open") return this.#invalidMessage("audio before the metadata frame");
      if (data.byteLength === 0) return this.#gracefulShutdown();
      this.#inbound?.push(new Uint8Array(data));
      return;
    }
    if (this.#state === "open") return this.#start(data);
    // Text after the metadata: `uuid_audio_fork <uuid> send_text ...` from the dialplan.
    this.#log.debug("text from mod_audio_fork", { length: data.length });
  }

  /** An ESL event of this call's channel. */
  onEsl(e: EslEvent): void {
    if (this.#state !== "call") return;
    switch (e.name) {
      case "PLAYBACK_START":
      case "PLAYBACK_STOP":
        return this.#playback?.onEvent(e);
      case "DTMF": {
        const digit = e.headers["DTMF-Digit"] ?? "";
        if (/^[0-9A-D*#]$/i.test(digit)) this.#session?.deliver({ type: "dtmf", digit: digit.toUpperCase() });
        return;
      }
      case "CHANNEL_BRIDGE":
        // Bridged to a person (also a transfer that answered after TOM stopped waiting): TOM lets go.
        return this.#letGo();
      case "CHANNEL_HANGUP_COMPLETE":
        this.#end(`caller hung up (${e.headers["Hangup-Cause"] ?? "unknown cause"})`);
        return this.#close(CLOSE.normal, "hangup");
      default:
        if (e.subclass === "mod_audio_fork::error" || e.subclass === "mod_audio_fork::connect_failed") {
          this.#log.warn("mod_audio_fork reported a problem", {
            event: e.subclass,
            detail: e.body.slice(0, 200),
          });
        }
    }
  }

  /** End the call from TOM's side. */
  async hangup(reason: string): Promise<void> {
    if (this.#state === "ended") return;
    if (this.#state === "open") return this.#close(CLOSE.goingAway, reason);
    const uuid = this.#meta?.uuid ?? "";
    this.#send({ type: "disconnect" });
    let killed: Promise<unknown> = Promise.resolve();
    if (this.#env.esl.connected) {
      killed = this.#env.esl.api(`uuid_kill ${uuid}`).catch((e) =>
        this.#log.warn("uuid_kill failed", { error: e })
      );
    } else {
      this.#log.warn(
        "cannot hang up the FreeSWITCH channel: event socket not connected; closing the fork only",
      );
    }
    this.#end(reason);
    await killed;
    this.#close(CLOSE.normal, "hangup");
  }

  #start(text: string): void {
    const meta = parseForkMetadata(text, this.#query);
    if ("error" in meta) return this.#refuse(meta.error);
    if (this.#env.calls.has(meta.uuid)) return this.#refuse("a fork for this channel is already connected");
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#meta = meta;
    this.#state = "call";
    this.#env.calls.set(meta.uuid, this);
    const { deps, opts } = this.#env;
    // Playback exists before the session opens: the answering stage may speak from its start event.
    this.#playback = new FsPlayback({
      uuid: meta.uuid,
      dir: join(this.#env.dir, meta.uuid),
      esl: this.#env.esl,
      sendJson: (m) => this.#send(m),
      onMark: (name, cleared) => this.#session?.deliver({ type: "mark", name, cleared }),
      log: this.#log,
      ...opts.playback,
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    try {
      this.#session = openTelephonySession(
        deps,
        {
          transport: "freeswitch",
          direction: "inbound",
          externalId: meta.uuid,
          from: meta.caller,
          to: meta.callee,
          peerRate: meta.rate,
          meta: { uuid: meta.uuid, mix: meta.mix, rate: meta.rate },
        },
        this.#makeOutput(),
        { callId: meta.tomCallId, accountId: meta.tomAccountId },
      );
    } catch (e) {
      const refused = deps.calls.draining || e instanceof CallsFullError;
      if (!refused) this.#log.error("cannot open the call", { error: e });
      this.#end("call refused");
      this.#close(refused ? CLOSE.tryAgain : CLOSE.internal, "call refused");
      return;
    }
    const session = this.#session;
    this.#log = session.log.child({ component: "gateway" });
    this.#playback.log = this.#log;
    // Fail-open: the shipped dialplan (infra/deploy/freeswitch/dialplan/tom.xml) keeps the call with TOM only
    // once TOM marked it taken; a call TOM refused or never saw goes to the practice's fallback.
    this.#env.esl.api(`uuid_setvar ${meta.uuid} ${TAKEN_VARIABLE} true`).catch((e) =>
      this.#log.warn("cannot mark the call taken (uuid_setvar): the dialplan falls back", { error: e })
    );
    if (meta.mix === "mixed") {
      this.#log.warn("mod_audio_fork sends mixed audio: TOM will hear itself (use mono)");
    }
    // L16 of any size (coalesced, split mid-sample), mono or stereo (caller first); timed by sample count,
    // so a burst of coalesced frames keeps its true timing.
    this.#inbound = new InboundAudio({
      codec: "l16",
      rate: meta.rate,
      channels: meta.mix === "stereo" ? 2 : 1,
      channel: 0,
      onFrame: (pcm, atMs) => session.deliver({ type: "audio", pcm, atMs }),
    });
  }

  #makeOutput(): CallOutput {
    // deno-lint-ignore no-this-alias -- the getter needs the call
    const call = this;
    return {
      audio: (pcm, sent) => this.#playback?.push(pcm, sent),
      mark: (name) => {
        if (this.#playback) this.#playback.mark(name);
        else queueMicrotask(() => this.#session?.deliver({ type: "mark", name, cleared: false }));
      },
      clear: () => this.#playback?.clear(),
      hangup: (reason) => void this.hangup(reason),
      transfer: (to, signal) => this.#transfer(to, signal),
      get queuedMs() {
        return call.#playback?.queuedMs ?? 0;
      },
    };
  }

  /**
   * Cold transfer, or warm (`freeswitch.warmTransfer`, not to voicemail: esl_warm.ts); on success TOM lets go of
   * the channel (no uuid_kill: the caller is with a person).
   */
  async #transfer(to: TransferTo, signal: AbortSignal): Promise<TransferOutcome> {
    const uuid = this.#meta?.uuid;
    if (this.#state !== "call" || !uuid) return { ok: false, reason: "failed", detail: "the call has ended" };
    const fs = this.#env.deps.config.freeswitch;
    const outcome = fs.warmTransfer && to.kind !== "voicemail"
      ? await fsWarmTransfer(this.#env.esl, uuid, to, signal, {
        ringSeconds: fs.warmRingSeconds,
        dialPrefix: fs.dialPrefix,
        playbackDir: this.#env.dir,
        log: this.#log,
      })
      : await fsTransfer(this.#env.esl, uuid, to, signal, {
        context: fs.transferContext,
        voicemailPrefix: fs.transferVoicemailPrefix,
        log: this.#log,
      });
    if (outcome.ok) this.#letGo();
    return outcome;
  }

  /** The caller is with a person (bridged): stop the fork, end the call for TOM, never uuid_kill. */
  #letGo(): void {
    if (this.#state !== "call") return;
    this.#env.esl.api(`uuid_audio_fork ${this.#meta?.uuid} stop`).catch((e) =>
      this.#log.warn("cannot stop the audio fork after the transfer", { error: e })
    );
    this.#end("transferred to a person");
    this.#close(CLOSE.normal, "transferred");
  }

  #gracefulShutdown(): void {
    this.#log.info("mod_audio_fork graceful shutdown");
    this.#end("audio fork stopped (graceful shutdown)");
    this.#close(CLOSE.normal, "graceful shutdown");
  }

  #invalidMessage(why: string): void {
    this.#invalid++;
    this.#log.debug("invalid message from mod_audio_fork", { reason: why });
    if (this.#invalid >= (this.#env.opts.maxInvalidMessages ?? 10)) {
      this.#refuse(`too many invalid messages: ${why}`);
    }
  }

  /** A fork TOM cannot take: log why, close with 1008 (the dialplan carries on without TOM). */
  #refuse(why: string): void {
    this.#log.warn("mod_audio_fork connection refused", { reason: why });
    this.#state = "ended";
    this.#close(CLOSE.policy, why.slice(0, 100));
  }

  /** The call is over (idempotent): stop playback, end the session. */
  #end(reason: string, status: "completed" | "failed" = "completed"): void {
    if (this.#state === "ended" && !this.#session) return;
    this.#state = "ended";
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const meta = this.#meta;
    if (meta && this.#env.calls.get(meta.uuid) === this) this.#env.calls.delete(meta.uuid);
    this.#playback?.stop().catch(() => {});
    this.#inbound?.dispose();
    this.#inbound = undefined;
    const session = this.#session;
    this.#session = undefined;
    if (session && !session.ended) session.end(reason, status);
  }

  #onClose(code: number): void {
    const reason = code === CLOSE.normal || code === CLOSE.goingAway || code === 1005
      ? "audio fork closed"
      : `audio fork socket closed (${code})`;
    this.#end(reason, code === CLOSE.internal ? "failed" : "completed");
  }

  #send(message: Record<string, unknown>): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(JSON.stringify(message));
  }

  #close(code: number, reason: string): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      this.#socket.close(code, reason.slice(0, 120));
    } catch {
      // already closing
    }
  }
}

/** Remove playback files left by an earlier run (older than an hour); best effort, in the background. */
function removeStaleFiles(dir: string, log: Logger): void {
  (async () => {
    const cutoff = Date.now() - 3_600_000;
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      const info = await Deno.stat(path);
      if ((info.mtime?.getTime() ?? 0) < cutoff) await Deno.remove(path, { recursive: true });
    }
  })().catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) {
      log.debug("could not tidy the playback directory", { error: e });
    }
  });
}
