import assert from "node:assert/strict";
import {
  MAX_FACTS_CHARS,
  momentFacts,
  type OpeningState,
  openingState,
  practiceFacts,
} from "../../pipeline/practice_facts.ts";
import { buildSystemPrompt, DEFAULT_POLICY } from "../../pipeline/prompt.ts";
import { practiceContext } from "../../pipeline/answerer.ts";
import type { Practice } from "../../store/mod.ts";
import { berlinPractice, fullPractice } from "./_practice.ts";

/** Sunday night service: 01:00-04:00 local, across both DST switches (Berlin). */
const night = berlinPractice({
  hours: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [{ from: "01:00", to: "04:00" }] },
  closures: [],
});
const newYork = berlinPractice({
  timeZone: "America/New_York",
  hours: {
    mon: [{ from: "09:00", to: "17:00" }],
    tue: [{ from: "09:00", to: "17:00" }],
    wed: [],
    thu: [],
    fri: [],
    sat: [],
    sun: [],
  },
  closures: [],
});
const tokyo = berlinPractice({ timeZone: "Asia/Tokyo", closures: [] });
const noHours = berlinPractice({
  hours: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] },
});

type Row = [string, Practice, string, OpeningState | { open: false; next?: string; closureNote?: string }];
const iso = (s: string) => new Date(s);
const open = (until: string) => ({ open: true, until: iso(until) });
const closed = (next: string | undefined, closureNote?: string) => ({
  open: false,
  ...(closureNote ? { closureNote } : {}),
  ...(next ? { next: iso(next) } : {}),
});

// [what, practice, now (UTC), expected]: Berlin is UTC+1 until 29 March 02:00 and from 25 October 03:00.
const TABLE: Row[] = [
  ["open, Monday 10:15 CEST", berlinPractice(), "2026-03-30T08:15:00Z", open("2026-03-30T10:00:00Z")],
  ["exactly at opening 08:00", berlinPractice(), "2026-03-30T06:00:00Z", open("2026-03-30T10:00:00Z")],
  ["before opening 07:30", berlinPractice(), "2026-03-30T05:30:00Z", closed("2026-03-30T06:00:00Z")],
  ["lunch break 12:30", berlinPractice(), "2026-03-30T10:30:00Z", closed("2026-03-30T12:00:00Z")],
  ["exactly at closing 12:00", berlinPractice(), "2026-03-30T10:00:00Z", closed("2026-03-30T12:00:00Z")],
  [
    "after hours 19:00 -> Tuesday 08:00",
    berlinPractice(),
    "2026-03-30T17:00:00Z",
    closed("2026-03-31T06:00:00Z"),
  ],
  ["Wednesday afternoon closed", berlinPractice(), "2026-04-01T12:30:00Z", closed("2026-04-02T06:00:00Z")],
  [
    "Friday 17:59 CET, last day before DST",
    berlinPractice(),
    "2026-03-27T16:59:00Z",
    open("2026-03-27T17:00:00Z"),
  ],
  [
    "Saturday before spring DST -> Monday 08:00 CEST",
    berlinPractice(),
    "2026-03-28T10:00:00Z",
    closed("2026-03-30T06:00:00Z"),
  ],
  ["spring DST Sunday 03:30 CEST", berlinPractice(), "2026-03-29T01:30:00Z", closed("2026-03-30T06:00:00Z")],
  [
    "spring DST: 01:30 CET, open until 04:00 CEST",
    night,
    "2026-03-29T00:30:00Z",
    open("2026-03-29T02:00:00Z"),
  ],
  ["spring DST: 00:30 CET, opens 01:00 CET", night, "2026-03-28T23:30:00Z", closed("2026-03-29T00:00:00Z")],
  [
    "autumn DST: first 02:30 CEST, until 04:00 CET",
    night,
    "2026-10-25T00:30:00Z",
    open("2026-10-25T03:00:00Z"),
  ],
  [
    "autumn DST: second 02:30 CET, until 04:00 CET",
    night,
    "2026-10-25T01:30:00Z",
    open("2026-10-25T03:00:00Z"),
  ],
  ["autumn DST: 00:30 CEST, opens 01:00 CEST", night, "2026-10-24T22:30:00Z", closed("2026-10-24T23:00:00Z")],
  [
    "Saturday before autumn DST -> Monday 08:00 CET",
    berlinPractice(),
    "2026-10-24T10:00:00Z",
    closed("2026-10-26T07:00:00Z"),
  ],
  [
    "Christmas closure -> Monday 28 December",
    berlinPractice(),
    "2026-12-24T09:00:00Z",
    closed("2026-12-28T07:00:00Z", "Weihnachten"),
  ],
  [
    "the closure's last day (Friday) -> Monday",
    berlinPractice(),
    "2026-08-14T08:00:00Z",
    closed("2026-08-17T06:00:00Z", "Betriebsferien"),
  ],
  ["the day after the closure: open", berlinPractice(), "2026-08-17T07:00:00Z", open("2026-08-17T10:00:00Z")],
  [
    "Easter: Thursday evening -> Tuesday (Good Friday, weekend, Easter Monday closed)",
    berlinPractice(),
    "2026-04-02T17:00:00Z",
    closed("2026-04-07T06:00:00Z"),
  ],
  ["New York 11:00 EDT: open until 17:00 EDT", newYork, "2026-03-30T15:00:00Z", open("2026-03-30T21:00:00Z")],
  [
    "New York 18:00 EDT -> Tuesday 09:00 EDT",
    newYork,
    "2026-03-30T22:00:00Z",
    closed("2026-03-31T13:00:00Z"),
  ],
  [
    "New York Tuesday evening -> next Monday",
    newYork,
    "2026-03-31T22:00:00Z",
    closed("2026-04-06T13:00:00Z"),
  ],
  ["Tokyo Monday 08:30 JST (Sunday in UTC)", tokyo, "2026-03-29T23:30:00Z", open("2026-03-30T03:00:00Z")],
  ["no hours at all: closed, no next opening", noHours, "2026-03-30T08:00:00Z", closed(undefined)],
];

for (const [what, practice, now, want] of TABLE) {
  Deno.test(`opening state: ${what}`, () => {
    assert.deepStrictEqual(openingState(practice, iso(now)), want);
  });
}

Deno.test("the table covers at least 15 dates", () => assert.ok(TABLE.length >= 15));

Deno.test("the moment lines say the local date and time and the opening in German", () => {
  assert.equal(
    momentFacts(berlinPractice(), iso("2026-03-30T08:15:00Z")),
    "Heute ist Montag, 30. März 2026, 10:15 Uhr. Die Praxis ist jetzt geöffnet bis 12:00 Uhr.",
  );
  assert.equal(
    momentFacts(berlinPractice(), iso("2026-12-24T09:00:00Z")),
    "Heute ist Donnerstag, 24. Dezember 2026, 10:00 Uhr. Die Praxis ist heute geschlossen (Weihnachten). " +
      "Nächste Öffnung: Montag, 28. Dezember, 08:00 Uhr.",
  );
  assert.match(
    momentFacts(berlinPractice(), iso("2026-03-30T10:30:00Z")),
    /Nächste Öffnung: heute, 14:00 Uhr\.$/,
  );
  assert.match(
    momentFacts(berlinPractice(), iso("2026-03-30T17:00:00Z")),
    /Nächste Öffnung: morgen, Dienstag, 31\. März, 08:00 Uhr\.$/,
  );
  assert.match(
    momentFacts(newYork, iso("2026-12-29T22:00:00Z")),
    /Nächste Öffnung: Montag, 4\. Januar 2027, 09:00 Uhr\.$/,
  );
  assert.match(momentFacts(noHours, iso("2026-03-30T08:00:00Z")), /nicht hinterlegt/);
  assert.match(momentFacts(newYork, iso("2026-03-30T15:00:00Z")), /Montag, 30\. März 2026, 11:00 Uhr/);
});

Deno.test("the facts block lists hours, upcoming closures, team, services, FAQ and the must-nots", () => {
  const f = practiceFacts(berlinPractice(), iso("2026-04-04T10:00:00Z"));
  assert.match(f, /Praxis: Hausarztpraxis Dr\. Weber\./);
  assert.match(f, /Lindenstraße 5/);
  assert.match(
    f,
    /Montag und Dienstag: 08:00 bis 12:00 Uhr und 14:00 bis 18:00 Uhr; Mittwoch: 08:00 bis 13:00 Uhr/,
  );
  assert.match(f, /Samstag und Sonntag: geschlossen/);
  assert.doesNotMatch(f, /Karfreitag/, "a past closure is left out");
  assert.match(f, /6\.4\.2026 \(Ostermontag\)/);
  assert.match(f, /10\.8\.2026 bis 14\.8\.2026 \(Betriebsferien\)/);
  const full = practiceFacts(fullPractice(), iso("2026-03-30T08:00:00Z"));
  assert.match(full, /Montag bis Freitag: 07:30 bis 12:30 Uhr und 14:30 bis 18:00 Uhr/);
  assert.match(full, /Dr\. Murat Yılmaz \(Facharzt für Innere Medizin\)/);
  assert.match(full, /Krebsvorsorge/);
  assert.match(full, /F: Was tue ich nachts oder am Wochenende\? A: Den ärztlichen Bereitschaftsdienst/);
  assert.match(full, /Anna darf nicht: keine Termine fest zusagen/);
  // Stable: the same for every moment of a day (the LLM server's prompt cache).
  assert.equal(full, practiceFacts(fullPractice(), iso("2026-03-30T15:59:00Z")));
});

Deno.test("a realistic full practice stays within the facts budget (about 1,500 tokens)", () => {
  const full = practiceFacts(fullPractice(), iso("2026-03-30T08:00:00Z"));
  assert.ok(full.length <= MAX_FACTS_CHARS, `${full.length} chars`);
  assert.ok(full.includes("Häufige Fragen") && full.split("\nF: ").length - 1 === 15, "every FAQ kept");
});

Deno.test("an oversized practice is cut to the budget, FAQ first", () => {
  const big = fullPractice();
  big.faq = Array.from(
    { length: 100 },
    (_, i) => ({ question: `Frage ${i}?`, answer: "Antwort ".repeat(120) }),
  );
  const f = practiceFacts(big, iso("2026-03-30T08:00:00Z"));
  assert.ok(f.length <= MAX_FACTS_CHARS, `${f.length}`);
  assert.match(f, /darf nicht/, "the must-nots are kept");
  big.team = Array.from({ length: 50 }, (_, i) => ({ name: "N".repeat(100) + i, role: "R".repeat(100) }));
  assert.ok(practiceFacts(big).length <= MAX_FACTS_CHARS);
});

Deno.test("the system prompt keeps policy and facts first, then the moment and the caller", () => {
  const now = iso("2026-03-30T08:15:00Z");
  const ctx = practiceContext(berlinPractice(), now);
  const p = buildSystemPrompt(DEFAULT_POLICY, { displayName: "Hans Müller", memory: { hund: "Bello" } }, ctx);
  const at = (s: string) => p.indexOf(s);
  assert.ok(at("Du bist Anna, die freundliche KI-Telefonassistenz der Hausarztpraxis Dr. Weber.") === 0, p);
  assert.ok(at("Fakten zur Praxis") > 0);
  assert.ok(at("Fakten zur Praxis") < at("Heute ist Montag"));
  assert.ok(at("Heute ist Montag") < at("Hans Müller"));
  assert.ok(at("Hans Müller") < at("Bello"));
  // The prefix up to the moment is the same for another call later that day.
  const later = buildSystemPrompt(
    DEFAULT_POLICY,
    undefined,
    practiceContext(berlinPractice(), iso("2026-03-30T14:00:00Z")),
  );
  const prefix = p.slice(0, at("Heute ist"));
  assert.ok(later.startsWith(prefix));
  assert.notEqual(later.slice(prefix.length), p.slice(prefix.length));
  // Without a practice: the neutral names, no facts.
  assert.match(buildSystemPrompt(), /^Du bist TOM, die freundliche KI-Telefonassistenz der Praxis\./);
  assert.doesNotMatch(buildSystemPrompt(), /\{assistant\}|\{practice\}|Fakten/);
});
