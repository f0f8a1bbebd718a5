/**
 * The gateway's front door, shared by every transport: the telephony peer allow-list, the per-address
 * connection cap, the per-connection token bucket and frame-size cap, the browser Origin allow-list, and
 * the metrics and log lines for every refusal. One guard is built per appliance ({@linkcode createGuard})
 * and handed to each transport's mount function; the WebSocket admission that uses it is ws_admission.ts,
 * and the guard's face for the rest of the gateway is mod.ts.
 *
 * Log lines name a refused peer only by its kind (loopback/private/public) and a keyed hash that is
 * stable for the life of the process: repeated attacks from one address can be correlated, the address
 * itself (personal data) is not written.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import type { Meter } from "@opentelemetry/api";
import { type Config, ConfigError } from "../../infra/mod.ts";
import type { Logger } from "../../infra/mod.ts";
import type { TransportKind } from "../call/contract.ts";
import { canonicalIp, type Cidr, inCidr, isLoopbackHost, isLoopbackIp, parseCidr, parseIp } from "./ip.ts";
import { limiter, type SocketLimiter, TokenBucket } from "./bucket.ts";

/** Why a connection was refused before authentication (a metric label). */
export type RejectReason =
  | "peer"
  | "origin"
  | "connections"
  | "draining"
  | "full"
  | "not_websocket"
  | "bad_request"
  | "subprotocol";

/** Options of {@linkcode createGuard}. */
export interface GuardOptions {
  /** True while the appliance drains for shutdown: new connections get 503. */
  draining?: () => boolean;
  /** True while TOM holds its maximum of concurrent calls (`maxCalls`): new calls get 503. */
  full?: () => boolean;
  /**
   * Concurrent connections per address on telephony transports (default 1000). Separate from
   * `gateway.maxConnectionsPerAddress` (browsers) because a PBX on the same box carries every call over
   * one address: the media budget is 200 concurrent calls, and 1000 leaves 5x headroom while still
   * bounding what one allowed peer can hold open.
   */
  telephonyConnectionsPerAddress?: number;
  /** Monotonic clock in ms for the token buckets (default `performance.now`). */
  now?: () => number;
}

/** The shared front door. All methods count and log their refusals themselves. */
export interface Guard {
  readonly limits: {
    messagesPerSecond: number;
    maxFrameBytes: number;
    maxConnectionsPerAddress: number;
    telephonyConnectionsPerAddress: number;
  };
  /** True while the appliance is draining. */
  draining(): boolean;
  /** True while TOM holds its maximum of calls; refuse with reason "full" (counted in `tom_calls_refused_total`). */
  full(): boolean;
  /** Telephony transports: true when `remoteAddr` is in `gateway.telephonyPeers`. Browsers: always true. */
  checkPeer(remoteAddr: string | undefined, transport: TransportKind): boolean;
  /** Take a connection slot for `remoteAddr`; undefined when the address is at its cap. Release once. */
  connectionSlot(remoteAddr: string | undefined, transport: TransportKind): (() => void) | undefined;
  /** A fresh token bucket and size cap for one connection. */
  socketLimiter(transport: TransportKind): SocketLimiter;
  /** True when no Origin is sent (not a browser), it is the appliance's own origin, or it is allowed. */
  checkOrigin(
    origin: string | null | undefined,
    host: string | null | undefined,
    transport?: TransportKind,
  ): boolean;
  /** Count and log a refused token (reason: a short code such as "expired"; never the token). */
  authFailure(transport: TransportKind, reason: string, remoteAddr?: string): void;
  /** Count and log a refused connection. */
  reject(transport: TransportKind, reason: RejectReason, remoteAddr?: string): void;
  /** How a peer appears in logs: kind and a process-keyed hash, never the address. */
  peerLabel(remoteAddr: string | undefined): string;
}

const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10"]
  .map(parseCidr);

/** Problems with the gateway's configuration, as `key (ENV): what is wrong` lines. */
export function gatewayConfigProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.gateway.devBypass && !isLoopbackHost(config.http.host)) {
    problems.push(
      "gateway.devBypass (TOM_GATEWAY_DEV_BYPASS): the development bypass is allowed only while " +
        `http.host is loopback (127.0.0.1, ::1, localhost), got ${JSON.stringify(config.http.host)}`,
    );
  }
  for (const peer of config.gateway.telephonyPeers) {
    try {
      parseCidr(peer);
    } catch {
      problems.push(
        `gateway.telephonyPeers (TOM_GATEWAY_TELEPHONY_PEERS): ${
          JSON.stringify(peer)
        } is not an IP address or CIDR`,
      );
    }
  }
  return problems;
}

/**
 * Fail start-up on a gateway configuration that would be unsafe.
 *
 * @throws {ConfigError} (exit code 2) when the dev bypass is on while HTTP is not bound to loopback, or a
 * telephony peer is not an address or range
 */
export function assertGatewayConfig(config: Config): void {
  const problems = gatewayConfigProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
}

function normalizeOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    return `${u.protocol}//${u.host}`;
  } catch {
    return undefined;
  }
}

/** A log throttle: at most one line per key every `everyMs`, with the count of lines left out. */
function throttle(everyMs: number): (key: string) => number | undefined {
  const seen = new Map<string, { at: number; skipped: number }>();
  return (key) => {
    const t = performance.now();
    const s = seen.get(key);
    if (s && t - s.at < everyMs) {
      s.skipped++;
      return undefined;
    }
    if (seen.size > 1000) seen.clear();
    seen.set(key, { at: t, skipped: 0 });
    return s?.skipped ?? 0;
  };
}

/**
 * Build the front door from the validated configuration.
 *
 * @throws {ConfigError} when the gateway configuration is unsafe (see {@linkcode assertGatewayConfig})
 */
export function createGuard(config: Config, meter: Meter, log: Logger, opts: GuardOptions = {}): Guard {
  assertGatewayConfig(config);
  const g = config.gateway;
  const peers: Cidr[] = g.telephonyPeers.map(parseCidr);
  const origins = new Set(g.allowedOrigins.map(normalizeOrigin).filter((o): o is string => o !== undefined));
  const telephonyCap = opts.telephonyConnectionsPerAddress ?? 1000;
  const now = opts.now ?? (() => performance.now());
  const labelKey = crypto.getRandomValues(new Uint8Array(32));
  const glog = log.child({ component: "gateway" });
  const logLimit = throttle(10_000);

  const authFailures = meter.createCounter("tom_gateway_auth_failures_total", {
    description: "Gateway handshakes refused for their token, by transport and reason",
  });
  const refused = meter.createCounter("tom_calls_refused_total", {
    description: "Calls refused before TOM took them, by reason (full: at maxCalls), so the PBX falls back",
  });
  const rejected = meter.createCounter("tom_gateway_rejected_connections_total", {
    description: "Gateway connections refused before authentication, by transport and reason",
  });
  const rateLimited = meter.createCounter("tom_gateway_rate_limited_total", {
    description: "Gateway connections closed by the message rate limit (1013)",
  });
  const oversize = meter.createCounter("tom_gateway_oversize_total", {
    description: "Gateway connections closed for a message over the size limit (1009)",
  });
  const connections = meter.createUpDownCounter("tom_gateway_connections", {
    description: "Open gateway connections by transport",
  });
  const open = new Map<string, number>();

  const peerLabel = (remoteAddr: string | undefined): string => {
    if (!remoteAddr) return "unknown";
    const ip = parseIp(remoteAddr);
    const kind = !ip
      ? "unknown"
      : isLoopbackIp(remoteAddr)
      ? "loopback"
      : PRIVATE.some((r) => inCidr(ip, r))
      ? "private"
      : "public";
    const tag = createHmac("sha256", labelKey).update(canonicalIp(remoteAddr)).digest("hex").slice(0, 10);
    return `${kind}:${tag}`;
  };

  const warn = (message: string, key: string, fields: Record<string, unknown>) => {
    const skipped = logLimit(key);
    if (skipped === undefined) return;
    glog.warn(message, skipped > 0 ? { ...fields, similar_lines_skipped: skipped } : fields);
  };

  const guard: Guard = {
    limits: {
      messagesPerSecond: g.messagesPerSecond,
      maxFrameBytes: g.maxFrameBytes,
      maxConnectionsPerAddress: g.maxConnectionsPerAddress,
      telephonyConnectionsPerAddress: telephonyCap,
    },
    draining: () => opts.draining?.() ?? false,
    full: () => opts.full?.() ?? false,
    checkPeer(remoteAddr, transport) {
      if (transport === "browser") return true;
      const ip = remoteAddr ? parseIp(remoteAddr) : undefined;
      if (ip && peers.some((r) => inCidr(ip, r))) return true;
      guard.reject(transport, "peer", remoteAddr);
      return false;
    },
    connectionSlot(remoteAddr, transport) {
      const browser = transport === "browser";
      const key = `${browser ? "b" : "t"}|${remoteAddr ? canonicalIp(remoteAddr) : "unknown"}`;
      const cap = browser ? g.maxConnectionsPerAddress : telephonyCap;
      const held = open.get(key) ?? 0;
      if (held >= cap) {
        guard.reject(transport, "connections", remoteAddr);
        return undefined;
      }
      open.set(key, held + 1);
      connections.add(1, { transport });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const n = (open.get(key) ?? 1) - 1;
        if (n <= 0) open.delete(key);
        else open.set(key, n);
        connections.add(-1, { transport });
      };
    },
    socketLimiter(transport) {
      const bucket = new TokenBucket(g.messagesPerSecond, g.messagesPerSecond, now);
      return limiter(bucket, g.maxFrameBytes, (why) => {
        if (why === "rate") rateLimited.add(1, { transport });
        else oversize.add(1, { transport });
        warn(
          why === "rate" ? "connection closed: message rate limit" : "connection closed: message too big",
          `${transport}|${why}`,
          { transport, reason: why },
        );
      });
    },
    checkOrigin(origin, host, transport = "browser") {
      if (origin === null || origin === undefined || origin === "") return true;
      const o = normalizeOrigin(origin);
      if (o !== undefined) {
        if (origins.has(o)) return true;
        const own = host ? normalizeOrigin(`${o.slice(0, o.indexOf("//"))}//${host}`) : undefined;
        if (own !== undefined && own === o) return true;
      }
      guard.reject(transport, "origin");
      return false;
    },
    authFailure(transport, reason, remoteAddr) {
      authFailures.add(1, { transport, reason });
      warn("handshake refused: token", `${transport}|auth|${reason}`, {
        transport,
        reason,
        peer: peerLabel(remoteAddr),
      });
    },
    reject(transport, reason, remoteAddr) {
      rejected.add(1, { transport, reason });
      if (reason === "full" || reason === "draining") refused.add(1, { transport, reason });
      warn("connection refused", `${transport}|reject|${reason}`, {
        transport,
        reason,
        peer: peerLabel(remoteAddr),
      });
    },
    peerLabel,
  };
  return guard;
}
