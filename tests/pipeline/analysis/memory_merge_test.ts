import assert from "node:assert/strict";
import type { MemoryUpdate } from "../../../pipeline/analysis/schema.ts";
import { MEMORY_BOUNDS, mergeMemory } from "../../../pipeline/analysis/memory_merge.ts";

const empty: MemoryUpdate = {
  facts: [],
  preferences: [],
  important_people: [],
  recent_topics: [],
  health_notes: [],
  mood: "",
};

Deno.test("memory merge: newest first, no duplicates ignoring case and spacing, other keys kept", () => {
  const memory = { facts: ["Hat einen Hund", "Wohnt in Köln"], custom: 1 };
  const out = mergeMemory(memory, {
    ...empty,
    facts: ["hat  einen Hund.", "Enkelin heißt Lea"],
    mood: "froh",
  });
  assert.deepEqual(out.facts, ["hat einen Hund.", "Enkelin heißt Lea", "Wohnt in Köln"]);
  assert.equal(out.custom, 1);
  assert.equal(out.mood, "froh");
});

Deno.test("memory merge is idempotent", () => {
  const update: MemoryUpdate = {
    ...empty,
    facts: ["A", "B"],
    recent_topics: ["Rezept"],
    important_people: ["Tochter Anna"],
    mood: "ruhig",
  };
  const once = mergeMemory({ facts: ["C"], recent_topics: ["Termin"] }, update);
  assert.deepEqual(mergeMemory(once, update), once);
});

Deno.test("memory merge keeps the lists bounded", () => {
  let m = {};
  for (let i = 0; i < 30; i++) m = mergeMemory(m, { ...empty, recent_topics: [`Thema ${i}`] });
  const topics = (m as { recent_topics: string[] }).recent_topics;
  assert.equal(topics.length, MEMORY_BOUNDS.recent_topics);
  assert.equal(topics[0], "Thema 29");
});

Deno.test("memory merge leaves health notes out unless allowed", () => {
  const u = { ...empty, health_notes: ["Diabetes Typ 2"] };
  assert.deepEqual(mergeMemory({}, u).health_notes, []);
  assert.deepEqual(mergeMemory({}, u, { allowHealthNotes: true }).health_notes, ["Diabetes Typ 2"]);
});

Deno.test("memory merge keeps the old mood when the call names none", () => {
  assert.equal(mergeMemory({ mood: "heiter" }, empty).mood, "heiter");
  assert.equal(mergeMemory({}, empty).mood, null);
});
