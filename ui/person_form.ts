// The person form and API body: one zod schema, German messages per field.
import { z } from "zod";
import { T } from "./texts_de.ts";

const E164 = /^\+[1-9][0-9]{6,14}$/;

/** Normalise typed phone numbers: spaces, dashes, slashes and brackets go; "00" becomes "+". */
export function normalisePhone(raw: string): string {
  const s = raw.replace(/[\s\-\/().]/g, "");
  return s.startsWith("00") ? "+" + s.slice(2) : s;
}

/** A person as created or replaced through the form or the API. */
export const PersonInput = z.object({
  kind: z.enum(["senior", "patient"]),
  displayName: z.string().trim().min(1).max(200),
  phoneE164: z.string().transform(normalisePhone).pipe(
    z.string().regex(E164, "expected E.164, e.g. +4930123456"),
  ),
  language: z.string().trim().min(2).max(8).default("de"),
  consentRecording: z.boolean().default(false),
  consentTranscript: z.boolean().default(false),
  retentionDays: z.number().int().min(1).max(365),
  notes: z.string().max(4000).nullable().optional(),
});

/** A partial update through the API. */
export const PersonPatchInput = PersonInput.omit({ kind: true }).partial();

/** The validated input. */
export type PersonInputValue = z.infer<typeof PersonInput>;

const MESSAGES: Record<string, string> = {
  kind: T.people.errKind,
  displayName: T.people.errName,
  phoneE164: T.people.errPhone,
  retentionDays: T.people.errRetention,
  notes: T.people.errNotes,
};

/** The raw form values, for re-displaying a form with errors. */
export interface PersonFormValues {
  kind: string;
  displayName: string;
  phoneE164: string;
  consentRecording: boolean;
  consentTranscript: boolean;
  retentionDays: string;
  notes: string;
}

/** Read the form fields. */
export function personFormValues(
  form: URLSearchParams,
  defaults: { kind: string; retentionDays: number },
): PersonFormValues {
  return {
    kind: form.get("kind") ?? defaults.kind,
    displayName: form.get("displayName") ?? "",
    phoneE164: form.get("phoneE164") ?? "",
    consentRecording: form.get("consentRecording") === "on",
    consentTranscript: form.get("consentTranscript") === "on",
    retentionDays: form.get("retentionDays") ?? String(defaults.retentionDays),
    notes: form.get("notes") ?? "",
  };
}

/** Validate form values; German messages per field on failure. */
export function parsePersonForm(v: PersonFormValues):
  | { ok: true; value: PersonInputValue }
  | { ok: false; errors: Record<string, string> } {
  const r = PersonInput.safeParse({
    kind: v.kind,
    displayName: v.displayName,
    phoneE164: v.phoneE164,
    consentRecording: v.consentRecording,
    consentTranscript: v.consentTranscript,
    retentionDays: /^\d+$/.test(v.retentionDays.trim()) ? Number(v.retentionDays) : NaN,
    notes: v.notes.trim() === "" ? null : v.notes,
  });
  if (r.success) return { ok: true, value: r.data };
  const errors: Record<string, string> = {};
  for (const i of r.error.issues) {
    const k = String(i.path[0]);
    errors[k] ??= MESSAGES[k] ?? T.api.invalid;
  }
  return { ok: false, errors };
}
