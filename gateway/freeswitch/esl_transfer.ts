/**
 * Cold transfer of a FreeSWITCH call over the event socket: `api uuid_transfer <uuid> <target> XML <context>`
 * moves the caller's channel (TOM's audio fork stays attached) to `<target>` in the dialplan context
 * `freeswitch.transferContext`, whose extension rings the person (`bridge`). FreeSWITCH answers the command
 * with `+OK` or `-ERR <why>`; how the ringing ends comes as channel events.
 *
 * Confirmed (`{ ok: true }`) means the caller reached a person or the voicemail box, not merely that
 * FreeSWITCH accepted the command:
 * - `CHANNEL_BRIDGE` with the caller's channel on either side (`Unique-ID` or `Other-Leg-Unique-ID`): the
 *   target answered and is bridged;
 * - for a voicemail target, `CHANNEL_EXECUTE` of the `voicemail` application on the caller's channel.
 *
 * Refused: `-ERR` (no such channel, no such context) is `failed`. When the caller's channel finishes its
 * `bridge` without a `CHANNEL_BRIDGE` (`CHANNEL_EXECUTE_COMPLETE`, `Application: bridge`), nobody took the
 * call: its `variable_originate_disposition` (else the `Hangup-Cause` of the last `CHANNEL_HANGUP` of a leg
 * rung for the caller, `Other-Leg-Unique-ID` = the caller's channel) gives the reason
 * ({@linkcode transferReasonOf}: USER_BUSY busy, NO_ANSWER no_answer, NO_ROUTE_DESTINATION or
 * UNALLOCATED_NUMBER unreachable, ...). A ring group's leg that fails while another still rings decides
 * nothing. The caller's channel hanging up first (a context without the extension hangs up with
 * NO_ROUTE_DESTINATION) is mapped the same way by its own `Hangup-Cause`. The event socket down is `failed`
 * at once; `signal` aborted first is `timeout`.
 *
 * For a failed target to come back to TOM, the transfer context parks the caller after a failed bridge
 * (`continue_on_fail=true`, `bridge ...`, then `park`): TOM's fork is still attached, so TOM speaks again.
 * TOM stops its fork itself once the transfer is confirmed, or on any later CHANNEL_BRIDGE of the channel (a
 * person who answers after TOM stopped waiting): fork.ts.
 *
 * Targets: an extension as the practice set it; a number without its spaces, dashes, slashes, dots and
 * brackets (the context routes it, e.g. through the provider's gateway); a voicemail box as
 * `freeswitch.transferVoicemailPrefix` + box (`*99<box>`, as in FreeSWITCH's default dialplan and the shipped
 * infra/deploy/freeswitch/dialplan/tom_transfer.xml, leaves a message in that box).
 *
 * @module
 */
import type { Logger } from "../../infra/mod.ts";
import type { TransferOutcome, TransferTo } from "../call/contract.ts";
import { eslErrorCause, type EslEvent, eslOk, EslTimeoutError } from "./esl_wire.ts";

/** The part of the ESL client a transfer needs. */
export interface TransferEsl {
  readonly connected: boolean;
  api(command: string): Promise<string>;
  onEvent(listener: (e: EslEvent) => void): () => void;
}

/** Where the dialplan finds transfer targets. */
export interface FsTransferConfig {
  /** Dialplan context of the targets (`freeswitch.transferContext`). */
  context: string;
  /** Prefix that turns a voicemail box into a dialplan extension (`freeswitch.transferVoicemailPrefix`). */
  voicemailPrefix: string;
}

type Reason = Exclude<TransferOutcome, { ok: true }>["reason"];

const BUSY = new Set(["USER_BUSY", "CALL_REJECTED"]);
const NO_ANSWER = new Set(["NO_ANSWER", "NO_USER_RESPONSE", "ALLOTTED_TIMEOUT", "RECOVERY_ON_TIMER_EXPIRE"]);
const UNREACHABLE = new Set([
  "NO_ROUTE_DESTINATION",
  "UNALLOCATED_NUMBER",
  "USER_NOT_REGISTERED",
  "SUBSCRIBER_ABSENT",
  "DESTINATION_OUT_OF_ORDER",
  "NETWORK_OUT_OF_ORDER",
  "INVALID_NUMBER_FORMAT",
  "NO_ROUTE_TRANSIT_NET",
  "GATEWAY_DOWN",
  "INCOMPATIBLE_DESTINATION",
  "NUMBER_CHANGED",
]);

/** A FreeSWITCH hang-up cause as a transfer's failure reason. */
export function transferReasonOf(cause: string): Reason {
  if (BUSY.has(cause)) return "busy";
  if (NO_ANSWER.has(cause)) return "no_answer";
  if (UNREACHABLE.has(cause)) return "unreachable";
  return "failed";
}

/** The dialplan extension for `to`, or undefined when it is not one (anything but digits, letters, `+*#_.-`). */
export function fsTransferTarget(to: TransferTo, cfg: FsTransferConfig): string | undefined {
  const raw = to.kind === "number" ? to.target.replace(/[\s\-/().]/g, "") : to.target.trim();
  const target = to.kind === "voicemail" ? `${cfg.voicemailPrefix}${raw}` : raw;
  return /^[0-9A-Za-z+*#_.-]{1,64}$/.test(target) && raw !== "" ? target : undefined;
}

/**
 * Transfer channel `uuid` to `to`; never throws.
 *
 * @returns the outcome as FreeSWITCH reported it (see the module text for what confirmed means)
 */
export function fsTransfer(
  esl: TransferEsl,
  uuid: string,
  to: TransferTo,
  signal: AbortSignal,
  cfg: FsTransferConfig & { log?: Logger },
): Promise<TransferOutcome> {
  const target = fsTransferTarget(to, cfg);
  if (!target) return Promise.resolve({ ok: false, reason: "failed", detail: "invalid transfer target" });
  if (!/^[A-Za-z0-9_.-]+$/.test(cfg.context)) {
    return Promise.resolve({ ok: false, reason: "failed", detail: "invalid transfer context" });
  }
  if (signal.aborted) {
    return Promise.resolve({ ok: false, reason: "timeout", detail: "aborted before start" });
  }
  if (!esl.connected) {
    return Promise.resolve({ ok: false, reason: "failed", detail: "FreeSWITCH event socket not connected" });
  }
  return new Promise<TransferOutcome>((resolve) => {
    let done = false;
    const finish = (o: TransferOutcome) => {
      if (done) return;
      done = true;
      off();
      signal.removeEventListener("abort", onAbort);
      cfg.log?.info("FreeSWITCH transfer outcome", {
        kind: to.kind,
        ok: o.ok,
        ...(o.ok ? {} : { reason: o.reason, detail: o.detail }),
      });
      resolve(o);
    };
    const onAbort = () => finish({ ok: false, reason: "timeout", detail: "no outcome before the deadline" });
    // Listen before the command: the channel's events may arrive before the `+OK`.
    let legCause = "";
    const off = esl.onEvent((e) => {
      const mine = e.uuid === uuid;
      if (!mine && e.headers["Other-Leg-Unique-ID"] !== uuid) return;
      const app = e.headers.Application ?? "";
      if (e.name === "CHANNEL_BRIDGE") return finish({ ok: true });
      if (!mine) {
        // A leg rung for the caller ended: remember why; a ring group's other legs may still answer.
        if (e.name === "CHANNEL_HANGUP") legCause = e.headers["Hangup-Cause"] || legCause;
        return;
      }
      if (e.name === "CHANNEL_EXECUTE" && to.kind === "voicemail" && app === "voicemail") {
        return finish({ ok: true });
      }
      if (e.name === "CHANNEL_EXECUTE_COMPLETE" && app === "bridge") {
        // `bridge` returned without CHANNEL_BRIDGE: nobody took the call.
        const cause = e.headers["variable_originate_disposition"] || legCause || "UNKNOWN";
        return finish({ ok: false, reason: transferReasonOf(cause), detail: `bridge: ${cause}` });
      }
      if (e.name === "CHANNEL_HANGUP" || e.name === "CHANNEL_HANGUP_COMPLETE") {
        const cause = e.headers["Hangup-Cause"] || "UNKNOWN";
        return finish({
          ok: false,
          reason: transferReasonOf(cause),
          detail: `caller's channel ended: ${cause}`,
        });
      }
    });
    signal.addEventListener("abort", onAbort, { once: true });
    esl.api(`uuid_transfer ${uuid} ${target} XML ${cfg.context}`).then((reply) => {
      if (!eslOk(reply)) {
        finish({ ok: false, reason: "failed", detail: `uuid_transfer: ${eslErrorCause(reply)}` });
      }
    }, (e) => {
      const why = e instanceof EslTimeoutError ? "no answer to uuid_transfer" : "FreeSWITCH event socket";
      finish({ ok: false, reason: "failed", detail: `${why}: ${e instanceof Error ? e.name : String(e)}` });
    });
  });
}
