/**
 * The client's address for login throttling. Behind the documented TLS proxy every request comes from the
 * proxy (loopback), so the address the proxy forwarded is used, but only when the socket's peer is one of
 * `ui.trustedProxies` (`TOM_UI_TRUSTED_PROXIES`, default loopback): anybody else could write any
 * `X-Forwarded-For`. The header is read right to left, skipping the trusted proxies, so a value the client
 * sent itself and the proxy appended to (nginx `$proxy_add_x_forwarded_for`) counts for nothing.
 * `X-Forwarded-For` wins; RFC 7239 `Forwarded: for=...` is read only when there is none.
 *
 * @module
 */
import { canonicalIp, type Cidr, inCidr, parseCidr, parseIp } from "../../gateway/mod.ts";

const compiled = new Map<string, Cidr[]>();

function ranges(list: readonly string[]): Cidr[] {
  const key = list.join(",");
  let out = compiled.get(key);
  if (!out) {
    out = list.map(parseCidr);
    compiled.set(key, out);
  }
  return out;
}

/** Problems with `ui.trustedProxies`, as `key (ENV): what is wrong` lines. */
export function trustedProxyProblems(list: readonly string[]): string[] {
  return list.flatMap((entry) => {
    try {
      parseCidr(entry);
      return [];
    } catch {
      return [
        `ui.trustedProxies (TOM_UI_TRUSTED_PROXIES): ${JSON.stringify(entry)} is not an IP address or CIDR`,
      ];
    }
  });
}

/** One hop of a forwarded chain as an address: brackets, quotes and ports removed; undefined if none. */
function hopAddress(raw: string): Uint8Array | undefined {
  let s = raw.trim().replace(/^"(.*)"$/, "$1");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  return parseIp(s);
}

/** The `for=` values of a `Forwarded` header, in order. */
function forwardedFor(header: string): string[] {
  const out: string[] = [];
  for (const element of header.split(",")) {
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === "for") out.push(pair.slice(eq + 1));
    }
  }
  return out;
}

/**
 * The client's address: `peer` itself unless it is a trusted proxy; then the right-most forwarded hop
 * that is not a trusted proxy (or the last trusted one when the chain ends in trusted proxies or in a
 * value that is no address).
 */
export function clientIp(peer: string, headers: Headers, trustedProxies: readonly string[]): string {
  const trusted = ranges(trustedProxies);
  const isTrusted = (ip: Uint8Array) => trusted.some((r) => inCidr(ip, r));
  const peerIp = parseIp(peer);
  if (!peerIp || !isTrusted(peerIp)) return canonicalIp(peer);
  const xff = headers.get("x-forwarded-for");
  const fwd = headers.get("forwarded");
  const chain = xff !== null ? xff.split(",") : fwd !== null ? forwardedFor(fwd) : [];
  let last = peerIp;
  for (let i = chain.length - 1; i >= 0 && i >= chain.length - 32; i--) {
    const hop = hopAddress(chain[i]);
    if (!hop) break;
    last = hop;
    if (!isTrusted(hop)) break;
  }
  return canonicalIp(ipText(last));
}

function ipText(ip: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((ip[i] << 8) | ip[i + 1]).toString(16));
  return words.join(":");
}
