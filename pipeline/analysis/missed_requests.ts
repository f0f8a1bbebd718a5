/**
 * After a call: one constrained-JSON pass (the analysis path, engines/json_llm.ts) over the call's words
 * finds the requests the caller made that the call did not note. The answer's items are `note_request`
 * arguments (the JSON schema is derived from tools.ts' zod schema) and go through
 * {@linkcode validateToolCall}; what fails is dropped and counted, except a callback without a valid
 * number, which becomes a callback to the caller ID marked as not confirmed, or a message when there is
 * no caller ID. Items like a noted request (same kind, similar summary) and repeats of a kind are skipped.
 * The words stay in memory for the one request; this module stores nothing, logs nothing and never
 * throws for the model's failures.
 *
 * @module
 */
import { z } from "zod";
import { type NoteRequest, noteRequestArgs, validateToolCall } from "../tools.ts";
import type { JsonChat } from "../engines/json_llm.ts";
import type { ChatMessage } from "../engines/types.ts";
import { type TranscriptLine, transcriptText } from "./analysis.ts";
import { dropInvalidUtf8 } from "./schema.ts";

/** Most requests one pass may add (the schema asks for at most this many; more are cut). */
export const MAX_MISSED_REQUESTS = 5;
/** Prefix of the summary of a callback whose number came from the caller ID, not from the caller. */
export const UNCONFIRMED_NUMBER_PREFIX = "Rückrufnummer laut Anruferkennung, nicht bestätigt: ";
/** Prefix of the summary of a callback wish without a usable number and without a caller ID. */
export const NO_NUMBER_PREFIX = "Rückruf gewünscht, aber keine gültige Nummer: ";

const { $schema: _, ...ITEM_SCHEMA } = z.toJSONSchema(noteRequestArgs, { io: "input" }) as Record<
  string,
  unknown
>;

/** JSON schema of the answer: `{ requests: [note_request arguments] }`, at most {@linkcode MAX_MISSED_REQUESTS}. */
export const MISSED_REQUESTS_JSON_SCHEMA: Record<string, unknown> = {
  type: "object",
  additionalProperties: false,
  required: ["requests"],
  properties: {
    requests: { type: "array", items: ITEM_SCHEMA, maxItems: MAX_MISSED_REQUESTS },
  },
};

const SYSTEM =
  "Du liest ein beendetes Telefongespräch zwischen einem Anrufer und Tom, dem Telefonassistenten " +
  "einer Arztpraxis. Liste jedes Anliegen des Anrufers an das Praxisteam auf, das NOCH NICHT notiert ist. " +
  "Arten: callback (Rückruf; callback_number nur, wenn der Anrufer eine Nummer genannt hat), appointment " +
  "(Termin), prescription (Rezept; medication wie genannt), message (Nachricht), question (Frage), " +
  "emergency (Notfall), other (Sonstiges). Erfinde nichts: nur was der Anrufer selbst gesagt hat, summary " +
  "kurz und sachlich auf Deutsch. Höchstens " + MAX_MISSED_REQUESTS + " Anliegen; wenn alles notiert " +
  "ist, eine leere Liste. Antworte nur mit JSON nach dem vorgegebenen Schema.";

const MAX_NOTED_LISTED = 20;
const MAX_NOTED_SUMMARY = 120;
const MAX_SUMMARY = noteRequestArgs.shape.summary.maxLength ?? 300;

/** The answer of {@linkcode findMissedRequests}. */
export interface MissedRequests {
  /** Validated notes to create (source "after_call"), each kind at most once, none like a noted one. */
  notes: NoteRequest[];
  /** Why items were dropped (validation reasons in German; no caller content). */
  dropped: string[];
  /** Items skipped as repeats of a noted request or of a kind already found. */
  skipped: number;
  /** Why the pass failed (then `notes` is empty); absent when it ran. */
  error?: string;
}

/** Options of {@linkcode findMissedRequests}. */
export interface MissedRequestsOptions {
  signal?: AbortSignal;
  /** The caller ID in E.164, or null/undefined when unknown (anonymous or not a phone call). */
  callerId?: string | null;
}

/** The messages of the request: the noted requests compactly, then the clipped words. */
export function missedRequestMessages(
  words: readonly TranscriptLine[],
  noted: readonly NoteRequest[],
): ChatMessage[] {
  const list = noted.slice(0, MAX_NOTED_LISTED)
    .map((n) => `- ${n.kind}: ${n.summary.slice(0, MAX_NOTED_SUMMARY)}`).join("\n");
  return [{ role: "system", content: SYSTEM }, {
    role: "user",
    content: `Bereits notiert:\n${list || "(nichts)"}\n\nGespräch:\n${transcriptText(words)}`,
  }];
}

/**
 * Find the requests of a call that were not noted.
 *
 * @param chat The constrained-JSON LLM ({@linkcode JsonChat}).
 * @param words The call's words (clipped to the last `MAX_TRANSCRIPT_CHARS`; not kept).
 * @param noted The requests the call noted.
 * @param opts Abort signal and caller ID.
 * @returns The notes to add, the reasons for dropped items, and the error when the pass failed.
 */
export async function findMissedRequests(
  chat: JsonChat,
  words: readonly TranscriptLine[],
  noted: readonly NoteRequest[],
  opts: MissedRequestsOptions = {},
): Promise<MissedRequests> {
  if (!words.some((w) => w.speaker === "caller" && w.text.trim() !== "")) {
    return { notes: [], dropped: [], skipped: 0 };
  }
  let text: string;
  try {
    text = await chat(missedRequestMessages(words, noted), MISSED_REQUESTS_JSON_SCHEMA, opts.signal);
  } catch (err) {
    return { notes: [], dropped: [], skipped: 0, error: (err as Error).message || String(err) };
  }
  let json: unknown;
  try {
    json = dropInvalidUtf8(JSON.parse(text));
  } catch {
    return {
      notes: [],
      dropped: [],
      skipped: 0,
      error: "Cannot find missed requests: the answer is not JSON",
    };
  }
  const items = (json as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(items)) {
    return {
      notes: [],
      dropped: [],
      skipped: 0,
      error: "Cannot find missed requests: the answer has no requests list",
    };
  }
  const callerId = opts.callerId && /^\+[1-9]\d{6,14}$/.test(opts.callerId) ? opts.callerId : null;
  const notes: NoteRequest[] = [];
  const dropped: string[] = [];
  let skipped = 0;
  for (const item of items.slice(0, MAX_MISSED_REQUESTS)) {
    const r = toNote(item, callerId);
    if (!r.ok) dropped.push(r.reason);
    else if (noted.some((n) => similarRequest(n, r.note)) || notes.some((n) => n.kind === r.note.kind)) {
      skipped++;
    } else notes.push(r.note);
  }
  const over = items.length - MAX_MISSED_REQUESTS;
  if (over > 0) dropped.push(`${over} Anliegen über der Höchstzahl ${MAX_MISSED_REQUESTS}`);
  return { notes, dropped, skipped };
}

type Checked = { ok: true; note: NoteRequest } | { ok: false; reason: string };

/** One item through {@linkcode validateToolCall}. */
function check(item: unknown): Checked {
  const v = validateToolCall("note_request", item);
  if (!v.ok) return v;
  return v.value.name === "note_request"
    ? { ok: true, note: v.value.args }
    : { ok: false, reason: "kein Anliegen" };
}

/** One item as a note: validated, or a callback without a valid number converted. */
function toNote(item: unknown, callerId: string | null): Checked {
  const v = check(item);
  if (v.ok) return v;
  const it = item as Record<string, unknown> | null;
  if (it === null || typeof it !== "object" || it.kind !== "callback") return v;
  const { callback_number: _, ...rest } = it;
  const prefix = callerId ? UNCONFIRMED_NUMBER_PREFIX : NO_NUMBER_PREFIX;
  const summary = typeof rest.summary === "string" ? rest.summary.trim() : "";
  const w = check({ ...rest, kind: "message", summary: (prefix + summary).slice(0, MAX_SUMMARY) });
  if (!w.ok) return w.reason === v.reason ? v : { ok: false, reason: `${v.reason} ${w.reason}` };
  const note = w.note;
  return { ok: true, note: callerId ? { ...note, kind: "callback", callbackNumber: callerId } : note };
}

/** Words that say only what kind a request is, not which one. */
const GENERIC = new Set(
  ("rezept rezeptwunsch termin terminwunsch ruckruf ruckrufwunsch nachricht frage bitte mochte mochten " +
    "wunscht anrufer anruferin patient patientin praxis soll fur den die das der und ein eine einen neue " +
    "neues neuen").split(" "),
);

/** Folded (lower case, no accents, ß as ss). */
const fold = (s: string) =>
  s.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "").replaceAll("ß", "ss").trim();

/** The telling words of a summary (folded, three letters or more, not generic). */
function telling(s: string): Set<string> {
  const words = fold(s.replace(UNCONFIRMED_NUMBER_PREFIX, "").replace(NO_NUMBER_PREFIX, ""))
    .split(/[^\p{L}\d]+/u);
  return new Set(words.filter((w) => w.length >= 3 && !GENERIC.has(w)));
}

/** Whether a found note repeats a noted one: same kind and the same medication or a similar summary. */
export function similarRequest(noted: NoteRequest, found: NoteRequest): boolean {
  if (noted.kind !== found.kind) return false;
  if (noted.medication && found.medication) {
    return fold(noted.medication).split(" ")[0] === fold(found.medication).split(" ")[0];
  }
  const a = telling(noted.summary);
  const b = telling(found.summary);
  if (a.size === 0 || b.size === 0) return true; // nothing tells them apart
  let common = 0;
  for (const w of a) if (b.has(w)) common++;
  return common / Math.max(a.size, b.size) >= 0.5;
}
