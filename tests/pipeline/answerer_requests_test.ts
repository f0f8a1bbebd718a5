/**
 * Requests through the answerer, with the real store and keyring: a call's noted request is stored
 * sealed, audited and announced (id, kind, urgency only); the after-call pass notes what the call did
 * not, for an unknown caller too, without storing any transcript; a number the model reports that the
 * caller never said is not kept as a callback number. Decision tests: the LLM and the JSON model are
 * scripted (the synthetic real models answer gibberish; the plumbing with real engines is in
 * tests/e2e/pipeline_requests_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { silentLogger } from "../../infra/log.ts";
import { createAccount, createCall, createPerson, listAudit, openStore } from "../../store/mod.ts";
import { listRequests, readTranscript, TranscriptKeyring } from "../../store/crypto/mod.ts";
import { type JsonChat, pipelineAnswerer } from "../../pipeline/mod.ts";
import { callerForStaff, callerPerson, numberSaid } from "../../pipeline/answerer.ts";
import { callIdentity } from "../../gateway/call/session.ts";
import {
  Caller,
  FakeLlm,
  FakeStt,
  FakeTts,
  FakeVad,
  greetedCall,
  type ScriptedToolAnswer,
  silentPhrases,
  until,
} from "./_fakes.ts";

async function setup(o: { answers: (string | ScriptedToolAnswer)[]; texts: string[]; afterCall?: unknown }) {
  const dir = await Deno.makeTempDir();
  const store = openStore(":memory:");
  const keyring = await TranscriptKeyring.open(join(dir, "transcripts.key"));
  const account = createAccount(store, { name: "Praxis Weber", kind: "clinical" });
  const tts = new FakeTts();
  const phrases = silentPhrases(tts);
  const announced: { accountId: string; id: string; kind: string; urgency: string }[] = [];
  const jsonAsked: string[] = [];
  const afterCall: JsonChat | undefined = o.afterCall === undefined ? undefined : (messages) => {
    jsonAsked.push(messages.map((m) => m.content).join("\n"));
    return Promise.resolve(JSON.stringify(o.afterCall));
  };
  const llm = new FakeLlm(o.answers);
  const answer = pipelineAnswerer({
    stt: new FakeStt(o.texts),
    llm,
    tts,
    vad: () => new FakeVad(),
    log: silentLogger,
    store,
    keyring,
    phrases,
    options: { minSpeechMs: 60, endOfTurnSilenceMs: 300, tickMs: 10 },
    onRequest: (accountId, r) => void announced.push({ accountId, ...r }),
    afterCall,
  });
  const run = async (turns: number, callerId: string | null = null) => {
    const row = createCall(store, account.id, { direction: "inbound", transport: "browser" });
    const { out, handler, ac } = await greetedCall(answer, {
      callId: row.id,
      accountId: account.id,
      personId: null,
      callerId,
    });
    for (let i = 1; i <= turns; i++) {
      await new Promise((r) => setTimeout(r, 20));
      new Caller(handler).say(600);
      await until(() => out.events().filter((e) => e.type === "turn_end").length >= i, `turn ${i}`);
    }
    handler.handle({ type: "stop", reason: "done" });
    ac.abort();
    return { callId: row.id, out };
  };
  return { store, keyring, accountId: account.id, run, announced, jsonAsked, dir };
}

Deno.test("a request noted in a call is stored sealed, audited and announced without personal data", async () => {
  const s = await setup({
    answers: [{
      text: "Gern.",
      calls: [{
        name: "note_request",
        args: {
          kind: "prescription",
          caller_name: "Erika Muster",
          medication: "Ramipril 5 mg",
          summary: "Folgerezept",
        },
      }],
    }],
    texts: ["Ich brauche ein Rezept für Ramipril."],
  });
  try {
    const { callId, out } = await s.run(1);
    const reqs = await listRequests(s.store, s.keyring, s.accountId);
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].kind, "prescription");
    assert.equal(reqs[0].medication, "Ramipril 5 mg");
    assert.equal(reqs[0].callId, callId);
    assert.equal(reqs[0].source, "call");
    assert.deepEqual(s.announced, [{
      accountId: s.accountId,
      id: reqs[0].id,
      kind: "prescription",
      urgency: "normal",
    }]);
    const audit = listAudit(s.store, s.accountId, { subjectType: "request" });
    assert.equal(audit[0]?.action, "request.create");
    assert.ok(out.events().some((e) => e.type === "request_noted" && e.requestId === reqs[0].id));
    // Unknown caller without consent: no transcript is stored, the request is.
    assert.equal((await readTranscript(s.store, s.keyring, s.accountId, callId)).length, 0);
  } finally {
    s.store.close();
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("the after-call pass notes what the call did not, for an unknown caller, without storing words", async () => {
  const s = await setup({
    answers: ["Das gebe ich weiter."],
    texts: ["Bitte sagen Sie Frau Doktor, dass ich den Termin am Freitag nicht schaffe."],
    afterCall: {
      requests: [{ kind: "message", for_whom: "Frau Doktor", summary: "Termin am Freitag wird abgesagt" }],
    },
  });
  try {
    const { callId } = await s.run(1);
    await until(() => s.announced.length === 1, "after-call request stored", 5_000);
    const reqs = await listRequests(s.store, s.keyring, s.accountId);
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].source, "after_call");
    assert.equal(reqs[0].kind, "message");
    assert.equal(reqs[0].callId, callId);
    assert.match(
      s.jsonAsked[0],
      /Termin am Freitag nicht schaffe/,
      "the call's words reached the pass (memory only)",
    );
    assert.equal((await readTranscript(s.store, s.keyring, s.accountId, callId)).length, 0);
  } finally {
    s.store.close();
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("the after-call pass: a callback number nobody said is not kept as a callback number", async () => {
  const s = await setup({
    answers: ["Gern."],
    texts: ["Rufen Sie mich bitte zurück."],
    afterCall: { requests: [{ kind: "callback", callback_number: "0171 9999999", summary: "Rückruf" }] },
  });
  try {
    await s.run(1);
    await until(() => s.announced.length === 1, "after-call request stored", 5_000);
    const [r] = await listRequests(s.store, s.keyring, s.accountId);
    assert.equal(r.callbackNumber, null);
    assert.equal(r.kind, "message");
    assert.match(r.summary, /keine gültige Nummer/);
  } finally {
    s.store.close();
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("numberSaid: the national digits must be in what the caller said (numerals or words)", () => {
  assert.equal(numberSaid("+491712345678", ["Meine Nummer ist 0171 234 56 78."]), true);
  assert.equal(
    numberSaid("+491712345678", ["null eins sieben eins zwei drei vier fünf sechs sieben acht"]),
    true,
  );
  assert.equal(numberSaid("+491712345678", ["Rufen Sie mich zurück."]), false);
  assert.equal(numberSaid("+491712345678", ["0171 234"]), false);
});

Deno.test("callerForStaff: who a transfer announces, and how much the name is worth", () => {
  const store = openStore(":memory:");
  const a = createAccount(store, { name: "Praxis Weber", kind: "clinical" });
  const anna = createPerson(store, a.id, {
    kind: "patient",
    displayName: "Anna Muster",
    phoneE164: "+4930123456",
  });
  const inbound = (personId: string | null, number: string | null) =>
    callerForStaff(
      callerPerson(store, { accountId: a.id, personId }),
      number,
      callIdentity("inbound", personId),
    );
  assert.deepEqual(inbound(anna.id, "+4930123456"), {
    number: "+4930123456",
    name: "Anna Muster",
    identity: "number_match",
  }, "the caller ID matched Anna: her name, marked as unproven");
  assert.deepEqual(inbound(null, "+4940999"), { number: "+4940999", identity: "number_match" });
  assert.deepEqual(inbound(null, null), { identity: "unknown" }, "withheld number, unknown caller");
  assert.deepEqual(
    callerForStaff(
      callerPerson(store, { accountId: a.id, personId: anna.id }),
      "+4930123456",
      callIdentity("outbound", anna.id),
    ),
    { number: "+4930123456", name: "Anna Muster", identity: "placed" },
  );
  const b = createAccount(store, { name: "Praxis B", kind: "clinical" });
  assert.deepEqual(
    callerForStaff(
      callerPerson(store, { accountId: b.id, personId: anna.id }),
      null,
      callIdentity("inbound", anna.id),
    ),
    { identity: "unknown" },
    "another account's person is never named",
  );
});
