/**
 * Cold transfer of a Twilio call: the live call gets new TwiML through the REST API,
 * `POST {apiBase}/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with the form field
 * `Twiml=<Response><Dial timeout="N" action="URL">target</Dial></Response>` (HTTP basic auth
 * `AccountSid:AuthToken`). Twilio answers 200 with the call resource, or an error object (`code`, `message`,
 * `status`), e.g. 404 code 20404 for an unknown call or 400 code 21220 for a call no longer in progress.
 *
 * Confirmed (`{ ok: true }`) means Twilio accepted the new TwiML: the caller leaves TOM's stream (its `stop`
 * follows) and Twilio rings the person for `twilio.transferRingSeconds`: a hand-over, not yet an answer.
 * How the ringing ends comes back later, to the `<Dial action>` URL (dial_result.ts): a caller nobody
 * answered is connected to TOM again. Without an action URL, Twilio says the one sentence after `<Dial>`
 * and ends the call.
 * Refused: any other HTTP status is `failed` with Twilio's error code in `detail`; the API unreachable,
 * the egress policy not allowing its host, or the credentials missing are `failed` at once; `signal`
 * aborted first is `timeout`.
 *
 * Targets: a number (E.164, or German national digits: `0...` becomes `+49...`, `00...` becomes `+...`) or a
 * SIP address (`sip:...`, dialled with `<Sip>`). Twilio has no extensions: an extension or voicemail box
 * that is neither is refused (`failed`).
 *
 * @module
 */
import type { TransferOutcome, TransferTo } from "../call/contract.ts";
import { callerE164 } from "../call/phone.ts";
import { scrubTwilioText, type TwilioApiConfig } from "./rest.ts";

/** Said by Twilio when the person did not answer and there is no way back (no `action`; the call then ends). */
export const TRANSFER_NOBODY_TEXT =
  "Leider ist gerade niemand erreichbar. Bitte rufen Sie später noch einmal an. Auf Wiederhören.";

/** Options of {@linkcode twilioTransfer}. */
export interface TwilioTransferOptions {
  /** Seconds the person's phone rings (`twilio.transferRingSeconds`). */
  ringSeconds: number;
  /** The `<Dial action>` URL (absolute) that brings a caller nobody answered back to TOM. */
  action?: string;
  fetch?: typeof fetch;
  /** Whether this process may reach `host:port` (default: Deno's net permission, i.e. the egress policy). */
  netAllowed?: (hostPort: string) => Promise<boolean>;
}

async function defaultNetAllowed(hostPort: string): Promise<boolean> {
  try {
    return (await Deno.permissions.query({ name: "net", host: hostPort })).state === "granted";
  } catch {
    return false;
  }
}

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The `<Dial>` noun for `to`, or undefined when Twilio cannot dial it. */
export function twilioDialNoun(to: TransferTo): string | undefined {
  const t = to.target.trim();
  if (/^sips?:[^\s<>"&]+@[^\s<>"&]+$/i.test(t)) return `<Sip>${xml(t)}</Sip>`;
  const n = callerE164(t);
  return n ? `<Number>${n}</Number>` : undefined;
}

/**
 * The TwiML that replaces the call's `<Connect><Stream>`. With `action`, Twilio requests it when the dialled
 * call ends (and never reaches a verb after `<Dial>`); without, it says {@linkcode TRANSFER_NOBODY_TEXT}.
 */
export function transferTwiml(noun: string, ringSeconds: number, action?: string): string {
  const ring = Math.min(600, Math.max(5, Math.round(ringSeconds)));
  const head = '<?xml version="1.0" encoding="UTF-8"?><Response>';
  if (action) {
    return `${head}<Dial timeout="${ring}" action="${xml(action)}" method="POST">${noun}</Dial></Response>`;
  }
  return `${head}<Dial timeout="${ring}">${noun}</Dial><Say language="de-DE">${
    xml(TRANSFER_NOBODY_TEXT)
  }</Say></Response>`;
}

/** Transfer live call `callSid` to `to`; never throws. */
export async function twilioTransfer(
  api: TwilioApiConfig,
  callSid: string,
  to: TransferTo,
  signal: AbortSignal,
  opts: TwilioTransferOptions,
): Promise<TransferOutcome> {
  if (!/^CA[0-9a-fA-F]{32}$/.test(callSid)) {
    return { ok: false, reason: "failed", detail: "no Twilio CallSid" };
  }
  if (!/^AC[0-9a-fA-F]{32}$/.test(api.accountSid) || !api.authToken) {
    return {
      ok: false,
      reason: "failed",
      detail: "Twilio REST API not configured (twilio.accountSid, authToken)",
    };
  }
  const noun = twilioDialNoun(to);
  if (!noun) return { ok: false, reason: "failed", detail: `Twilio cannot dial this ${to.kind} target` };
  const base = new URL(api.apiBase);
  const hostPort = `${base.hostname}:${base.port || (base.protocol === "https:" ? "443" : "80")}`;
  if (!(await (opts.netAllowed ?? defaultNetAllowed)(hostPort))) {
    return {
      ok: false,
      reason: "failed",
      detail: "Twilio API not allowed by egress policy (TOM_EGRESS_ALLOW_HOSTS)",
    };
  }
  if (signal.aborted) return { ok: false, reason: "timeout", detail: "aborted before the request" };
  const url = `${
    api.apiBase.replace(/\/+$/, "")
  }/2010-04-01/Accounts/${api.accountSid}/Calls/${callSid}.json`;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      method: "POST",
      headers: {
        "Authorization": `Basic ${btoa(`${api.accountSid}:${api.authToken}`)}`,
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
      },
      body: new URLSearchParams({ Twiml: transferTwiml(noun, opts.ringSeconds, opts.action) }),
      signal,
    });
  } catch (e) {
    if (signal.aborted) {
      return { ok: false, reason: "timeout", detail: "no answer from the Twilio API in time" };
    }
    const why = e instanceof Error ? e.name : "error";
    return { ok: false, reason: "failed", detail: `Twilio API unreachable (${why})` };
  }
  let json: Record<string, unknown> = {};
  try {
    json = await res.json();
  } catch {
    // not JSON: described by the status alone
  }
  if (res.ok) return { ok: true };
  const code = typeof json.code === "number" ? ` code ${json.code}` : "";
  const message = typeof json.message === "string" ? `: ${scrubTwilioText(json.message)}` : "";
  return { ok: false, reason: "failed", detail: `Twilio API ${res.status}${code}${message}` };
}
