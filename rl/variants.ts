/**
 * Conversation policy variants: a validated file of variants over five slots, and what each slot does.
 * A variant maps to (1) the system prompt (tone, length, inquiry mode), (2) the greeting TOM speaks
 * first (a template with `{assistant}` and `{practice}` that must disclose the AI, see
 * {@linkcode GreetingTemplateSchema}), and (3) pipeline parameters (barge-in sensitivity changes the
 * VAD and turn thresholds).
 *
 * @module
 */
import { z } from "zod";
import { disclosesAi, type PipelineOptions } from "../pipeline/mod.ts";
import type { Config } from "../infra/mod.ts";
import shipped from "./variants.json" with { type: "json" };
import type { Store } from "../store/mod.ts";
import { listVariants, setVariantEnabled, upsertVariant } from "../store/mod.ts";
import { adminDisabledVariants } from "../store/mod.ts";

/** The slot values. */
export const SLOT_VALUES = {
  greeting: ["warm", "formal", "brief"],
  tone: ["calm", "friendly", "professional"],
  length: ["short", "medium"],
  inquiry_mode: ["open", "guided", "confirming"],
  barge_in_sensitivity: ["low", "medium", "high"],
} as const;

/** Schema of one variant's slots. */
export const SlotsSchema = z.strictObject({
  greeting: z.enum(SLOT_VALUES.greeting),
  tone: z.enum(SLOT_VALUES.tone),
  length: z.enum(SLOT_VALUES.length),
  inquiry_mode: z.enum(SLOT_VALUES.inquiry_mode),
  barge_in_sensitivity: z.enum(SLOT_VALUES.barge_in_sensitivity),
});
/** A variant's slots. */
export type PolicySlots = z.infer<typeof SlotsSchema>;

/**
 * Schema of a greeting template: it must disclose the AI (EU AI Act Art. 50), i.e. name `{assistant}` of
 * `{practice}`, say "KI" and that requests are noted for the team ({@linkcode disclosesAi}).
 */
export const GreetingTemplateSchema = z.string().min(1).max(400).refine(
  (g) => disclosesAi(g),
  'greeting must disclose the AI: {assistant}, {practice}, "KI" and that requests are noted for the team',
);

/** The greeting templates per greeting slot, each checked by {@linkcode GreetingTemplateSchema} at load. */
export const GREETING_TEMPLATES: Readonly<Record<PolicySlots["greeting"], string>> = Object.freeze({
  warm: GreetingTemplateSchema.parse(
    "Guten Tag, hier ist {assistant}, die KI-Assistenz der {practice}. Schön, dass Sie anrufen. " +
      "Ihre Anliegen notiere ich für das Praxisteam. Wie kann ich Ihnen helfen?",
  ),
  formal: GreetingTemplateSchema.parse(
    "Guten Tag, Sie sprechen mit {assistant}, der KI-Assistenz der {practice}. " +
      "Ihre Anliegen notiere ich für das Praxisteam. Was kann ich für Sie tun?",
  ),
  brief: GreetingTemplateSchema.parse(
    "{practice}, hier ist {assistant}, Ihre KI-Assistenz. Ich notiere Ihr Anliegen für das Team. " +
      "Wie kann ich helfen?",
  ),
});

/** Schema of one variant; its greeting must disclose the AI. */
export const VariantSpecSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9_-]{1,64}$/, "id must be 1-64 of a-z 0-9 _ -"),
  name: z.string().min(1).max(200),
  slots: SlotsSchema,
  enabled: z.boolean().default(true),
}).superRefine((v, ctx) => {
  const r = GreetingTemplateSchema.safeParse(GREETING_TEMPLATES[v.slots.greeting]);
  if (!r.success) {
    ctx.addIssue({ code: "custom", path: ["slots", "greeting"], message: r.error.issues[0].message });
  }
});
/** One variant as written in the file. */
export type VariantSpec = z.infer<typeof VariantSpecSchema>;

/** Schema of the variants file: unique ids, the base variant among them. */
export const VariantsFileSchema = z.strictObject({
  version: z.literal(1),
  /** The production policy: exempt from the deploy guard's traffic caps. */
  baseVariant: z.string(),
  variants: z.array(VariantSpecSchema).min(1).max(200),
}).superRefine((f, ctx) => {
  const ids = new Set<string>();
  for (const v of f.variants) {
    if (ids.has(v.id)) ctx.addIssue({ code: "custom", message: `duplicate variant id ${v.id}` });
    ids.add(v.id);
  }
  if (!ids.has(f.baseVariant)) {
    ctx.addIssue({ code: "custom", message: `baseVariant ${f.baseVariant} is not among the variants` });
  }
});
/** The variants file. */
export type VariantsFile = z.infer<typeof VariantsFileSchema>;

/**
 * Validate a variants document.
 * @throws {Error} naming every problem when it is invalid
 */
export function parseVariants(doc: unknown): VariantsFile {
  const r = VariantsFileSchema.safeParse(doc);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`Cannot load policy variants: ${issues}`);
  }
  return r.data;
}

/** The 12 variants shipped with TOM (`rl/variants.json`). */
export const DEFAULT_VARIANTS: VariantsFile = parseVariants(shipped);

/** Read and validate a variants file (JSON). @throws {Error} when unreadable or invalid */
export async function loadVariantsFile(path: string): Promise<VariantsFile> {
  let doc: unknown;
  try {
    doc = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new Error(`Cannot load policy variants from ${path}: ${(err as Error).message}`);
  }
  return parseVariants(doc);
}

/** The variants file in force: `TOM_RL_VARIANTS_FILE` (`rl.variantsFile`), else the shipped one. */
export async function variantsOf(config: Pick<Config, "rl">): Promise<VariantsFile> {
  return config.rl.variantsFile ? await loadVariantsFile(config.rl.variantsFile) : DEFAULT_VARIANTS;
}

const ROLE =
  "Du bist {assistant}, die KI-Telefonassistenz der {practice}. Du sprichst Deutsch und siezt die Anrufer; " +
  "viele sind älter oder krank.";
const SAFETY =
  "Antworte ohne Aufzählungen, ohne Sonderzeichen, ohne Abkürzungen. Du stellst keine Diagnosen und " +
  "gibst keine medizinischen Ratschläge; bei einem Notfall sage: Bitte rufen Sie sofort die 112 an. Wenn du " +
  "etwas nicht weißt, biete an, dass die Praxis zurückruft.";

const TONE: Record<PolicySlots["tone"], string> = {
  calm: "Sprich ruhig, geduldig und langsam verständlich.",
  friendly: "Sprich herzlich und freundlich, mit einem Lächeln in der Stimme.",
  professional: "Sprich sachlich, präzise und professionell.",
};
const LENGTH: Record<PolicySlots["length"], string> = {
  short: "Antworte kurz: höchstens zwei kurze Sätze.",
  medium: "Antworte in höchstens drei Sätzen.",
};
const INQUIRY: Record<PolicySlots["inquiry_mode"], string> = {
  open: "Stelle offene Fragen und lass den Anrufer erzählen; höchstens eine Frage auf einmal.",
  guided: "Führe Schritt für Schritt durch das Anliegen und stelle jeweils genau eine konkrete Frage.",
  confirming: "Fasse das Verstandene kurz zusammen und lass es dir bestätigen, bevor du weitermachst; " +
    "höchstens eine Frage auf einmal.",
};
/** The pipeline parameters barge-in sensitivity sets, with the reason beside each level. */
export const BARGE_IN_PARAMS: Record<
  PolicySlots["barge_in_sensitivity"],
  Pick<PipelineOptions, "vadThreshold" | "vadNegThreshold" | "bargeInMinMs" | "endOfTurnSilenceMs">
> = {
  /** Patient: only clear, long speech interrupts; longer pauses before TOM answers (slow speakers). */
  low: { vadThreshold: 0.6, vadNegThreshold: 0.45, bargeInMinMs: 800, endOfTurnSilenceMs: 700 },
  /** The pipeline defaults (Silero 0.5/0.35, LiveKit 500 ms). */
  medium: { vadThreshold: 0.5, vadNegThreshold: 0.35, bargeInMinMs: 500, endOfTurnSilenceMs: 500 },
  /** Quick: short speech interrupts TOM and turns end sooner. */
  high: { vadThreshold: 0.45, vadNegThreshold: 0.3, bargeInMinMs: 300, endOfTurnSilenceMs: 400 },
};

/** What a variant changes in a call. */
export interface AppliedPolicy {
  variantId: string;
  /**
   * Pass to `buildSystemPrompt(policy, caller, practice)` in place of DEFAULT_POLICY (it fills
   * `{assistant}` and `{practice}`).
   */
  policy: string;
  /** Speak instead of PHRASES.greeting: a template, filled with the practice's names at call time. */
  greeting: string;
  /** Merge into the call's PipelineOptions (then `resolvePipelineOptions`). */
  pipeline: Partial<PipelineOptions>;
}

/**
 * Turn a variant into the policy text, greeting and pipeline parameters of a call.
 * @example
 * ```ts
 * applyVariant(DEFAULT_VARIANTS.variants[0]).pipeline.bargeInMinMs; // 500
 * ```
 */
export function applyVariant(variant: { id: string; slots: unknown }): AppliedPolicy {
  const slots = SlotsSchema.parse(variant.slots);
  return {
    variantId: variant.id,
    policy: [ROLE, TONE[slots.tone], LENGTH[slots.length], INQUIRY[slots.inquiry_mode], SAFETY].join(" "),
    greeting: GREETING_TEMPLATES[slots.greeting],
    pipeline: { ...BARGE_IN_PARAMS[slots.barge_in_sensitivity] },
  };
}

/**
 * Write the file's variants into the store (upsert: name, slots, enabled; a blacklist is kept). Variants
 * in the store but not in the file are disabled, not deleted (their history stays for the report).
 * @returns the ids written
 */
export function syncVariants(store: Store, file: VariantsFile): string[] {
  return store.transaction(() => {
    const ids = new Set(file.variants.map((v) => v.id));
    // An administrator's last enable/disable decision outlives restarts: the file can only switch off.
    const adminOff = new Set(adminDisabledVariants(store));
    for (const v of file.variants) {
      upsertVariant(store, {
        id: v.id,
        name: v.name,
        slots: v.slots,
        enabled: v.enabled && !adminOff.has(v.id),
      });
    }
    for (const v of listVariants(store)) {
      if (!ids.has(v.id) && v.enabled) setVariantEnabled(store, v.id, false);
    }
    return [...ids];
  });
}
