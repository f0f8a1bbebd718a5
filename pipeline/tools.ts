/**
 * The tools TOM offers the model during a call, with zod schemas (the JSON schema the request carries is
 * derived from them) and {@linkcode validateToolCall}, which checks a call's arguments and answers either
 * the validated value or a German reason the model is told. Validated fields are the only model output
 * the caller ever hears (read_back.ts): names and medication are short and plain, a callback number is
 * normalised to E.164 (phone_de.ts), and a callback without a number is refused.
 * - `note_request`: a request for the practice team (stored by the call: {@linkcode toNewRequest}).
 * - `end_call`: the model wants to end the call.
 * - `transfer_to_staff`: the caller wants a person (declared here, carried out by a later issue).
 *
 * @module
 */
import { z } from "zod";
import { type NewRequest, REQUEST_KINDS } from "../store/mod.ts";
import type { ToolSpec } from "./engines/types.ts";
import { normalizeGermanNumber } from "./phone_de.ts";

/**
 * Latin letters (with accents: "Çelik", "Nguyễn", "Łukasz"), spaces and the punctuation of names and titles.
 * Latin only: these fields are read back by a German voice, which cannot speak other scripts (a model's
 * gibberish in Arabic or Cyrillic letters would reach the caller as noise).
 */
const NAME_RE = /^[\p{Script=Latin}\p{M}][\p{Script=Latin}\p{M} .'\u2019-]*$/u;
/** A medication: Latin letters, digits, spaces, and the signs of doses ("Ramipril 5 mg", "L-Thyroxin 1/2"). */
const MEDICATION_RE = /^[\p{Script=Latin}\p{M}\d][\p{Script=Latin}\p{M}\d .,/%+-]*$/u;

const name = (max: number, what: string) =>
  z.string().trim().max(max).refine((s) => s === "" || NAME_RE.test(s), {
    message:
      `${what} darf nur lateinische Buchstaben, Leerzeichen, Punkt, Bindestrich und Apostroph enthalten.`,
  });

/** Arguments of `note_request` (as the model writes them). */
export const noteRequestArgs = z.strictObject({
  kind: z.enum(REQUEST_KINDS).describe(
    "Art des Anliegens: callback (Rückruf), appointment (Termin), prescription (Rezept), message " +
      "(Nachricht), question (Frage), emergency (Notfall), other (Sonstiges)",
  ),
  caller_name: name(80, "Der Name").optional().describe("Name des Anrufers, wie genannt"),
  callback_number: z.string().max(40).optional().describe("Rückrufnummer, nur Ziffern wie genannt"),
  for_whom: name(80, "Für wen").optional().describe("Für wen das Anliegen ist, falls nicht der Anrufer"),
  preferred_times: z.string().trim().max(120).optional().describe("Wann der Anrufer erreichbar ist"),
  medication: z.string().trim().max(60).refine((s) => s === "" || MEDICATION_RE.test(s), {
    message: "Das Medikament darf nur lateinische Buchstaben, Ziffern und Dosisangaben enthalten.",
  }).optional().describe("Medikament bei Rezeptwunsch"),
  summary: z.string().trim().min(1).max(300).describe("Kurze Zusammenfassung des Anliegens"),
  urgency: z.enum(["normal", "urgent"]).optional().describe("urgent nur bei dringenden Anliegen"),
});

/** Arguments of `end_call` and `transfer_to_staff`. */
export const reasonArgs = z.strictObject({
  reason: z.string().trim().min(1).max(200).describe("Kurzer Grund"),
});

/** A validated note: every field checked, the number in E.164 (or null). The request minus what the call adds. */
export type NoteRequest = Omit<NewRequest, "callId" | "source">;

/** A validated tool call. */
export type ValidToolCall =
  | { name: "note_request"; args: NoteRequest }
  | { name: "end_call"; args: { reason: string } }
  | { name: "transfer_to_staff"; args: { reason: string } };

/**
 * The answer of {@linkcode validateToolCall}. A callback without a number is refused, but everything else
 * about it was valid: `needsNumber` carries that note (kind callback, number null), so the call can ask
 * the caller for the number itself and note it then.
 */
export type ToolValidation =
  | { ok: true; value: ValidToolCall }
  | { ok: false; reason: string; needsNumber?: NoteRequest };

const DESCRIPTIONS = {
  note_request: "Ein Anliegen des Anrufers für das Praxisteam notieren (Rückruf, Termin, Rezept, Nachricht).",
  end_call: "Das Gespräch beenden, wenn alles erledigt ist und der Anrufer sich verabschiedet hat.",
  transfer_to_staff: "Den Anrufer mit einem Menschen im Praxisteam verbinden, wenn er das wünscht.",
} as const;

/** Names of the tools. */
export type ToolName = keyof typeof DESCRIPTIONS;

const SCHEMAS = { note_request: noteRequestArgs, end_call: reasonArgs, transfer_to_staff: reasonArgs };

/** The tools as a request carries them (JSON schema derived from the zod schemas, input side). */
export const CALL_TOOLS: ToolSpec[] = (Object.keys(DESCRIPTIONS) as ToolName[]).map((n) => {
  const { $schema: _, ...parameters } = z.toJSONSchema(SCHEMAS[n], { io: "input" }) as Record<
    string,
    unknown
  >;
  return { name: n, description: DESCRIPTIONS[n], parameters };
});

/** A German sentence for the first problems zod found (field names as the model wrote them). */
function germanIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((i) => {
    const field = i.path.length > 0 ? `Feld „${i.path.join(".")}“: ` : "";
    switch (i.code) {
      case "invalid_type":
        return `${field}${
          /received undefined/.test(i.message) ? "fehlt" : `muss vom Typ ${i.expected} sein`
        }`;
      case "too_big":
        return `${field}zu lang (höchstens ${i.maximum} Zeichen)`;
      case "too_small":
        return `${field}darf nicht leer sein`;
      case "invalid_value":
        return `${field}erlaubt sind nur ${i.values.map((v) => String(v)).join(", ")}`;
      case "unrecognized_keys":
        return `unbekannte Felder: ${i.keys.join(", ")}`;
      default:
        return `${field}${i.message}`;
    }
  });
  return `Ungültige Angaben: ${parts.join("; ")}.`;
}

/**
 * Check one tool call.
 *
 * @param name The tool the model called.
 * @param args Its parsed arguments (undefined when they were not a JSON object).
 * @returns The validated call, or a German reason to tell the model.
 */
export function validateToolCall(name: string, args: unknown): ToolValidation {
  if (!(name in SCHEMAS)) {
    return {
      ok: false,
      reason: `Das Werkzeug „${name}“ gibt es nicht. Erlaubt: ${Object.keys(SCHEMAS).join(", ")}.`,
    };
  }
  if (args === undefined || args === null || typeof args !== "object" || Array.isArray(args)) {
    return { ok: false, reason: "Die Argumente sind kein gültiges JSON-Objekt." };
  }
  if (name !== "note_request") {
    const r = reasonArgs.safeParse(args);
    if (!r.success) return { ok: false, reason: germanIssues(r.error) };
    return { ok: true, value: { name: name as "end_call" | "transfer_to_staff", args: r.data } };
  }
  const r = noteRequestArgs.safeParse(args);
  if (!r.success) return { ok: false, reason: germanIssues(r.error) };
  const a = r.data;
  let callbackNumber: string | null = null;
  if (a.callback_number !== undefined && a.callback_number.trim() !== "") {
    const n = normalizeGermanNumber(a.callback_number);
    if (!n.ok) return { ok: false, reason: `Feld „callback_number“: ${n.reason}` };
    callbackNumber = n.e164;
  }
  const note: NoteRequest = {
    kind: a.kind,
    urgency: a.kind === "emergency" ? "urgent" : a.urgency ?? "normal",
    callerName: a.caller_name ?? "",
    callbackNumber,
    forWhom: a.for_whom ?? "",
    preferredTimes: a.preferred_times ?? "",
    medication: a.medication ?? "",
    summary: a.summary,
  };
  if (a.kind === "callback" && callbackNumber === null) {
    return {
      ok: false,
      reason: "Für einen Rückruf fehlt die Telefonnummer. Fragen Sie den Anrufer nach seiner Nummer.",
      needsNumber: note,
    };
  }
  return { ok: true, value: { name: "note_request", args: note } };
}

/** The store's new request for a validated note of call `callId`. */
export function toNewRequest(callId: string | null, note: NoteRequest): NewRequest {
  return { callId, ...note, source: "call" };
}
