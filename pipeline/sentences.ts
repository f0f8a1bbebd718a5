/**
 * A streaming German sentence splitter for the LLM's token stream: `push(token)` returns the sentences
 * that are certainly complete, `flush()` the rest at the end of the answer. It respects abbreviations
 * ("Dr. Weber", "z. B.", "usw."), ordinals and dates ("am 3. Mai", "der 2. Stock", "1. Januar 2027"),
 * times and decimals ("14.30 Uhr", "4,5"), and cuts long sentences at a comma after `commaSplitAfter`
 * characters so the first audio starts sooner. With `firstClause`, the first piece of the stream ends at
 * its first clause boundary (comma, semicolon, colon, dash) once it holds a few words, not inside a
 * number ("1,5", "8 - 12 Uhr"), not after an abbreviation ("Mo. - Fr.") and not before a lone tag word
 * ("..., oder?"): the TTS starts on a clause while the LLM writes the rest; later pieces keep whole
 * sentences so the prosody stays natural.
 *
 * Hand-written rather than @echogarden/text-segmentation@0.8.1: that library runs in Deno (0.1 ms per
 * call) and keeps "Dr." and "z. B." whole, but it splits after ordinals ("am 3." / "Mai", "Am 1." /
 * "Januar 2027"), it is async-only and whole-text, with no notion of "not certain yet" that a token
 * stream needs, so every rule would have to be re-checked here anyway.
 *
 * A boundary is decided only once the text after it is known: the first letter of the next word (a
 * lower-case word never starts a sentence), or the whole next word after a number ("3. Mai") or a
 * weekday abbreviation. The splitter therefore holds back at most one word.
 *
 * @example
 * ```ts
 * import { SentenceSplitter } from "./sentences.ts";
 *
 * const s = new SentenceSplitter();
 * const out = [...s.push("Dr. Weber kommt am 3. "), ...s.push("Mai. Bis dann!"), ...s.flush()];
 * // ["Dr. Weber kommt am 3. Mai.", "Bis dann!"]
 * ```
 *
 * @module
 */
import { ABBREVIATIONS, MAYBE_FINAL, MONTHS, ORDINAL_CUES, WEEKDAYS } from "./sentences_de.ts";

/** Options of {@linkcode SentenceSplitter}. */
export interface SentenceSplitterOptions {
  /** Cut at a comma, semicolon, colon or dash once the piece has this many characters (0: never; default 80). */
  commaSplitAfter?: number;
  /** The same for the first piece of the stream, whose latency the caller hears (default: `commaSplitAfter`). */
  firstSplitAfter?: number;
  /** Cut at a space when a piece grows past this many characters without any boundary (default 250). */
  maxChars?: number;
  /** End the stream's first piece at its first clause boundary once the head is this long (default: off). */
  firstClause?: ClauseStart | false;
}

/** The shortest head that the first clause boundary may end (shorter: "Ja, ..." stays whole). */
export interface ClauseStart {
  /** Characters before the boundary, punctuation included. */
  minChars: number;
  /** Words before the boundary. */
  minWords: number;
}

/** A head of four words and 20 characters: "Das ist leider nicht möglich," but not "Ja, gerne," or "Also gut,". */
export const CLAUSE_START: Readonly<ClauseStart> = Object.freeze({ minChars: 20, minWords: 4 });

/** Defaults of {@linkcode SentenceSplitterOptions}. */
export const SENTENCE_DEFAULTS = {
  /** About 5 s of speech at espeak-ng's 175 words/min: long enough to sound natural. */
  commaSplitAfter: 80,
  /** A runaway piece (a list without punctuation) must still reach the TTS. */
  maxChars: 250,
} as const;

const TERMINATORS = ".!?…";
const CLOSERS = "\"'»«“”‘’)]";
const OPENERS = "\"'»«„“‘([";
const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);
const isLower = (c: string | undefined) => c !== undefined && /\p{Ll}/u.test(c);
const isUpper = (c: string | undefined) => c !== undefined && /\p{Lu}/u.test(c);
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/** "cut" ends the sentence, "keep" does not, "wait" needs more text. */
type Verdict = "cut" | "keep" | "wait";

/** Incremental sentence splitter; see the module documentation. */
export class SentenceSplitter {
  #buf = "";
  #emitted = 0;
  readonly #comma: number;
  readonly #firstComma: number;
  readonly #max: number;
  readonly #clause: ClauseStart | false;

  /** @throws {RangeError} on a negative or non-integer length */
  constructor(options: SentenceSplitterOptions = {}) {
    this.#comma = options.commaSplitAfter ?? SENTENCE_DEFAULTS.commaSplitAfter;
    this.#firstComma = options.firstSplitAfter ?? this.#comma;
    this.#max = options.maxChars ?? SENTENCE_DEFAULTS.maxChars;
    this.#clause = options.firstClause ?? false;
    for (const [k, v] of [["commaSplitAfter", this.#comma], ["firstSplitAfter", this.#firstComma]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`Cannot split sentences: ${k} ${v} is invalid`);
    }
    if (!Number.isInteger(this.#max) || this.#max < 20) {
      throw new RangeError(`Cannot split sentences: maxChars ${this.#max} is below 20`);
    }
  }

  /** Add the next piece of text (a token); returns the sentences it completed, in order. */
  push(text: string): string[] {
    this.#buf += text;
    return this.#drain(false);
  }

  /**
   * End of the stream (or of the model's text before a fixed phrase): the sentences left, including an
   * unfinished last one. What follows is not the first piece any more; {@linkcode reset} starts afresh.
   */
  flush(): string[] {
    const out = this.#drain(true);
    const rest = normalize(this.#buf);
    this.#buf = "";
    if (rest !== "") {
      out.push(rest);
      this.#emitted++;
    }
    return out;
  }

  /** Forget the text held back (barge-in: the answer was abandoned). */
  reset(): void {
    this.#buf = "";
    this.#emitted = 0;
  }

  #drain(final: boolean): string[] {
    const out: string[] = [];
    for (;;) {
      const cut = this.#findCut(final);
      if (cut === undefined) break;
      const s = normalize(this.#buf.slice(0, cut));
      this.#buf = this.#buf.slice(cut);
      if (s !== "") {
        out.push(s);
        this.#emitted++;
      }
    }
    return out;
  }

  #findCut(final: boolean): number | undefined {
    const buf = this.#buf;
    const commaAfter = this.#emitted === 0 ? this.#firstComma : this.#comma;
    const start = buf.length - buf.trimStart().length;
    for (let i = start; i < buf.length; i++) {
      const c = buf[i];
      if (c === "\n" && buf.slice(0, i).trim() !== "") return i + 1;
      if (TERMINATORS.includes(c)) {
        let j = i + 1;
        while (j < buf.length && (TERMINATORS.includes(buf[j]) || CLOSERS.includes(buf[j]))) j++;
        if (j < buf.length && !isSpace(buf[j])) {
          i = j - 1;
          continue; // "14.30", "z.B.", "3.5.2027", "www.tom.de"
        }
        let k = j;
        while (k < buf.length && isSpace(buf[k])) k++;
        if (k === buf.length) return final ? j : undefined;
        const verdict = decide(buf, i, buf.slice(i, j), k, final);
        if (verdict === "wait") return undefined;
        if (verdict === "cut") return j;
        i = j - 1;
        continue;
      }
      if (this.#clause && this.#emitted === 0 && isPause(buf, i) && isSpace(buf[i + 1])) {
        const verdict = clauseEnds(buf, i, this.#clause, final);
        if (verdict === "wait") return undefined;
        if (verdict === "cut") return i + 1;
      }
      if (commaAfter > 0 && i + 1 >= commaAfter && isPause(buf, i) && isSpace(buf[i + 1])) return i + 1;
      if (i >= this.#max) {
        const space = buf.lastIndexOf(" ", i);
        return space > 0 ? space + 1 : i;
      }
    }
    return undefined;
  }
}

/** A comma, semicolon, colon, or a dash between spaces. */
function isPause(buf: string, i: number): boolean {
  const c = buf[i];
  if (c === "," || c === ";" || c === ":") return true;
  return (c === "–" || c === "—" || c === "-") && buf[i - 1] === " ";
}

/** Whether the pause at `i` ends the first clause (see the module documentation). */
function clauseEnds(buf: string, i: number, min: ClauseStart, final: boolean): Verdict {
  const head = normalize(buf.slice(0, i + 1));
  if (head.length < min.minChars || head.split(" ").length < min.minWords) return "keep";
  const before = /([\p{L}\p{N}.]+)[\p{Pd}"'»«“”‘’)\]]*\s*$/u.exec(buf.slice(0, i))?.[1] ?? "";
  if (before.endsWith(".") && isAbbreviation(before.slice(0, -1))) return "keep"; // "Mo. - Fr.", "z. B.:"
  let k = i + 1;
  while (k < buf.length && isSpace(buf[k])) k++;
  if (k === buf.length) return final ? "keep" : "wait";
  const next = nextWord(buf, k, final);
  if (isDigit(buf[i - 1] === " " ? buf[i - 2] : buf[i - 1]) && isDigit(next.word[0])) return "keep"; // "8, 9 und 10", "8 - 12"
  if (!next.complete) return "wait";
  let end = k;
  while (end < buf.length && OPENERS.includes(buf[end])) end++;
  end += next.word.length;
  if (end >= buf.length) return final ? "keep" : "wait";
  // A lone last word ("..., oder?", "..., bitte.") stays with its sentence: a one-word clip sounds cut off.
  if (buf[end] === "." && isAbbreviation(next.word)) return "cut"; // "..., z. B. per Telefon"
  return TERMINATORS.includes(buf[end]) || CLOSERS.includes(buf[end]) ? "keep" : "cut";
}

/** An abbreviation before a period (without it): a letter run like "z.B", "B", or one of the word lists. */
function isAbbreviation(token: string): boolean {
  const t = token.replace(/^.*\s/, "").toLowerCase();
  return /^(\p{L}{1,4}\.)*\p{L}$/u.test(t) || /^(\p{L}{1,4}\.)+\p{L}{1,4}$/u.test(t) ||
    ABBREVIATIONS.has(t) || MAYBE_FINAL.has(t) || WEEKDAYS.has(t);
}

function normalize(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** The next word starting at `k` (opening quotes skipped) and whether it is complete. */
function nextWord(buf: string, k: number, final: boolean): { word: string; complete: boolean } {
  let at = k;
  while (at < buf.length && OPENERS.includes(buf[at])) at++;
  const m = /^[\p{L}\p{N}]*/u.exec(buf.slice(at)) as RegExpExecArray;
  return { word: m[0], complete: final || at + m[0].length < buf.length };
}

/** Whether the terminator run `punct` at `i` (followed by the word at `k`) ends a sentence. */
function decide(buf: string, i: number, punct: string, k: number, final: boolean): Verdict {
  const next = nextWord(buf, k, final);
  const first = next.word[0] ?? buf[k];
  if (isLower(first)) return "keep"; // a German sentence does not start lower-case
  if (!punct.startsWith(".") || punct.startsWith("..")) return "cut"; // ! ? … and "..." before a capital
  const before = buf.slice(0, i);
  const token = (/[\p{L}\p{N}.]+$/u.exec(before)?.[0] ?? "").replace(/^\.+/, "");
  if (token === "") return "cut";
  const lower = token.toLowerCase();
  const rest = before.slice(0, before.length - token.length);
  if (/^\d+$/.test(token)) {
    if (isDigit(first)) return "keep"; // "3. 5. 2027"
    if (!next.complete) return "wait";
    if (MONTHS.has(next.word.toLowerCase())) return "keep"; // "am 3. Mai", "1. Januar 2027"
    if (rest.trim() === "" || /[:\n]\s*$/.test(rest)) return "keep"; // list item "1. Schritt"
    const cue = /([\p{L}]+)\W*$/u.exec(rest)?.[1]?.toLowerCase();
    if (token.length <= 3 && cue !== undefined && ORDINAL_CUES.has(cue)) return "keep"; // "der 2. Stock"
    return "cut";
  }
  if (/^\p{L}$/u.test(token)) return "keep"; // "z. B.", "M. Müller"
  if (/^(\p{L}{1,4}\.)+\p{L}{1,4}$/u.test(token)) return "keep"; // "z.B.", "d.h.", "i.d.R."
  if (ABBREVIATIONS.has(lower) || lower === "fr" || lower.endsWith("str")) return "keep"; // "Hauptstr. 12"
  if (WEEKDAYS.has(lower)) {
    if (!isUpper(first)) return "keep";
    if (!next.complete) return "wait";
    return WEEKDAYS.has(next.word.toLowerCase()) ? "keep" : "cut";
  }
  if (MAYBE_FINAL.has(lower)) return isUpper(first) ? "cut" : "keep";
  return "cut";
}

/**
 * Split a whole text into sentences (the streaming splitter fed at once).
 *
 * @param text the text
 * @param options as for {@linkcode SentenceSplitter}
 * @returns the sentences, whitespace-normalized
 */
export function splitSentences(text: string, options: SentenceSplitterOptions = {}): string[] {
  const s = new SentenceSplitter(options);
  return [...s.push(text), ...s.flush()];
}
