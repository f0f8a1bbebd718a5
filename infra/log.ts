/**
 * Structured logging: one JSON object per line with `time`, `level`, `message` and, inside a call,
 * `call_id`. Personal data never reaches a log line in clear: values under personal keys (phone,
 * name, ...) are replaced by a salted hash, and phone-number-like digit runs in any string are too.
 * Ids are not phone numbers: UUIDs and hex ids are left as they are wherever they appear, and the values
 * of id fields (`id`, `call_id`, `callId`, ...) are kept unless they carry an international number or
 * are a national number (with a word prefix at most: `call-030123456`), so a call can be followed.
 *
 * @module
 */
import { createHmac } from "node:crypto";

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Extra fields of a log line. */
export type LogFields = Record<string, unknown>;

/** A logger; `child` adds fields (such as `call_id`) to every line. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Keys whose values are personal data and are logged only as salted hashes. */
export const PERSONAL_KEYS: ReadonlySet<string> = new Set([
  "phone",
  "phone_e164",
  "phoneE164",
  "caller",
  "caller_id",
  "callerId",
  "from",
  "to",
  "number",
  "name",
  "display_name",
  "displayName",
  "first_name",
  "last_name",
  "email",
  "ani",
  "dnis",
]);

/** Keys whose values are secrets and are never logged at all. */
const SECRET_KEY = /(secret|password|token|authorization|cookie|api[_-]?key)/i;

// E.164 (+ and 7-15 digits, optionally grouped) or a run of 7+ digits with separators, as dialled in Germany.
const INTERNATIONAL = /(?:\+|\b00)\d[\d\s\-\/().]{5,18}\d/g;
const NATIONAL = /\(?\b0\d{2,5}\)?[\s\-\/]?\d[\d\s\-]{3,12}\d\b/g; // "(030) 123 45 67" too
const PHONE_LIKE = new RegExp(`${INTERNATIONAL.source}|${NATIONAL.source}`, "g");
/** A national number as an id's whole value, or after a word prefix ("call-030123456"). */
const NATIONAL_ID = new RegExp(`^([A-Za-z]+[-_:.])?(${NATIONAL.source})$`);

/** Tokens that are ids, never phone numbers: UUIDs and hex ids (with a letter and a digit, 12+ long). */
const ID_TOKEN =
  /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{12,}\b/gi;

/** Keys whose values are ids (`id`, `call_id`, `callId`, `job_uuid`, ...); personal keys come first. */
const ID_KEY = /^(?:id|uuid)$|(?:_id|Id|_uuid|Uuid)$/;

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  level?: LogLevel;
  /** Salt for hashing personal data (keep it secret and stable so the same caller hashes the same). */
  salt: string;
  /** Where lines go (default: standard error). */
  sink?: (line: string) => void;
  /** Clock (default `Date.now`). */
  now?: () => number;
  /** Fields on every line. */
  fields?: LogFields;
}

/** A salted, truncated HMAC-SHA256 of a personal value: stable per salt, not reversible. */
export function hashPersonal(value: string, salt: string): string {
  return "h:" +
    createHmac("sha256", salt).update(value.replace(/[\s\-\/().]/g, "")).digest("hex").slice(0, 16);
}

/** Apply `replace` to the parts of `text` outside id tokens. */
function outsideIds(text: string, replace: (part: string) => string): string {
  let out = "";
  let at = 0;
  for (const m of text.matchAll(ID_TOKEN)) {
    out += replace(text.slice(at, m.index)) + m[0];
    at = m.index + m[0].length;
  }
  return out + replace(text.slice(at));
}

/** Replace phone-number-like runs in free text by their hashes (ids are left alone). */
export function redactText(text: string, salt: string): string {
  return outsideIds(text, (part) => part.replace(PHONE_LIKE, (m) => hashPersonal(m, salt)));
}

/**
 * The value of an id field: kept, unless it carries a phone number (an international one anywhere, or
 * a national one as the whole value after at most a word prefix), which is hashed.
 */
export function redactId(id: string, salt: string): string {
  const national = NATIONAL_ID.exec(id);
  if (national) return (national[1] ?? "") + hashPersonal(national[2], salt);
  return outsideIds(id, (part) => part.replace(INTERNATIONAL, (m) => hashPersonal(m, salt)));
}

function redact(value: unknown, salt: string, key: string | undefined, depth: number): unknown {
  if (key !== undefined && SECRET_KEY.test(key)) return "<redacted>";
  if (key !== undefined && PERSONAL_KEYS.has(key) && value !== null && value !== undefined && value !== "") {
    return typeof value === "string" || typeof value === "number"
      ? hashPersonal(String(value), salt)
      : "<redacted>";
  }
  if (typeof value === "string") {
    return key !== undefined && ID_KEY.test(key) ? redactId(value, salt) : redactText(value, salt);
  }
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message, salt) };
  }
  if (Array.isArray(value)) {
    return depth > 4 ? "[...]" : value.map((v) => redact(v, salt, undefined, depth + 1));
  }
  if (value && typeof value === "object") {
    if (depth > 4) return "{...}";
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, salt, k, depth + 1)]));
  }
  return value;
}

/** Create a JSON-lines logger that redacts personal data. */
export function createLogger(opts: LoggerOptions): Logger {
  const min = ORDER[opts.level ?? "info"];
  const sink = opts.sink ?? ((line: string) => console.error(line));
  const now = opts.now ?? Date.now;
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, message: string, fields?: LogFields) => {
      if (ORDER[level] < min) return;
      const extra = redact({ ...base, ...fields }, opts.salt, undefined, 0) as LogFields;
      sink(JSON.stringify({
        time: new Date(now()).toISOString(),
        level,
        message: redactText(message, opts.salt),
        ...extra,
      }));
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(opts.fields ?? {});
}

/** A logger that drops everything (for tests and tools that print on their own). */
export const silentLogger: Logger = createLogger({ salt: "", level: "error", sink: () => {} });
