/**
 * Seeded fuzz messages for WebSocket transports: random bytes, random text, broken JSON, JSON with
 * hostile shapes (prototype keys, deep nesting, huge numbers, lone surrogates), and mutations of a
 * transport's own valid messages (fields removed, retyped, replaced by extremes). Every transport test
 * can pass its own valid messages as `templates`. And the run itself: connections in rounds with
 * `/healthz` checked between them, then every call ended.
 *
 * @example
 * ```ts ignore
 * for (const msg of fuzzMessages({ seed: 1, count: 10_000, templates: [{ event: "media", media: { payload: "" } }] })) {
 *   socket.send(msg);
 * }
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import type { GatewayHarness } from "./server_harness.ts";

/** A small seeded random source (mulberry32): the same seed gives the same messages. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@linkcode fuzzMessages}. */
export interface FuzzOptions {
  seed: number;
  count: number;
  /** Valid messages of the transport, mutated to make near-valid ones. */
  templates?: unknown[];
  /** Largest random binary message (default 4096 bytes). */
  maxBinaryBytes?: number;
  /** Share of messages that are binary (default 0.3). */
  binaryShare?: number;
}

const EXTREMES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  "",
  "\u0000",
  "\ud800",
  "x".repeat(5000),
  "ä€😀",
  [],
  {},
  [[[[[]]]]],
  { __proto__: { polluted: true } },
  { constructor: { prototype: { polluted: true } } },
];

const RAW_TEXT: string[] = [
  "",
  "{",
  "}",
  "[",
  "null",
  "true",
  "0",
  "-0",
  "1e999999",
  "NaN",
  '"just a string"',
  '{"type":}',
  '{"type":"start"',
  '{"type":"start"}}',
  '\ufeff{"type":"ping"}',
  '{"__proto__":{"polluted":true},"type":"ping"}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"type":"\\ud800"}',
  "{'type':'start'}",
  '{"type":"ping","type":"start"}',
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

function mutate(rand: () => number, value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object" || depth > 4) {
    return rand() < 0.5 ? pick(rand, EXTREMES) : value;
  }
  const copy: Record<string, unknown> = Array.isArray(value) ? { ...value } : { ...value as object };
  const keys = Object.keys(copy);
  const r = rand();
  if (r < 0.2 && keys.length > 0) delete copy[pick(rand, keys)];
  else if (r < 0.4) {
    copy[pick(rand, ["type", "event", "extra", "__proto__", "data", "id"])] = pick(rand, EXTREMES);
  } else if (keys.length > 0) {
    const k = pick(rand, keys);
    copy[k] = mutate(rand, copy[k], depth + 1);
  }
  return Array.isArray(value) ? Object.values(copy) : copy;
}

function randomText(rand: () => number): string {
  const n = Math.floor(rand() * 200);
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rand();
    s += String.fromCharCode(r < 0.8 ? 32 + Math.floor(rand() * 95) : Math.floor(rand() * 0xffff));
  }
  return s;
}

/** Generate `count` messages, deterministic for the seed. */
export function* fuzzMessages(opts: FuzzOptions): Generator<string | Uint8Array> {
  const rand = seededRandom(opts.seed);
  const templates = opts.templates ?? [];
  const maxBinary = opts.maxBinaryBytes ?? 4096;
  const binaryShare = opts.binaryShare ?? 0.3;
  for (let i = 0; i < opts.count; i++) {
    const r = rand();
    if (r < binaryShare) {
      const bytes = new Uint8Array(Math.floor(rand() * (maxBinary + 1)));
      for (let j = 0; j < bytes.length; j += 4) {
        const v = Math.floor(rand() * 4294967296);
        bytes[j] = v;
        if (j + 1 < bytes.length) bytes[j + 1] = v >>> 8;
        if (j + 2 < bytes.length) bytes[j + 2] = v >>> 16;
        if (j + 3 < bytes.length) bytes[j + 3] = v >>> 24;
      }
      yield bytes;
      continue;
    }
    const kind = rand();
    if (kind < 0.15) yield randomText(rand);
    else if (kind < 0.3) yield pick(rand, RAW_TEXT);
    else if (kind < 0.35) {
      const depth = 1 + Math.floor(rand() * 20_000);
      yield "[".repeat(depth) + "]".repeat(rand() < 0.5 ? depth : 0);
    } else if (kind < 0.45 || templates.length === 0) {
      yield JSON.stringify(mutate(rand, pick(rand, EXTREMES)));
    } else if (kind < 0.6) {
      const text = JSON.stringify(pick(rand, templates));
      yield text.slice(0, Math.floor(rand() * text.length));
    } else if (kind < 0.75) yield JSON.stringify(pick(rand, templates));
    else yield JSON.stringify(mutate(rand, structuredClone(pick(rand, templates))));
  }
}

/**
 * Fuzz a transport in rounds: four `connection`s at a time until `done()`, `/healthz` answering 200 after
 * every round. Returns the number of rounds (health checks).
 */
export async function fuzzInRounds(
  gw: GatewayHarness,
  done: () => boolean,
  connection: () => Promise<void>,
): Promise<number> {
  let health = 0;
  while (!done()) {
    await Promise.all([connection(), connection(), connection(), connection()]);
    const res = await fetch(`${gw.http}/healthz`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    health++;
  }
  return health;
}

/**
 * After a fuzz run: every call that started has ended (waiting up to 5 s), each recorded as completed or
 * failed. Returns the calls' rows by status.
 */
export async function assertCallsSettled(gw: GatewayHarness): Promise<{ status: string; n: number }[]> {
  const deadline = Date.now() + 5000;
  while (gw.calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(gw.calls.size, 0, "every call that started has ended");
  const rows = gw.store.db.prepare("SELECT status, count(*) AS n FROM calls GROUP BY status").all() as {
    status: string;
    n: number;
  }[];
  assert.ok(rows.every((r) => r.status === "completed" || r.status === "failed"), JSON.stringify(rows));
  return rows;
}
