// Decision tests for the after-call pass that finds requests the call did not note. The JsonChat here is
// SCRIPTED (it returns fixed answers): the synthetic models answer gibberish, so the decisions can only be
// tested this way. The plumbing against the real llama-server is in missed_requests_llama_test.ts.
import assert from "node:assert/strict";
import {
  findMissedRequests,
  MAX_MISSED_REQUESTS,
  MISSED_REQUESTS_JSON_SCHEMA,
  missedRequestMessages,
  NO_NUMBER_PREFIX,
  similarRequest,
  UNCONFIRMED_NUMBER_PREFIX,
} from "../../../pipeline/analysis/missed_requests.ts";
import { MAX_TRANSCRIPT_CHARS, type TranscriptLine } from "../../../pipeline/analysis/analysis.ts";
import type { JsonChat } from "../../../pipeline/engines/json_llm.ts";
import type { NoteRequest } from "../../../pipeline/tools.ts";

const WORDS: TranscriptLine[] = [
  { speaker: "caller", text: "Guten Tag, ich brauche ein neues Rezept für Ramipril 5 mg." },
  { speaker: "assistant", text: "Gern, ich gebe das weiter." },
];

/** A scripted JsonChat: answers `answer` and records what it was asked. */
function scripted(answer: unknown) {
  const asked: { messages: Parameters<JsonChat>[0]; schema: Record<string, unknown> }[] = [];
  const chat: JsonChat = (messages, schema) => {
    asked.push({ messages, schema });
    return Promise.resolve(typeof answer === "string" ? answer : JSON.stringify(answer));
  };
  return { chat, asked };
}

const note = (over: Partial<NoteRequest>): NoteRequest => ({
  kind: "message",
  urgency: "normal",
  callerName: "",
  callbackNumber: null,
  forWhom: "",
  preferredTimes: "",
  medication: "",
  summary: "Nachricht",
  ...over,
});

Deno.test("missed requests (scripted model): a prescription wish not noted becomes one prescription note", async () => {
  const { chat, asked } = scripted({
    requests: [{ kind: "prescription", medication: "Ramipril 5 mg", summary: "Folgerezept Ramipril" }],
  });
  const r = await findMissedRequests(chat, WORDS, []);
  assert.equal(r.error, undefined);
  assert.deepEqual(r.notes, [
    note({ kind: "prescription", medication: "Ramipril 5 mg", summary: "Folgerezept Ramipril" }),
  ]);
  assert.deepEqual(r.dropped, []);
  assert.equal(asked[0].schema, MISSED_REQUESTS_JSON_SCHEMA);
  assert.match(asked[0].messages[1].content, /Anrufer: Guten Tag, ich brauche ein neues Rezept/);
  assert.match(asked[0].messages[1].content, /Bereits notiert:\n\(nichts\)/);
});

Deno.test("missed requests (scripted model): a request already noted gives nothing; the noted list is sent", async () => {
  const noted = [note({ kind: "prescription", medication: "Ramipril", summary: "Rezept Ramipril 5 mg" })];
  const { chat, asked } = scripted({
    requests: [{ kind: "prescription", medication: "ramipril 5 mg", summary: "Rezeptwunsch Ramipril" }],
  });
  const r = await findMissedRequests(chat, WORDS, noted);
  assert.deepEqual(r.notes, []);
  assert.equal(r.skipped, 1);
  assert.match(asked[0].messages[1].content, /Bereits notiert:\n- prescription: Rezept Ramipril 5 mg\n/);
  // Same kind, similar summary without medication: skipped too; another medication is a new request.
  const noMed = await findMissedRequests(
    scripted({ requests: [{ kind: "prescription", summary: "Ramipril Rezept bitte" }] }).chat,
    WORDS,
    noted,
  );
  assert.deepEqual(noMed.notes, []);
  const other = await findMissedRequests(
    scripted({ requests: [{ kind: "prescription", medication: "Metformin", summary: "Rezept Metformin" }] })
      .chat,
    WORDS,
    noted,
  );
  assert.equal(other.notes.length, 1);
});

Deno.test("missed requests: similarity needs the same kind and shared telling words", () => {
  const a = note({ kind: "appointment", summary: "Termin zur Blutabnahme nächste Woche" });
  assert.equal(
    similarRequest(a, note({ kind: "appointment", summary: "Blutabnahme Termin, nächste Woche" })),
    true,
  );
  assert.equal(
    similarRequest(a, note({ kind: "appointment", summary: "Termin für Impfung im Herbst" })),
    false,
  );
  assert.equal(
    similarRequest(a, note({ kind: "question", summary: "Termin zur Blutabnahme nächste Woche" })),
    false,
  );
});

Deno.test("missed requests (scripted model): invalid items are dropped, a callback without a number converted", async () => {
  const answer = {
    requests: [
      { kind: "surgery", summary: "Operation" }, // bad kind
      { kind: "question", summary: "x".repeat(2000) }, // huge summary
      { kind: "callback", callback_number: "abc", summary: "Bitte um Rückruf wegen Befund" },
    ],
  };
  const anonymous = await findMissedRequests(scripted(answer).chat, WORDS, []);
  assert.equal(anonymous.dropped.length, 2);
  assert.match(anonymous.dropped[0], /kind/);
  assert.match(anonymous.dropped[1], /zu lang/);
  assert.deepEqual(anonymous.notes, [
    note({ kind: "message", summary: `${NO_NUMBER_PREFIX}Bitte um Rückruf wegen Befund` }),
  ]);
  const known = await findMissedRequests(scripted(answer).chat, WORDS, [], { callerId: "+4930111222" });
  assert.deepEqual(known.notes, [
    note({
      kind: "callback",
      callbackNumber: "+4930111222",
      summary: `${UNCONFIRMED_NUMBER_PREFIX}Bitte um Rückruf wegen Befund`,
    }),
  ]);
  // A caller ID that is not E.164 counts as unknown; a valid spoken number is kept as it is.
  const bad = await findMissedRequests(scripted(answer).chat, WORDS, [], { callerId: "anonymous" });
  assert.equal(bad.notes[0].kind, "message");
  const valid = await findMissedRequests(
    scripted({ requests: [{ kind: "callback", callback_number: "0171 2345678", summary: "Rückruf" }] }).chat,
    WORDS,
    [],
    { callerId: "+4930111222" },
  );
  assert.deepEqual(valid.notes, [
    note({ kind: "callback", callbackNumber: "+491712345678", summary: "Rückruf" }),
  ]);
});

Deno.test("missed requests (scripted model): 50 items are cut to the bound, one per kind", async () => {
  const requests = Array.from({ length: 50 }, (_, i) => ({
    kind: ["appointment", "question", "message", "other", "prescription", "emergency"][i % 6],
    summary: `Anliegen Nummer ${i}`,
  }));
  const r = await findMissedRequests(scripted({ requests }).chat, WORDS, []);
  assert.ok(r.notes.length <= MAX_MISSED_REQUESTS);
  assert.deepEqual(r.notes.map((n) => n.kind), [
    "appointment",
    "question",
    "message",
    "other",
    "prescription",
  ]);
  assert.match(r.dropped.at(-1) ?? "", /45 Anliegen über der Höchstzahl 5/);
  const repeated = await findMissedRequests(
    scripted({ requests: [{ kind: "other", summary: "Eins" }, { kind: "other", summary: "Zwei" }] }).chat,
    WORDS,
    [],
  );
  assert.deepEqual(repeated.notes.map((n) => n.summary), ["Eins"]);
  assert.equal(repeated.skipped, 1);
});

Deno.test("missed requests (scripted model): a model error gives no notes and the reason, never a throw", async () => {
  const failing: JsonChat = () => Promise.reject(new Error("Cannot analyse: llama-server answered 500"));
  assert.deepEqual(await findMissedRequests(failing, WORDS, []), {
    notes: [],
    dropped: [],
    skipped: 0,
    error: "Cannot analyse: llama-server answered 500",
  });
  const notJson = await findMissedRequests(scripted("Ramipril {").chat, WORDS, []);
  assert.deepEqual(notJson.notes, []);
  assert.match(notJson.error ?? "", /not JSON/);
  assert.doesNotMatch(notJson.error ?? "", /Ramipril/, "the reason carries no model output");
  const noList = await findMissedRequests(scripted({ requests: "nein" }).chat, WORDS, []);
  assert.match(noList.error ?? "", /no requests list/);
  const nullAnswer = await findMissedRequests(scripted("null").chat, WORDS, []);
  assert.match(nullAnswer.error ?? "", /no requests list/);
});

Deno.test("missed requests: no caller words, no request to the model", async () => {
  const { chat, asked } = scripted({ requests: [{ kind: "other", summary: "erfunden" }] });
  const r = await findMissedRequests(chat, [{ speaker: "assistant", text: "Hallo?" }], []);
  assert.deepEqual(r, { notes: [], dropped: [], skipped: 0 });
  assert.equal(asked.length, 0);
});

Deno.test("missed requests: the words are clipped to the transcript bound, the end kept", () => {
  const long: TranscriptLine[] = [
    { speaker: "caller", text: "ANFANG " + "bla ".repeat(4000) },
    { speaker: "caller", text: "ENDE Rezept bitte" },
  ];
  const user = missedRequestMessages(long, [])[1].content;
  assert.ok(user.length < MAX_TRANSCRIPT_CHARS + 200);
  assert.match(user, /ENDE Rezept bitte$/);
  assert.doesNotMatch(user, /ANFANG/);
});

Deno.test("missed requests: the JSON schema is the note_request schema in a bounded list", () => {
  const requests =
    (MISSED_REQUESTS_JSON_SCHEMA.properties as Record<string, Record<string, unknown>>).requests;
  assert.equal(requests.maxItems, MAX_MISSED_REQUESTS);
  const items = requests.items as { required: string[]; properties: Record<string, unknown> };
  assert.deepEqual(items.required, ["kind", "summary"]);
  assert.ok("callback_number" in items.properties && "medication" in items.properties);
  assert.equal("$schema" in items, false);
});
