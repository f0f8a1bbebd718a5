/**
 * The guard: the gateway's front door against unwanted peers, shared by every transport. The telephony
 * peer and browser Origin allow-lists, the per-address connection cap and the gateway's configuration
 * checks (front_door.ts), the per-connection token bucket and frame-size cap (bucket.ts), address parsing
 * (ip.ts), and the WebSocket admission that refuses before the upgrade and polices each message
 * (ws_admission.ts). The peers import the guard only through this module.
 *
 * @example
 * ```ts
 * import { admitWebSocket, CLOSE, createGuard, guardSocket } from "./mod.ts";
 * ```
 *
 * @module
 */
export { type Admission, type SocketLimiter, TokenBucket } from "./bucket.ts";
export { canonicalIp, type Cidr, inCidr, isLoopbackHost, isLoopbackIp, parseCidr, parseIp } from "./ip.ts";
export {
  assertGatewayConfig,
  createGuard,
  gatewayConfigProblems,
  type Guard,
  type GuardOptions,
  type RejectReason,
} from "./front_door.ts";
export {
  type AcceptWebSocket,
  admit,
  type AdmitOptions,
  admitWebSocket,
  CLOSE,
  closeSocket,
  type CloseSocketOptions,
  guardSocket,
  type GuardSocketOptions,
  refuse,
  remoteAddress,
  type Slot,
  type UpgradedSocket,
  type UpgradeOptions,
  upgradeWebSocket,
} from "./ws_admission.ts";
