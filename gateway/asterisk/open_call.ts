/**
 * Opening a call for Asterisk's transports. The peer's id for the call (AudioSocket's UUID,
 * chan_websocket's channel id) is stored as the call's external id, which the store keeps unique; but a
 * dialplan may pass a constant UUID (`AudioSocket(40325ec2-...,host:port)` is a common copy-and-paste)
 * and Asterisk before 22.8 sends no channel id, only the client's name. A clash must not refuse the
 * caller: the call is opened without an external id and the peer's id stays in `meta`.
 *
 * @module
 */
import { StoreConflictError } from "../../store/mod.ts";
import type { CallOutput } from "../call/contract.ts";
import { CallSession, type CallStartInfo, type GatewayDeps } from "../call/session.ts";

/**
 * Open the session; on an external id that is already taken, warn and open it without one.
 *
 * @throws {Error} when the appliance is shutting down or the store fails
 */
export function openAsteriskCall(deps: GatewayDeps, info: CallStartInfo, output: CallOutput): CallSession {
  try {
    return CallSession.open(deps, info, output);
  } catch (e) {
    if (!(e instanceof StoreConflictError) || info.externalId === undefined) throw e;
    deps.log.warn(
      "Asterisk reused a call id: the call is recorded without it (use ${UUID()} in the dialplan)",
      {
        component: "gateway",
        transport: info.transport,
      },
    );
    return CallSession.open(deps, { ...info, externalId: undefined }, output);
  }
}
