/**
 * WebSocket admission for every gateway route: refuse with an HTTP status before the upgrade (so a
 * refused peer never holds a socket), upgrade with the transport's subprotocol echoed, and police each
 * message (size cap -> 1009, token bucket -> 1013, handler failure -> 1011).
 *
 * @module
 */
import type { Context } from "hono";
import type { Logger } from "../../infra/mod.ts";
import type { TransportKind } from "../call/contract.ts";
import type { Guard } from "./front_door.ts";
import { type SocketLimiter, textSizeFor } from "./bucket.ts";

/** WebSocket close codes the gateway uses. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  /** Policy violation: bad or too many invalid messages, start timeout, call refused. */
  policy: 1008,
  /** A message over `gateway.maxFrameBytes`. */
  tooBig: 1009,
  /** TOM failed internally. */
  internal: 1011,
  /** Rate limit, or the appliance is shutting down: try again later. */
  tryAgain: 1013,
} as const;

/** The peer address of a request served by `Deno.serve(app.fetch)` (undefined under `app.request`). */
export function remoteAddress(c: Context): string | undefined {
  const env = c.env as { remoteAddr?: { hostname?: unknown } } | undefined;
  const host = env?.remoteAddr?.hostname;
  return typeof host === "string" && host !== "" ? host : undefined;
}

/** A refusal before the upgrade: JSON `{ error }` with the status (401 adds `WWW-Authenticate`). */
export function refuse(status: 400 | 401 | 403 | 426 | 429 | 500 | 503, error: string): Response {
  const headers: Record<string, string> = { "Content-Type": "application/json", "Cache-Control": "no-store" };
  if (status === 401) headers["WWW-Authenticate"] = 'Bearer error="invalid_token"';
  if (status === 426) headers["Upgrade"] = "websocket";
  if (status === 503 || status === 429) headers["Retry-After"] = "5";
  return new Response(JSON.stringify({ error }), { status, headers });
}

/** A connection slot taken by {@linkcode admit}. */
export interface Slot {
  /** The peer address (undefined when unknown). */
  remote: string | undefined;
  /** Give the slot back (idempotent; done automatically when an upgraded socket closes). */
  release(): void;
}

/** Options of {@linkcode admit}. */
export interface AdmitOptions {
  /** Check the Origin header against the allow-list (default: only for the browser transport). */
  origin?: boolean;
}

/**
 * The checks before authentication, cheapest first: a WebSocket upgrade (426), not draining and not at the maximum of calls (503), an
 * allowed telephony peer (403), an allowed Origin (403), a free connection slot (429).
 */
export function admit(
  c: Context,
  guard: Guard,
  transport: TransportKind,
  opts: AdmitOptions = {},
): Slot | Response {
  const remote = remoteAddress(c);
  if ((c.req.header("upgrade") ?? "").toLowerCase() !== "websocket") {
    guard.reject(transport, "not_websocket", remote);
    return refuse(426, "Expected a WebSocket upgrade");
  }
  if (guard.draining()) {
    guard.reject(transport, "draining", remote);
    return refuse(503, "Shutting down: not accepting new calls");
  }
  if (guard.full()) {
    guard.reject(transport, "full", remote);
    return refuse(503, "At the maximum of concurrent calls: not accepting new calls");
  }
  if (!guard.checkPeer(remote, transport)) return refuse(403, "Peer not allowed");
  if (
    (opts.origin ?? transport === "browser") &&
    !guard.checkOrigin(c.req.header("origin"), c.req.header("host"), transport)
  ) {
    return refuse(403, "Origin not allowed");
  }
  const release = guard.connectionSlot(remote, transport);
  if (!release) return refuse(429, "Too many connections from this address");
  return { remote, release };
}

/** Options of {@linkcode upgradeWebSocket}. */
export interface UpgradeOptions {
  /** Subprotocol to echo (`audio.drachtio.org`, `media`); a client offering only others gets 400. */
  protocol?: string;
  /** Seconds without a pong before Deno closes the socket (Deno's default 30; 0 disables). */
  idleTimeout?: number;
}

/**
 * How the appliance's server (infra/http_server.ts) offers an upgrade in `c.env.acceptWebSocket`: its
 * socket refuses a message over `maxMessageBytes` from the frame header, before buffering it (close
 * 1009). Without it (tests serving the app with `Deno.serve`) Deno's own upgrade is used, which buffers a
 * whole message before {@linkcode guardSocket} can refuse it.
 */
export type AcceptWebSocket = (opts: {
  protocol?: string;
  idleTimeout?: number;
  maxMessageBytes: number;
  /** Called when a message over `maxMessageBytes` is refused. */
  onTooBig?: () => void;
}) => WebSocket;

/** An upgraded socket and the 101 response the route must return. */
export interface UpgradedSocket {
  socket: WebSocket;
  response: Response;
  remote: string | undefined;
}

/** Upgrade after {@linkcode admit} (and any authentication); the slot is released when the socket closes. */
export function upgradeWebSocket(
  c: Context,
  slot: Slot,
  guard: Guard,
  transport: TransportKind,
  opts: UpgradeOptions = {},
): UpgradedSocket | Response {
  const offered = (c.req.header("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim())
    .filter((p) => p !== "");
  let protocol: string | undefined;
  if (opts.protocol !== undefined && offered.length > 0) {
    if (!offered.includes(opts.protocol)) {
      slot.release();
      guard.reject(transport, "subprotocol", slot.remote);
      return refuse(400, `Expected subprotocol ${opts.protocol}`);
    }
    protocol = opts.protocol;
  }
  try {
    const accept = (c.env as { acceptWebSocket?: AcceptWebSocket } | undefined)?.acceptWebSocket;
    const { socket, response } = accept
      ? {
        socket: accept({
          ...(protocol ? { protocol } : {}),
          ...(opts.idleTimeout !== undefined ? { idleTimeout: opts.idleTimeout } : {}),
          maxMessageBytes: guard.limits.maxFrameBytes,
          // Counted and logged like guardSocket's own size check (an oversize limiter verdict).
          onTooBig: () => void guard.socketLimiter(transport).admit(Number.POSITIVE_INFINITY),
        }),
        response: new Response(null, { status: 200 }), // ignored: the server has answered 101 already
      }
      : Deno.upgradeWebSocket(c.req.raw, {
        ...(protocol ? { protocol } : {}),
        ...(opts.idleTimeout !== undefined ? { idleTimeout: opts.idleTimeout } : {}),
      });
    socket.binaryType = "arraybuffer";
    socket.addEventListener("close", () => slot.release());
    return { socket, response, remote: slot.remote };
  } catch {
    slot.release();
    guard.reject(transport, "bad_request", slot.remote);
    return refuse(400, "Invalid WebSocket handshake");
  }
}

/**
 * For telephony routes without a token: {@linkcode admit} then {@linkcode upgradeWebSocket}.
 *
 * @example
 * ```ts ignore
 * app.get("/ws/freeswitch", (c) => {
 *   const up = admitWebSocket(c, guard, "freeswitch", { protocol: "audio.drachtio.org" });
 *   if (up instanceof Response) return up;
 *   guardSocket(up.socket, guard.socketLimiter("freeswitch"), (data) => serializer.receive(data), { log });
 *   return up.response;
 * });
 * ```
 */
export function admitWebSocket(
  c: Context,
  guard: Guard,
  transport: TransportKind,
  opts: AdmitOptions & UpgradeOptions = {},
): UpgradedSocket | Response {
  const slot = admit(c, guard, transport, opts);
  if (slot instanceof Response) return slot;
  return upgradeWebSocket(c, slot, guard, transport, opts);
}

/** Options of {@linkcode closeSocket}. */
export interface CloseSocketOptions {
  /** Close once no message has arrived for this long (default 10 ms). */
  quietMs?: number;
  /** Close after this long even if the peer never pauses (default 500 ms). */
  maxWaitMs?: number;
}

const closing = new WeakSet<WebSocket>();

/**
 * Close a server socket with `code` so that the peer sees the code, even while it is still sending.
 *
 * Deno's server WebSocket (2.9) drops the TCP connection when a data frame arrives after `close()`,
 * and the close frame is lost when that happens before it was written: a flooding peer then sees an
 * abnormal closure instead of 1013 (measured: about 1 flood in 12). So the close waits, while messages
 * are dropped, for a pause in the peer's traffic (`quietMs`; a burst ends, a browser's 20 ms audio
 * frames leave gaps), at most `maxWaitMs`, and is called from a fresh macrotask. Idempotent; never throws.
 */
export function closeSocket(
  socket: WebSocket,
  code: number,
  reason: string,
  opts: CloseSocketOptions = {},
): void {
  if (closing.has(socket)) return;
  closing.add(socket);
  const quietMs = opts.quietMs ?? 10;
  const maxWaitMs = opts.maxWaitMs ?? 500;
  const start = performance.now();
  let last = start;
  const seen = () => (last = performance.now());
  socket.addEventListener("message", seen);
  const check = () => {
    const now = performance.now();
    const state = socket.readyState;
    if (state === WebSocket.CLOSING || state === WebSocket.CLOSED) {
      socket.removeEventListener("message", seen);
      return;
    }
    const late = now - start >= maxWaitMs;
    if (!late && (state === WebSocket.CONNECTING || now - last < quietMs)) {
      setTimeout(check, Math.max(1, quietMs - (now - last)));
      return;
    }
    socket.removeEventListener("message", seen);
    try {
      socket.close(code, reason.slice(0, 120));
    } catch {
      // closing already
    }
  };
  setTimeout(check, quietMs);
}

/** Options of {@linkcode guardSocket}. */
export interface GuardSocketOptions {
  log?: Logger;
  /**
   * Called once when the guard closes the socket (1009, 1013, 1011), before the close frame is sent:
   * stop sending (pacers, playback) so the close frame is not stuck behind queued audio.
   */
  onRefused?: (code: number) => void;
}

/**
 * Police every message of a socket: over the size cap closes with 1009, over the rate with 1013, a
 * handler that throws closes with 1011 (logged). Messages after a refusal are dropped. Binary messages
 * arrive as ArrayBuffer.
 */
export function guardSocket(
  socket: WebSocket,
  limits: SocketLimiter,
  onMessage: (data: string | ArrayBuffer) => void,
  opts: GuardSocketOptions = {},
): void {
  socket.binaryType = "arraybuffer";
  let closed = false;
  const close = (code: number, reason: string) => {
    closed = true;
    try {
      opts.onRefused?.(code);
    } catch (e) {
      opts.log?.error("onRefused failed", { error: e });
    }
    closeSocket(socket, code, reason);
  };
  socket.addEventListener("close", () => (closed = true));
  socket.addEventListener("message", (ev: MessageEvent) => {
    if (closed) return;
    const data = ev.data as unknown;
    let size: number;
    if (typeof data === "string") size = textSizeFor(data, limits.maxBytes);
    else if (data instanceof ArrayBuffer) size = data.byteLength;
    else return close(CLOSE.policy, "unsupported message");
    const verdict = limits.admit(size);
    if (verdict === "size") return close(CLOSE.tooBig, "message too big");
    if (verdict === "rate") return close(CLOSE.tryAgain, "rate limit");
    try {
      onMessage(data);
    } catch (e) {
      opts.log?.error("message handler failed", { error: e });
      close(CLOSE.internal, "internal error");
    }
  });
}
