/**
 * The metadata mod_audio_fork sends as its first (text) frame: the last argument of
 * `uuid_audio_fork <uuid> start <url> <mix> <rate> [bugname] [metadata]`, verbatim. Neither the channel's
 * uuid nor the mix or rate is on the wire otherwise, so TOM's dialplan puts them there (see
 * freeswitch.ts for the exact line). Accepted shapes:
 *
 * - flat JSON (TOM's dialplan): `{"uuid":"...","caller":"...","callee":"...","tom_call_id":"...",
 *   "tom_account_id":"...","rate":16000,"mix":"mono"}`; FreeSWITCH leaves unset variables empty.
 * - the Twilio-like envelope some mod_audio_fork builds send: `{"event":"start","start":{"callSid":..,
 *   "customParameters":{...flat fields...},"mediaFormat":{"sampleRate":16000,"channel":1}}}`.
 *
 * Rate and mix may also come from the WebSocket URL's query (`?rate=16000&mix=stereo`); the default is
 * 16 kHz mono, which is what the documented dialplan asks for.
 *
 * @module
 */
import { z } from "zod";
import { visit } from "jsonc-parser";
import { isSafeId } from "../outbound/attach.ts";

/** What TOM needs to know about a forked call. */
export interface ForkMetadata {
  /** The FreeSWITCH channel uuid (safe to use in ESL commands). */
  uuid: string;
  caller?: string;
  callee?: string;
  /** Set on calls TOM placed: the call row to continue. */
  tomCallId?: string;
  tomAccountId?: string;
  /** Sample rate of the binary frames. */
  rate: number;
  /** mono (caller only), mixed (caller and TOM in one channel), stereo (caller left, TOM right). */
  mix: "mono" | "mixed" | "stereo";
}

const Obj = z.record(z.string(), z.unknown());
const UUID = /^[A-Za-z0-9][A-Za-z0-9-]{7,63}$/;
const PARTY = /^[\w+*#@.:\- ]{1,64}$/u;

function pick(sources: Record<string, unknown>[], keys: string[]): unknown {
  for (const s of sources) {
    for (const k of keys) {
      const v = s[k];
      if (v !== undefined && v !== null && v !== "") return v;
    }
  }
  return undefined;
}

const UUID_KEYS = ["uuid", "call_uuid", "channel_uuid", "Unique-ID", "unique_id"];
/** What must have one value across the flat fields, the envelope and its custom parameters. */
const UNAMBIGUOUS: [string, string[]][] = [
  ["channel uuid", UUID_KEYS],
  ["tom_call_id", ["tom_call_id"]],
  ["tom_account_id", ["tom_account_id"]],
];

/** How many different non-empty values `keys` have across `sources`. */
function distinct(sources: Record<string, unknown>[], keys: readonly string[]): number {
  const seen = new Set<string>();
  for (const s of sources) {
    for (const k of keys) {
      const v = s[k];
      if (v !== undefined && v !== null && v !== "") seen.add(JSON.stringify(v));
    }
  }
  return seen.size;
}

/**
 * The first key that occurs twice in one object of the (valid) JSON `text`, compared after unescaping
 * (jsonc-parser's scanner decodes `\u0075uid` to `uuid`); undefined when there is none.
 */
function duplicateKey(text: string): string | undefined {
  const stack: Set<string>[] = [];
  let dup: string | undefined;
  visit(text, {
    onObjectBegin: () => {
      stack.push(new Set());
    },
    onObjectEnd: () => {
      stack.pop();
    },
    onObjectProperty: (key) => {
      const keys = stack[stack.length - 1];
      if (dup === undefined && keys?.has(key)) dup = key;
      keys?.add(key);
    },
  });
  return dup;
}

function parseRate(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v).trim().toLowerCase();
  const n = s.endsWith("k") ? Number(s.slice(0, -1)) * 1000 : Number(s);
  return Number.isInteger(n) && n >= 8000 && n <= 64000 && n % 8000 === 0 ? n : NaN;
}

function parseMix(mix: unknown, channels: unknown): ForkMetadata["mix"] | undefined | null {
  if (mix !== undefined) {
    const m = String(mix).toLowerCase();
    return m === "mono" || m === "mixed" || m === "stereo" ? m : null;
  }
  if (channels !== undefined) {
    const c = Number(channels);
    return c === 1 ? "mono" : c === 2 ? "stereo" : null;
  }
  return undefined;
}

function party(v: unknown): string | undefined {
  if (typeof v !== "string" && typeof v !== "number") return undefined;
  const s = String(v).trim();
  return PARTY.test(s) ? s : undefined;
}

/**
 * Parse the metadata frame.
 *
 * @returns the metadata, or an error message saying what is missing or wrong.
 */
export function parseForkMetadata(text: string, query?: URLSearchParams): ForkMetadata | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: "the first message is not JSON metadata (the dialplan must pass TOM's metadata)" };
  }
  // JSON.parse keeps the last of duplicate keys: a caller id smuggling `","uuid":"...` (or `\u0075uid`)
  // past a dialplan that does not escape it could otherwise redirect TOM's uuid_kill/uuid_broadcast to
  // another channel. Keys are compared after unescaping.
  const dup = duplicateKey(text);
  if (dup !== undefined) {
    return {
      error: `the metadata names ${
        JSON.stringify(dup.slice(0, 40))
      } more than once (refused: channel, call and account must be unambiguous)`,
    };
  }
  const top = Obj.safeParse(json);
  if (!top.success) return { error: "the metadata is not a JSON object" };
  const start = Obj.safeParse(top.data.start);
  const custom = start.success ? Obj.safeParse(start.data.customParameters) : undefined;
  const format = start.success ? Obj.safeParse(start.data.mediaFormat) : undefined;
  const q = query ? Object.fromEntries(query) : {};
  const sources = [
    top.data,
    ...(custom?.success ? [custom.data] : []),
    ...(start.success ? [start.data] : []),
  ];
  for (const [what, keys] of UNAMBIGUOUS) {
    if (distinct(sources, keys) > 1) {
      return { error: `the metadata names more than one ${what} (refused: it must be unambiguous)` };
    }
  }
  const uuid = pick(sources, UUID_KEYS);
  if (typeof uuid !== "string" || !UUID.test(uuid)) {
    return { error: 'the metadata has no valid channel uuid (expected "uuid":"${uuid}")' };
  }
  const fmt = format?.success ? [format.data] : [];
  const rate = parseRate(pick([...sources, ...fmt, q], ["rate", "sampleRate", "sample_rate"])) ?? 16000;
  if (Number.isNaN(rate)) return { error: "the metadata's rate must be 8000, 16000 ... 64000 (or 8k, 16k)" };
  const mix = parseMix(
    pick([...sources, q], ["mix"]),
    pick([...sources, ...fmt, q], ["channels", "channel"]),
  );
  if (mix === null) return { error: "the metadata's mix must be mono, mixed or stereo" };
  const tomCallId = pick(sources, ["tom_call_id"]);
  const tomAccountId = pick(sources, ["tom_account_id"]);
  return {
    uuid,
    caller: party(pick(sources, ["caller", "from", "caller_id_number", "ani"])),
    callee: party(pick(sources, ["callee", "to", "destination_number", "dnis"])),
    tomCallId: isSafeId(tomCallId) ? tomCallId : undefined,
    tomAccountId: isSafeId(tomAccountId) ? tomAccountId : undefined,
    rate,
    mix: mix ?? "mono",
  };
}
