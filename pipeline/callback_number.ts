/**
 * The callback number dialogue: TOM offers the caller ID when the line gives one ("Sollen wir Sie unter der
 * Nummer 0171 234 56 78 zurückrufen?"), or asks for a number, which the caller says or keys in and ends with
 * the Raute-Taste. The number is normalised to E.164 (phone_de.ts) and handed back; the call reads it back
 * with the fixed read-back phrase (read_back.ts), so it is not confirmed a second time here. A failed
 * answer (silence, no number, digits that are no phone number) is a try; after `maxTries` the dialogue
 * ends without a number and the caller of this module says the closing words. Pure: no I/O, no clock.
 *
 * Spoken digits ({@linkcode spokenDigits}): digit words ("null eins sieben eins", "zwo"), numerals with
 * spaces, slashes, dashes or dots ("0171/234 56-78"), numbers up to 999 as words ("dreiundzwanzig",
 * "hundertfünf", as callers say digit pairs), "plus" or a leading "+" before the first digit, "doppel" /
 * "doppelt" / "doppel-null" / "doppelnull" (the next number twice), "dreifach", and repeats as
 * "zweimal die drei" or "zwei mal die drei" (2 to 4 times). Other words are skipped. Not supported:
 * "tausend", "Komma", spelled letters; a lone "ein"/"eine" is an article, not a digit.
 *
 * Choices beyond the brief: a timeout while keys are pending ends the entry as "#" would (callers forget
 * the Raute-Taste); transcripts while keys are pending are ignored (keying wins, STT hears the tones as
 * noise); digits said after a failed spoken try that have no area code are also tried joined to the
 * failed ones (a number split over two turns); a caller ID that is no valid number counts as none.
 *
 * @module
 */
import { normalizeGermanNumber, spokenNumber } from "./phone_de.ts";
import { letterWords, PHRASES } from "./texts.ts";

/** What happened in the dialogue. */
export type NumberEvent =
  | { type: "start" }
  | { type: "transcript"; text: string }
  | { type: "dtmf"; digit: string }
  /** The caller said nothing within the wait. */
  | { type: "timeout" };

/** What TOM says now and whether the dialogue is over. */
export interface NumberStep {
  say?: string;
  done: boolean;
  /** E.164 when done with a number; null when done without */
  number?: string | null;
  /** how the number was obtained */
  via?: "caller_id" | "spoken" | "keyed";
}

/** One call's callback number dialogue. */
export interface NumberDialogue {
  step(e: NumberEvent): NumberStep;
}

/** At most this many keys in one entry; more make the entry invalid. */
const MAX_KEYS = 20;

const UNITS: Record<string, number> = {
  null: 0,
  eins: 1,
  zwei: 2,
  zwo: 2,
  drei: 3,
  vier: 4,
  "fünf": 5,
  fuenf: 5,
  sechs: 6,
  sieben: 7,
  acht: 8,
  neun: 9,
};
const BELOW_20: Record<string, number> = {
  zehn: 10,
  elf: 11,
  "zwölf": 12,
  dreizehn: 13,
  vierzehn: 14,
  "fünfzehn": 15,
  sechzehn: 16,
  siebzehn: 17,
  achtzehn: 18,
  neunzehn: 19,
};
const TENS: Record<string, number> = {
  zwanzig: 20,
  "dreißig": 30,
  dreissig: 30,
  vierzig: 40,
  "fünfzig": 50,
  sechzig: 60,
  siebzig: 70,
  achtzig: 80,
  neunzig: 90,
};
/** A unit as the first part of a compound ("einund-", "zweihundert"). */
const STEM: Record<string, number> = { ...UNITS, ein: 1 };
delete STEM.null;
delete STEM.eins;
const STEMS = Object.keys(STEM).join("|");
const COMPOUND = new RegExp(`^(${STEMS})und(${Object.keys(TENS).join("|")})$`, "u");
const HUNDRED = new RegExp(`^(${STEMS})?hundert(?:und)?(.*)$`, "u");

function below100(w: string): number | undefined {
  const simple = UNITS[w] ?? BELOW_20[w] ?? TENS[w];
  if (simple !== undefined) return simple;
  const m = w.match(COMPOUND);
  return m ? STEM[m[1]] + TENS[m[2]] : undefined;
}

/** The digits of one token: a numeral or a number word up to 999; undefined for other words. */
function tokenDigits(t: string): string | undefined {
  if (/^\d+$/.test(t)) return t;
  const v = below100(t);
  if (v !== undefined) return String(v);
  const m = t.match(HUNDRED);
  if (!m) return undefined;
  const rest = m[2] === "" ? 0 : below100(m[2]);
  return rest === undefined ? undefined : String((m[1] ? STEM[m[1]] : 1) * 100 + rest);
}

const REPEAT_WORD: Record<string, number> = { doppel: 2, doppelt: 2, doppelte: 2, dreifach: 3 };
const TIMES: Record<string, number> = { zwei: 2, zwo: 2, drei: 3, vier: 4, "2": 2, "3": 3, "4": 4 };

/**
 * The digits in a German transcript, with a leading `+` when the caller said "plus" first.
 *
 * @param text What STT heard, e.g. `"null eins sieben eins, zwo drei vier, doppel-fünf"`.
 * @returns The digits (`"0171234455"`, `"+49171…"`), or null when the text holds none.
 * @example
 * ```ts
 * spokenDigits("plus neunundvierzig eins sieben eins"); // "+49171"
 * ```
 */
export function spokenDigits(text: string): string | null {
  const tokens = text.toLowerCase().normalize("NFC").split(/[^\p{L}\p{N}+]+/u).filter((t) => t !== "");
  let out = "";
  let plus = false;
  let repeat = 1;
  for (let i = 0; i < tokens.length; i++) {
    let t = tokens[i];
    if (t.startsWith("+")) {
      plus ||= out === "";
      t = t.replace(/^\++/, "");
    }
    if (t === "plus") plus ||= out === "";
    const prefix = t.match(/^(doppelte|doppelt|doppel|dreifach|zweimal|zwomal|dreimal|viermal)(.*)$/u);
    if (prefix && (prefix[2] === "" || tokenDigits(prefix[2]) !== undefined)) {
      repeat = REPEAT_WORD[prefix[1]] ?? TIMES[prefix[1].replace(/mal$/, "")] ?? 1;
      t = prefix[2];
    }
    const digits = tokenDigits(t);
    if (digits === undefined) continue;
    if (tokens[i + 1] === "mal" && TIMES[t] !== undefined) {
      repeat = TIMES[t];
      i++;
      continue;
    }
    out += digits.repeat(repeat);
    repeat = 1;
  }
  if (out === "") return null;
  return plus ? `+${out}` : out;
}

/** A pattern of whole words in a normalised text (words separated by single spaces). */
const words = (src: string): RegExp => new RegExp(`(?:^| )(?:${src})(?= |$)`, "u");

const YES_WORDS = "ja|jawohl|jaja|jap|jep|jo|jup|genau|richtig|stimmt|korrekt|gerne?|okay|ok|passt|exakt|" +
  "einverstanden|sicher|natürlich|selbstverständlich|klar|bestens|gut|in ordnung|das ist sie";
const YES = words(YES_WORDS);
const NO: readonly RegExp[] = [
  words("nein|nee|neee|nö|noe|nä|falsch|lieber|anders|andere|anderen|anderer|keinesfalls|auf keinen fall"),
  /^ne(?= |$)/u,
  words("nicht (richtig|korrekt|genau|gut|einverstanden|die|diese|meine|mehr)|(stimmt|passt|geht) nicht"),
  words("bitte nicht"),
];

/**
 * Yes or no in German, as a caller answers "Sollen wir Sie unter dieser Nummer zurückrufen?". A no wins
 * over a yes ("Ja, aber lieber eine andere Nummer" is no).
 *
 * @param text What STT heard.
 * @returns "yes", "no", or null when the text is neither.
 * @example
 * ```ts
 * yesNo("Ja, gerne."); // "yes"
 * yesNo("Nee, eine andere Nummer"); // "no"
 * ```
 */
export function yesNo(text: string): "yes" | "no" | null {
  const t = letterWords(text);
  if (NO.some((re) => re.test(t))) return "no";
  return YES.test(t) ? "yes" : null;
}

/**
 * A fresh callback number dialogue for one call.
 *
 * @param opts `callerId`: the line's caller ID in E.164, or null; `maxTries`: failed answers before it ends
 *   without a number (default 2).
 * @throws {RangeError} When `maxTries` is not a whole number of at least 1.
 * @example
 * ```ts
 * const d = numberDialogue({ callerId: "+491712345678" });
 * d.step({ type: "start" }).say; // "Sollen wir Sie unter der Nummer 0171 234 56 78 zurückrufen? …"
 * d.step({ type: "transcript", text: "Ja, genau." }); // { done: true, number: "+491712345678", via: "caller_id" }
 * ```
 */
export function numberDialogue(opts: { callerId: string | null; maxTries?: number }): NumberDialogue {
  const maxTries = opts.maxTries ?? 2;
  if (!Number.isInteger(maxTries) || maxTries < 1) {
    throw new RangeError(`Cannot build the number dialogue: maxTries must be 1 or more, got ${maxTries}`);
  }
  const checked = opts.callerId === null ? null : normalizeGermanNumber(opts.callerId);
  const callerId = checked?.ok ? checked.e164 : null;
  const confirmText = callerId === null ? "" : `Sollen wir Sie unter der Nummer ${spokenNumber(callerId)} ` +
    "zurückrufen? Sagen Sie bitte ja, oder nennen Sie mir eine andere Nummer.";
  let phase: "idle" | "confirm" | "ask" | "done" = "idle";
  let tries = 0;
  let keys = "";
  let overflow = false;
  /** Digits of the last failed spoken try, joined to a continuation without area code. */
  let failedSpoken = "";
  let end: NumberStep = { done: true, number: null };

  const finish = (number: string | null, via?: NumberStep["via"]): NumberStep => {
    phase = "done";
    end = number === null || via === undefined ? { done: true, number: null } : { done: true, number, via };
    return end;
  };
  const fail = (say: string): NumberStep => {
    tries++;
    return tries >= maxTries ? finish(null) : { say, done: false };
  };
  const question = (): string => (phase === "confirm" ? confirmText : PHRASES.askNumber);
  const spoken = (digits: string): NumberStep => {
    const alone = normalizeGermanNumber(digits);
    const joined = failedSpoken !== "" && !/^[+0]/.test(digits)
      ? normalizeGermanNumber(failedSpoken + digits)
      : alone;
    const r = alone.ok ? alone : joined;
    if (r.ok) return finish(r.e164, "spoken");
    failedSpoken = digits;
    phase = "ask";
    return fail(PHRASES.askNumberAgain);
  };
  const keyed = (): NumberStep => {
    const entry = keys;
    const tooMany = overflow;
    keys = "";
    overflow = false;
    failedSpoken = "";
    const r = normalizeGermanNumber(entry);
    if (!tooMany && r.ok) return finish(r.e164, "keyed");
    phase = "ask";
    return fail(PHRASES.askNumberAgain);
  };
  const key = (k: string): NumberStep => {
    if (/^\d$/.test(k)) {
      if (keys.length >= MAX_KEYS) overflow = true;
      else keys += k;
      return { done: false };
    }
    if (k === "#") return keys === "" && !overflow ? { done: false } : keyed();
    if (k === "*") {
      keys = "";
      overflow = false;
      phase = "ask";
      return { say: PHRASES.askNumber, done: false };
    }
    return { done: false };
  };

  return {
    step(e) {
      if (phase === "done") return end;
      if (e.type === "start") {
        if (phase === "idle") phase = callerId === null ? "ask" : "confirm";
        return { say: question(), done: false };
      }
      if (phase === "idle") return { done: false };
      if (e.type === "dtmf") {
        let last: NumberStep = { done: false };
        for (const k of e.digit.trim()) {
          last = key(k);
          if (last.done || last.say !== undefined) break;
        }
        return last;
      }
      if (keys !== "" || overflow) return e.type === "timeout" ? keyed() : { done: false };
      if (e.type === "timeout") return fail(question());
      const digits = spokenDigits(e.text);
      if (digits !== null) return spoken(digits);
      if (phase === "confirm") {
        const answer = yesNo(e.text);
        if (answer === "yes" && callerId !== null) return finish(callerId, "caller_id");
        if (answer === "no") {
          phase = "ask";
          return { say: PHRASES.askNumber, done: false };
        }
        return fail(confirmText);
      }
      return fail(PHRASES.askNumberAgain);
    },
  };
}
