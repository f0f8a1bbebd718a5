/**
 * The post-call analysis as the LLM must return it: a JSON schema for constrained decoding (llama-server
 * `response_format: json_schema`, Ollama `format`) and the same rules in zod, which checks every answer.
 * Score and confidence travel as whole percent (-100..100, 0..100) because llama.cpp's grammar enforces
 * integer bounds but not number bounds; {@linkcode toAnalysisResult} scales them to -1..1 and 0..1.
 * String lengths count code points, as the grammar does. A small model can emit bytes that are not valid
 * UTF-8 (they arrive as U+FFFD and can make a string longer than the grammar counted): they are dropped
 * before validation, list items left empty by that are dropped too, and the grammar asks for slightly
 * longer minimums than zod so a string stays non-empty.
 *
 * @module
 */
import { z } from "zod";
import type { AnalysisResult } from "../../store/mod.ts";

/** Bounds of the memory update lists (per call) and of the strings. */
export const ANALYSIS_LIMITS = Object.freeze({
  reasonChars: 160,
  summaryItems: 8,
  summaryChars: 120,
  memoryItems: 5,
  memoryChars: 100,
  moodChars: 60,
});

/** Memory fields the analysis may update. */
export const MEMORY_LISTS = [
  "facts",
  "preferences",
  "important_people",
  "recent_topics",
  "health_notes",
] as const;
/** One memory list field. */
export type MemoryList = (typeof MEMORY_LISTS)[number];

const L = ANALYSIS_LIMITS;
const text = (max: number, min = 0) =>
  z.string().refine((s) => {
    const n = [...s].length;
    return n >= min && n <= max;
  }, `must be ${min} to ${max} characters`);
const list = z.array(text(L.memoryChars, 1)).max(L.memoryItems);

/** Zod schema of the LLM's answer. */
export const AnalysisWireSchema = z.strictObject({
  sentiment: z.enum(["positiv", "neutral", "negativ"]),
  score: z.int().min(-100).max(100),
  confidence: z.int().min(0).max(100),
  reason: text(L.reasonChars, 1),
  summary: z.array(text(L.summaryChars, 1)).min(1).max(L.summaryItems),
  memory: z.strictObject({
    facts: list,
    preferences: list,
    important_people: list,
    recent_topics: list,
    health_notes: list,
    mood: text(L.moodChars),
  }),
});
/** The LLM's answer. */
export type AnalysisWire = z.infer<typeof AnalysisWireSchema>;
/** The memory update part of the answer. */
export type MemoryUpdate = AnalysisWire["memory"];

const str = (max: number, min = 0) => ({ type: "string", minLength: min, maxLength: max });
const arr = { type: "array", items: str(L.memoryChars, 2), maxItems: L.memoryItems };

/** JSON schema of the answer, for constrained decoding. */
export const ANALYSIS_JSON_SCHEMA: Record<string, unknown> = {
  type: "object",
  additionalProperties: false,
  required: ["sentiment", "score", "confidence", "reason", "summary", "memory"],
  properties: {
    sentiment: { type: "string", enum: ["positiv", "neutral", "negativ"] },
    score: { type: "integer", minimum: -100, maximum: 100 },
    confidence: { type: "integer", minimum: 0, maximum: 100 },
    reason: str(L.reasonChars, 8),
    summary: { type: "array", items: str(L.summaryChars, 4), minItems: 1, maxItems: L.summaryItems },
    memory: {
      type: "object",
      additionalProperties: false,
      required: [...MEMORY_LISTS, "mood"],
      properties: {
        facts: arr,
        preferences: arr,
        important_people: arr,
        recent_topics: arr,
        health_notes: arr,
        mood: str(L.moodChars),
      },
    },
  },
};

/** Remove U+FFFD (undecodable bytes) from every string; drop list items that become empty. */
export function dropInvalidUtf8(v: unknown): unknown {
  if (typeof v === "string") return v.replaceAll("\uFFFD", "");
  if (Array.isArray(v)) {
    return v.map(dropInvalidUtf8).filter((x, i) => !(typeof v[i] === "string" && x === ""));
  }
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, dropInvalidUtf8(x)]));
  }
  return v;
}

/**
 * Parse and validate the LLM's text.
 * @throws {Error} when it is not JSON or breaks the schema (the message names the fields)
 */
export function parseAnalysis(text: string): AnalysisWire {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`Cannot parse analysis: not JSON (${text.slice(0, 80)})`);
  }
  const r = AnalysisWireSchema.safeParse(dropInvalidUtf8(json));
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Cannot accept analysis: ${issues}`);
  }
  return r.data;
}

/** The store's result from the answer (score and confidence scaled). */
export function toAnalysisResult(a: AnalysisWire, keepContent: boolean): AnalysisResult {
  return {
    sentimentLabel: a.sentiment,
    sentimentScore: a.score / 100,
    confidence: a.confidence / 100,
    reason: keepContent ? a.reason : "Inhalt ohne Einwilligung nicht gespeichert",
    summary: keepContent ? a.summary : [],
    memoryUpdate: keepContent ? { ...a.memory } : null,
  };
}
