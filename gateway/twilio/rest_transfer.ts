/**
 * Cold transfer of a Twilio call: the live call gets new TwiML through the REST API,
 * `POST {apiBase}/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` with the form field
 * `Twiml=<Response><Dial timeout="N">target</Dial><Say>...</Say></Response>` (HTTP basic auth
 * `AccountSid:AuthToken`). Twilio answers 200 with the call resource, or an error object (`code`, `message`,
 * `status`), e.g. 404 code 20404 for an unknown call or 400 code 21220 for a call no longer in progress.
 *
 * Confirmed (`{ ok: true }`) means Twilio accepted the new TwiML: the caller leaves TOM's stream (its `stop`
 * follows) and Twilio rings the person for `twilio.transferRingSeconds`. How that ringing ends does not
 * come back to TOM: when nobody answers, Twilio says the one sentence after `<Dial>` and ends the call.
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
import { scrubTwilioText, type TwilioApiConfig } from "./rest.ts";

/** Said by Twilio when the person did not answer (the call then ends). */
export const TRANSFER_NOBODY_TEXT =
  "Leider ist gerade niemand erreichbar. Bitte rufen Sie später noch einmal an. Auf Wiederhören.";

/** Options of {@linkcode twilioTransfer}. */
export interface TwilioTransferOptions {
  /** Seconds the person's phone rings (`twilio.transferRingSeconds`). */
  ringSeconds: number;
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
  let n = t.replace(/[\s\-/().]/g, "");
  if (n.startsWith("00")) n = "+" + n.slice(2);
  else if (/^0[1-9]/.test(n)) n = "+49" + n.slice(1);
  return /^\+[1-9]\d{6,14}$/.test(n) ? `<Number>${n}</Number>` : undefined;
}

/** The TwiML that replaces the call's `<Connect><Stream>`. */
export function transferTwiml(noun: string, ringSeconds: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="${ringSeconds}">${noun}</Dial>` +
    `<Say language="de-DE">${xml(TRANSFER_NOBODY_TEXT)}</Say></Response>`;
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
      body: new URLSearchParams({ Twiml: transferTwiml(noun, opts.ringSeconds) }),
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
