/**
 * Twilio's request signature (`X-Twilio-Signature`): base64 of HMAC-SHA1, keyed with the account's auth
 * token, over the full URL Twilio requested (scheme, host, path, query) followed by every POST parameter
 * as key then value, sorted by key. A WebSocket upgrade for Media Streams is signed the same way, over
 * the stream's URL and no parameters.
 *
 * Also the call token that binds a media stream to the call whose TwiML issued it ({@linkcode streamToken}).
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The signature Twilio sends for `url` with form `params`. */
export function twilioSignature(
  authToken: string,
  url: string,
  params: URLSearchParams | Record<string, string> = {},
): string {
  const entries = params instanceof URLSearchParams ? [...params] : Object.entries(params);
  entries.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const data = url + entries.map(([k, v]) => k + v).join("");
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

/**
 * The forms of `url` Twilio may have signed: as given, and with the scheme's default port added or
 * removed (Twilio's own libraries check both, since proxies differ in what they pass on).
 */
export function signedUrlVariants(url: string): string[] {
  const out = [url];
  try {
    const u = new URL(url);
    const def = u.protocol === "https:" || u.protocol === "wss:" ? "443" : "80";
    if (u.port === "") {
      const host = `${u.hostname.includes(":") ? `[${u.hostname}]` : u.hostname}:${def}`;
      out.push(`${u.protocol}//${host}${u.pathname}${u.search}`);
    } else if (u.port === def) {
      out.push(`${u.protocol}//${u.hostname}${u.pathname}${u.search}`);
    }
  } catch {
    // not a URL: only the literal form
  }
  return out;
}

/** Whether `signature` is Twilio's signature of one of `urls` with `params` (constant-time compare). */
export function verifyTwilioSignature(
  authToken: string,
  signature: string | undefined | null,
  urls: string[],
  params: URLSearchParams | Record<string, string> = {},
): boolean {
  if (!signature || authToken === "") return false;
  const given = new TextEncoder().encode(signature);
  let ok = false;
  for (const url of urls.flatMap(signedUrlVariants)) {
    const want = new TextEncoder().encode(twilioSignature(authToken, url, params));
    if (want.length === given.length && timingSafeEqual(want, given)) ok = true;
  }
  return ok;
}

/** The `<Parameter>`s of TOM's TwiML that the stream trusts, and so the ones its call token covers. */
export const STREAM_BOUND_PARAMETERS = ["from", "to", "tom_call_id", "tom_account_id", "tom_return"] as const;
/** The `<Parameter>` carrying the call token. */
export const STREAM_TOKEN_PARAMETER = "tom_stream_token";

function streamMac(authToken: string, callSid: string, issuedAt: number, params: Record<string, unknown>) {
  const bound = STREAM_BOUND_PARAMETERS.map((k) => (typeof params[k] === "string" ? params[k] : ""));
  return createHmac("sha256", authToken)
    .update(JSON.stringify(["tom-twilio-stream-v1", callSid, issuedAt, ...bound]), "utf8")
    .digest("base64url");
}

/**
 * The call token TOM's TwiML hands a call's media stream (`<Parameter name="tom_stream_token">`; Twilio
 * passes it back in the `start` message's `customParameters`): an HMAC keyed with the auth token over the
 * CallSid, the time it was issued and the parameters the stream trusts. The upgrade's own signature is the
 * same for every call (one URL, no parameters); this binds a stream to the call it was issued for.
 */
export function streamToken(
  authToken: string,
  callSid: string,
  params: Record<string, string>,
  issuedAtMs: number,
): string {
  const at = Math.floor(issuedAtMs / 1000);
  return `v1.${at}.${streamMac(authToken, callSid, at, params)}`;
}

/** Why a stream's call token is refused, or undefined when it is good for `callSid` and `params`. */
export function streamTokenProblem(
  authToken: string,
  callSid: string | undefined,
  params: Record<string, unknown>,
  nowMs: number,
  maxAgeMs: number,
): "missing" | "invalid" | "expired" | undefined {
  const token = params[STREAM_TOKEN_PARAMETER];
  if (typeof token !== "string" || token === "" || !callSid) return "missing";
  const m = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m || authToken === "") return "invalid";
  const at = Number(m[1]);
  const want = new TextEncoder().encode(streamMac(authToken, callSid, at, params));
  const given = new TextEncoder().encode(m[2]);
  if (want.length !== given.length || !timingSafeEqual(want, given)) return "invalid";
  const age = nowMs - at * 1000;
  return age > maxAgeMs || age < -60_000 ? "expired" : undefined;
}
