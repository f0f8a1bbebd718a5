/**
 * Callback numbers: what a caller says or keys in (or the model writes down) becomes E.164, with German
 * numbers as the normal case: `+49 171 2345678`, `0049 …`, `+49 (0) …` and national `0171 …` become
 * `+491712345678`; other countries are kept when written with `+` or `00`. Refused, with a German reason
 * the model (or the caller) can act on: letters, a number without area code, emergency numbers, and
 * lengths no phone number has. Spoken digit words ("null eins sieben eins") count as digits.
 * {@linkcode spokenNumber} writes an E.164 number back in digit groups ("0171 234 56 78").
 *
 * @module
 */

/** The result of {@linkcode normalizeGermanNumber}. */
export type NumberResult = { ok: true; e164: string } | { ok: false; reason: string };

const WORDS: Record<string, string> = {
  null: "0",
  eins: "1",
  ein: "1",
  zwei: "2",
  zwo: "2",
  drei: "3",
  vier: "4",
  "fünf": "5",
  sechs: "6",
  sieben: "7",
  acht: "8",
  neun: "9",
  plus: "+",
};

/** German national significant numbers have 6 to 13 digits (ITU-T E.164 assignment for +49). */
const DE_MIN = 6;
const DE_MAX = 13;

const refuse = (reason: string): NumberResult => ({ ok: false, reason });

/**
 * Normalise a phone number to E.164 (German numbers; others only with a country code).
 *
 * @param input What was said, typed or written down, e.g. `"0171 / 234 56-78"`.
 */
export function normalizeGermanNumber(input: string): NumberResult {
  const words = input.toLowerCase().normalize("NFC").replace(/\(0\)/g, " ")
    .split(/[\s,;]+/).filter((w) => w !== "")
    .map((w) => WORDS[w] ?? w).join("");
  const compact = words.replace(/[-./()\u2010-\u2015]/g, "");
  if (compact === "") return refuse("Es wurde keine Telefonnummer genannt.");
  if (!/^\+?\d+$/.test(compact)) {
    return refuse("Das ist keine Telefonnummer: sie darf nur Ziffern enthalten (und ein + am Anfang).");
  }
  let intl: string;
  if (compact.startsWith("+")) intl = compact.slice(1);
  else if (compact.startsWith("00")) intl = compact.slice(2);
  else if (compact.startsWith("0")) intl = `49${compact.slice(1)}`;
  else if (compact === "110" || compact === "112") {
    return refuse("Notrufnummern sind keine Rückrufnummer.");
  } else {
    return refuse("Die Nummer braucht eine Vorwahl (mit 0 am Anfang, z. B. 030 oder 0171).");
  }
  if (intl.startsWith("490")) intl = `49${intl.slice(3)}`; // "+49 0171 …": the national 0 doubled
  if (intl.startsWith("0")) return refuse("Nach der Landesvorwahl darf keine weitere 0 folgen.");
  if (intl.startsWith("49")) {
    const nsn = intl.slice(2);
    if (nsn.startsWith("0")) return refuse("Nach der Landesvorwahl darf keine weitere 0 folgen.");
    if (nsn.startsWith("11")) return refuse("Notruf- und Servicenummern (11x) sind keine Rückrufnummer.");
    if (nsn.length < DE_MIN) return refuse("Die Nummer ist zu kurz für eine deutsche Telefonnummer.");
    if (nsn.length > DE_MAX) return refuse("Die Nummer ist zu lang für eine deutsche Telefonnummer.");
    return { ok: true, e164: `+${intl}` };
  }
  if (intl.length < 8 || intl.length > 15) {
    return refuse("Die Nummer hat nicht die Länge einer Telefonnummer.");
  }
  return { ok: true, e164: `+${intl}` };
}

/** Digits in groups: three then pairs when odd, pairs when even ("2345678" -> "234 56 78"). */
function groups(digits: string): string {
  const out: string[] = [];
  let rest = digits;
  if (rest.length % 2 === 1) {
    out.push(rest.slice(0, 3));
    rest = rest.slice(3);
  }
  for (let i = 0; i < rest.length; i += 2) out.push(rest.slice(i, i + 2));
  return out.join(" ");
}

/**
 * Length of the prefix of a German national number, by the numbering plan's shape: mobile `015x`-`017x`
 * four digits, the big cities (030, 040, 069, 089) three, `0xx1` (0211, 0711, ...) four, others five.
 */
function prefixLength(national: string): number {
  if (/^01[5-7]/.test(national)) return 4;
  if (/^0(30|40|69|89)/.test(national)) return 3;
  if (/^0[2-9]\d1/.test(national)) return 4;
  return 5;
}

/**
 * An E.164 number as it is read back: German numbers nationally, the prefix then digit groups
 * ("0171 234 56 78", "030 123 456 78"), others with `+` and country code ("+43 123 45 67 8").
 */
export function spokenNumber(e164: string): string {
  const digits = e164.replace(/^\+/, "");
  if (digits.startsWith("49")) {
    const national = `0${digits.slice(2)}`;
    const n = Math.min(prefixLength(national), national.length);
    return `${national.slice(0, n)} ${groups(national.slice(n))}`.trim();
  }
  return `+${digits.slice(0, 2)} ${groups(digits.slice(2))}`.trim();
}
