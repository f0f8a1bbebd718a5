/**
 * The open calls of a WebSocket media transport (Asterisk chan_websocket, Twilio Media Streams,
 * FreeSWITCH audio fork), the part every such transport mounts alike: the front door (the shared guard, or
 * one built from the configuration), the resampler loaded once before the first call, each upgraded socket
 * registered with its call until it closes and every message policed by the guard (a refusal stops the
 * call sending first), and the count and hang-up of the open calls at shutdown.
 *
 * @module
 */
import type { Logger } from "../../infra/mod.ts";
import { createGuard, type Guard, guardSocket, type UpgradedSocket } from "../guard/mod.ts";
import { loadResampler } from "../audio/mod.ts";
import type { TransportKind } from "./contract.ts";
import type { GatewayDeps } from "./session.ts";

/** A media socket's call as the registry sees it. */
export interface SocketCall<R = void> {
  /** A message the guard admitted. */
  receive(data: string | ArrayBuffer): void;
  /** The guard is closing the socket (rate, size): stop sending so its close frame goes out at once. */
  stopSending?(): void;
  /** End the call from TOM's side. */
  hangup(reason: string): R;
}

/** The open calls of one WebSocket media transport; see the module comment. */
export class MediaSockets<C extends SocketCall<unknown>> {
  /** The front door the transport's routes admit through. */
  readonly guard: Guard;
  /** The transport's logger (`component: gateway`, `transport`). */
  readonly log: Logger;
  readonly #transport: TransportKind;
  readonly #open = new Set<C>();
  readonly #resampler: Promise<void>;

  /** @param guard the shared front door (default: one built from `deps.config`) */
  constructor(deps: GatewayDeps, transport: TransportKind, guard?: Guard) {
    this.guard = guard ?? createGuard(deps.config, deps.meter, deps.log, {
      draining: () => deps.calls.draining,
      full: () => deps.calls.full,
    });
    this.log = deps.log.child({ component: "gateway", transport });
    this.#transport = transport;
    this.#resampler = loadResampler();
    this.#resampler.catch((e) => this.log.error("cannot load the resampler", { error: e }));
  }

  /** Resolves once the resampler is loaded (await it before admitting a call). */
  ready(): Promise<void> {
    return this.#resampler;
  }

  /** Register `call` on its upgraded socket until the socket closes; returns the 101 response. */
  register(up: UpgradedSocket, call: C): Response {
    this.#open.add(call);
    up.socket.addEventListener("close", () => this.#open.delete(call));
    guardSocket(up.socket, this.guard.socketLimiter(this.#transport), (data) => call.receive(data), {
      log: this.log,
      ...(call.stopSending ? { onRefused: () => call.stopSending?.() } : {}),
    });
    return up.response;
  }

  /** Open connections. */
  get size(): number {
    return this.#open.size;
  }

  /** Hang up every open call (shutdown); the hang-ups' results, in no particular order. */
  hangupAll(reason = "shutting down"): ReturnType<C["hangup"]>[] {
    return [...this.#open].map((call) => call.hangup(reason) as ReturnType<C["hangup"]>);
  }
}
