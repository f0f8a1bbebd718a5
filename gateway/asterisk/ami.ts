/**
 * A client for the Asterisk Manager Interface (AMI, manager.conf): one TCP connection to
 * `asterisk.amiHost:amiPort` (loopback only), `Action: Login` with `asterisk.amiUser`/`amiSecret`, actions
 * correlated by `ActionID` (list actions such as `Status` collect their events up to `EventList: Complete`),
 * events handed to listeners (Hangup, DialBegin, DialEnd ...).
 *
 * A small line-protocol client of our own rather than an npm package: the npm AMI clients are callback-era
 * Node libraries (asterisk-manager, ami-io) with unbounded buffers and no types; AMI is a dozen lines of
 * framing (ami_wire.ts), and this keeps the bounds (line length, fields, pending actions) in our hands.
 *
 * The connection keeps itself up: after a drop or a failed attempt it reconnects with exponential backoff
 * and jitter. While it is not logged in, actions fail at once with {@linkcode AmiUnavailableError}
 * (a transfer meant for a call happening now is useless minutes later).
 *
 * @module
 */
import type { Logger } from "../../infra/mod.ts";
import {
  type AmiMessage,
  AmiParser,
  AmiTimeoutError,
  AmiUnavailableError,
  encodeAction,
} from "./ami_wire.ts";

export { type AmiMessage, AmiTimeoutError, AmiUnavailableError } from "./ami_wire.ts";

/** Options of {@linkcode AmiClient}. */
export interface AmiOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  log: Logger;
  /** Connect and login must finish within this (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Backoff after a failure: first delay, doubling up to `maxBackoffMs` (defaults 250 and 10000 ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Default time for an action's response (default 5000 ms). */
  actionTimeoutMs?: number;
  /** Actions waiting for a response at once; more fail at once (default 64). */
  maxPending?: number;
}

/** Connection state. */
export type AmiState = "idle" | "connecting" | "connected" | "backoff" | "closed";

/** A response, with the events of a list action (`EventList: start` ... `EventList: Complete`). */
export interface AmiResponse {
  response: AmiMessage;
  events: AmiMessage[];
}

interface Pending {
  action: string;
  response?: AmiMessage;
  events: AmiMessage[];
  resolve: (r: AmiResponse) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Events of a list action beyond this fail the action (a list is never this long on a practice's box). */
const MAX_LIST_EVENTS = 2000;

/** One managed AMI connection. */
export class AmiClient {
  readonly #o: Required<AmiOptions>;
  readonly #pending = new Map<string, Pending>();
  readonly #listeners = new Set<(e: AmiMessage) => void>();
  readonly #waiters = new Set<() => void>();
  #state: AmiState = "idle";
  #conn: Deno.TcpConn | undefined;
  #seq = 0;
  #failures = 0;
  #lastError: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #loop: Promise<void> | undefined;
  #writing: Promise<unknown> = Promise.resolve();

  constructor(opts: AmiOptions) {
    this.#o = {
      connectTimeoutMs: 3000,
      minBackoffMs: 250,
      maxBackoffMs: 10_000,
      actionTimeoutMs: 5000,
      maxPending: 64,
      ...opts,
    };
  }

  /** Current state (a getter: TypeScript does not narrow it across awaits). */
  get state(): AmiState {
    return this.#state;
  }

  /** Why the last attempt or connection ended. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Start connecting (idempotent). */
  start(): void {
    if (this.#state === "idle") this.#connect();
  }

  /** Listen to every event; returns the unsubscribe function. */
  onEvent(fn: (e: AmiMessage) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Resolve once logged in; false when that does not happen within `ms`, the signal aborts, or the
   * client is in backoff (AMI was down at the last try: fail fast rather than wait for the next one).
   */
  async ready(ms: number, signal?: AbortSignal): Promise<boolean> {
    this.start();
    if (this.#state === "connected") return true;
    if (this.#state !== "connecting" || signal?.aborted) return false;
    let done = () => {};
    const woke = new Promise<void>((r) => (done = r));
    this.#waiters.add(done);
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    await woke;
    clearTimeout(timer);
    this.#waiters.delete(done);
    signal?.removeEventListener("abort", done);
    return this.state === "connected";
  }

  /**
   * Send an action and wait for its response (and, for a list action, its events up to the one that
   * says `EventList: Complete`).
   *
   * @throws {AmiUnavailableError} when not logged in, or the connection drops before the response
   * @throws {AmiTimeoutError} when the response does not come within `timeoutMs`
   * @throws {RangeError} on a field that is not a single line
   */
  action(fields: Record<string, string>, timeoutMs = this.#o.actionTimeoutMs): Promise<AmiResponse> {
    if (this.#state !== "connected") {
      return Promise.reject(new AmiUnavailableError(this.#lastError ?? this.#state));
    }
    return this.#send(fields, timeoutMs);
  }

  /** Close the connection for good; pending actions fail. */
  async close(): Promise<void> {
    this.#state = "closed";
    clearTimeout(this.#timer);
    this.#drop("closed");
    await this.#loop;
  }

  #send(fields: Record<string, string>, timeoutMs: number): Promise<AmiResponse> {
    if (this.#pending.size >= this.#o.maxPending) {
      return Promise.reject(new AmiUnavailableError("too many actions waiting"));
    }
    const id = `tom-${++this.#seq}`;
    let bytes: Uint8Array;
    try {
      bytes = encodeAction({ Action: fields.Action ?? "", ...fields, ActionID: id });
    } catch (e) {
      return Promise.reject(e);
    }
    const action = fields.Action ?? "";
    return new Promise<AmiResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AmiTimeoutError(action, timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, { action, events: [], resolve, reject, timer });
      const conn = this.#conn;
      this.#writing = this.#writing.then(async () => {
        try {
          let at = 0;
          while (conn && at < bytes.length) at += await conn.write(bytes.subarray(at));
        } catch {
          this.#drop("write failed");
        }
      });
    });
  }

  #connect(): void {
    this.#state = "connecting";
    this.#loop = this.#session().catch((e) => {
      this.#lastError = e instanceof Error ? e.message : String(e);
    }).finally(() => {
      this.#drop(this.#lastError ?? "connection ended");
      this.#wake();
      if (this.#state === "closed") return;
      this.#failures++;
      const base = Math.min(
        this.#o.maxBackoffMs,
        this.#o.minBackoffMs * 2 ** Math.min(this.#failures - 1, 16),
      );
      const delay = Math.round(base * (0.75 + Math.random() * 0.5));
      this.#state = "backoff";
      this.#o.log.debug("AMI reconnecting", { in_ms: delay, error: this.#lastError });
      this.#timer = setTimeout(() => this.#state === "backoff" && this.#connect(), delay);
    });
  }

  /** One connection: connect, read the banner, log in, then read until it ends. */
  async #session(): Promise<void> {
    const connecting = Deno.connect({ hostname: this.#o.host, port: this.#o.port, transport: "tcp" });
    const conn = await withTimeout(connecting, this.#o.connectTimeoutMs, "connect").catch((e) => {
      connecting.then((c) => c.close(), () => {}); // a connection that comes too late is closed
      throw e;
    });
    if (this.#state === "closed") return conn.close();
    this.#conn = conn;
    conn.setNoDelay(true);
    const parser = new AmiParser();
    const buf = new Uint8Array(16 * 1024);
    let login: Promise<AmiResponse> | undefined;
    const loginTimer = setTimeout(() => this.#drop("login timed out"), this.#o.connectTimeoutMs);
    try {
      for (;;) {
        let n: number | null;
        try {
          n = await conn.read(buf);
        } catch {
          n = null;
        }
        if (n === null) throw new Error(this.#lastError ?? "connection closed by Asterisk");
        for (const m of parser.push(buf.subarray(0, n))) {
          if (m.Banner !== undefined) {
            login = this.#send({
              Action: "Login",
              Username: this.#o.username,
              Secret: this.#o.secret,
              Events: "on",
            }, this.#o.connectTimeoutMs);
            login.then((r) => {
              clearTimeout(loginTimer);
              if (r.response.Response !== "Success") {
                this.#lastError = `login refused: ${r.response.Message ?? "no reason"}`;
                this.#o.log.warn("AMI login refused: check asterisk.amiUser and TOM_ASTERISK_AMI_SECRET");
                return this.#drop(this.#lastError);
              }
              this.#state = "connected";
              this.#failures = 0;
              this.#lastError = undefined;
              this.#wake();
            }, (e) => this.#drop(String(e)));
          } else this.#dispatch(m);
        }
        if (parser.error) throw parser.error;
      }
    } finally {
      clearTimeout(loginTimer);
      login?.catch(() => {});
    }
  }

  #dispatch(m: AmiMessage): void {
    const id = m.ActionID;
    const p = id === undefined ? undefined : this.#pending.get(id);
    if (p && m.Response !== undefined && !p.response) {
      p.response = m;
      if (m.EventList?.toLowerCase() !== "start") return this.#settle(id as string, p);
      return;
    }
    if (p && m.Event !== undefined && p.response) {
      if (m.EventList?.toLowerCase() === "complete") return this.#settle(id as string, p);
      if (p.events.length >= MAX_LIST_EVENTS) {
        this.#pending.delete(id as string);
        clearTimeout(p.timer);
        return p.reject(new Error(`AMI ${p.action}: more than ${MAX_LIST_EVENTS} list events`));
      }
      p.events.push(m);
      return;
    }
    if (m.Event === undefined) return;
    for (const fn of [...this.#listeners]) {
      try {
        fn(m);
      } catch (e) {
        this.#o.log.error("AMI event listener failed", { error: e });
      }
    }
  }

  #settle(id: string, p: Pending): void {
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.resolve({ response: p.response as AmiMessage, events: p.events });
  }

  /** End the current connection (if any); every pending action fails. */
  #drop(why: string): void {
    if (this.#state === "connected") this.#o.log.warn("AMI connection lost", { reason: why });
    if (this.#state !== "closed" && this.#state !== "backoff") this.#state = "connecting";
    this.#lastError ??= why;
    try {
      this.#conn?.close();
    } catch {
      // already closed
    }
    this.#conn = undefined;
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new AmiUnavailableError(why));
    }
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((
        _,
        reject,
      ) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
