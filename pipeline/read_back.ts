/**
 * The fixed German phrase TOM says after noting a request, built only from validated fields
 * (pipeline/tools.ts), so nothing the caller hears comes unchecked from the model:
 * "Ich habe notiert: Rückruf unter 0171 234 56 78 für Frau Müller, wegen Rezept Ramipril. Das
 * Praxisteam meldet sich." The summary is stored for the team but never read back.
 *
 * @module
 */
import type { NoteRequest } from "./tools.ts";
import { spokenNumber } from "./phone_de.ts";

const KIND_LABEL: Record<NoteRequest["kind"], string> = {
  callback: "Rückruf",
  appointment: "Terminwunsch",
  prescription: "Rezeptwunsch",
  message: "Nachricht an das Praxisteam",
  question: "Frage an das Praxisteam",
  emergency: "Notfall",
  other: "Anliegen",
};

/**
 * The read-back phrase for a validated request.
 *
 * @param r A request as {@linkcode validateToolCall} returns it.
 */
export function readBack(r: NoteRequest): string {
  let s = `Ich habe notiert: ${KIND_LABEL[r.kind]}`;
  if (r.callbackNumber) s += ` unter ${spokenNumber(r.callbackNumber)}`;
  const who = r.forWhom || r.callerName;
  if (who) s += ` für ${who}`;
  if (r.medication) s += r.kind === "prescription" ? `, ${r.medication}` : `, wegen Rezept ${r.medication}`;
  if (r.preferredTimes && r.callbackNumber) s += `, erreichbar ${r.preferredTimes}`;
  s += ".";
  if (r.kind === "emergency") {
    return `${s} Das Praxisteam wird sofort informiert. Bei Lebensgefahr rufen Sie bitte die 112.`;
  }
  return `${s} ${
    r.urgency === "urgent" ? "Das Praxisteam meldet sich so bald wie möglich." : "Das Praxisteam meldet sich."
  }`;
}

/** Said when a request could not be stored (disk full, database down): no promise that cannot be kept. */
export const NOTE_FAILED =
  "Entschuldigung, ich konnte Ihr Anliegen gerade nicht speichern. Bitte rufen Sie die Praxis später noch einmal an.";

/** Said when the model failed to note a request after being told why twice: TOM asks the caller itself. */
export const ASK_AGAIN =
  "Damit ich es richtig notiere: Bitte sagen Sie mir Ihr Anliegen noch einmal in einem kurzen Satz.";

/** Said when the caller gave no usable number in the middle of a call: no callback is promised. */
export const NUMBER_GIVEN_UP = "Ich habe leider keine Nummer verstanden. Wie kann ich Ihnen sonst helfen?";
