/**
 * End-of-call rating: the question TOM asks and a parser for the German answer (spoken, as STT
 * transcribed it) or a DTMF key. Scale 1 (gar nicht zufrieden) to 5 (sehr zufrieden).
 *
 * Numbers win over words ("drei, geht so" is 3). "vier Komma fünf", "4,5", "viereinhalb" and
 * "zwischen drei und vier" give a fractional `value`; `rating` is it rounded half up (4.5 -> 5), since
 * the store keeps whole ratings. Numbers outside 1..5 and refusals give `null`.
 *
 * @module
 */
import { PHRASES as SPOKEN } from "../texts.ts";

/** A parsed rating. */
export interface ParsedRating {
  /** Whole rating 1..5 as stored. */
  rating: number;
  /** What the caller said, possibly fractional (4.5). */
  value: number;
  /** How it was understood. */
  via: "number" | "phrase" | "dtmf";
}

/** The question at the end of the call (spoken by TTS, so numbers as words; one text, in pipeline/texts.ts). */
export const FEEDBACK_QUESTION: string = SPOKEN.ratingQuestion;
/** Said after a rating. */
export const FEEDBACK_THANKS: string = SPOKEN.ratingThanks;

/** A regex where `\\b` is a Unicode word boundary (so "überhaupt" and "völlig" match). */
function u(re: RegExp): RegExp {
  const b = "(?:(?<![\\p{L}\\p{N}])(?=[\\p{L}\\p{N}])|(?<=[\\p{L}\\p{N}])(?![\\p{L}\\p{N}]))";
  return new RegExp(re.source.replaceAll("\\b", b), "u");
}

const NUMBER_WORDS: Record<string, number> = {
  null: 0,
  eins: 1,
  ein: 1,
  eine: 1,
  einen: 1,
  einer: 1,
  zwei: 2,
  zwo: 2,
  drei: 3,
  vier: 4,
  fünf: 5,
  fuenf: 5,
  funf: 5,
  sechs: 6,
  sieben: 7,
  acht: 8,
  neun: 9,
  zehn: 10,
};

/** Phrases, most specific first; matched against the normalized text. */
const PHRASES: ReadonlyArray<[RegExp, number]> = [
  [u(/\b(gar|überhaupt|absolut|ganz und gar) nicht (zufrieden|gut)\b/), 1],
  [u(/\b(sehr|total|völlig|extrem) (schlecht|unzufrieden|enttäuscht)\b/), 1],
  [u(/\b(katastrophal|katastrophe|furchtbar|schrecklich|miserabel|grauenhaft|unmöglich|unterirdisch)\b/), 1],
  [u(/\b(sehr|außerordentlich|äußerst|total|rundum|voll|vollauf|super|absolut) zufrieden\b/), 5],
  [u(/\bsehr (gut|schön|hilfreich|freundlich)\b/), 5],
  [
    u(/\b(ausgezeichnet|hervorragend|exzellent|perfekt|spitze|spitzenklasse|super|toll|wunderbar|großartig|klasse|prima|top|bestens|einwandfrei|fantastisch|phantastisch)\b/),
    5,
  ],
  [u(/\bnicht (so|besonders|sehr|ganz|wirklich)? ?(gut|zufrieden)\b/), 2],
  [u(/\bnicht schlecht\b/), 4],
  [u(/\b(unzufrieden|schlecht|mangelhaft|enttäuschend|enttäuscht|dürftig)\b/), 2],
  [
    u(/\b(geht so|naja|na ja|mittel|mittelmäßig|mäßig|durchschnittlich|ok|okay|in ordnung|so lala|so la la|teils teils|befriedigend|passabel|ganz okay)\b/),
    3,
  ],
  [u(/\b(eher|ganz|recht|ziemlich) (gut|zufrieden)\b/), 4],
  [u(/\b(gut|zufrieden|hilfreich|freundlich|schön)\b/), 4],
];

/** Answers that decline to rate. */
const DECLINE = u(
  /\b(keine ahnung|weiß (ich )?nicht|weiss nicht|kein kommentar|nein danke|möchte ich nicht|will ich nicht|keine bewertung)\b/,
);

function normalize(text: string): string {
  return text.toLowerCase().normalize("NFC").replace(/[!?;:"()„“]/g, " ")
    .replace(/\s+/g, " ").trim();
}

function numberValue(tok: string): number | undefined {
  if (/^\d+$/.test(tok)) return Number(tok);
  return NUMBER_WORDS[tok];
}

/** Finds the first number said: digits, "4,5", "vier komma fünf", "viereinhalb", "zwischen drei und vier". */
function findNumber(text: string): number | undefined {
  const decimal = text.match(/\b(\d)[,.](\d)\b/);
  if (decimal) return Number(`${decimal[1]}.${decimal[2]}`);
  const half = text.match(/\b(ein|zwei|drei|vier|\d)\s?einhalb\b/);
  if (half) return (numberValue(half[1] === "ein" ? "eins" : half[1]) ?? NaN) + 0.5;
  const words = text.replace(/[,.]/g, " ").split(" ").filter((w) => w !== "");
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    // "ein"/"eine" are articles unless a unit follows ("ein Stern", "eine Eins" is caught as "eins").
    if (
      (w === "ein" || w === "eine" || w === "einen" || w === "einer") &&
      !/^(stern|sterne|punkt|punkte|sternchen)$/.test(words[i + 1] ?? "")
    ) continue;
    const v = numberValue(w);
    if (v === undefined) continue;
    if (words[i + 1] === "komma" && numberValue(words[i + 2] ?? "") !== undefined) {
      const frac = numberValue(words[i + 2] ?? "") ?? 0;
      return v + frac / 10;
    }
    if (
      words[i - 1] === "zwischen" && words[i + 1] === "und" && numberValue(words[i + 2] ?? "") !== undefined
    ) {
      return (v + (numberValue(words[i + 2] ?? "") ?? v)) / 2;
    }
    return v;
  }
  return undefined;
}

function toRating(value: number, via: ParsedRating["via"]): ParsedRating | null {
  if (!Number.isFinite(value) || value < 1 || value > 5) return null;
  return { rating: Math.min(5, Math.floor(value + 0.5)), value, via };
}

/**
 * Parse a spoken German rating.
 *
 * @param text the transcribed answer
 * @returns the rating, or null when none was given (declined, unclear, out of range)
 * @example
 * ```ts
 * parseRating("vier Komma fünf")?.rating; // 5
 * parseRating("gar nicht zufrieden")?.rating; // 1
 * ```
 */
export function parseRating(text: string): ParsedRating | null {
  const t = normalize(text);
  if (t === "" || DECLINE.test(t)) return null;
  const n = findNumber(t);
  if (n !== undefined) return toRating(n, "number");
  for (const [re, v] of PHRASES) if (re.test(t)) return toRating(v, "phrase");
  return null;
}

/** Parse a DTMF key ("1".."5"); anything else (0, 6-9, *, #) is null. */
export function parseDtmfRating(digits: string): ParsedRating | null {
  const d = digits.trim();
  return /^[1-5]$/.test(d) ? toRating(Number(d), "dtmf") : null;
}
