/**
 * Everything TOM says on its own (not written by the LLM), in German, in one place: the greeting, the
 * re-prompt after silence, the goodbyes, the apology after an engine failure and the callback offer.
 * Short sentences, no abbreviations: callers are often old or ill, and on a phone line.
 *
 * @module
 */

/** The phrases TOM speaks by itself; each is synthesized once per answerer and cached. */
export const PHRASES = {
  greeting: "Guten Tag, hier ist Tom, der Telefonassistent der Praxis. Wie kann ich Ihnen helfen?",
  reprompt: "Sind Sie noch da? Ich höre Ihnen gerne zu.",
  goodbyeSilence: "Ich höre Sie leider nicht mehr. Rufen Sie gerne wieder an. Auf Wiederhören.",
  goodbyeMaxDuration:
    "Unsere Gesprächszeit ist leider um. Bitte rufen Sie gerne noch einmal an. Auf Wiederhören.",
  apology: "Entschuldigung, einen kleinen Moment bitte.",
  callbackOffer:
    "Es tut mir leid, ich habe gerade technische Schwierigkeiten. Die Praxis ruft Sie so bald wie möglich zurück. Auf Wiederhören.",
} as const;

/** Names of {@linkcode PHRASES}. */
export type PhraseName = keyof typeof PHRASES;

/** Words a caller says while listening that must not interrupt TOM (lower case, without punctuation). */
export const BACKCHANNELS: ReadonlySet<string> = new Set([
  "ja",
  "jaja",
  "ja ja",
  "mhm",
  "mhmh",
  "hm",
  "hmm",
  "genau",
  "okay",
  "ok",
  "aha",
  "ach so",
  "achso",
  "richtig",
  "stimmt",
  "gut",
  "ja genau",
  "ja okay",
  "ah",
  "äh",
]);

/**
 * True when a transcript is only a backchannel ("ja", "mhm", "genau", "okay", "hm", or a short
 * combination of them) or empty, i.e. the caller is listening, not taking the turn.
 */
export function isBackchannel(text: string): boolean {
  const norm = text.toLowerCase().replace(/[^\p{L}\s]/gu, " ").replace(/\s+/g, " ").trim();
  if (norm === "") return true;
  if (BACKCHANNELS.has(norm)) return true;
  const words = norm.split(" ");
  return words.length <= 3 && words.every((w) => BACKCHANNELS.has(w));
}
