/**
 * German end-of-turn cues on a (speculative) transcript: a turn that ends in a conjunction, a preposition,
 * an article, a possessive or a filler ("und", "weil", "mit dem", "äh") is not over, so TOM waits longer; one
 * that ends like a complete question or statement is confirmed after a short silence. No turn model's
 * weights can be had here, so these lexical cues are the prediction (LiveKit's turn detector and Pipecat's
 * smart-turn learn the same signal from data).
 *
 * @module
 */
import type { PipelineOptions } from "./defaults.ts";
import { letterWords } from "./texts.ts";

/** How a transcript ends: the caller is not done, is done, or the words do not say. */
export type TurnCue = "incomplete" | "complete" | "neutral";

/** Last words after which a German sentence cannot be over. */
const OPEN_ENDINGS: ReadonlySet<string> = new Set([
  // conjunctions and subjunctions
  "und",
  "oder",
  "aber",
  "sondern",
  "denn",
  "weil",
  "dass",
  "daß",
  "ob",
  "wenn",
  "als",
  "obwohl",
  "damit",
  "sodass",
  "bevor",
  "nachdem",
  "während",
  "falls",
  "sowie",
  "sowohl",
  "weder",
  "noch",
  "entweder",
  "bzw",
  "beziehungsweise",
  "also",
  "nämlich",
  "trotzdem",
  "deshalb",
  "deswegen",
  "außerdem",
  "dann",
  "wie",
  "wo",
  // prepositions and their contractions
  "mit",
  "zum",
  "zur",
  "zu",
  "von",
  "vom",
  "bei",
  "beim",
  "für",
  "an",
  "am",
  "auf",
  "in",
  "im",
  "ins",
  "aus",
  "nach",
  "über",
  "unter",
  "vor",
  "hinter",
  "neben",
  "zwischen",
  "um",
  "gegen",
  "ohne",
  "seit",
  "bis",
  "wegen",
  "durch",
  "ab",
  // articles, possessives, indefinites
  "der",
  "die",
  "das",
  "den",
  "dem",
  "des",
  "ein",
  "eine",
  "einen",
  "einem",
  "einer",
  "eines",
  "kein",
  "keine",
  "keinen",
  "mein",
  "meine",
  "meinen",
  "meinem",
  "meiner",
  "dein",
  "sein",
  "seine",
  "seinem",
  "ihr",
  "ihre",
  "ihren",
  "ihrem",
  "ihrer",
  "unser",
  "unsere",
  "unseren",
  "diese",
  "dieser",
  "diesen",
  "diesem",
  "jeden",
  "jede",
  // fillers and hesitation
  "äh",
  "ähm",
  "öh",
  "öhm",
  "ehm",
  "em",
  "hm",
  "hmm",
  "mh",
  "sozusagen",
  "quasi",
  "halt",
  "irgendwie",
  // verbs and words that need a continuation
  "ich",
  "wir",
  "möchte",
  "möchten",
  "würde",
  "würden",
  "wollte",
  "brauche",
  "hätte",
  "habe",
  "bin",
  "ist",
  "sehr",
  "ganz",
  "noch",
  "so",
]);

/** Last words after which a short statement is usually complete ("danke", "bitte", "fertig"). */
const CLOSED_ENDINGS: ReadonlySet<string> = new Set([
  "danke",
  "bitte",
  "tschüss",
  "wiederhören",
  "fertig",
  "alles",
  "gerne",
  "gern",
  "genau",
  "richtig",
  "stimmt",
  "nein",
  "ja",
  "okay",
  "ok",
  "jetzt",
  "heute",
  "morgen",
  "übermorgen",
  "termin",
  "rezept",
  "überweisung",
  "sprechen",
  "kommen",
  "vorbeikommen",
  "verschieben",
  "absagen",
  "haben",
  "bekommen",
  "möglich",
  "geht",
  "passt",
]);

/**
 * The cue of a transcript's ending.
 *
 * @param text what STT heard so far (raw; normalised here with {@linkcode letterWords})
 * @returns "incomplete" for an open ending (also a trailing comma, dash or ellipsis), "complete" for a
 *   question mark, a full stop or exclamation after 2+ words, or a closing word; else "neutral"
 */
export function turnCue(text: string): TurnCue {
  const raw = text.trim();
  const norm = letterWords(raw);
  if (norm === "") return "neutral";
  const words = norm.split(" ");
  const last = words[words.length - 1];
  if (/(,|…|\.\.\.|-|–)$/u.test(raw)) return "incomplete";
  if (OPEN_ENDINGS.has(last)) {
    // A punctuated sentence that ends in "noch"/"so"/"ist" ("Ist das so?") is a question all the same.
    if (/\?$/u.test(raw) && !FILLERS.has(last)) return "complete";
    return "incomplete";
  }
  if (/\?$/u.test(raw)) return "complete";
  if (/[.!]$/u.test(raw) && words.length >= 2) return "complete";
  if (CLOSED_ENDINGS.has(last)) return "complete";
  return "neutral";
}

/** Hesitation words: never the end of a question, whatever the punctuation says. */
const FILLERS: ReadonlySet<string> = new Set(["äh", "ähm", "öh", "öhm", "ehm", "em", "mh"]);

/**
 * The silence that confirms the turn, given the speculative transcript's cue.
 *
 * @returns `earlyEndSilenceMs` (complete), `lateEndSilenceMs` (incomplete) or `endOfTurnSilenceMs`
 */
export function endSilenceFor(
  text: string,
  o: Pick<PipelineOptions, "endOfTurnSilenceMs" | "earlyEndSilenceMs" | "lateEndSilenceMs">,
): number {
  const cue = turnCue(text);
  return cue === "complete"
    ? o.earlyEndSilenceMs
    : cue === "incomplete"
    ? o.lateEndSilenceMs
    : o.endOfTurnSilenceMs;
}
