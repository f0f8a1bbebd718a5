/**
 * Mount the gateway on the appliance's hono app: one {@linkcode Guard} and one token check for every
 * transport, the browser route ({@linkcode mountBrowser}: the handshake; gateway/browser/stream.ts: the
 * protocol), and the other transports through {@linkcode TransportMount} hooks.
 *
 * A transport's mount function receives the app, the deps and the shared guard. A WebSocket route uses
 * `admitWebSocket` (peer allow-list, per-address cap, subprotocol echo; refusals are HTTP statuses
 * before the upgrade) and `guardSocket` (1009 size, 1013 rate, 1011 on handler failure); a TCP server
 * (AudioSocket) uses `guard.checkPeer`, `guard.connectionSlot` and `guard.socketLimiter` directly. If it
 * returns an object with `close()`, {@linkcode GatewayHandle.close} calls it at shutdown.
 *
 * @example
 * ```ts ignore
 * const gateway = await mountGateway(app, deps, {
 *   transports: [
 *     (app, deps, guard) => mountFreeswitch(app, deps, guard),
 *     (app, deps, guard) => mountTwilio(app, deps, guard),
 *     (app, deps, guard) => mountAsteriskWebSocket(app, deps, guard),
 *     (_app, deps, guard) => startAudioSocketServer(deps, guard),
 *   ],
 * });
 * // on shutdown, after calls.drain(): await gateway.close();
 * ```
 *
 * @module
 */
import type { Hono } from "hono";
import type { GatewayDeps } from "./call/session.ts";
import {
  admit,
  CLOSE,
  createGuard,
  type Guard,
  type GuardOptions,
  refuse,
  upgradeWebSocket,
} from "./guard/mod.ts";
import {
  type Authenticator,
  type AuthOptions,
  createAuthenticator,
  loadVerificationKeys,
  type VerificationKeys,
} from "./auth/handshake.ts";
import { BrowserConnection, type BrowserOptions, CALL_ID_PATTERN } from "./browser/stream.ts";

/** A transport's mount function; a returned object with `close()` is closed at shutdown. */
export type TransportMount = (app: Hono, deps: GatewayDeps, guard: Guard) => unknown;

/** Options of {@linkcode mountGateway}. */
export interface MountGatewayOptions {
  /** The other transports, mounted after the browser route with the shared guard. */
  transports?: TransportMount[];
  /** Token verification keys (default: from the configuration, see `loadVerificationKeys`). */
  keys?: VerificationKeys;
  guard?: GuardOptions;
  auth?: AuthOptions;
  browser?: BrowserOptions;
}

/** The mounted gateway. */
export interface GatewayHandle {
  guard: Guard;
  auth: Authenticator;
  browser: BrowserTransport;
  /** Close open browser connections (1001) and every transport that returned something closable. */
  close(): Promise<void>;
}

/** The mounted browser transport. */
export interface BrowserTransport {
  /** Open browser connections. */
  readonly size: number;
  /** Close every open connection (shutdown: 1001). */
  close(code?: number, reason?: string): void;
}

/**
 * Mount the browser route `GET /ws/stream/:callId`: Origin and per-address cap (403/429), call id (400),
 * token (401), all before the upgrade; then a {@linkcode BrowserConnection} speaks the protocol.
 */
export function mountBrowser(
  app: Hono,
  deps: GatewayDeps,
  guard: Guard,
  auth: Authenticator,
  opts: BrowserOptions = {},
): BrowserTransport {
  const open = new Set<BrowserConnection>();
  const log = deps.log.child({ component: "gateway", transport: "browser" });

  app.get("/ws/stream/:callId", async function browserStream(c) {
    const slot = admit(c, guard, "browser");
    if (slot instanceof Response) return slot;
    const callId = c.req.param("callId");
    if (!CALL_ID_PATTERN.test(callId)) {
      slot.release();
      guard.reject("browser", "bad_request", slot.remote);
      return refuse(400, "Invalid call id");
    }
    let result;
    try {
      result = await auth.authenticate(c.req.raw, callId, slot.remote);
    } catch {
      result = { ok: false as const, reason: "internal" as const };
    }
    if (!result.ok) {
      slot.release();
      guard.authFailure("browser", result.reason, slot.remote);
      return result.reason === "internal"
        ? refuse(503, "Cannot check the token now")
        : refuse(401, "Unauthorized");
    }
    if (result.bypass) {
      log.warn("connection admitted by the development bypass (no token)", { call_id: callId });
    }
    const up = upgradeWebSocket(c, slot, guard, "browser");
    if (up instanceof Response) return up;
    const conn = new BrowserConnection(up.socket, deps, guard, log, callId, result.claims, opts);
    open.add(conn);
    up.socket.addEventListener("close", () => open.delete(conn));
    return up.response;
  });

  return {
    get size() {
      return open.size;
    },
    close(code = CLOSE.goingAway, reason = "shutting down") {
      for (const conn of [...open]) conn.hangup(reason, code);
    },
  };
}

function closable(x: unknown): x is { close(): unknown } {
  return typeof x === "object" && x !== null && typeof (x as { close?: unknown }).close === "function";
}

/**
 * Mount the gateway's routes on `app` (before `Deno.serve` starts serving it).
 *
 * @throws {ConfigError} when the gateway or JWT configuration is unsafe or incomplete (start-up exits 2):
 * the dev bypass while HTTP is not bound to loopback, a bad telephony peer, an asymmetric algorithm
 * without a usable public key
 */
export async function mountGateway(
  app: Hono,
  deps: GatewayDeps,
  opts: MountGatewayOptions = {},
): Promise<GatewayHandle> {
  const guard = createGuard(deps.config, deps.meter, deps.log, {
    draining: () => deps.calls.draining,
    full: () => deps.calls.full,
    ...opts.guard,
  });
  const keys = opts.keys ?? await loadVerificationKeys(deps.config);
  const auth = createAuthenticator(deps.config, deps.store, keys, {
    ...(deps.now ? { now: deps.now } : {}),
    ...opts.auth,
  });
  if (deps.config.gateway.devBypass) {
    deps.log.warn("gateway development bypass is ON: loopback browser connections need no token", {
      component: "gateway",
    });
  }
  const browser = mountBrowser(app, deps, guard, auth, opts.browser);
  const closers: { close(): unknown }[] = [];
  for (const mount of opts.transports ?? []) {
    const mounted = await mount(app, deps, guard);
    if (closable(mounted)) closers.push(mounted);
  }
  let closing: Promise<void> | undefined;
  return {
    guard,
    auth,
    browser,
    close() {
      closing ??= (async () => {
        browser.close();
        await Promise.allSettled(closers.map(async (c) => await c.close()));
      })();
      return closing;
    },
  };
}
