/**
 * Placing a call through Twilio's REST API: `POST {apiBase}/2010-04-01/Accounts/{AccountSid}/Calls.json`,
 * form-encoded `To`, `From`, `Url` (TOM's voice webhook, which answers the `<Connect><Stream>` TwiML),
 * `StatusCallback` (TOM's status webhook), HTTP basic auth `AccountSid:AuthToken`. Twilio answers 201
 * with the call resource (`sid`), or an error object (`code`, `message`, `status`).
 *
 * @module
 */

/** Credentials and endpoint (the `twilio.*` configuration). */
export interface TwilioApiConfig {
  accountSid: string;
  authToken: string;
  apiBase: string;
}

/** The call to create. */
export interface TwilioCallRequest {
  to: string;
  from: string;
  /** Fetched by Twilio when the callee answers. */
  url: string;
  statusCallback: string;
}

/** What Twilio answered. */
export type TwilioCallResult = { ok: true; sid: string } | { ok: false; reason: string; httpStatus?: number };

/** Options of {@linkcode createTwilioCall}. */
export interface TwilioRestOptions {
  fetch?: typeof fetch;
  /** Give up after this many ms (default 10000). */
  timeoutMs?: number;
}

/** A number-like run in Twilio's error text is replaced: failure reasons stay free of personal data. */
export function scrubTwilioText(text: string): string {
  return text.replace(/\+?\d[\d\s\-().]{5,}\d/g, "<number>").slice(0, 200);
}

/** Create an outbound call; never throws (network and API errors come back as `ok: false`). */
export async function createTwilioCall(
  api: TwilioApiConfig,
  req: TwilioCallRequest,
  opts: TwilioRestOptions = {},
): Promise<TwilioCallResult> {
  const doFetch = opts.fetch ?? fetch;
  const url = `${api.apiBase.replace(/\/+$/, "")}/2010-04-01/Accounts/${
    encodeURIComponent(api.accountSid)
  }/Calls.json`;
  const body = new URLSearchParams({
    To: req.to,
    From: req.from,
    Url: req.url,
    Method: "POST",
    StatusCallback: req.statusCallback,
    StatusCallbackMethod: "POST",
  });
  let res: Response;
  try {
    res = await doFetch(url, {
      method: "POST",
      headers: {
        "Authorization": `Basic ${btoa(`${api.accountSid}:${api.authToken}`)}`,
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
      },
      body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
  } catch (e) {
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { ok: false, reason: `Twilio API unreachable: ${scrubTwilioText(why)}` };
  }
  let json: Record<string, unknown> = {};
  try {
    json = await res.json();
  } catch {
    // not JSON: described by the status alone
  }
  if (res.status === 201 || res.status === 200) {
    const sid = typeof json.sid === "string" ? json.sid : "";
    if (/^CA[0-9a-fA-F]{32}$/.test(sid)) return { ok: true, sid };
    return { ok: false, reason: "Twilio API answered without a call sid", httpStatus: res.status };
  }
  const message = typeof json.message === "string" ? scrubTwilioText(json.message) : res.statusText;
  const code = typeof json.code === "number" ? ` (code ${json.code})` : "";
  return {
    ok: false,
    reason: `Twilio API refused the call: ${res.status} ${message}${code}`,
    httpStatus: res.status,
  };
}
