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
