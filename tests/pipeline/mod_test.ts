import assert from "node:assert/strict";
import { join } from "node:path";
import { readTranscript, TranscriptKeyring } from "../../store/crypto/mod.ts";
import { silentLogger } from "../../infra/log.ts";
import {
  createAccount,
  createCall,
  createPerson,
  listTurnMetrics,
  openStore,
  saveMemory,
} from "../../store/mod.ts";
import { type CallOwner, pipelineAnswerer } from "../../pipeline/mod.ts";
import {
  Caller,
  FakeLlm,
  FakeOutput,
  FakeStt,
  FakeTts,
  FakeVad,
  greetedCall,
  silentPhrases,
  until,
} from "./_fakes.ts";

async function run(consent: boolean, identity: "placed" | "number_match" = "placed") {
  const dir = await Deno.makeTempDir({ prefix: "tom-pipeline-" });
  const store = openStore(":memory:");
  const account = createAccount(store, { name: "Praxis", kind: "clinical" });
  const person = createPerson(store, account.id, {
    kind: "patient",
    displayName: "Erna Schulz",
    phoneE164: "+4930111222",
    consentTranscript: consent,
  });
  saveMemory(store, account.id, person.id, { enkel: "Paul", vorlieben: "spricht langsam" }, 0);
  const call = createCall(store, account.id, {
    direction: "inbound",
    transport: "browser",
    personId: person.id,
  });
  const keyring = await TranscriptKeyring.open(join(dir, "transcripts.key"));
  const tts = new FakeTts();
  const phrases = silentPhrases(tts);
  const llm = new FakeLlm(["Hallo Frau Schulz."]);
  const answer = pipelineAnswerer({
    stt: new FakeStt(["Hier ist Erna."]),
    llm,
    tts,
    vad: () => new FakeVad(),
    log: silentLogger,
    store,
    keyring,
    phrases,
    options: { minSpeechMs: 60, endOfTurnSilenceMs: 300, tickMs: 10 },
  });
  const { out, handler, ac } = await greetedCall(answer, {
    callId: call.id,
    accountId: account.id,
    personId: person.id,
    identity,
  });
  await new Promise((r) => setTimeout(r, 10));
  new Caller(handler).say(600);
  await until(() => out.events().some((e) => e.type === "turn_end"), "turn end");
  await new Promise((r) => setTimeout(r, 20));
  handler.handle({ type: "stop", reason: "done" });
  ac.abort();
  const transcript = await readTranscript(store, keyring, account.id, call.id);
  const metrics = listTurnMetrics(store, account.id, call.id);
  const system = llm.requests[0][0].content;
  store.close();
  await Deno.remove(dir, { recursive: true });
  return { transcript, metrics, system };
}

Deno.test("a proven (placed), consenting caller: memory in the prompt, transcript and turn metrics stored", async () => {
  const r = await run(true);
  assert.match(r.system, /Erna Schulz/);
  assert.match(r.system, /Paul/);
  assert.deepStrictEqual(r.transcript.map((t) => [t.speaker, t.text]), [
    ["caller", "Hier ist Erna."],
    ["assistant", "Hallo Frau Schulz."],
  ]);
  assert.equal(r.metrics.length, 1);
  assert.equal(r.metrics[0].bargeIn, false);
  assert.ok(r.metrics[0].totalMs !== null);
});

Deno.test("a caller known only by the number: the first name, marked unconfirmed, and no memory", async () => {
  const r = await run(true, "number_match");
  assert.match(r.system, /vermutlich Erna \(nur an der Rufnummer erkannt, nicht bestätigt\)/);
  assert.doesNotMatch(r.system, /Schulz|Paul|langsam/);
});

Deno.test("without consent: no memory in the prompt and no transcript, metrics still recorded", async () => {
  const r = await run(false);
  assert.doesNotMatch(r.system, /Paul|Erna/);
  assert.deepStrictEqual(r.transcript, []);
  assert.equal(r.metrics.length, 1);
});

Deno.test("the call's owner comes from its context: the answerer looks no call up", async () => {
  // No store at all: the account and person the session decided reach the learning loop and the usage log.
  const begun: CallOwner[] = [];
  const ended: CallOwner[] = [];
  const tts = new FakeTts();
  const phrases = silentPhrases(tts);
  const answer = pipelineAnswerer({
    stt: new FakeStt([]),
    llm: new FakeLlm([]),
    tts,
    vad: () => new FakeVad(),
    log: silentLogger,
    phrases,
    learning: { begin: (_callId, owner) => (begun.push(owner), {}) },
    onCallEnd: (_summary, owner) => void ended.push(owner),
  });
  const out = new FakeOutput();
  out.autoPlay = true;
  const ac = new AbortController();
  const handler = answer({
    callId: "call-x",
    transport: "twilio",
    direction: "outbound",
    accountId: "account-x",
    personId: "person-x",
    output: out,
    log: silentLogger,
    signal: ac.signal,
  });
  out.handler = handler;
  handler.handle({
    type: "start",
    callId: "call-x",
    transport: "twilio",
    direction: "outbound",
    peerRate: 8000,
    meta: {},
  });
  handler.handle({ type: "stop", reason: "done" });
  ac.abort();
  await until(() => ended.length === 1, "call end");
  assert.deepStrictEqual(begun, [{ accountId: "account-x", personId: "person-x" }]);
  assert.deepStrictEqual(ended, [{ accountId: "account-x", personId: "person-x" }]);
});
