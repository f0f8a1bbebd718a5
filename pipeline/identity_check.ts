/**
 * The identity check of a call whose caller ID matched a person (issue 15): caller ID can be spoofed, so
 * before TOM uses the person's memory (health notes) the caller proves who they are with the check the
 * practice chose: the date of birth, spoken ("erster März neunzehnhundertfünfzig", "01.03.1950") or keyed
 * as eight digits TTMMJJJJ, or a PIN keyed and ended with the Raute-Taste or said (older callers often
 * cannot use the keypad: "eins zwei drei vier", "1 2 3 4", "zwölf vierunddreißig", see {@linkcode pinSaid}).
 * Limited attempts (a silence is one); every attempt is reported (the answerer audits it, without the
 * digits). After the last failed attempt TOM goes on politely without the person's data.
 *
 * A spoken answer to the PIN question is an attempt only when it holds a PIN's 4 to 8 digits: words
 * without digits ("Moment, wie war das?") make TOM ask again (keypad or spoken) without using up an
 * attempt, and digits said in two breaths ("eins zwei ... drei vier") are joined. So that no caller is asked
 * forever, {@linkcode MAX_UNCLEAR} such answers in a row end the check unverified, like the last failed
 * attempt (the call goes on without the person's data). The words are never kept: the pipeline shows them
 * to nobody and stores no transcript turn for them (call_pipeline.ts).
 *
 * When: right after the greeting, before the first LLM request. So the system prompt is built once, with
 * or without the memory, and stays the stable prefix of every request of the call (llama-server's prompt
 * cache); asking only when the model needs memory would change the prompt in the middle of the call and
 * depend on the model noticing it. Spoken digits reuse the number dialogue's {@linkcode spokenDigits}.
 * Pure: no I/O, no clock; the comparison is the caller's (`matches`).
 *
 * @module
 */
import { spokenDigits } from "./callback_number.ts";
import type { PhraseName } from "./texts.ts";

/** What happened in the check (the number dialogue's events). */
export type CheckEvent =
  | { type: "start" }
  | { type: "transcript"; text: string }
  | { type: "dtmf"; digit: string }
  | { type: "timeout" };

/** What TOM says now; when `done`, whether the caller is verified. */
export interface CheckStep {
  say?: PhraseName;
  done: boolean;
  verified?: boolean;
}

/** One attempt, as it is audited: never the digits. */
export interface CheckAttempt {
  attempt: number;
  ok: boolean;
  /** How the caller answered: said, keyed, or nothing within the wait. */
  via: "spoken" | "keyed" | "silence";
}

/** Answers without a PIN in a row after which the check ends unverified (it asks again before that). */
export const MAX_UNCLEAR = 3;

/** What the check needs. */
export interface CheckOptions {
  method: "birth_date" | "pin";
  maxAttempts: number;
  /** Whether the entry (`YYYY-MM-DD` for a date of birth, the digits for a PIN) is the person's. */
  matches(entry: string): boolean;
  /** Every attempt (audit). */
  attempted?(a: CheckAttempt): void;
}

const MONTHS: Record<string, number> = {
  januar: 1,
  jänner: 1,
  februar: 2,
  "märz": 3,
  maerz: 3,
  april: 4,
  mai: 5,
  juni: 6,
  juli: 7,
  august: 8,
  september: 9,
  oktober: 10,
  november: 11,
  dezember: 12,
};
const ORDINAL: Record<string, number> = { erst: 1, dritt: 3, siebt: 7, acht: 8 };
/** Endings of German ordinals ("zwanzigsten", "dritten", "erster"), longest first; "" for "elf". */
const ORDINAL_ENDINGS = ["sten", "ster", "stes", "ste", "ten", "ter", "tes", "te", "en", "er", "es", "e", ""];

/** A day or month word: "1", "1.", "erster", "dritten", "zwanzigsten", "einunddreißigste". */
function ordinalNumber(word: string): number | undefined {
  const w = word.replace(/\.$/, "");
  if (/^\d{1,2}$/.test(w)) return Number(w);
  for (const suffix of ORDINAL_ENDINGS) {
    if (!w.endsWith(suffix)) continue;
    const stem = w.slice(0, w.length - suffix.length);
    if (ORDINAL[stem] !== undefined) return ORDINAL[stem];
    const d = stem === "" ? null : spokenDigits(stem);
    if (d !== null && /^\d{1,2}$/.test(d)) return Number(d);
  }
  return undefined;
}

/** A year word: "1950", "neunzehnhundertfünfzig", "zweitausendundfünf". */
function yearNumber(word: string): number | undefined {
  if (/^\d{4}$/.test(word)) return Number(word);
  const m = /^(neunzehnhundert|zweitausend)(?:und)?(.*)$/u.exec(word);
  if (!m) return undefined;
  const rest = m[2] === "" ? "0" : spokenDigits(m[2]);
  if (rest === null || !/^\d{1,2}$/.test(rest)) return undefined;
  return (m[1] === "zweitausend" ? 2000 : 1900) + Number(rest);
}

function iso(day: number, month: number, year: number): string | null {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (year < 1900 || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${year}-${p(month)}-${p(day)}`;
}

/**
 * A date of birth as a caller says or types it.
 *
 * @param text what STT heard, or keyed digits
 * @returns `YYYY-MM-DD`, or null when it is no date
 * @example
 * ```ts
 * birthDateSaid("Am ersten März neunzehnhundertfünfzig"); // "1950-03-01"
 * birthDateSaid("01031950"); // "1950-03-01"
 * ```
 */
export function birthDateSaid(text: string): string | null {
  const t = text.toLowerCase().normalize("NFC");
  const numeric = /(\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{4})/.exec(t);
  if (numeric) return iso(Number(numeric[1]), Number(numeric[2]), Number(numeric[3]));
  const words = t.split(/[^\p{L}\p{N}.]+/u).filter((w) => w !== "" && w !== ".");
  for (let i = 0; i + 2 < words.length; i++) {
    const day = ordinalNumber(words[i]);
    const month = MONTHS[words[i + 1].replace(/\.$/, "")] ?? ordinalNumber(words[i + 1]);
    const year = yearNumber(words[i + 2].replace(/\.$/, ""));
    if (day !== undefined && month !== undefined && year !== undefined) return iso(day, month, year);
  }
  const digits = spokenDigits(t);
  return digits !== null && /^\d{8}$/.test(digits)
    ? iso(Number(digits.slice(0, 2)), Number(digits.slice(2, 4)), Number(digits.slice(4)))
    : null;
}

/**
 * The digits of a PIN as a caller says it (as whisper writes it: words or numerals, pauses as commas).
 * "ein" counts as 1 only before another number ("ein, zwei, drei, vier"), never as an article.
 *
 * @param text what STT heard
 * @returns the digits, or null when the text holds none
 * @example
 * ```ts
 * pinSaid("Ein, zwei, drei, vier."); // "1234"
 * pinSaid("zwölf vierunddreißig"); // "1234"
 * pinSaid("Einen Moment bitte"); // null
 * ```
 */
export function pinSaid(text: string): string | null {
  const tokens = text.toLowerCase().normalize("NFC").split(/[^\p{L}\p{N}]+/u).filter((t) => t !== "");
  const joined = tokens.map((t, i) => (t === "ein" && isNumberWord(t, tokens[i + 1]) ? "eins" : t));
  const digits = spokenDigits(joined.join(" "));
  return digits === null ? null : digits.replace(/^\+/, "");
}

/** Whether `word` is a number (a word or numerals); "ein" only when a number follows it. */
function isNumberWord(word: string, next: string | undefined): boolean {
  const w = word.toLowerCase();
  if (w !== "ein") return spokenDigits(w) !== null;
  return next !== undefined && spokenDigits(next.toLowerCase()) !== null;
}

/**
 * The caller's words with every number in them replaced by "…" (digits and German number words; "ein" only
 * before another number, as in {@linkcode pinSaid}): what may be kept of words said while the PIN question
 * was open, e.g. an emergency said in the same breath as the PIN.
 *
 * @example
 * ```ts
 * maskSpokenDigits("Eins zwei drei vier, mein Mann hat Brustschmerzen"); // "… … … …, mein Mann hat Brustschmerzen"
 * ```
 */
export function maskSpokenDigits(text: string): string {
  const words = [...text.matchAll(/[\p{L}\p{N}]+/gu)];
  let out = "";
  let from = 0;
  words.forEach((m, i) => {
    const w = m[0];
    out += text.slice(from, m.index) + (isNumberWord(w, words[i + 1]?.[0]) ? "…" : w);
    from = (m.index ?? 0) + w.length;
  });
  return out + text.slice(from);
}

/**
 * A fresh identity check for one call.
 *
 * @throws {RangeError} when `maxAttempts` is not 1 to 5
 * @example
 * ```ts
 * const c = identityCheck({ method: "birth_date", maxAttempts: 3, matches: (d) => d === "1950-03-01" });
 * c.step({ type: "start" }); // { say: "askBirthDate", done: false }
 * c.step({ type: "dtmf", digit: "01031950" }); // { say: "identityConfirmed", done: true, verified: true }
 * ```
 */
export function identityCheck(opts: CheckOptions): { step(e: CheckEvent): CheckStep } {
  if (!Number.isInteger(opts.maxAttempts) || opts.maxAttempts < 1 || opts.maxAttempts > 5) {
    throw new RangeError(
      `Cannot build the identity check: maxAttempts must be 1 to 5, got ${opts.maxAttempts}`,
    );
  }
  const keyLength = 8; // a date TTMMJJJJ; a PIN of at most 8 digits
  let attempts = 0;
  let keys = "";
  /** PIN digits said so far in this answer (fewer than a PIN has: the caller paused). */
  let said = "";
  let unclear = 0;
  let end: CheckStep | null = null;

  const attempt = (entry: string | null, via: CheckAttempt["via"]): CheckStep => {
    attempts++;
    unclear = 0;
    said = "";
    let ok = false;
    try {
      ok = entry !== null && opts.matches(entry);
    } catch {
      ok = false;
    }
    opts.attempted?.({ attempt: attempts, ok, via });
    if (ok) return (end = { say: "identityConfirmed", done: true, verified: true });
    if (attempts >= opts.maxAttempts) return (end = { say: "identityFailed", done: true, verified: false });
    return { say: "askIdentityAgain", done: false };
  };
  /** An answer without a PIN: asked again, no attempt used (the last of {@linkcode MAX_UNCLEAR} ends it). */
  const noPin = (): CheckStep => {
    said = "";
    if (++unclear >= MAX_UNCLEAR) return (end = { say: "identityFailed", done: true, verified: false });
    return { say: "askPinAgain", done: false };
  };
  /** A spoken answer to the PIN question: 4 to 8 digits are an attempt; fewer wait for the rest. */
  const spokenPin = (text: string): CheckStep => {
    const heard = pinSaid(text);
    if (heard === null) return said === "" ? noPin() : { done: false }; // "äh" between the digits
    // An answer that holds a whole PIN stands on its own: a number said before ("zwei Sekunden bitte")
    // is not glued to it. Only fragments shorter than a PIN are joined.
    const digits = heard.length >= 4 ? heard : said + heard;
    if (digits.length > keyLength) return noPin(); // a phone number, a date: no PIN
    if (digits.length < 4) {
      said = digits;
      return { done: false };
    }
    return attempt(digits, "spoken");
  };
  const keyed = (): CheckStep => {
    const entry = keys;
    keys = "";
    return attempt(opts.method === "birth_date" ? birthDateSaid(entry) : entry, "keyed");
  };

  return {
    step(e) {
      if (end) return end;
      switch (e.type) {
        case "start":
          return { say: opts.method === "birth_date" ? "askBirthDate" : "askPin", done: false };
        case "dtmf": {
          for (const k of e.digit.trim()) {
            if (/^\d$/.test(k)) keys += k;
            if (k === "*") keys = "";
            const complete = k === "#"
              ? keys !== ""
              : opts.method === "birth_date" && keys.length >= keyLength;
            if (complete || keys.length > keyLength) return keyed();
          }
          return { done: false };
        }
        case "timeout":
          if (keys !== "") return keyed();
          return said !== "" ? noPin() : attempt(null, "silence");
        case "transcript":
          // Keying wins: STT hears the tones as noise.
          if (keys !== "") return { done: false };
          if (opts.method === "pin") return spokenPin(e.text);
          return attempt(birthDateSaid(e.text), "spoken");
      }
    },
  };
}
