/**
 * The HTTP front door: the hono app served by `node:http` (through `@hono/node-server`) instead of
 * `Deno.serve`, because `Deno.serve` (2.9) has no header, request or idle timeout and Deno's WebSocket
 * buffers a whole message (64 MiB a frame, fragments without bound) before JS can refuse it. Here:
 *
 * - a request whose headers are not complete after `headersTimeoutMs`, or whose body is not complete after
 *   `requestTimeoutMs`, gets 408 and its connection is closed (slowloris);
 * - an idle keep-alive connection is closed after `keepAliveTimeoutMs`;
 * - a response sent while the request body is still arriving (e.g. the router's 413) ends the connection
 *   instead of reading the rest (`@hono/node-server` drains at most 500 ms, then closes);
 * - WebSocket upgrades run through the app like any request; a route accepts one with
 *   `c.env.acceptWebSocket` (see gateway/guard/ws_admission.ts), which the `ws` library serves with
 *   `maxPayload`: a message over the cap is refused from its frame header (close 1009), before any of it
 *   is buffered, fragments included.
 *
 * @module
 */
import http from "node:http";
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import { getRequestListener } from "@hono/node-server";
// @ts-types="./ws_types.d.ts"
import { WebSocketServer } from "ws";
import type { WebSocket as WsConnection } from "./ws_types.d.ts";

/** The env a route sees in `c.env` (the same `remoteAddr` shape as under `Deno.serve`). */
export interface NodeServeEnv {
  remoteAddr: { transport: "tcp"; hostname: string; port: number };
  /** Set on WebSocket upgrade requests only: accept the upgrade (call at most once). */
  acceptWebSocket?: (opts: AcceptWebSocketOptions) => WebSocket;
}

/** What a route asks of an accepted WebSocket. */
export interface AcceptWebSocketOptions {
  /** Subprotocol to echo. */
  protocol?: string;
  /** Seconds without traffic before a ping, and again without a pong before closing (default 30; 0: never). */
  idleTimeout?: number;
  /** Largest message in bytes (all fragments together); larger ones are refused with 1009 unbuffered. */
  maxMessageBytes: number;
  /** Called when a message over `maxMessageBytes` is refused. */
  onTooBig?: () => void;
}

/** Limits of the front door, in milliseconds. */
export interface ServeLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** A running server. */
export interface NodeServer {
  addr: Deno.NetAddr;
  finished: Promise<void>;
  /** Stop accepting, close idle connections, and after `graceMs` every remaining one. */
  shutdown(graceMs?: number): Promise<void>;
}

type Fetch = (req: Request, env: NodeServeEnv) => Response | Promise<Response>;

/** `::ffff:10.0.0.1` -> `10.0.0.1`, as `Deno.serve` reports an IPv4 peer. */
function peerHost(socket: { remoteAddress?: string }): string {
  const a = socket.remoteAddress ?? "";
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a) ? a.slice(7) : a;
}

function remoteAddr(socket: { remoteAddress?: string; remotePort?: number }): NodeServeEnv["remoteAddr"] {
  return { transport: "tcp", hostname: peerHost(socket), port: socket.remotePort ?? 0 };
}

function upgradeRequest(req: http.IncomingMessage): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
  }
  return new Request(new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`), { headers });
}

async function writeRefusal(socket: Duplex, res: Response): Promise<void> {
  const body = new Uint8Array(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
  const lines = [`HTTP/1.1 ${res.status} ${http.STATUS_CODES[res.status] ?? ""}`];
  for (const [k, v] of res.headers) {
    if (!["connection", "content-length", "transfer-encoding"].includes(k)) lines.push(`${k}: ${v}`);
  }
  lines.push("Connection: close", `Content-Length: ${body.byteLength}`, "", "");
  socket.end(Buffer.concat([Buffer.from(lines.join("\r\n")), body]));
}

/**
 * Keep Deno's `idleTimeout` meaning: after `seconds` without traffic send a ping, and close when nothing
 * (not even the pong) came back within another `seconds`.
 */
function heartbeat(ws: WsConnection, seconds: number): void {
  if (!(seconds > 0)) return;
  let heard = true;
  let pinged = false;
  const alive = () => (heard = true);
  ws.on("message", alive);
  ws.on("pong", alive);
  ws.on("ping", alive);
  const timer = setInterval(() => {
    if (heard) {
      heard = false;
      pinged = false;
      return;
    }
    if (pinged) {
      ws.terminate();
      return;
    }
    pinged = true;
    try {
      ws.ping();
    } catch { /* closing */ }
  }, seconds * 1000);
  ws.on("close", () => clearInterval(timer));
}

function handleUpgrade(fetch: Fetch, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on("error", () => {}); // a peer reset is not a server error
  let accepted: WsConnection | undefined;
  const env: NodeServeEnv = {
    remoteAddr: remoteAddr(req.socket),
    acceptWebSocket(opts) {
      if (accepted) throw new Error("WebSocket already accepted");
      const wss = new WebSocketServer({
        noServer: true,
        clientTracking: false,
        perMessageDeflate: false,
        maxPayload: opts.maxMessageBytes,
        handleProtocols: () => opts.protocol ?? false,
      });
      let ws: WsConnection | undefined;
      // ws completes the handshake synchronously (no verifyClient, no compression to negotiate).
      wss.handleUpgrade(req, socket, head, (w) => (ws = w));
      if (!ws) throw new Error("WebSocket handshake failed");
      accepted = ws;
      // Hold incoming frames until the route has returned, then fire "open" as Deno does.
      socket.pause();
      // Protocol errors (1009, 1002) close the socket and 'close' reports them; an unhandled 'error'
      // would throw.
      // ws then sends the close frame, ends its side and keeps reading (and discarding) until the peer
      // closes, up to 30 s: a peer pushing a 48 MiB frame would still be read to the end. Drop the
      // connection as soon as the close frame is out instead (Deno's socket.pause() does not stop the
      // reads, it only buffers them).
      ws.on("error", (e: Error & { code?: string }) => {
        if (e.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") opts.onTooBig?.();
        socket.once("finish", () => socket.destroy());
        setTimeout(() => socket.destroy(), 1000);
      });
      heartbeat(ws, opts.idleTimeout ?? 30);
      ws.binaryType = "arraybuffer";
      // ws's WebSocket implements the WHATWG interface the gateway uses (addEventListener, readyState,
      // send, close, binaryType, protocol); its declared type is ws's own.
      return ws as unknown as WebSocket;
    },
  };
  Promise.resolve()
    .then(() => fetch(upgradeRequest(req), env))
    .then(async (res) => {
      if (accepted) {
        await res.body?.cancel();
        accepted.emit("open");
        socket.resume();
      } else {
        await writeRefusal(socket, res);
      }
    })
    .catch(() => {
      if (accepted) accepted.terminate();
      else socket.destroy();
    });
}

/** Serve `fetch` on host:port with the limits above. */
export function serveNode(
  opts: { hostname: string; port: number; limits: ServeLimits; onError?: (e: unknown) => void },
  fetch: Fetch,
): Promise<NodeServer> {
  const safeFetch: Fetch = async (req, env) => {
    try {
      return await fetch(req, env);
    } catch (e) {
      opts.onError?.(e);
      return new Response("Internal error", { status: 500 });
    }
  };
  const listener = getRequestListener(
    (req: Request, env: { incoming: { socket: { remoteAddress?: string; remotePort?: number } } }) =>
      safeFetch(req, { remoteAddr: remoteAddr(env.incoming.socket) }),
    { overrideGlobalObjects: false },
  );
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = opts.limits;
  const server = http.createServer({
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    // How often the header and request timeouts are checked (Node's default, 30 s, would let a
    // connection outlive a short timeout by that much).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
  }, listener);
  server.on("upgrade", (req, socket, head) => handleUpgrade(safeFetch, req, socket, head));
  const finished = new Promise<void>((resolve) => server.once("close", () => resolve()));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.hostname, () => {
      server.off("error", reject);
      const a = server.address() as { address: string; port: number };
      resolve({
        addr: { transport: "tcp", hostname: a.address, port: a.port },
        finished,
        async shutdown(graceMs = 2000) {
          server.close();
          server.closeIdleConnections();
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([
            finished,
            new Promise<void>((r) => (timer = setTimeout(r, graceMs))),
          ]);
          clearTimeout(timer);
          server.closeAllConnections();
          await finished;
        },
      });
    });
  });
}
