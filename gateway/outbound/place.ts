/**
 * Calls TOM places (companion calls to seniors, reminders to patients): {@linkcode placeCall} looks up
 * the person's number, records the call (direction outbound, status ringing) before dialling, then dials
 * through FreeSWITCH or Twilio. Every failure (busy, no answer, PBX or API unreachable, egress denied) is
 * recorded on that call with a reason and returned; nothing here retries (the scheduler in
 * outbound_schedule.ts does, with a minimum delay and a maximum count).
 *
 * - FreeSWITCH: `bgapi originate {origination_uuid=<call id>,tom_call_id=<call id>,tom_account_id=<account>,
 *   ignore_early_media=true,originate_timeout=<s>}<dialPrefix><E.164> tom XML <context>`. When the callee
 *   answers, the `tom` extension of that context forks the audio to TOM with `tom_call_id` in the
 *   metadata (freeswitch.ts), and the session continues this call's row. `-ERR USER_BUSY` is busy;
 *   `NO_ANSWER`, `NO_USER_RESPONSE`, `ALLOTTED_TIMEOUT` are no answer; any other cause is failed.
 * - Twilio: the REST API (twilio_rest.ts), only when `twilio.accountSid`, `authToken`, `fromNumber` and
 *   `publicUrl` are set AND the egress policy lets this process reach the API host
 *   (`Deno.permissions.query`); otherwise nothing is sent. The answer is Twilio's `queued`; busy and no
 *   answer arrive later on `POST /twilio/status`, which records them on the call.
 *
 * @module
 */
import { createCall, endCall, getCall, getPerson } from "../../store/mod.ts";
import type { CallEndStatus } from "../../store/mod.ts";
import type { GatewayDeps } from "../call/session.ts";
import {
  type EslClient,
  eslErrorCause,
  eslOk,
  EslTimeoutError,
  EslUnavailableError,
} from "../freeswitch/esl.ts";
import { createTwilioCall } from "../twilio/rest.ts";

/** How TOM dials. */
export type OutboundVia = "freeswitch" | "twilio";

/** What to call. */
export interface PlaceCallRequest {
  accountId: string;
  personId: string;
  via: OutboundVia;
}

/** How placing the call went. */
export type PlaceCallResult =
  | {
    ok: true;
    callId: string;
    /** FreeSWITCH: the callee answered. Twilio: the API accepted the call (the outcome follows by callback). */
    status: "answered" | "queued";
    /** Twilio's CallSid. */
    externalId?: string;
    /** FreeSWITCH only: resolves true once the call's audio reached TOM, false if it never did. */
    attached?: Promise<boolean>;
  }
  | {
    ok: false;
    /** Absent when no call was recorded (unknown person, shutting down). */
    callId?: string;
    status: Exclude<CallEndStatus, "completed">;
    reason: string;
  };

/** What {@linkcode placeCall} needs besides the gateway's deps. */
export interface OutboundOptions {
  /** The FreeSWITCH event socket (the one `mountFreeswitch` returns). */
  esl?: EslClient;
  /** Test seam for the Twilio REST API. */
  fetch?: typeof fetch;
  /** Whether this process may reach `host:port` (default: Deno's net permission, i.e. the egress policy). */
  netAllowed?: (hostPort: string) => Promise<boolean>;
  /** FreeSWITCH: ring this long before giving up, in seconds (default 45). */
  ringSeconds?: number;
  /** FreeSWITCH: an answered call whose audio has not reached TOM after this long is ended (default 20000). */
  attachTimeoutMs?: number;
}

/** The reason recorded when the egress policy does not allow Twilio's API host. */
export const TWILIO_EGRESS_DENIED = "Twilio API not allowed by egress policy (TOM_EGRESS_ALLOW_HOSTS)";

const NO_ANSWER_CAUSES = new Set([
  "NO_ANSWER",
  "NO_USER_RESPONSE",
  "ALLOTTED_TIMEOUT",
  "RECOVERY_ON_TIMER_EXPIRE",
]);

async function defaultNetAllowed(hostPort: string): Promise<boolean> {
  try {
    return (await Deno.permissions.query({ name: "net", host: hostPort })).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Place an outbound call to a person.
 *
 * @returns the outcome; failures are also recorded on the call's row.
 */
export async function placeCall(
  deps: GatewayDeps,
  req: PlaceCallRequest,
  opts: OutboundOptions = {},
): Promise<PlaceCallResult> {
  const log = deps.log.child({ component: "outbound", via: req.via });
  if (deps.calls.draining) return { ok: false, status: "failed", reason: "The appliance is shutting down" };
  const person = getPerson(deps.store, req.accountId, req.personId);
  if (!person) {
    return { ok: false, status: "failed", reason: `Person ${req.personId} not found in this account` };
  }
  const call = createCall(deps.store, req.accountId, {
    direction: "outbound",
    transport: req.via,
    personId: person.id,
  });
  const now = deps.now ?? Date.now;
  const fail = (status: Exclude<CallEndStatus, "completed">, reason: string): PlaceCallResult => {
    endCall(deps.store, req.accountId, call.id, { status, at: now(), failureReason: reason.slice(0, 500) });
    log.warn("outbound call did not connect", { call_id: call.id, status, reason });
    return { ok: false, callId: call.id, status, reason };
  };
  log.info("placing outbound call", { call_id: call.id, phone: person.phoneE164 });

  if (req.via === "freeswitch") {
    const esl = opts.esl;
    if (!esl) return fail("failed", "FreeSWITCH event socket not set up (mountFreeswitch was not started)");
    const fs = deps.config.freeswitch;
    if (!/^[\w/.:@+=-]*$/.test(fs.dialPrefix) || !/^[\w.-]+$/.test(fs.context)) {
      return fail(
        "failed",
        "freeswitch.dialPrefix or freeswitch.context contains characters ESL cannot carry",
      );
    }
    const vars = [
      `origination_uuid=${call.id}`,
      `tom_call_id=${call.id}`,
      `tom_account_id=${req.accountId}`,
      "ignore_early_media=true",
      `originate_timeout=${Math.max(5, Math.round(opts.ringSeconds ?? 45))}`,
    ].join(",");
    let reply: string;
    try {
      reply = await esl.bgapi(`originate {${vars}}${fs.dialPrefix}${person.phoneE164} tom XML ${fs.context}`);
    } catch (e) {
      const why = e instanceof EslUnavailableError || e instanceof EslTimeoutError
        ? e.message
        : `originate failed: ${e instanceof Error ? e.message : String(e)}`;
      return fail("failed", `FreeSWITCH unreachable: ${why}`);
    }
    if (!eslOk(reply)) {
      const cause = eslErrorCause(reply);
      if (cause === "USER_BUSY") return fail("busy", "FreeSWITCH: USER_BUSY");
      if (NO_ANSWER_CAUSES.has(cause)) return fail("no_answer", `FreeSWITCH: ${cause}`);
      return fail("failed", `FreeSWITCH: ${cause}`);
    }
    log.info("outbound call answered", { call_id: call.id });
    return {
      ok: true,
      callId: call.id,
      status: "answered",
      attached: watchAttach(deps, req, call.id, esl, opts),
    };
  }

  const tw = deps.config.twilio;
  if (!tw.accountSid || !tw.authToken || !tw.fromNumber || !tw.publicUrl) {
    return fail("failed", "Twilio not configured (twilio.accountSid, authToken, fromNumber, publicUrl)");
  }
  const api = new URL(tw.apiBase);
  const hostPort = `${api.hostname}:${api.port || (api.protocol === "https:" ? "443" : "80")}`;
  if (!(await (opts.netAllowed ?? defaultNetAllowed)(hostPort))) return fail("failed", TWILIO_EGRESS_DENIED);
  const base = tw.publicUrl.replace(/\/+$/, "");
  const q = `call=${encodeURIComponent(call.id)}&account=${encodeURIComponent(req.accountId)}`;
  const result = await createTwilioCall(tw, {
    to: person.phoneE164,
    from: tw.fromNumber,
    url: `${base}/twilio/voice?${q}`,
    statusCallback: `${base}/twilio/status?${q}`,
  }, opts.fetch ? { fetch: opts.fetch } : {});
  if (!result.ok) return fail("failed", result.reason);
  log.info("outbound call queued at Twilio", { call_id: call.id });
  return { ok: true, callId: call.id, status: "queued", externalId: result.sid };
}

/** An answered FreeSWITCH call whose audio never arrives (dialplan without the fork) is ended, not left ringing. */
function watchAttach(
  deps: GatewayDeps,
  req: PlaceCallRequest,
  callId: string,
  esl: EslClient,
  opts: OutboundOptions,
): Promise<boolean> {
  const limit = opts.attachTimeoutMs ?? 20_000;
  return new Promise((resolve) => {
    const started = Date.now();
    const check = () => {
      const row = getCall(deps.store, req.accountId, callId);
      if (!row || row.status !== "ringing") return resolve(row !== undefined && row.status !== "failed");
      if (Date.now() - started >= limit) {
        endCall(deps.store, req.accountId, callId, {
          status: "failed",
          at: (deps.now ?? Date.now)(),
          failureReason: "Answered, but no audio reached TOM (check uuid_audio_fork in the dialplan context)",
        });
        if (esl.connected) esl.api(`uuid_kill ${callId}`).catch(() => {});
        deps.log.warn("outbound call answered without audio; hung up", { call_id: callId });
        return resolve(false);
      }
      setTimeout(check, Math.min(250, limit));
    };
    check();
  });
}
