/**
 * chan_websocket's control messages (protocols.md section 4), as Asterisk 22.10 sends them: plain text
 * (`MEDIA_START connection_id:tom channel:WebSocket/tom/0x7f.. channel_id:1795280779.4 format:ulaw
 * optimal_frame_size:160 ptime:20`, `DTMF_END digit:1 channel_id:..`, `MEDIA_MARK_PROCESSED m1`) or,
 * with `f(json)` in the dial string or `control_message_format = json` in chan_websocket.conf, JSON
 * (`{"event":"MEDIA_START","connection_id":..,"format":"slin16","optimal_frame_size":640,"ptime":20,
 * "channel_variables":{..}}`).
 *
 * Commands go back in the format the connection uses: Asterisk rejects JSON in plain-text mode ("command
 * unknown") and plain text in JSON mode ("Unable to parse JSON command"). Both were checked against a
 * real Asterisk 22.10.1 (tests/e2e/asterisk_test.ts).
 *
 * @module
 */
import { z } from "zod";

/** Longest control message parsed (Asterisk's own are under 1 KiB; MEDIA_START carries channel variables). */
export const MAX_CONTROL_CHARS = 16_384;

/** A control message from Asterisk. */
export interface ControlEvent {
  /** `MEDIA_START`, `DTMF_END`, `MEDIA_XOFF`, ... */
  event: string;
  /** Whether it came as JSON (then commands must be JSON too). */
  json: boolean;
  /** `key:value` pairs (plain text) or the JSON object's other members. */
  fields: Record<string, unknown>;
  /** Plain-text words without a key (`MEDIA_MARK_PROCESSED m1` has `["m1"]`). */
  args: string[];
}

const EVENT_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Parse one TEXT message; undefined when it is not a control message. */
export function parseControl(text: string): ControlEvent | undefined {
  if (text.length === 0 || text.length > MAX_CONTROL_CHARS) return undefined;
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch {
      return undefined;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return undefined;
    const { event, ...fields } = obj as Record<string, unknown>;
    if (typeof event !== "string" || !EVENT_NAME.test(event)) return undefined;
    return { event, json: true, fields, args: [] };
  }
  const words = trimmed.split(/\s+/);
  const event = words[0];
  if (!EVENT_NAME.test(event)) return undefined;
  const fields: Record<string, unknown> = {};
  const args: string[] = [];
  let last: string | undefined;
  for (const word of words.slice(1)) {
    const m = /^([a-z][a-z0-9_]*):(.*)$/.exec(word);
    if (m) {
      last = m[1];
      fields[last] = m[2];
    } else if (last !== undefined) {
      // A value with spaces (`error_text:Unable to parse JSON command`) continues until the next key.
      fields[last] = `${fields[last]} ${word}`;
    } else args.push(word);
  }
  return { event, json: false, fields, args };
}

const intField = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );

/** What `MEDIA_START` must carry. */
export const MediaStart = z.object({
  connection_id: z.string().max(256).optional(),
  channel: z.string().max(512).optional(),
  channel_id: z.string().max(256).optional(),
  format: z.string().min(1).max(32),
  /** Bytes of one frame of `ptime` ms in `format`. */
  optimal_frame_size: intField(1, 65_500),
  /** Frame duration in ms (Asterisk 22.10 always says 20; older releases leave it out). */
  ptime: intField(10, 200).default(20),
});
/** A validated `MEDIA_START`. */
export type MediaStart = z.infer<typeof MediaStart>;

/** The DTMF digit of a `DTMF_END`, or undefined when it has none. */
export function dtmfDigit(e: ControlEvent): string | undefined {
  const d = e.fields.digit;
  return typeof d === "string" && /^[0-9*#A-Da-d]$/.test(d) ? d.toUpperCase() : undefined;
}

/** The mark id of a `MEDIA_MARK_PROCESSED` (JSON `correlation_id`, or the plain-text word). */
export function markId(e: ControlEvent): string | undefined {
  const id = e.json ? e.fields.correlation_id : e.args[0] ?? e.fields.correlation_id;
  return typeof id === "string" && id.length > 0 ? id : undefined;
}

/** Commands TOM sends. */
export type Command =
  | "ANSWER"
  | "HANGUP"
  | "MARK_MEDIA"
  | "FLUSH_MEDIA"
  | "START_MEDIA_BUFFERING"
  | "STOP_MEDIA_BUFFERING"
  | "REPORT_QUEUE_DRAINED"
  | "GET_STATUS"
  | "PAUSE_MEDIA"
  | "CONTINUE_MEDIA";

/**
 * A command in the connection's format: `MARK_MEDIA m1` or `{"command":"MARK_MEDIA","correlation_id":"m1"}`.
 *
 * @param id the correlation id (MARK_MEDIA, STOP_MEDIA_BUFFERING); letters, digits, `-`, `_`, `.` only
 * @throws {RangeError} on an id with other characters (it would split the plain-text command)
 */
export function formatCommand(command: Command, json: boolean, id?: string): string {
  if (id !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
    throw new RangeError(`Cannot send ${command} with id ${JSON.stringify(id)}`);
  }
  if (json) return JSON.stringify(id === undefined ? { command } : { command, correlation_id: id });
  return id === undefined ? command : `${command} ${id}`;
}
