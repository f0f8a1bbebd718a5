import assert from "node:assert/strict";
import { createAccount } from "../../../store/accounts.ts";
import { enqueueAnalysis, getAnalysis } from "../../../store/call_analysis.ts";
import { createCall } from "../../../store/calls.ts";
import { setCallIdentity } from "../../../store/caller_identity.ts";
import { openStore } from "../../../store/db.ts";
import { getMemory } from "../../../store/memory.ts";
import { createPerson } from "../../../store/people.ts";
import { AnalysisWorker, type TranscriptLine } from "../../../pipeline/analysis/analysis.ts";
import { type AnalysisWire, parseAnalysis } from "../../../pipeline/analysis/schema.ts";
import type { JsonChat } from "../../../pipeline/engines/json_llm.ts";

export const ANSWER: AnalysisWire = {
  sentiment: "positiv",
  score: 60,
  confidence: 80,
  reason: "Der Anrufer war mit dem Termin zufrieden.",
  summary: ["Termin am Dienstag vereinbart", "Rezept wird bereitgelegt"],
  memory: {
    facts: ["Wohnt in Köln"],
    preferences: ["Vormittagstermine"],
    important_people: ["Tochter Anna"],
    recent_topics: ["Rezept"],
    health_notes: ["Bluthochdruck"],
    mood: "zufrieden",
  },
};
const LINES: TranscriptLine[] = [
  { speaker: "caller", text: "Ich brauche einen Termin." },
  { speaker: "assistant", text: "Gern, am Dienstag um neun?" },
];

function setup(consentTranscript: boolean, known = true, identity: "verified" | "number_match" = "verified") {
  let now = 1_700_000_000_000;
  const store = openStore(":memory:", { clock: () => now });
  const account = createAccount(store, { name: "Praxis", kind: "clinical" });
  const person = createPerson(store, account.id, {
    kind: "patient",
    displayName: "Hans Müller",
    phoneE164: "+4917012345678",
    consentTranscript,
  });
  const call = createCall(store, account.id, {
    direction: "inbound",
    transport: "browser",
    personId: known ? person.id : null,
  });
  if (known) setCallIdentity(store, account.id, call.id, identity);
  enqueueAnalysis(store, account.id, call.id);
  return { store, account, person, call, advance: (ms: number) => (now += ms) };
}

const fixed: JsonChat = () => Promise.resolve(JSON.stringify(ANSWER));

Deno.test("analysis: result stored and memory merged when the caller consented; idempotent", async () => {
  const { store, account, person, call } = setup(true);
  const worker = new AnalysisWorker(store, { chat: fixed, loadTranscript: () => Promise.resolve(LINES) });
  assert.deepEqual(await worker.tick([account.id]), { done: 1, retried: 0, failed: 0 });
  const a = getAnalysis(store, account.id, call.id);
  assert.equal(a?.status, "done");
  assert.equal(a?.sentimentScore, 0.6);
  assert.equal(a?.confidence, 0.8);
  assert.deepEqual(a?.summary, ANSWER.summary);
  const m1 = getMemory(store, account.id, person.id);
  assert.deepEqual(m1?.memory.important_people, ["Tochter Anna"]);
  assert.deepEqual(m1?.memory.health_notes, ["Bluthochdruck"]);
  await worker.analyze(account.id, call.id); // the same analysis again
  const m2 = getMemory(store, account.id, person.id);
  assert.deepEqual(m2?.memory, m1?.memory, "merging the same update twice changes nothing");
  store.close();
});

Deno.test("analysis: without transcript consent only the sentiment is kept and memory is untouched", async () => {
  for (const [consent, known] of [[false, true], [true, false]]) {
    const { store, account, person, call } = setup(consent, known);
    const worker = new AnalysisWorker(store, { chat: fixed, loadTranscript: () => Promise.resolve(LINES) });
    await worker.tick([account.id]);
    const a = getAnalysis(store, account.id, call.id);
    assert.equal(a?.sentimentLabel, "positiv");
    assert.deepEqual(a?.summary, []);
    assert.equal(a?.memoryUpdate, null);
    assert.doesNotMatch(a?.reason ?? "", /Termin/);
    assert.equal(getMemory(store, account.id, person.id), undefined);
    store.close();
  }
});

Deno.test("analysis: health notes are left out when the policy disallows them", async () => {
  const { store, account, person } = setup(true);
  const worker = new AnalysisWorker(store, {
    chat: fixed,
    loadTranscript: () => Promise.resolve(LINES),
    allowHealthNotes: () => false,
  });
  await worker.tick([account.id]);
  assert.deepEqual(getMemory(store, account.id, person.id)?.memory.health_notes, []);
  store.close();
});

Deno.test("analysis: a failed analysis is retried later with backoff, then given up", async () => {
  const { store, account, call, advance } = setup(true);
  let calls = 0;
  const flaky: JsonChat = () => {
    calls++;
    return Promise.resolve(calls <= 2 ? '{"sentiment":"sehr gut"}' : JSON.stringify(ANSWER));
  };
  const worker = new AnalysisWorker(store, {
    chat: flaky,
    loadTranscript: () => Promise.resolve(LINES),
    backoffMs: [1000, 5000],
  });
  assert.deepEqual(await worker.tick([account.id]), { done: 0, retried: 1, failed: 0 });
  assert.match(getAnalysis(store, account.id, call.id)?.lastError ?? "", /Cannot accept analysis/);
  assert.deepEqual(await worker.tick([account.id]), { done: 0, retried: 0, failed: 0 }, "not due yet");
  advance(1000);
  assert.deepEqual(await worker.tick([account.id]), { done: 0, retried: 1, failed: 0 });
  advance(5000);
  assert.deepEqual(await worker.tick([account.id]), { done: 1, retried: 0, failed: 0 });

  const b = setup(true);
  const broken = new AnalysisWorker(b.store, {
    chat: () => Promise.reject(new Error("LLM down")),
    loadTranscript: () => Promise.resolve(LINES),
    backoffMs: [10],
  });
  assert.deepEqual(await broken.tick([b.account.id]), { done: 0, retried: 1, failed: 0 });
  b.advance(10);
  assert.deepEqual(await broken.tick([b.account.id]), { done: 0, retried: 0, failed: 1 });
  assert.equal(getAnalysis(b.store, b.account.id, b.call.id)?.status, "failed");
  store.close();
  b.store.close();
});

Deno.test("analysis schema: zod refuses out-of-range and extra fields", () => {
  assert.equal(parseAnalysis(JSON.stringify(ANSWER)).score, 60);
  assert.throws(() => parseAnalysis(JSON.stringify({ ...ANSWER, score: 101 })), /score/);
  assert.throws(() => parseAnalysis(JSON.stringify({ ...ANSWER, summary: Array(9).fill("x") })), /summary/);
  assert.throws(() => parseAnalysis(JSON.stringify({ ...ANSWER, sentiment: "positive" })), /sentiment/);
  assert.throws(() => parseAnalysis(JSON.stringify({ ...ANSWER, extra: 1 })));
  assert.throws(() => parseAnalysis("nicht json"), /not JSON/);
});

Deno.test("analysis: a call known only by its caller ID is analysed and kept, but never merged into memory", async () => {
  // Caller ID can be spoofed: the practice sees the analysis of the call, the person's memory stays as it was.
  const { store, account, person, call } = setup(true, true, "number_match");
  const worker = new AnalysisWorker(store, { chat: fixed, loadTranscript: () => Promise.resolve(LINES) });
  assert.deepEqual(await worker.tick([account.id]), { done: 1, retried: 0, failed: 0 });
  assert.deepEqual(getAnalysis(store, account.id, call.id)?.summary, ANSWER.summary);
  assert.equal(getMemory(store, account.id, person.id), undefined);
  store.close();
});
