/**
 * Practice knowledge per account (table `practice`, migration 4): what TOM may tell callers about the
 * practice (name, address, opening hours, closures, team, services, FAQ), what it must not do, where calls
 * are transferred, the time zone and the assistant's name. One JSON document per account, validated by
 * {@linkcode PracticeSchema} on every write and read.
 *
 * This is not health data (it describes the practice, not patients), so it is stored as plain JSON, not
 * encrypted; it is part of the database and therefore of every backup.
 *
 * Validation messages are stable English codes (see {@linkcode PRACTICE_CODES}); the German texts for the
 * form and the API live in ui/ and are looked up by path and code.
 */
import { z } from "zod";
import type { Store } from "./db.ts";
import { one } from "./_util.ts";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = typeof WEEKDAYS[number];
/** An opening interval, "HH:MM" local time, `from < to`. */
export interface OpeningInterval {
  from: string;
  to: string;
}
/** A closure or holiday: "YYYY-MM-DD" local dates, both inclusive. */
export interface Closure {
  from: string;
  to: string;
  note: string;
}
/** Where a call is transferred; `target` is "" for kind "none". */
export interface TransferTarget {
  kind: "none" | "extension" | "number" | "voicemail";
  target: string;
}
/** Everything TOM knows about one practice. */
export interface Practice {
  name: string;
  assistantName: string;
  address: string;
  phone: string;
  /** IANA time zone, e.g. "Europe/Berlin". */
  timeZone: string;
  hours: Record<Weekday, OpeningInterval[]>;
  closures: Closure[];
  team: { name: string; role: string }[];
  services: string[];
  faq: { question: string; answer: string }[];
  mustNot: string[];
  transfer: { duringHours: TransferTarget; afterHours: TransferTarget };
}

/** Limits of a practice document. */
export const PRACTICE_LIMITS = Object.freeze({
  name: 200,
  assistantName: 40,
  address: 300,
  phone: 40,
  timeZone: 64,
  intervalsPerDay: 6,
  closures: 100,
  closureNote: 200,
  team: 50,
  teamField: 100,
  services: 100,
  service: 200,
  faq: 100,
  question: 300,
  answer: 1000,
  mustNot: 50,
  mustNotItem: 300,
  transferTarget: 100,
  /** Bytes of the whole document as JSON (UTF-8). */
  totalBytes: 65_536,
});

/**
 * The codes a validation issue carries as its message. Each is stable: ui/ maps them (with the path) onto
 * German texts.
 */
export const PRACTICE_CODES = [
  "required",
  "too_long",
  "too_many",
  "bad_time",
  "interval_order",
  "overlap",
  "bad_date",
  "date_order",
  "bad_zone",
  "bad_target",
  "too_big",
  "invalid",
] as const;
export type PracticeCode = typeof PRACTICE_CODES[number];

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const EXTENSION = /^[0-9*#]{1,20}$/;
const NUMBER = /^\+?[0-9 ()/-]{3,30}$/;

function text(max: number, required = false): z.ZodString {
  const s = z.string({ error: "invalid" }).max(max, { error: "too_long" });
  return required ? s.refine((v) => v.trim().length > 0, { error: "required" }) : s;
}

/** A real calendar date "YYYY-MM-DD" (no 2026-02-30). */
export function isValidDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1970 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > PRACTICE_LIMITS.timeZone) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const IntervalSchema = z.strictObject({
  from: z.string({ error: "invalid" }).regex(TIME, { error: "bad_time" }),
  to: z.string({ error: "invalid" }).regex(TIME, { error: "bad_time" }),
}).refine((i) => !TIME.test(i.from) || !TIME.test(i.to) || i.from < i.to, {
  error: "interval_order",
  path: ["to"],
});

const DaySchema = z.array(IntervalSchema, { error: "invalid" })
  .max(PRACTICE_LIMITS.intervalsPerDay, { error: "too_many" })
  .superRefine((day, ctx) => {
    for (let i = 1; i < day.length; i++) {
      // Sorted and non-overlapping: each interval starts at or after the previous one ends.
      const [a, b] = [day[i - 1], day[i]];
      if (!TIME.test(a.to) || !TIME.test(b.from)) continue;
      if (b.from < a.to) ctx.addIssue({ code: "custom", message: "overlap", path: [i] });
    }
  });

const ClosureSchema = z.strictObject({
  from: z.string({ error: "invalid" }).refine(isValidDate, { error: "bad_date" }),
  to: z.string({ error: "invalid" }).refine(isValidDate, { error: "bad_date" }),
  note: text(PRACTICE_LIMITS.closureNote),
}).refine((c) => !isValidDate(c.from) || !isValidDate(c.to) || c.from <= c.to, {
  error: "date_order",
  path: ["to"],
});

const TransferSchema = z.strictObject({
  kind: z.enum(["none", "extension", "number", "voicemail"], { error: "invalid" }),
  target: text(PRACTICE_LIMITS.transferTarget),
}).superRefine((t, ctx) => {
  const ok = t.kind === "none"
    ? t.target === ""
    : t.kind === "extension"
    ? EXTENSION.test(t.target)
    : t.kind === "number"
    ? NUMBER.test(t.target)
    : t.target.length <= PRACTICE_LIMITS.transferTarget;
  if (!ok) ctx.addIssue({ code: "custom", message: "bad_target", path: ["target"] });
});

const hoursShape = Object.fromEntries(WEEKDAYS.map((d) => [d, DaySchema])) as Record<
  Weekday,
  typeof DaySchema
>;

const PracticeObject = z.strictObject({
  name: text(PRACTICE_LIMITS.name, true),
  assistantName: text(PRACTICE_LIMITS.assistantName, true),
  address: text(PRACTICE_LIMITS.address),
  phone: text(PRACTICE_LIMITS.phone),
  timeZone: z.string({ error: "invalid" }).refine(isValidTimeZone, { error: "bad_zone" }),
  hours: z.strictObject(hoursShape, { error: "invalid" }),
  closures: z.array(ClosureSchema, { error: "invalid" }).max(PRACTICE_LIMITS.closures, { error: "too_many" }),
  team: z.array(
    z.strictObject({
      name: text(PRACTICE_LIMITS.teamField, true),
      role: text(PRACTICE_LIMITS.teamField),
    }),
    { error: "invalid" },
  ).max(PRACTICE_LIMITS.team, { error: "too_many" }),
  services: z.array(text(PRACTICE_LIMITS.service, true), { error: "invalid" })
    .max(PRACTICE_LIMITS.services, { error: "too_many" }),
  faq: z.array(
    z.strictObject({
      question: text(PRACTICE_LIMITS.question, true),
      answer: text(PRACTICE_LIMITS.answer, true),
    }),
    { error: "invalid" },
  ).max(PRACTICE_LIMITS.faq, { error: "too_many" }),
  mustNot: z.array(text(PRACTICE_LIMITS.mustNotItem, true), { error: "invalid" })
    .max(PRACTICE_LIMITS.mustNot, { error: "too_many" }),
  transfer: z.strictObject({ duringHours: TransferSchema, afterHours: TransferSchema }, { error: "invalid" }),
}, { error: "invalid" });

/** Byte size of a practice document as stored. */
export function practiceBytes(practice: unknown): number {
  return new TextEncoder().encode(JSON.stringify(practice)).length;
}

/**
 * The practice document: limits on lengths, counts and total size, opening intervals sorted and
 * non-overlapping, a valid IANA zone and real dates. Issue messages are {@linkcode PracticeCode}s.
 */
export const PracticeSchema: z.ZodType<Practice> = PracticeObject.superRefine((p, ctx) => {
  if (practiceBytes(p) > PRACTICE_LIMITS.totalBytes) {
    ctx.addIssue({ code: "custom", message: "too_big", path: [] });
  }
});

/** The practice of a new account: its name, no hours, Europe/Berlin, assistant "TOM", no transfers. */
export function defaultPractice(accountName: string): Practice {
  const name = accountName.trim().slice(0, PRACTICE_LIMITS.name) || "Praxis";
  return {
    name,
    assistantName: "TOM",
    address: "",
    phone: "",
    timeZone: "Europe/Berlin",
    hours: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] },
    closures: [],
    team: [],
    services: [],
    faq: [],
    mustNot: [],
    transfer: { duringHours: { kind: "none", target: "" }, afterHours: { kind: "none", target: "" } },
  };
}

/**
 * The account's stored practice, or undefined when it never stored one (or the stored document no longer
 * validates, which a released schema never causes).
 */
export function getPractice(store: Store, accountId: string): Practice | undefined {
  const row = one<{ doc_json: string }>(
    store.prepare("SELECT doc_json FROM practice WHERE account_id = ?"),
    accountId,
  );
  if (!row) return undefined;
  const parsed = PracticeSchema.safeParse(JSON.parse(row.doc_json));
  return parsed.success ? parsed.data : undefined;
}

/** When and by whom the account's practice was last changed; undefined when never stored. */
export function practiceUpdated(
  store: Store,
  accountId: string,
): { updatedAt: number; updatedBy: string | null } | undefined {
  const row = one<{ updated_at: number; updated_by: string | null }>(
    store.prepare("SELECT updated_at, updated_by FROM practice WHERE account_id = ?"),
    accountId,
  );
  return row ? { updatedAt: row.updated_at, updatedBy: row.updated_by } : undefined;
}

/** Validates and stores the account's practice (replacing it), with who changed it when. Throws a ZodError. */
export function putPractice(store: Store, accountId: string, practice: Practice, by: string | null): void {
  const doc = PracticeSchema.parse(practice);
  store.prepare(
    `INSERT INTO practice (account_id, doc_json, updated_at, updated_by) VALUES (?, ?, ?, ?)
     ON CONFLICT (account_id) DO UPDATE SET doc_json = excluded.doc_json,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  ).run(accountId, JSON.stringify(doc), store.now(), by);
}
