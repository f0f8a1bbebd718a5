/**
 * Twilio's request signature (`X-Twilio-Signature`): base64 of HMAC-SHA1, keyed with the account's auth
 * token, over the full URL Twilio requested (scheme, host, path, query) followed by every POST parameter
 * as key then value, sorted by key. A WebSocket upgrade for Media Streams is signed the same way, over
 * the stream's URL and no parameters.
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
