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
import { isSafeId } from "./outbound_attach.ts";

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
  // JSON keeps the last of duplicate keys: a caller id smuggling `","uuid":"...` past a dialplan that does
  // not escape it could otherwise redirect TOM's uuid_kill/uuid_broadcast to another channel.
  for (
    const key of [
      "uuid",
      "call_uuid",
      "channel_uuid",
      "Unique-ID",
      "unique_id",
      "tom_call_id",
      "tom_account_id",
    ]
  ) {
    if ((text.match(new RegExp(`"${key}"\\s*:`, "g")) ?? []).length > 1) {
      return {
        error:
          `the metadata names "${key}" more than once (refused: channel, call and account must be unambiguous)`,
      };
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: "the first message is not JSON metadata (the dialplan must pass TOM's metadata)" };
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
  const uuid = pick(sources, ["uuid", "call_uuid", "channel_uuid", "Unique-ID", "unique_id"]);
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
