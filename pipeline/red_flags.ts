/**
 * Emergencies by code: a German red-flag matcher that runs on every transcript of the caller, before and
 * independent of the LLM. Pure and fast (regular expressions over a normalized text, no I/O).
 *
 * What fires: a present or unclear mention, whoever the subject is ("mein Mann bekommt keine Luft"), in any
 * case, with or without punctuation, umlauts or their "ae"/"oe"/"ue" spelling, "ß" or "ss". A practice cannot
 * afford a missed emergency, so doubt fires. What does not fire:
 * - an explicit denial right before a red-flag noun, within its clause: "keine Brustschmerzen", "ich habe keine
 *   starke Atemnot", "nicht bewusstlos" (a denial after it, "Atemnot? Nein", still fires);
 * - a diagnosis as prevention or aftercare: "Herzinfarkt-Vorsorge", "Schlaganfall Nachsorge";
 * - history: a distant past in the same clause ("Schlaganfall vor zwei Jahren", "seit Jahren gelähmt"), or a
 *   recent past ("letzte Woche", "nach dem Unfall") followed by a resolution ("jetzt ist alles gut", "ist
 *   besser"), unless the text also has an acute word ("plötzlich", "gerade", "schon wieder"). A resolution
 *   alone does not silence a mention: a drooping face that went away again may be a stroke warning;
 * - look-alike words, by whole-word matching: "Krampfadern", "Blutabnahme", "Blutdruck", "Brustkrebsvorsorge",
 *   "Lebensmittelvergiftung", "Luftfilter", "meine Tabletten sind alle", a leg cramp, a blocked nose.
 *
 * @module
 */
import {
  ACUTE,
  CARE_WORDS,
  CLAUSE_BREAKS,
  DISTANT_PAST,
  type FlagTerms,
  NEGATION_FILLERS,
  NEGATORS,
  RECENT_PAST,
  RED_FLAG_TERMS,
  RESOLVED,
} from "./red_flags_de.ts";

/** The red flags, in the order that breaks a tie between two hits at the same place. */
export type RedFlag =
  | "child_not_breathing"
  | "unconscious"
  | "breathing"
  | "chest_pain"
  | "stroke"
  | "anaphylaxis"
  | "seizure"
  | "bleeding"
  | "poisoning"
  | "suicidal"
  | "declared_emergency";

/** A red flag found in a transcript, with its German label for staff and the live page. */
export interface RedFlagHit {
  flag: RedFlag;
  label: string;
}

/** German labels of the red flags, for staff (inbox, live page) and the emergency request. */
export const RED_FLAG_LABELS: Readonly<Record<RedFlag, string>> = {
  child_not_breathing: "Kind atmet nicht oder ist blau",
  unconscious: "Bewusstlosigkeit oder Kollaps",
  breathing: "Atemnot",
  chest_pain: "Brustschmerzen, Verdacht auf Herzinfarkt",
  stroke: "Verdacht auf Schlaganfall",
  anaphylaxis: "Schwere allergische Reaktion",
  seizure: "Krampfanfall",
  bleeding: "Starke Blutung",
  poisoning: "Vergiftung oder Überdosis",
  suicidal: "Suizidgedanken",
  declared_emergency: "Anrufer meldet einen Notfall",
};

interface Compiled {
  flag: RedFlag;
  negatable: RegExp | null;
  fixed: RegExp | null;
  vetoAny: RegExp | null;
  vetoAfter: RegExp | null;
}

const TERMS: Record<RedFlag, FlagTerms> = RED_FLAG_TERMS;
const token = (src: string, flags = "") => new RegExp(`(?<= )(?:${src})(?= )`, flags);
const any = (list: readonly string[]) => list.length ? token(list.join("|"), "g") : null;

const COMPILED: readonly Compiled[] = (Object.keys(RED_FLAG_LABELS) as RedFlag[]).map((flag) => {
  const t = TERMS[flag];
  return {
    flag,
    negatable: any(t.negatable),
    fixed: any(t.fixed),
    vetoAny: t.vetoAny ? new RegExp(t.vetoAny) : null,
    vetoAfter: t.vetoAfter ? new RegExp(t.vetoAfter) : null,
  };
});
const CLAUSE_RE = token(CLAUSE_BREAKS, "g");
const DISTANT_RE = token(DISTANT_PAST);
const RECENT_RE = token(RECENT_PAST);
const RESOLVED_RE = token(RESOLVED);
const ACUTE_RE = token(ACUTE);
const CARE_AFTER_RE = new RegExp(`^ (?:${CARE_WORDS})[a-z]*(?= )`);
const CARE_BEFORE_RE = new RegExp(`(?:^| )(?:${CARE_WORDS})[a-z]* (?:[a-z0-9]+ ){0,3}$`);

/**
 * The text as the patterns see it: lower case, umlauts as "ae"/"oe"/"ue", "ß" as "ss", other accents
 * dropped, hyphens and apostrophes joined, sentence punctuation a `|` token, single spaces, padded by one
 * space on each side.
 */
export function normalizeForFlags(text: string): string {
  const s = text.normalize("NFC").toLowerCase()
    .replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss")
    .normalize("NFD").replace(/\p{M}/gu, "")
    .replace(/[-\u2010\u2011'\u2019`\u00b4]/g, "")
    .replace(/[.,;:!?\u2026\u2013\u2014()"\u201e\u201c\u201d\u00ab\u00bb/]+/g, " | ")
    .replace(/[^a-z0-9|]+/g, " ").trim();
  return ` ${s} `;
}

/** Whether a negator (through fillers only) stands right before `at`, within the clause. */
function denied(s: string, at: number): boolean {
  const words = s.slice(Math.max(0, at - 80), at).trim().split(" ");
  for (let k = words.length - 1, n = 0; k >= 0 && n < 4; k--, n++) {
    const w = words[k];
    if (NEGATORS.has(w)) return !(w === "nicht" && (words[k - 1] === "weiss" || words[k - 1] === "weis"));
    if (!NEGATION_FILLERS.has(w)) return false;
  }
  return false;
}

/** The clause around [start, end): from the break before it to the break after it. */
function clauseOf(s: string, start: number, end: number): string {
  let from = 0, to = s.length;
  CLAUSE_RE.lastIndex = 0;
  for (let m = CLAUSE_RE.exec(s); m; m = CLAUSE_RE.exec(s)) {
    if (m.index + m[0].length <= start) from = m.index + m[0].length;
    else if (m.index >= end) {
      to = m.index;
      break;
    }
  }
  return ` ${s.slice(from, to).trim()} `;
}

/** Whether the mention at [start, end) is history: a distant past, or a recent past that has resolved. */
function isHistory(s: string, start: number, end: number): boolean {
  const clause = clauseOf(s, start, end);
  const past = DISTANT_RE.test(clause) || (RECENT_RE.test(clause) && RESOLVED_RE.test(s.slice(end)));
  return past && !ACUTE_RE.test(s);
}

function firstHit(s: string, c: Compiled, re: RegExp, negatable: boolean): number {
  re.lastIndex = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const start = m.index, end = start + m[0].length;
    if (negatable && denied(s, start)) continue;
    if (negatable && (CARE_AFTER_RE.test(s.slice(end)) || CARE_BEFORE_RE.test(s.slice(0, start)))) continue;
    if (c.vetoAfter?.test(s.slice(end))) continue;
    if (isHistory(s, start, end)) continue;
    return start;
  }
  return -1;
}

/**
 * The first red flag in a caller's transcript (the earliest in the text; at the same place, the earlier flag
 * of {@linkcode RedFlag}), or null. Pure, no LLM; a typical utterance takes a few microseconds.
 *
 * @param text One transcript of the caller, as the speech recognizer wrote it.
 * @returns The flag with its German label, or null when the text names no emergency.
 *
 * @example
 * ```ts
 * import { redFlag } from "./red_flags.ts";
 *
 * redFlag("mein mann bekommt keine luft"); // { flag: "breathing", label: "Atemnot" }
 * redFlag("Ich brauche ein Rezept für mein Asthmaspray"); // null
 * ```
 */
export function redFlag(text: string): RedFlagHit | null {
  const s = normalizeForFlags(text);
  if (s.length < 4) return null;
  let best = -1, flag: RedFlag | null = null;
  for (const c of COMPILED) {
    if (c.vetoAny?.test(s)) continue;
    for (const [re, negatable] of [[c.negatable, true], [c.fixed, false]] as const) {
      if (!re) continue;
      const at = firstHit(s, c, re, negatable);
      if (at >= 0 && (best < 0 || at < best)) [best, flag] = [at, c.flag];
    }
  }
  return flag ? { flag, label: RED_FLAG_LABELS[flag] } : null;
}
