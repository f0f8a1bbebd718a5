/**
 * Test harness for the gateway: the real hono app (infra/http.ts), `mountGateway`, `Deno.serve` on
 * 127.0.0.1 and an in-memory store; plus a raw HTTP handshake (to read the status of a refused upgrade)
 * and a WebSocket client that queues what it receives; and {@linkcode ownerOf}, the owner a call's context
 * carries beside its record.
 *
 * @module
 */
import { trace } from "@opentelemetry/api";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { type Config, loadConfig } from "../../infra/config.ts";
import { createLogger } from "../../infra/log.ts";
import { createHttpApp } from "../../infra/http.ts";
import { CallRegistry } from "../../infra/call_registry.ts";
import { serveNode } from "../../infra/http_server.ts";
import { getCall, openStore, type Store } from "../../store/mod.ts";
import type { Answerer, CallContext, CallEvent } from "../../gateway/call/contract.ts";
import { echoAnswerer } from "../../gateway/call/echo.ts";
import type { GatewayDeps } from "../../gateway/call/session.ts";
import { hmacKey, mintCallToken, type MintOptions } from "../../gateway/auth/token.ts";
import { type GatewayHandle, mountGateway, type MountGatewayOptions } from "../../gateway/server.ts";

/** The HS256 secret every harness uses. */
export const SECRET = "gateway-test-secret-0123456789-abcdef";
/** Its key bytes. */
export const KEY: Uint8Array = hmacKey(SECRET);

/** A running gateway. */
export interface GatewayHarness {
  port: number;
  /** `http://127.0.0.1:PORT` */
  http: string;
  /** `ws://127.0.0.1:PORT` */
  ws: string;
  config: Config;
  store: Store;
  calls: CallRegistry;
  gateway: GatewayHandle;
  /** Every log line, parsed. */
  logs: Record<string, unknown>[];
  /** `/metrics` as text. */
  metrics(): Promise<string>;
  /** A fresh HS256 token for `callId`. */
  token(callId: string, opts?: Partial<MintOptions>): Promise<string>;
  close(): Promise<void>;
}

/** Options of {@linkcode startGateway}. */
export interface HarnessOptions extends MountGatewayOptions {
  /** Extra `TOM_*` environment for the configuration. */
  env?: Record<string, string>;
  answer?: Answerer;
  /** Host to bind (default 127.0.0.1). */
  hostname?: string;
  /** The account of a call that starts (default: the store's oldest, as GatewayDeps says). */
  accountFor?: GatewayDeps["accountFor"];
}

/** Start a gateway on a free loopback port. */
export async function startGateway(opts: HarnessOptions = {}): Promise<GatewayHarness> {
  const dir = await Deno.makeTempDir({ prefix: "tom-gw-" });
  try {
    return await start(dir, opts);
  } catch (e) {
    await Deno.remove(dir, { recursive: true });
    throw e;
  }
}

async function start(dir: string, opts: HarnessOptions): Promise<GatewayHarness> {
  const config = loadConfig({ env: { TOM_DATA_DIR: dir, TOM_JWT_SECRET: SECRET, ...opts.env }, cwd: dir });
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({ salt: "test-salt", level: "debug", sink: (l) => logs.push(JSON.parse(l)) });
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const meter = provider.getMeter("tom-test");
  const serializer = new PrometheusSerializer();
  const telemetry = {
    meter,
    tracer: trace.getTracer("tom-test"),
    async renderPrometheus() {
      return serializer.serialize((await exporter.collect()).resourceMetrics);
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
  const store = openStore(":memory:");
  const calls = new CallRegistry({ max: config.maxCalls });
  const app = createHttpApp({
    version: "test",
    telemetry,
    log,
    readiness: () => Promise.resolve([]),
    draining: () => calls.draining,
    activeCalls: () => calls.size,
  });
  const deps = {
    config,
    store,
    log,
    meter,
    calls,
    answer: opts.answer ?? echoAnswerer(),
    ...(opts.accountFor ? { accountFor: opts.accountFor } : {}),
  };
  const gateway = await mountGateway(app, deps, opts);
  // The appliance's own server (node:http with the front door's limits), as `tom serve` runs it.
  const server = await serveNode({
    hostname: opts.hostname ?? "127.0.0.1",
    port: 0,
    limits: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 },
  }, (req, env) => app.fetch(req, env));
  const port = server.addr.port;
  return {
    port,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    config,
    store,
    calls,
    gateway,
    logs,
    metrics: () => telemetry.renderPrometheus(),
    token: (callId, o = {}) => mintCallToken(KEY, { callId, ...o }),
    async close() {
      await gateway.close();
      await server.shutdown();
      store.close();
      await provider.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The value of one metric series in Prometheus text, 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return 0;
}

/**
 * Send a WebSocket upgrade request by hand and return the response's status code and head. A refused
 * handshake is an ordinary HTTP response; `101` means the upgrade happened (the socket is then closed).
 */
export async function rawHandshake(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; head: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: ${headers.Host ?? `127.0.0.1:${port}`}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Version: 13",
      `Sec-WebSocket-Key: ${btoa("0123456789abcdef")}`,
      ...Object.entries(headers).filter(([k]) => k !== "Host").map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ];
    await conn.write(new TextEncoder().encode(lines.join("\r\n")));
    const buf = new Uint8Array(4096);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    return { status, head };
  } finally {
    conn.close();
  }
}

/** A received binary frame and when it arrived (performance.now()). */
export interface Frame {
  pcm: Int16Array;
  at: number;
}

/** A WebSocket client that queues JSON events and binary frames. */
export class TestClient {
  readonly socket: WebSocket;
  readonly events: Record<string, unknown>[] = [];
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;
  #waiters: (() => void)[] = [];

  constructor(url: string, init: { headers?: Record<string, string>; protocols?: string[] } = {}) {
    // Deno's WebSocket takes headers as an extension of the standard constructor.
    this.socket = new WebSocket(url, init as unknown as string[]);
    this.socket.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.socket.addEventListener("open", () => resolve());
      this.socket.addEventListener("error", () => reject(new Error("WebSocket failed to open")));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => this.socket.addEventListener("close", resolve));
    this.socket.addEventListener("message", (ev) => {
      if (typeof ev.data === "string") this.events.push(JSON.parse(ev.data));
      else this.frames.push({ pcm: new Int16Array(ev.data as ArrayBuffer), at: performance.now() });
      this.#wake();
    });
    this.socket.addEventListener("close", () => this.#wake());
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Wait until `cond()` holds (checked on every message), or fail after `timeoutMs`. */
  async until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - performance.now();
      if (left <= 0 || this.socket.readyState === WebSocket.CLOSED && !cond()) {
        if (cond()) return;
        throw new Error(
          `Timed out waiting for ${what}; events: ${JSON.stringify(this.events).slice(0, 500)}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        timer = setTimeout(r, Math.min(left, 200));
      });
      clearTimeout(timer);
    }
  }

  /** The first event of `type`, waiting for it. */
  async event(type: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    await this.until(() => this.events.some((e) => e.type === type), `event ${type}`, timeoutMs);
    return this.events.find((e) => e.type === type) as Record<string, unknown>;
  }

  send(data: string | Uint8Array | Record<string, unknown>): void {
    if (data instanceof Uint8Array || typeof data === "string") this.socket.send(data);
    else this.socket.send(JSON.stringify(data));
  }

  /** Close (if still open) and wait for the close event. */
  async close(): Promise<CloseEvent> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      try {
        this.socket.close();
      } catch {
        // closing already
      }
    }
    return await this.closed;
  }
}

/** All samples of the frames, concatenated. */
export function concatFrames(frames: Frame[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.pcm.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f.pcm, at);
    at += f.pcm.length;
  }
  return out;
}

/** Little-endian bytes of samples. */
export function pcmBytes(pcm: Int16Array): Uint8Array {
  return new Uint8Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength));
}

/** A masked client frame (mask key 0, which leaves the payload as is). */
export function clientFrame(payload: Uint8Array, opcode = 0x2): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const out = new Uint8Array(head + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65_536) {
    out[1] = 0x80 | 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  out.set(payload, head + 4);
  return out;
}

/**
 * A WebSocket client on a bare TCP socket that reads everything the server sends while it writes, so
 * the server's close frame is seen even when the connection is then reset (Deno's own client reports a
 * failed write instead).
 */
export class RawWsClient {
  readonly conn: Deno.TcpConn;
  /** The close code the server sent, once seen. */
  closeCode: number | undefined;
  /** How the reading ended: "close" (close frame seen), "eof", "reset". */
  ended: Promise<"close" | "eof" | "reset">;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.ended = this.#read();
  }

  /** Connect and upgrade; throws unless the server answers 101. */
  static async connect(port: number, path: string): Promise<RawWsClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const req =
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${btoa("0123456789abcdef")}\r\n\r\n`;
    await conn.write(new TextEncoder().encode(req));
    return new RawWsClient(conn);
  }

  async #read(): Promise<"close" | "eof" | "reset"> {
    let buf = new Uint8Array(0);
    let headDone = false;
    const chunk = new Uint8Array(65_536);
    for (;;) {
      let n: number | null;
      try {
        n = await this.conn.read(chunk);
      } catch {
        return "reset";
      }
      if (n === null) return "eof";
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
      if (!headDone) {
        const end = new TextDecoder("latin1").decode(buf).indexOf("\r\n\r\n");
        if (end < 0) continue;
        if (!/^HTTP\/1\.1 101/.test(new TextDecoder().decode(buf.subarray(0, 12)))) return "eof";
        headDone = true;
        buf = buf.subarray(end + 4);
      }
      while (buf.length >= 2) {
        let len = buf[1] & 0x7f;
        let hl = 2;
        if (len === 126) {
          if (buf.length < 4) break;
          len = (buf[2] << 8) | buf[3];
          hl = 4;
        } else if (len === 127) {
          if (buf.length < 10) break;
          len = Number(new DataView(buf.buffer, buf.byteOffset).getBigUint64(2));
          hl = 10;
        }
        if (buf.length < hl + len) break;
        if ((buf[0] & 0x0f) === 0x8) {
          this.closeCode = len >= 2 ? (buf[hl] << 8) | buf[hl + 1] : 1005;
          return "close";
        }
        buf = buf.subarray(hl + len);
      }
    }
  }

  /** Write bytes; false once the connection is gone. */
  async write(bytes: Uint8Array): Promise<boolean> {
    try {
      let at = 0;
      while (at < bytes.length) at += await this.conn.write(bytes.subarray(at));
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }
}

/**
 * Poll `cond` every 10 ms until it holds (fail after `timeoutMs`): for server-side state that follows a
 * client's close, which the client may see complete before the server's socket reports it.
 */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An answerer that records every event and every call's context, and hands both to `react`. */
export function recorder(react?: (e: CallEvent, ctx: CallContext) => void): {
  events: CallEvent[];
  contexts: CallContext[];
  answer: Answerer;
} {
  const events: CallEvent[] = [];
  const contexts: CallContext[] = [];
  const answer: Answerer = (ctx) => {
    contexts.push(ctx);
    return {
      handle(e) {
        events.push(e);
        react?.(e, ctx);
      },
    };
  };
  return { events, contexts, answer };
}

/** Who a call's context says owns the call. */
export interface ContextOwner {
  callId: string;
  accountId: string;
  personId: string | null;
  direction: "inbound" | "outbound";
}

/**
 * The owner the session put into a call's context, after checking that the call's record in that account
 * names the same person and direction (the answering stage takes the context's word for it).
 */
export function ownerOf(store: Store, ctx: CallContext): ContextOwner {
  const row = getCall(store, ctx.accountId, ctx.callId);
  if (!row) throw new Error(`The context's account ${ctx.accountId} has no call ${ctx.callId}`);
  const owner = {
    callId: ctx.callId,
    accountId: ctx.accountId,
    personId: ctx.personId,
    direction: ctx.direction,
  };
  const recorded = {
    callId: row.id,
    accountId: row.accountId,
    personId: row.personId,
    direction: row.direction,
  };
  if (JSON.stringify(owner) !== JSON.stringify(recorded)) {
    throw new Error(`The context says ${JSON.stringify(owner)}, the record ${JSON.stringify(recorded)}`);
  }
  return owner;
}
