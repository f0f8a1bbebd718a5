/**
 * What TOM knows about the practice, for the system prompt, computed by code so a small model need not
 * reckon: {@linkcode practiceFacts} is the stable German block (name, address, hours, closures, team,
 * services, FAQ, what TOM must not do; it changes only when the practice is edited or a closure is past),
 * {@linkcode momentFacts} the lines that change per call (local date and time, open now until ..., next
 * opening ...), both from {@linkcode openingState} in the practice's time zone (closures, DST).
 *
 * @module
 */
import { type Practice, WEEKDAYS } from "../store/mod.ts";
import { addDays, localInstant, localMoment, weekdayOf } from "../infra/mod.ts";

const DAY_NAMES = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"];

/** Whether the practice is open at an instant, and until when, or when it opens next. */
export interface OpeningState {
  open: boolean;
  /** Open: when this opening ends (adjoining intervals joined). */
  until?: Date;
  /** Closed: the next opening (none within {@linkcode LOOKAHEAD_DAYS} days or no hours: undefined). */
  next?: Date;
  /** Closed today by a closure: its note ("Weihnachten"). */
  closureNote?: string;
}

/** How far ahead the next opening is looked for (a long closure plus a week). */
export const LOOKAHEAD_DAYS = 400;

/** Most closures listed (the next ones). */
export const MAX_CLOSURES_LISTED = 12;

/**
 * Largest stable facts block, in characters: about 1,500 tokens with the Llama-2 vocabulary of the
 * synthetic test model (2.7 characters a token for German, measured by tests/bench/prompt_facts_bench.ts);
 * newer multilingual vocabularies need fewer.
 */
export const MAX_FACTS_CHARS = 4_000;

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

function closureOn(practice: Practice, date: string) {
  return practice.closures.find((c) => c.from <= date && date <= c.to);
}

/** The day's intervals as sorted minute ranges, adjoining or overlapping ones joined. */
function dayRanges(practice: Practice, date: string): [number, number][] {
  const raw = (practice.hours[WEEKDAYS[weekdayOf(date)]] ?? [])
    .map((i): [number, number] => [minutesOf(i.from), minutesOf(i.to)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const r of raw) {
    const last = out.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([...r]);
  }
  return out;
}

/**
 * Open or closed at `now`, in the practice's time zone: opening intervals per weekday, closures (whole
 * local dates, inclusive), days without hours.
 */
export function openingState(practice: Practice, now: Date): OpeningState {
  const tz = practice.timeZone;
  const here = localMoment(now, tz);
  const closure = closureOn(practice, here.date);
  if (!closure) {
    const current = dayRanges(practice, here.date).find(([a, b]) => a <= here.minutes && here.minutes < b);
    if (current) return { open: true, until: localInstant(here.date, current[1], tz) };
  }
  const state: OpeningState = { open: false, ...(closure ? { closureNote: closure.note } : {}) };
  for (let d = 0; d <= LOOKAHEAD_DAYS; d++) {
    const date = addDays(here.date, d);
    if (closureOn(practice, date)) continue;
    const start = dayRanges(practice, date).find(([a]) => d > 0 || a > here.minutes);
    if (start) return { ...state, next: localInstant(date, start[0], tz) };
  }
  return state;
}

function clock(at: Date, tz: string): string {
  return new Intl.DateTimeFormat("de-DE", {
    timeZone: tz,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  })
    .format(at);
}

function dayDate(at: Date, tz: string, year: boolean): string {
  return new Intl.DateTimeFormat("de-DE", {
    timeZone: tz,
    weekday: "long",
    day: "numeric",
    month: "long",
    ...(year ? { year: "numeric" } : {}),
  }).format(at);
}

/**
 * The lines that change per call, German: "Heute ist Montag, 30. März 2026, 10:15 Uhr. Die Praxis ist
 * jetzt geöffnet bis 12:00 Uhr." or "... Die Praxis ist heute geschlossen (Weihnachten). Nächste Öffnung:
 * Montag, 28. Dezember, 08:00 Uhr."
 */
export function momentFacts(practice: Practice, now: Date): string {
  const tz = practice.timeZone;
  const today = localMoment(now, tz).date;
  const s = openingState(practice, now);
  const when = (at: Date) => {
    const date = localMoment(at, tz).date;
    const day = date === today
      ? "heute"
      : date === addDays(today, 1)
      ? `morgen, ${dayDate(at, tz, false)}`
      : dayDate(at, tz, date.slice(0, 4) !== today.slice(0, 4));
    return `${day}, ${clock(at, tz)} Uhr`;
  };
  const lines = [`Heute ist ${dayDate(now, tz, true)}, ${clock(now, tz)} Uhr.`];
  if (s.open && s.until) {
    const untilDate = localMoment(s.until, tz).date;
    lines.push(
      `Die Praxis ist jetzt geöffnet bis ${
        untilDate === today ? `${clock(s.until, tz)} Uhr` : when(s.until)
      }.`,
    );
  } else {
    lines.push(
      s.closureNote !== undefined
        ? `Die Praxis ist heute geschlossen${s.closureNote.trim() ? ` (${s.closureNote.trim()})` : ""}.`
        : "Die Praxis ist jetzt geschlossen.",
    );
    lines.push(s.next ? `Nächste Öffnung: ${when(s.next)}.` : "Eine nächste Öffnung ist nicht hinterlegt.");
  }
  return lines.join(" ");
}

function germanDate(date: string): string {
  const [y, m, d] = date.split("-");
  return `${Number(d)}.${Number(m)}.${y}`;
}

/** Opening hours, consecutive weekdays with the same hours joined ("Montag bis Freitag: ..."). */
function hoursText(practice: Practice): string {
  const day = (i: number) => {
    const intervals = practice.hours[WEEKDAYS[i]] ?? [];
    return intervals.length === 0
      ? "geschlossen"
      : intervals.map((iv) => `${iv.from} bis ${iv.to} Uhr`).join(" und ");
  };
  const groups: { from: number; to: number; text: string }[] = [];
  for (let i = 0; i < 7; i++) {
    const last = groups.at(-1);
    if (last && last.text === day(i)) last.to = i;
    else groups.push({ from: i, to: i, text: day(i) });
  }
  return groups.map((g) =>
    `${DAY_NAMES[g.from]}${
      g.to === g.from ? "" : `${g.to === g.from + 1 ? " und " : " bis "}${DAY_NAMES[g.to]}`
    }: ${g.text}`
  ).join("; ");
}

/**
 * The stable facts block, German. Closures that ended before `today` (the practice's local date of that
 * instant; default: all closures) are left out. Longer than {@linkcode MAX_FACTS_CHARS}: FAQ entries are
 * dropped from the end, then the text is cut.
 */
export function practiceFacts(practice: Practice, today?: Date): string {
  const since = today ? localMoment(today, practice.timeZone).date : "";
  const head = [
    `Fakten zur Praxis (nur diese verwenden, nichts erfinden):`,
    `Praxis: ${practice.name}.`,
    practice.address ? `Adresse: ${practice.address}.` : "",
    practice.phone ? `Telefon: ${practice.phone}.` : "",
    `Öffnungszeiten: ${hoursText(practice)}.`,
  ];
  const closures = practice.closures.filter((c) => c.to >= since).sort((a, b) => a.from.localeCompare(b.from))
    .slice(0, MAX_CLOSURES_LISTED);
  if (closures.length > 0) {
    head.push(
      `Geschlossen: ${
        closures.map((c) =>
          `${c.from === c.to ? germanDate(c.from) : `${germanDate(c.from)} bis ${germanDate(c.to)}`}${
            c.note ? ` (${c.note})` : ""
          }`
        ).join("; ")
      }.`,
    );
  }
  if (practice.team.length > 0) {
    head.push(`Team: ${practice.team.map((t) => `${t.name} (${t.role})`).join(", ")}.`);
  }
  if (practice.services.length > 0) head.push(`Leistungen: ${practice.services.join(", ")}.`);
  const tail = practice.mustNot.length > 0
    ? [`${practice.assistantName || "TOM"} darf nicht: ${practice.mustNot.join("; ")}.`]
    : [];
  const faq = practice.faq.map((f) => `F: ${f.question} A: ${f.answer}`);
  const build = (n: number) =>
    [...head, ...(n > 0 ? ["Häufige Fragen:", ...faq.slice(0, n)] : []), ...tail].filter((l) => l !== "")
      .join("\n");
  let n = faq.length;
  let text = build(n);
  while (text.length > MAX_FACTS_CHARS && n > 0) text = build(--n);
  return text.length > MAX_FACTS_CHARS ? text.slice(0, MAX_FACTS_CHARS - 1) + "…" : text;
}

/** The practice's name as it follows "der" ("Praxis Dr. Weber"; a bare "Dr. Weber" gets "Praxis "). */
export function practiceName(practice: Pick<Practice, "name"> | undefined): string {
  const name = practice?.name.trim() ?? "";
  if (name === "") return "Praxis";
  return /praxis|klinik|mvz/i.test(name) ? name : `Praxis ${name}`;
}
