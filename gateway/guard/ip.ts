/**
 * IP addresses and CIDR ranges for the gateway's peer allow-list. Every address is held as 16 bytes:
 * IPv4 `a.b.c.d` becomes the IPv4-mapped IPv6 address `::ffff:a.b.c.d`, so `127.0.0.1/8` also matches
 * a peer that a dual-stack socket reports as `::ffff:127.0.0.1`.
 *
 * @module
 */

/** A parsed address range: the first `prefix` bits of `bytes` (prefix counted in the 128-bit space). */
export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

const V4_MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function parseV4(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseV6(s: string): number[] | undefined {
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const g = items[i];
      if (i === items.length - 1 && g.includes(".")) {
        const v4 = parseV4(g);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  let words: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    words = head;
  }
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/**
 * Parse an IPv4 or IPv6 address (brackets and a `%zone` suffix are accepted) into 16 bytes.
 *
 * @returns undefined when `text` is not an IP address.
 */
export function parseIp(text: string): Uint8Array | undefined {
  let s = text.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length === 0 || s.length > 64) return undefined;
  if (!s.includes(":")) {
    const v4 = parseV4(s);
    return v4 ? new Uint8Array([...V4_MAPPED, ...v4]) : undefined;
  }
  const v6 = parseV6(s);
  return v6 ? new Uint8Array(v6) : undefined;
}

/** True when the 16-byte address is an IPv4 (mapped) address. */
function isV4(bytes: Uint8Array): boolean {
  return V4_MAPPED.every((b, i) => bytes[i] === b);
}

/**
 * Parse `address` or `address/prefix` (IPv4 prefixes 0-32, IPv6 0-128).
 *
 * @throws {RangeError} when the text is not an address or range
 */
export function parseCidr(text: string): Cidr {
  const [addr, bits, extra] = text.trim().split("/");
  const bytes = parseIp(addr ?? "");
  if (!bytes || extra !== undefined) {
    throw new RangeError(`Cannot parse address range: ${JSON.stringify(text)}`);
  }
  const v4 = isV4(bytes) && !addr.includes(":");
  const max = v4 ? 32 : 128;
  if (bits === undefined) return { bytes, prefix: 128 };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) {
    throw new RangeError(`Cannot parse address range: prefix of ${JSON.stringify(text)} must be 0-${max}`);
  }
  return { bytes, prefix: Number(bits) + (v4 ? 96 : 0) };
}

/** True when `ip` (16 bytes) lies in `range`. */
export function inCidr(ip: Uint8Array, range: Cidr): boolean {
  const full = range.prefix >> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== range.bytes[i]) return false;
  const rest = range.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[full] & mask) === (range.bytes[full] & mask);
}

const LOOPBACK = [parseCidr("127.0.0.0/8"), parseCidr("::1")];

/** True for 127.0.0.0/8, `::ffff:127.x.y.z` and `::1`. */
export function isLoopbackIp(text: string): boolean {
  const ip = parseIp(text);
  return ip !== undefined && LOOPBACK.some((r) => inCidr(ip, r));
}

/** True when a configured host name means loopback only: `localhost`, 127.0.0.0/8 or `::1`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || isLoopbackIp(h);
}

/** The canonical text of an address, so `::ffff:127.0.0.1` and `127.0.0.1` count as one peer. */
export function canonicalIp(text: string): string {
  const ip = parseIp(text);
  if (!ip) return text.slice(0, 64);
  if (isV4(ip)) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((ip[i] << 8) | ip[i + 1]).toString(16));
  return words.join(":");
}
