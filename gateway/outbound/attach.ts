/**
 * Attaching a transport's session to the call row TOM created when it placed an outbound call.
 *
 * `placeCall` records the call (direction outbound, status ringing) before dialling, so that a busy
 * line or an unreachable PBX is on record. When the callee answers, the PBX's audio arrives on a
 * transport (mod_audio_fork metadata or Twilio `<Parameter>`s carry `tom_call_id` and `tom_account_id`);
 * the session must continue that row rather than start a second one.
 *
 * @module
 */
import { getCall } from "../../store/mod.ts";
import type { CallOutput } from "../call/contract.ts";
import { CallSession, type CallStartInfo, type GatewayDeps } from "../call/session.ts";

/** The ids a transport found in its peer's call set-up. */
export interface PlacedCallRef {
  callId?: string;
  accountId?: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Whether a string may be used as a call or account id (also keeps them safe inside ESL commands). */
export function isSafeId(s: unknown): s is string {
  return typeof s === "string" && ID.test(s);
}

/**
 * Open the session for a call a transport starts. When `placed` names a ringing outbound call of the
 * same transport, the session continues that row (same id, account and person: {@linkcode CallSession}
 * adopts the ringing row it is given, without reading it again); otherwise it is a new call.
 *
 * @throws {Error} when the appliance is shutting down (from {@linkcode CallSession.open}).
 */
export function openTelephonySession(
  deps: GatewayDeps,
  info: CallStartInfo,
  output: CallOutput,
  placed: PlacedCallRef = {},
): CallSession {
  const { callId, accountId } = placed;
  if (!isSafeId(callId) || !isSafeId(accountId)) return CallSession.open(deps, info, output);
  const row = getCall(deps.store, accountId, callId);
  if (!row || row.direction !== "outbound" || row.status !== "ringing" || row.transport !== info.transport) {
    deps.log.warn("audio names a placed call that is not waiting for it; treating it as a new call", {
      call_id: callId,
      transport: info.transport,
      found: row ? `${row.direction}/${row.status}/${row.transport}` : "none",
    });
    return CallSession.open(deps, info, output);
  }
  const outbound: CallStartInfo = {
    ...info,
    direction: "outbound",
    callId,
    accountId,
    ...(row.personId ? { personId: row.personId } : {}),
    placed: row,
  };
  return CallSession.open(deps, outbound, output);
}
