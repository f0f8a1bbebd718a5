/**
 * Merge a call's memory update into a person's memory: newest first, no duplicates (case and spacing
 * ignored), bounded list sizes, unknown keys kept. Idempotent: merging the same update twice gives the
 * same memory as merging it once.
 *
 * @module
 */
import type { JsonObject } from "../../store/mod.ts";
import { MEMORY_LISTS, type MemoryList, type MemoryUpdate } from "./schema.ts";

/** Largest list sizes in the stored memory. */
export const MEMORY_BOUNDS: Readonly<Record<MemoryList, number>> = Object.freeze({
  facts: 30,
  preferences: 20,
  important_people: 20,
  recent_topics: 10,
  health_notes: 20,
});

const key = (s: string) =>
  s.normalize("NFC").toLowerCase().replace(/\s+/g, " ").replace(/[.!?;,]+$/, "").trim();

function mergeList(update: readonly string[], old: unknown, max: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const prior = Array.isArray(old) ? old.filter((x): x is string => typeof x === "string") : [];
  for (const raw of [...update, ...prior]) {
    const item = raw.replace(/\s+/g, " ").trim();
    const k = key(item);
    if (k === "" || seen.has(k)) continue;
    seen.add(k);
    out.push(item);
    if (out.length >= max) break;
  }
  return out;
}

/** What the merge may write. */
export interface MergeOptions {
  /** Health notes are special-category data: left out unless allowed (default false). */
  allowHealthNotes?: boolean;
}

/**
 * Merge `update` into `memory` (neither is changed).
 * @example
 * ```ts
 * mergeMemory({ facts: ["Hat einen Hund"] }, { facts: ["hat einen Hund", "Wohnt in Köln"], preferences: [],
 *   important_people: [], recent_topics: [], health_notes: [], mood: "" }).facts; // ["hat einen Hund", "Wohnt in Köln"]
 * ```
 */
export function mergeMemory(memory: JsonObject, update: MemoryUpdate, opts: MergeOptions = {}): JsonObject {
  const out: JsonObject = { ...memory };
  for (const field of MEMORY_LISTS) {
    const items = field === "health_notes" && !opts.allowHealthNotes ? [] : update[field];
    out[field] = mergeList(items, memory[field], MEMORY_BOUNDS[field]);
  }
  const mood = update.mood.trim();
  if (mood !== "") out.mood = mood;
  else if (!("mood" in out)) out.mood = null;
  return out;
}
