/**
 * A client for FreeSWITCH's event socket (mod_event_socket, inbound mode): one TCP connection to
 * `freeswitch.eslHost:eslPort`, authenticated with `auth <password>`, subscribed to the events TOM needs
 * (`event plain ...`), with `api` (synchronous, answered in order by `api/response`) and `bgapi`
 * (answered at once by `command/reply` with a `Job-UUID`, the result later in a `BACKGROUND_JOB` event).
 *
 * The connection is kept up by itself: after a drop or a failed attempt it reconnects with exponential
 * backoff and jitter (never a tight loop), and resubscribes. While it is not connected, commands fail at
 * once with {@linkcode EslUnavailableError} instead of queueing: a command meant for a call that is
 * happening now is useless minutes later.
 *
 * @module
 */
import type { Logger } from "../../infra/mod.ts";
import { EslCorrelator } from "./esl_correlate.ts";
import {
  checkCommand,
  type EslEvent,
  type EslMessage,
  EslParser,
  EslTimeoutError,
  EslUnavailableError,
  parseEventPlain,
  toError,
  verb,
} from "./esl_wire.ts";

export { eslErrorCause, type EslEvent, eslOk, EslTimeoutError, EslUnavailableError } from "./esl_wire.ts";

/** Connection state. */
export type EslState = "idle" | "connecting" | "connected" | "backoff" | "closed";

/** What {@linkcode EslClient.status} reports. */
export interface EslStatus {
  state: EslState;
  /** `host:port` of the event socket. */
  address: string;
  /** Unix ms of the current connection's authentication, when connected. */
  connectedSince?: number;
  /** Why the last attempt or connection ended. */
  lastError?: string;
  /** True when FreeSWITCH refused the password (fix `freeswitch.eslPassword`). */
  authFailed: boolean;
  /** Failed attempts since the last successful connection. */
  failures: number;
  /** Delay before the next attempt, while in backoff. */
  retryInMs?: number;
}

/** The events TOM subscribes to by default. */
export const DEFAULT_ESL_EVENTS: readonly string[] = [
  "CHANNEL_ANSWER",
  "CHANNEL_HANGUP_COMPLETE",
  // Cold transfer outcome (esl_transfer.ts).
  "CHANNEL_BRIDGE",
  "CHANNEL_HANGUP",
  "CHANNEL_EXECUTE",
  "CHANNEL_EXECUTE_COMPLETE",
  "BACKGROUND_JOB",
  "PLAYBACK_START",
  "PLAYBACK_STOP",
  "DTMF",
  "CUSTOM",
  "mod_audio_fork::connect",
  "mod_audio_fork::connect_failed",
  "mod_audio_fork::disconnect",
  "mod_audio_fork::error",
  "mod_audio_fork::play_audio",
];

/** Defaults, with the reason for each number. */
export const ESL_DEFAULTS = {
  /** First retry soon: FreeSWITCH restarts in a few seconds. */
  initialBackoffMs: 500,
  /** Cap: a box whose FreeSWITCH is down for good is tried twice a minute, not hammered. */
  maxBackoffMs: 30_000,
  /** `api` commands TOM sends (uuid_broadcast, uuid_break, uuid_kill) answer in milliseconds. */
  commandTimeoutMs: 5_000,
  /** `bgapi originate` waits for the callee: ringing up to a minute, plus set-up. */
  jobTimeoutMs: 120_000,
  /** A TCP connect to a dead host must not hang the reconnect loop. */
  connectTimeoutMs: 5_000,
} as const;

/** Options of {@linkcode EslClient}. */
export interface EslClientOptions {
  host: string;
  port: number;
  password: string;
  /** Event names (and CUSTOM subclasses after `CUSTOM`); default {@linkcode DEFAULT_ESL_EVENTS}. */
  events?: readonly string[];
  log?: Logger;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  commandTimeoutMs?: number;
  jobTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Test seam: how to open the TCP connection. */
  connect?: (opts: { hostname: string; port: number }) => Promise<Deno.Conn>;
  /** Random source in [0, 1) for jitter (default `Math.random`). */
  random?: () => number;
  now?: () => number;
}

const encoder = new TextEncoder();

/** The event socket client. Call {@linkcode EslClient.start} once; {@linkcode EslClient.close} at shutdown. */
export class EslClient {
  readonly #opts: Required<Omit<EslClientOptions, "log" | "events" | "connect" | "random" | "now">>;
  readonly #events: readonly string[];
  readonly #log: Logger | undefined;
  readonly #connect: (opts: { hostname: string; port: number }) => Promise<Deno.Conn>;
  readonly #random: () => number;
  readonly #now: () => number;
  #status: EslStatus;
  #conn: Deno.Conn | undefined;
  #pending = new EslCorrelator();
  #writing: Promise<void> = Promise.resolve();
  #listeners = new Set<(e: EslEvent) => void>();
  #stateListeners = new Set<(s: EslStatus) => void>();
  #readyWaiters: Array<() => void> = [];
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(opts: EslClientOptions) {
    if (!opts.host) throw new Error("Cannot create ESL client: host is empty");
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
      throw new Error(`Cannot create ESL client: port ${opts.port} is not a TCP port`);
    }
    if (/[\r\n]/.test(opts.password)) {
      throw new Error("Cannot create ESL client: password contains a newline");
    }
    this.#opts = {
      host: opts.host,
      port: opts.port,
      password: opts.password,
      initialBackoffMs: Math.max(50, opts.initialBackoffMs ?? ESL_DEFAULTS.initialBackoffMs),
      maxBackoffMs: Math.max(50, opts.maxBackoffMs ?? ESL_DEFAULTS.maxBackoffMs),
      commandTimeoutMs: opts.commandTimeoutMs ?? ESL_DEFAULTS.commandTimeoutMs,
      jobTimeoutMs: opts.jobTimeoutMs ?? ESL_DEFAULTS.jobTimeoutMs,
      connectTimeoutMs: opts.connectTimeoutMs ?? ESL_DEFAULTS.connectTimeoutMs,
    };
    this.#events = opts.events ?? DEFAULT_ESL_EVENTS;
    this.#log = opts.log?.child({ component: "esl" });
    this.#connect = opts.connect ?? ((o) => Deno.connect({ ...o, transport: "tcp" }));
    this.#random = opts.random ?? Math.random;
    this.#now = opts.now ?? Date.now;
    this.#status = { state: "idle", address: `${opts.host}:${opts.port}`, authFailed: false, failures: 0 };
  }

  /** A snapshot of the connection state. */
  get status(): EslStatus {
    return { ...this.#status };
  }

  /** Whether commands can be sent now. */
  get connected(): boolean {
    return this.#status.state === "connected";
  }

  /** Start connecting (and keep reconnecting until {@linkcode EslClient.close}). Idempotent. */
  start(): void {
    if (this.#closed || this.#loop) return;
    this.#loop = this.#run();
  }

  /** Resolves once connected; rejects with {@linkcode EslUnavailableError} after `timeoutMs`. */
  ready(timeoutMs = 10_000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#readyWaiters = this.#readyWaiters.filter((f) => f !== done);
        reject(new EslUnavailableError(this.#unavailableMessage("connect")));
      }, timeoutMs);
      this.#readyWaiters.push(done);
    });
  }

  /** Listen to subscribed events; returns the unsubscribe function. */
  onEvent(listener: (e: EslEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Listen to state changes; returns the unsubscribe function. */
  onStatus(listener: (s: EslStatus) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /**
   * Run `api <command>` and return FreeSWITCH's answer text (`+OK ...` or `-ERR ...`, as sent).
   *
   * @throws {EslUnavailableError} when not connected; {@linkcode EslTimeoutError} without an answer in time.
   */
  async api(command: string, timeoutMs = this.#opts.commandTimeoutMs): Promise<string> {
    const reply = await this.#send(`api ${checkCommand(command)}\n\n`, timeoutMs, command);
    return reply.body;
  }

  /**
   * Run `bgapi <command>` and return the job's result text from its `BACKGROUND_JOB` event.
   *
   * @throws {EslUnavailableError} when not connected or the connection drops before the result;
   * {@linkcode EslTimeoutError} without a result within `timeoutMs`; Error when FreeSWITCH refuses the job.
   */
  async bgapi(command: string, timeoutMs = this.#opts.jobTimeoutMs): Promise<string> {
    const jobId = crypto.randomUUID();
    const result = this.#pending.job(jobId, timeoutMs, verb(command));
    try {
      const wire = `bgapi ${checkCommand(command)}\nJob-UUID: ${jobId}\n\n`;
      const reply = await this.#send(wire, this.#opts.commandTimeoutMs, command);
      const text = reply.headers["Reply-Text"] ?? "";
      if (!text.startsWith("+OK")) throw new Error(`FreeSWITCH refused ESL job "${verb(command)}": ${text}`);
      const announced = reply.headers["Job-UUID"];
      if (announced) this.#pending.renameJob(jobId, announced);
    } catch (e) {
      this.#pending.dropJob(jobId);
      throw e;
    }
    return await result;
  }

  /** Stop reconnecting, close the connection, fail pending commands. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return await this.#loop;
    this.#closed = true;
    this.#wake?.();
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    await this.#loop;
    this.#setState({ state: "closed", connectedSince: undefined, retryInMs: undefined });
  }

  #unavailableMessage(what: string): string {
    const s = this.#status;
    const why = s.authFailed
      ? "FreeSWITCH refused the password (freeswitch.eslPassword)"
      : s.lastError ?? "not connected yet";
    return `Cannot ${what}: FreeSWITCH event socket at ${s.address} is ${s.state} (${why})`;
  }

  async #send(wire: string, timeoutMs: number, command: string): Promise<EslMessage> {
    const conn = this.#conn;
    if (!this.connected || !conn) {
      throw new EslUnavailableError(this.#unavailableMessage(`run "${verb(command)}"`));
    }
    return await this.#request(conn, wire, timeoutMs, verb(command));
  }

  #request(conn: Deno.Conn, wire: string, timeoutMs: number, what: string): Promise<EslMessage> {
    return this.#pending.reply(() => this.#write(conn, wire), timeoutMs, what);
  }

  #write(conn: Deno.Conn, text: string): Promise<void> {
    const bytes = encoder.encode(text);
    const next = this.#writing.then(async () => {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    });
    this.#writing = next.catch(() => {});
    return next;
  }

  async #run(): Promise<void> {
    let delay = this.#opts.initialBackoffMs;
    while (!this.#closed) {
      this.#setState({ state: "connecting", retryInMs: undefined });
      let reachedConnected = false;
      try {
        reachedConnected = await this.#session();
        if (!this.#closed) this.#status.lastError = "connection closed by FreeSWITCH";
      } catch (e) {
        if (!this.#closed) this.#status.lastError = toError(e).message;
      }
      if (reachedConnected) {
        delay = this.#opts.initialBackoffMs;
        this.#status.failures = 0;
      } else if (!this.#closed) this.#status.failures++;
      const wait = Math.round(delay * (0.8 + 0.4 * this.#random()));
      this.#setState(
        this.#closed
          ? { state: "closed", connectedSince: undefined, retryInMs: undefined }
          : { state: "backoff", connectedSince: undefined, retryInMs: wait },
      );
      this.#failPending(
        `Cannot finish the command: the FreeSWITCH event socket at ${this.#status.address} ` +
          `disconnected (${this.#closed ? "client closed" : this.#status.lastError})`,
      );
      if (this.#closed) break;
      const fields = { address: this.#status.address, reason: this.#status.lastError, retry_in_ms: wait };
      if (reachedConnected) this.#log?.warn("FreeSWITCH event socket disconnected; reconnecting", fields);
      else {
        // First failure and every tenth after it at warn level: visible, but not a log flood.
        const level = this.#status.failures % 10 === 1 ? "warn" : "debug";
        this.#log?.[level]("FreeSWITCH event socket unavailable", {
          ...fields,
          failures: this.#status.failures,
        });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
      delay = Math.min(delay * 2, this.#opts.maxBackoffMs);
    }
  }

  /** One connection's life; returns whether it got as far as connected. */
  async #session(): Promise<boolean> {
    const connecting = this.#connect({ hostname: this.#opts.host, port: this.#opts.port });
    const conn = await this.#withTimeout(connecting, this.#opts.connectTimeoutMs, "connect").catch((e) => {
      connecting.then((c) => c.close(), () => {}); // a late connection is not leaked
      throw e;
    });
    if (this.#closed) {
      conn.close();
      return false;
    }
    this.#conn = conn;
    const parser = new EslParser();
    let connected = false;
    let authRequested: (() => void) | undefined;
    const gotAuthRequest = new Promise<void>((r) => (authRequested = r));
    const handshake = (async () => {
      await this.#withTimeout(gotAuthRequest, this.#opts.commandTimeoutMs, "receive auth/request");
      const auth = await this.#request(
        conn,
        `auth ${this.#opts.password}\n\n`,
        this.#opts.commandTimeoutMs,
        "auth",
      );
      const text = auth.headers["Reply-Text"] ?? "";
      if (!text.startsWith("+OK")) {
        this.#status.authFailed = true;
        throw new Error(`FreeSWITCH refused the event socket password: ${text || "no reply text"}`);
      }
      this.#status.authFailed = false;
      if (this.#events.length > 0) {
        const sub = await this.#request(
          conn,
          `event plain ${this.#events.join(" ")}\n\n`,
          this.#opts.commandTimeoutMs,
          "event plain",
        );
        const subText = sub.headers["Reply-Text"] ?? "";
        if (!subText.startsWith("+OK")) {
          throw new Error(`FreeSWITCH refused the event subscription: ${subText}`);
        }
      }
      connected = true;
      this.#status.lastError = undefined;
      this.#setState({ state: "connected", connectedSince: this.#now(), retryInMs: undefined });
      this.#log?.info("FreeSWITCH event socket connected", { address: this.#status.address });
      for (const f of this.#readyWaiters.splice(0)) f();
    })();
    let handshakeError: Error | undefined;
    handshake.catch((e) => {
      handshakeError = toError(e);
      try {
        conn.close();
      } catch { /* closed */ }
    });
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        for (const msg of parser.push(buf.subarray(0, n))) {
          if (msg.contentType === "auth/request") authRequested?.();
          else this.#dispatch(msg);
        }
      }
    } catch (e) {
      if (!handshakeError && !this.#closed) throw e;
    } finally {
      this.#conn = undefined;
      try {
        conn.close();
      } catch { /* closed */ }
      await handshake.catch(() => {});
    }
    if (handshakeError) throw handshakeError;
    return connected;
  }

  #dispatch(msg: EslMessage): void {
    switch (msg.contentType) {
      case "command/reply":
      case "api/response":
        return this.#pending.replied(msg);
      case "text/event-plain": {
        const event = parseEventPlain(msg.body);
        if (event.name === "BACKGROUND_JOB") {
          this.#pending.jobDone(event.headers["Job-UUID"] ?? "", event.body);
        }
        for (const l of this.#listeners) {
          try {
            l(event);
          } catch (e) {
            this.#log?.error("ESL event listener failed", { event: event.name, error: e });
          }
        }
        return;
      }
      case "text/disconnect-notice":
        this.#status.lastError = "FreeSWITCH sent a disconnect notice";
        return;
      case "text/rude-rejection":
        this.#status.lastError = `FreeSWITCH rejected the connection: ${msg.body.trim() || "access denied"}`;
        return;
      default:
        return; // log/data and anything newer: not subscribed, ignored
    }
  }

  #failPending(message: string): void {
    this.#pending.failAll(new EslUnavailableError(message));
  }

  #setState(patch: Partial<EslStatus>): void {
    const before = this.#status.state;
    this.#status = { ...this.#status, ...patch };
    if (patch.state && patch.state !== before) {
      for (const l of this.#stateListeners) {
        try {
          l(this.status);
        } catch { /* a listener's problem */ }
      }
    }
  }

  async #withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new EslTimeoutError(`Could not ${what} within ${ms} ms`)), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
