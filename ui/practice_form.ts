// The practice form ("Praxis"): text fields and one-entry-per-line textareas parsed into a Practice, and
// the German messages for the validation codes of store/'s PracticeSchema (form fields and API paths).
import type { z } from "zod";
import {
  type Closure,
  type OpeningInterval,
  type Practice,
  PRACTICE_LIMITS,
  PracticeSchema,
  type TransferTarget,
  type Weekday,
  WEEKDAYS,
} from "../store/mod.ts";
import { fill, T } from "./texts_de.ts";

/** The raw form values, kept as typed for re-displaying a form with errors. */
export interface PracticeFormValues {
  name: string;
  assistantName: string;
  address: string;
  phone: string;
  timeZone: string;
  hours: Record<Weekday, string>;
  closures: string;
  team: string;
  services: string;
  faq: string;
  mustNot: string;
  transferDuringKind: string;
  transferDuringTarget: string;
  transferAfterKind: string;
  transferAfterTarget: string;
}

/** One German message per form field (the field name is the key). */
export type PracticeErrors = Record<string, string>;

const P = T.practice;
const LINE_FIELDS = ["closures", "team", "services", "faq", "mustNot"] as const;
type LineField = typeof LINE_FIELDS[number];

/** Read the form fields. */
export function practiceFormValues(form: URLSearchParams): PracticeFormValues {
  const g = (k: string) => form.get(k) ?? "";
  return {
    name: g("name"),
    assistantName: g("assistantName"),
    address: g("address"),
    phone: g("phone"),
    timeZone: g("timeZone"),
    hours: Object.fromEntries(WEEKDAYS.map((d) => [d, g(`hours_${d}`)])) as Record<Weekday, string>,
    closures: g("closures"),
    team: g("team"),
    services: g("services"),
    faq: g("faq"),
    mustNot: g("mustNot"),
    transferDuringKind: g("transferDuringKind") || "none",
    transferDuringTarget: g("transferDuringTarget"),
    transferAfterKind: g("transferAfterKind") || "none",
    transferAfterTarget: g("transferAfterTarget"),
  };
}

/** The form values showing a stored practice. */
export function practiceToForm(p: Practice): PracticeFormValues {
  const lines = (xs: string[]) => xs.join("\n");
  return {
    name: p.name,
    assistantName: p.assistantName,
    address: p.address,
    phone: p.phone,
    timeZone: p.timeZone,
    hours: Object.fromEntries(WEEKDAYS.map((d) => [d, formatIntervals(p.hours[d])])) as Record<
      Weekday,
      string
    >,
    closures: lines(p.closures.map(formatClosure)),
    team: lines(p.team.map((m) => m.role ? `${m.name} | ${m.role}` : m.name)),
    services: lines(p.services),
    faq: lines(p.faq.map((f) => `${f.question} | ${f.answer}`)),
    mustNot: lines(p.mustNot),
    transferDuringKind: p.transfer.duringHours.kind,
    transferDuringTarget: p.transfer.duringHours.target,
    transferAfterKind: p.transfer.afterHours.kind,
    transferAfterTarget: p.transfer.afterHours.target,
  };
}

/** "08:00-12:00, 14:00-18:00". */
export function formatIntervals(day: OpeningInterval[]): string {
  return day.map((i) => `${i.from}-${i.to}`).join(", ");
}

function formatClosure(c: Closure): string {
  const range = c.from === c.to ? c.from : `${c.from} bis ${c.to}`;
  return c.note ? `${range} ${c.note}` : range;
}

const INTERVAL = /^(\d{1,2})[:.](\d{2})\s*(?:-|–|bis)\s*(\d{1,2})[:.](\d{2})$/;
const pad = (n: string) => n.padStart(2, "0");

/** Parse "08:00-12:00, 14:00-18:00" (sorted by start); undefined when a part is not a time range. */
export function parseIntervals(text: string): OpeningInterval[] | undefined {
  const parts = text.split(/[,;]/).map((s) => s.trim()).filter((s) => s !== "");
  const out: OpeningInterval[] = [];
  for (const part of parts) {
    const m = INTERVAL.exec(part);
    if (!m) return undefined;
    out.push({ from: `${pad(m[1])}:${m[2]}`, to: `${pad(m[3])}:${m[4]}` });
  }
  return out.sort((a, b) => a.from.localeCompare(b.from));
}

const DAY = String.raw`(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4})`;
const CLOSURE = new RegExp(String.raw`^${DAY}(?:\s*(?:bis|–|-)\s*${DAY})?(?:\s+(.*))?$`);

function isoDate(d: string): string {
  const de = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(d);
  if (de) return `${de[3]}-${pad(de[2])}-${pad(de[1])}`;
  const [y, m, day] = d.split("-");
  return `${y}-${pad(m)}-${pad(day)}`;
}

/** Parse a closure line "2026-12-24 bis 2026-12-26 Weihnachten" (also 24.12.2026, or one date). */
export function parseClosure(line: string): Closure | undefined {
  const m = CLOSURE.exec(line.trim());
  if (!m) return undefined;
  const from = isoDate(m[1]);
  return { from, to: m[2] ? isoDate(m[2]) : from, note: (m[3] ?? "").trim() };
}

/** Non-empty lines with their 1-based line numbers. */
function lines(text: string): { line: number; text: string }[] {
  return text.split(/\r?\n/).map((t, i) => ({ line: i + 1, text: t.trim() })).filter((l) => l.text !== "");
}

function pair(text: string): [string, string] | undefined {
  const i = text.indexOf("|");
  return i < 0 ? undefined : [text.slice(0, i).trim(), text.slice(i + 1).trim()];
}

function transfer(kind: string, target: string): TransferTarget {
  const k =
    (["none", "extension", "number", "voicemail"].includes(kind) ? kind : "none") as TransferTarget["kind"];
  return { kind: k, target: k === "none" ? "" : target.trim() };
}

/** Parse and validate the form; German messages per field on failure. */
export function parsePracticeForm(v: PracticeFormValues):
  | { ok: true; value: Practice }
  | { ok: false; errors: PracticeErrors } {
  const errors: PracticeErrors = {};
  const lineNo: Record<LineField, number[]> = { closures: [], team: [], services: [], faq: [], mustNot: [] };
  const hours = {} as Record<Weekday, OpeningInterval[]>;
  for (const d of WEEKDAYS) {
    const parsed = parseIntervals(v.hours[d]);
    if (!parsed) errors[`hours_${d}`] = fill(P.errBadTime, { field: P.days[d] });
    hours[d] = parsed ?? [];
  }
  const closures: Closure[] = [];
  for (const l of lines(v.closures)) {
    const c = parseClosure(l.text);
    if (!c) errors.closures ??= fill(P.errClosureLine, { line: l.line });
    else {
      closures.push(c);
      lineNo.closures.push(l.line);
    }
  }
  const team = lines(v.team).map((l) => {
    lineNo.team.push(l.line);
    const [name, role] = pair(l.text) ?? [l.text, ""];
    return { name, role };
  });
  const faq: Practice["faq"] = [];
  for (const l of lines(v.faq)) {
    const qa = pair(l.text);
    if (!qa) errors.faq ??= fill(P.errFaqLine, { line: l.line });
    else {
      faq.push({ question: qa[0], answer: qa[1] });
      lineNo.faq.push(l.line);
    }
  }
  const plain = (f: "services" | "mustNot") => lines(v[f]).map((l) => (lineNo[f].push(l.line), l.text));
  const practice: Practice = {
    name: v.name.trim(),
    assistantName: v.assistantName.trim(),
    address: v.address.trim(),
    phone: v.phone.trim(),
    timeZone: v.timeZone.trim(),
    hours,
    closures,
    team,
    services: plain("services"),
    faq,
    mustNot: plain("mustNot"),
    transfer: {
      duringHours: transfer(v.transferDuringKind, v.transferDuringTarget),
      afterHours: transfer(v.transferAfterKind, v.transferAfterTarget),
    },
  };
  const r = PracticeSchema.safeParse(practice);
  if (!r.success) {
    for (const issue of r.error.issues) {
      const field = formField(issue.path);
      const line = (LINE_FIELDS as readonly string[]).includes(field) && typeof issue.path[1] === "number"
        ? lineNo[field as LineField][issue.path[1]]
        : undefined;
      errors[field] ??= practiceMessage(issue, line);
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: practice };
}

/** The form field an issue path belongs to. */
function formField(path: readonly PropertyKey[]): string {
  const [head, sub] = path;
  if (head === "hours") return `hours_${String(sub)}`;
  if (head === "transfer") return sub === "afterHours" ? "transferAfterTarget" : "transferDuringTarget";
  return path.length === 0 ? "form" : String(head);
}

function fieldLabel(path: readonly PropertyKey[]): string {
  const [head, sub] = path;
  if (head === "hours") return P.days[sub as Weekday] ?? P.hours;
  if (head === "transfer") return sub === "afterHours" ? P.transferAfter : P.transferDuring;
  return (P.fields as Record<string, string>)[String(head)] ?? P.title;
}

/** The German message of one issue of PracticeSchema (its message is a stable code). */
export function practiceMessage(issue: z.core.$ZodIssue, line?: number): string {
  const field = line ? fill(P.atLine, { field: fieldLabel(issue.path), line }) : fieldLabel(issue.path);
  const max = "maximum" in issue ? Number(issue.maximum) : 0;
  switch (issue.message) {
    case "required":
      return fill(P.errRequired, { field });
    case "too_long":
      return fill(P.errTooLong, { field, max });
    case "too_many":
      return fill(P.errTooMany, { field, max });
    case "bad_time":
      return fill(P.errBadTime, { field });
    case "interval_order":
      return fill(P.errIntervalOrder, { field });
    case "overlap":
      return fill(P.errOverlap, { field });
    case "bad_date":
      return fill(P.errBadDate, { field });
    case "date_order":
      return fill(P.errDateOrder, { field });
    case "bad_zone":
      return fill(P.errBadZone, { field });
    case "bad_target":
      return fill(P.errBadTarget, { field });
    case "too_big":
      return fill(P.errTooBig, { max: Math.round(PRACTICE_LIMITS.totalBytes / 1024) });
    default:
      return fill(P.errInvalid, { field });
  }
}

/** The API's 400 detail: one German message per path (with the stable code). */
export function practiceIssues(error: z.ZodError): { path: string; code: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join("."), code: i.message, message: practiceMessage(i) }));
}

/** The top-level parts that differ between two practices, for the audit entry ("hours,faq"; "" if none). */
export function practiceChanges(before: Practice, after: Practice): string {
  const keys = Object.keys(after) as (keyof Practice)[];
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).join(",");
}
