/**
 * Everything TOM says on its own (not written by the LLM), in German, in one place: the greeting, the
 * re-prompt after silence, the goodbyes, the apology after an engine failure, the callback offer and the
 * callback number questions.
 * Short sentences, no abbreviations: callers are often old or ill, and on a phone line.
 *
 * @module
 */

/**
 * The default greeting, a template: `{assistant}` and `{practice}` are filled in at call time from the
 * practice (disclosure.ts). It discloses the AI and that requests are noted for the team (EU AI Act Art. 50).
 */
export const GREETING_TEMPLATE = "Guten Tag, hier ist {assistant}, die KI-Assistenz der {practice}. " +
  "Ihre Anliegen notiere ich für das Praxisteam. Wie kann ich Ihnen helfen?";

/** The phrases TOM speaks by itself; each is synthesized once per answerer and cached. */
export const PHRASES = {
  /** {@linkcode GREETING_TEMPLATE} with the neutral names ("TOM", "Praxis"): without a practice. */
  greeting: "Guten Tag, hier ist TOM, die KI-Assistenz der Praxis. " +
    "Ihre Anliegen notiere ich für das Praxisteam. Wie kann ich Ihnen helfen?",
  reprompt: "Sind Sie noch da? Ich höre Ihnen gerne zu.",
  goodbyeSilence: "Ich höre Sie leider nicht mehr. Rufen Sie gerne wieder an. Auf Wiederhören.",
  goodbyeMaxDuration:
    "Unsere Gesprächszeit ist leider um. Bitte rufen Sie gerne noch einmal an. Auf Wiederhören.",
  apology: "Entschuldigung, einen kleinen Moment bitte.",
  /** Said before a transfer to the practice team (cold transfer: the caller is handed over after it). */
  transferring: "Einen Moment bitte, ich verbinde Sie mit dem Praxisteam.",
  /** No transfer target now (after hours, "no transfer", or a transport that cannot transfer). */
  noTransfer:
    "Ich kann Sie gerade leider nicht mit dem Praxisteam verbinden. Ich notiere gerne einen Rückruf.",
  /** The transfer failed (busy, no answer, unreachable): the call comes back to TOM. */
  transferFailed: "Leider ist im Moment niemand erreichbar. Ich notiere gerne einen Rückruf.",
  /**
   * A red flag fired (pipeline/red_flags.ts): said at once, whatever TOM was saying, never written by the
   * LLM. 112 for emergencies, 116 117 for the after-hours doctor; the way to a person stays open.
   */
  emergencyAdvice:
    "Das klingt nach einem Notfall. Bitte rufen Sie sofort den Notruf an, die Eins Eins Zwei. " +
    "Wenn es nicht lebensbedrohlich ist und die Praxis geschlossen hat, hilft der ärztliche " +
    "Bereitschaftsdienst unter Eins Eins Sechs Eins Eins Sieben. " +
    "Wenn Sie mit der Praxis sprechen möchten, drücken Sie die Null.",
  /** Engines failed and nothing can be noted: no promise, only the way back. */
  technicalGoodbye: "Es tut mir leid, ich habe gerade technische Schwierigkeiten. " +
    "Bitte rufen Sie später noch einmal an. Auf Wiederhören.",
  /** Engines failed after a callback with a number was noted in this call: the promise is kept. */
  callbackOffer:
    "Es tut mir leid, ich habe gerade technische Schwierigkeiten. Die Praxis ruft Sie so bald wie möglich zurück. Auf Wiederhören.",
  /** The caller said goodbye and no rating is asked. */
  goodbyeCaller: "Vielen Dank für Ihren Anruf. Auf Wiederhören!",
  /** The rating question at the end of a call (learning loop). */
  ratingQuestion: "Bevor Sie auflegen: Wie zufrieden waren Sie mit diesem Gespräch, " +
    "von eins, gar nicht zufrieden, bis fünf, sehr zufrieden? Sie können die Zahl auch auf der Tastatur drücken.",
  /** Said once after an unclear rating. */
  ratingReask: "Entschuldigung, das habe ich nicht verstanden. Bitte sagen Sie eine Zahl von eins " +
    "bis fünf, oder drücken Sie eine Taste von eins bis fünf.",
  /** Said after a rating. */
  ratingThanks: "Vielen Dank für Ihre Bewertung. Auf Wiederhören!",
  /** Said when no rating came. */
  ratingGoodbye: "Vielen Dank für Ihren Anruf. Auf Wiederhören!",
  /** The callback number question when the line gives no caller ID (callback_number.ts). */
  askNumber: "Unter welcher Nummer können wir Sie zurückrufen? " +
    "Sie können die Nummer auch über die Tastatur eingeben und mit der Raute-Taste abschließen.",
  /** Said after digits that are no complete phone number, or an answer without a number. */
  askNumberAgain:
    "Das war leider keine vollständige Telefonnummer. Bitte nennen Sie die Nummer noch einmal, " +
    "Ziffer für Ziffer, oder geben Sie sie über die Tastatur ein und drücken Sie die Raute-Taste.",
  /** Said after a callback request with its number was noted, before hanging up. */
  callbackNoted: "Ich habe Ihre Nummer notiert. Das Praxisteam ruft Sie zurück. Auf Wiederhören.",
  /** Said when no callback number could be taken, before hanging up. */
  noNumberGoodbye: "Leider konnte ich keine Rückrufnummer aufnehmen. " +
    "Bitte rufen Sie später noch einmal an. Auf Wiederhören.",
  /** The identity check's question for the date of birth (identity_check.ts). */
  askBirthDate: "Zum Schutz Ihrer Daten nennen Sie mir bitte zuerst Ihr Geburtsdatum, " +
    "oder tippen Sie es ein: Tag, Monat und Jahr, acht Ziffern.",
  /** The identity check's question for the PIN. */
  askPin:
    "Zum Schutz Ihrer Daten tippen Sie bitte zuerst Ihre PIN ein und drücken Sie dann die Raute-Taste. " +
    "Wenn das nicht geht, sagen Sie mir die Ziffern einzeln.",
  /** Said after an answer to the PIN question without a PIN in it (no attempt is used up). */
  askPinAgain: "Ich habe keine PIN verstanden. Bitte tippen Sie Ihre PIN ein und drücken Sie die " +
    "Raute-Taste, oder sagen Sie die Ziffern einzeln.",
  /** Said after an answer that does not match, while attempts are left. */
  askIdentityAgain: "Das passt leider nicht. Bitte versuchen Sie es noch einmal.",
  /** Said when the caller passed the check. */
  identityConfirmed: "Danke, das passt. Wie kann ich Ihnen helfen?",
  /** Said after the last failed attempt: the call goes on without the person's data. */
  identityFailed: "Das konnte ich leider nicht bestätigen. Ich helfe Ihnen trotzdem gern, " +
    "nur ohne Ihre gespeicherten Angaben. Wie kann ich Ihnen helfen?",
} as const;

/** What the live view and the test call show instead of the words of an answer to the PIN question. */
export const PIN_ANSWER_SHOWN = "(Antwort auf die PIN-Frage, nicht angezeigt)";

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
 * A transcript as the phrase lists match it: lower case, NFC, letters only (digits and punctuation become
 * spaces), single spaces, trimmed.
 */
export function letterWords(text: string): string {
  return text.toLowerCase().normalize("NFC").replace(/[^\p{L}\s]/gu, " ").replace(/\s+/g, " ").trim();
}

/**
 * True when a transcript is only a backchannel ("ja", "mhm", "genau", "okay", "hm", or a short
 * combination of them) or empty, i.e. the caller is listening, not taking the turn.
 */
export function isBackchannel(text: string): boolean {
  const norm = letterWords(text);
  if (norm === "") return true;
  if (BACKCHANNELS.has(norm)) return true;
  const words = norm.split(" ");
  return words.length <= 3 && words.every((w) => BACKCHANNELS.has(w));
}

/**
 * Phrases with which a caller ends the conversation. Matched on the normalised transcript; a farewell
 * must be most of what was said (a long sentence that merely contains "tschüss" is still a request).
 */
const FAREWELLS: readonly RegExp[] = [
  /\b(tschüss|tschüs|tschau|ciao|servus|ade)\b/u,
  /\bauf wieder(hören|sehen|schaun|schauen)\b/u,
  /\b(das war'?s|das wars|das war es|das wär'?s|das wärs|das wäre es|das wäre alles|das ist alles)\b/u,
  /\b(mehr (wollte|brauche) ich nicht|nichts weiter|sonst nichts)\b/u,
  /\bich (lege|leg) (jetzt )?auf\b/u,
  /\b(schönen|einen schönen) (tag|abend|nachmittag)( noch)?\b/u,
];

/**
 * True when the caller's turn is a goodbye ("Tschüss", "Danke, das war's", "Auf Wiederhören"): TOM then
 * closes the call (with the rating question when the learning loop asks one) instead of answering.
 */
export function isFarewell(text: string): boolean {
  const norm = text.toLowerCase().replace(/[’`]/g, "'").replace(/[^\p{L}\s']/gu, " ").replace(/\s+/g, " ")
    .trim();
  if (norm === "") return false;
  if (norm.split(" ").length > 10) return false;
  return FAREWELLS.some((re) => re.test(norm));
}

/**
 * Phrases with which a caller asks for a person instead of TOM ("Mitarbeiter", "Rezeption", "einen echten
 * Menschen", "mit dem Arzt sprechen", "verbinden Sie mich"). Matched on the normalised transcript.
 * A team member named in a report ("Ihre Mitarbeiterin hat mich angerufen") is no request: the bare staff
 * words count only without a report word ({@linkcode REPORT}); "mit der Rezeption sprechen" always counts.
 */
const WANTS_PERSON: readonly RegExp[] = [
  /\bmit (einem |einer |der |dem |ihrer |ihrem |jemandem (aus|von) (der |dem |ihrer |ihrem )?)?(mitarbeiter(in|innen)?|rezeption|anmeldung|sprechstundenhilfe|arzthelferin|praxis|praxisteam|team)( \p{L}+){0,3} (sprechen|reden)\b/u,
  /\b(echte[nm]?|richtige[nm]?|lebendige[nm]?) (mensch(en)?|person)\b/u,
  /(?<!\bnur )\b(einen|ein) mensch(en)?\b/u,
  /\bmit (einem menschen|einer person|jemandem|dem arzt|der ärztin|dem doktor|der doktorin|frau doktor \p{L}+|herrn doktor \p{L}+|einem arzt|einer ärztin)( \p{L}+){0,3} (sprechen|reden)\b/u,
  /\b(verbinden sie mich|stellen sie mich( \p{L}+)? durch|durchstellen|weiterverbinden|leiten sie mich( \p{L}+)? weiter)\b/u,
  /\bmich (bitte )?(mit (\p{L}+ ){1,3})?(verbinden|weiterleiten)\b/u,
  /\b(keine?n? )?(mit (einem|einer) )?(computer|roboter|maschine|automaten) (sprechen|reden)\b/u,
  /\b(will|möchte) (\p{L}+ )?keine?n? (computer|roboter|maschine|automaten)\b/u,
];

/** Staff words that count on their own, when the transcript has no {@linkcode REPORT} word. */
const STAFF = /\b(mitarbeiter(in|innen)?|rezeption|sprechstundenhilfe|arzthelferin)\b/u;

/** Words of a report about the team ("hat mich angerufen", "war sehr nett"), not a request for it. */
const REPORT =
  /\b(hat|hatte|hatten|war|waren|ist gewesen|gesagt|gesprochen|angerufen|gegeben|geschickt|erzählt|gemeint|gefragt)\b/u;

/** True when the caller asks for a person (then TOM transfers, or notes a callback when it cannot). */
export function wantsPerson(text: string): boolean {
  const norm = letterWords(text);
  if (norm === "") return false;
  if (WANTS_PERSON.some((re) => re.test(norm))) return true;
  return STAFF.test(norm) && !REPORT.test(norm);
}

/** Words of a transcript, normalised. */
function words(text: string): string[] {
  return text.toLowerCase().replace(/[^\p{L}\p{N}\s]/gu, " ").split(/\s+/).filter((w) => w.length > 0);
}

/**
 * Whether the caller said (nearly) the same again: a sign TOM did not understand. Two turns count as a
 * repeat when they share at least 70 % of their words (Jaccard) and have 2+ words each.
 */
export function isRepeat(before: string, now: string): boolean {
  const a = new Set(words(before));
  const b = new Set(words(now));
  if (a.size < 2 || b.size < 2) return false;
  let inter = 0;
  for (const w of a) if (b.has(w)) inter++;
  return inter / (a.size + b.size - inter) >= 0.7;
}
