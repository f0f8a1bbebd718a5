/**
 * Caller ID is not identity (issue 15), through the Twilio transport: a signed voice webhook whose `From`
 * is a patient's number, then its Media Stream, into the real pipeline answerer, whose LLM requests go over
 * HTTP to a stand-in OpenAI-compatible server that records every request body (what llama-server would
 * receive). The practice asks for the date of birth.
 *
 * - Unverified (the caller keys a wrong date three times): the prompt the LLM server receives holds no
 *   health data (the marker planted in the patient's memory is absent), at most the first name; after the
 *   call the analysis is stored for the call but the patient's memory is unchanged.
 * - Verified by date of birth keyed as DTMF (TTMMJJJJ): the marker is in the prompt, the call is recorded
 *   as `verified`, and the analysis is merged into the memory.
 * Every attempt is audited without the digits.
 *
 * STT and the after-call analysis are scripted: the synthetic whisper model transcribes gibberish and the
 * synthetic LLM answers no analysis, so the decisions are tested with scripted words; the LLM the call
 * talks to is reached over real HTTP.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeMulaw } from "../../gateway/audio/mod.ts";
import { tone } from "../../gateway/call/echo.ts";
import { defaultAccountId } from "../../gateway/call/session.ts";
import { mountTwilio } from "../../gateway/twilio/webhook.ts";
import { silentLogger } from "../../infra/log.ts";
import { AnalysisWorker } from "../../pipeline/analysis/analysis.ts";
import { OpenAiChatLlm } from "../../pipeline/engines/openai_chat.ts";
import type { Answerer } from "../../gateway/mod.ts";
import { PhraseCache, type PhraseName, PHRASES, pipelineAnswerer } from "../../pipeline/mod.ts";
import { readTranscript, TranscriptKeyring } from "../../store/crypto/mod.ts";
import {
  createPerson,
  enqueueAnalysis,
  getAnalysis,
  getCallIdentity,
  getMemory,
  listAudit,
  listCalls,
  saveMemory,
  setBirthDate,
  setCallerCheck,
} from "../../store/mod.ts";
import { type GatewayHarness, startGateway } from "../gateway/server_harness.ts";
import {
  signLikeTwilio,
  TwilioStreamClient,
  twimlParameters,
} from "../gateway/fixtures/twilio_stream_client.ts";
import { FakeStt, FakeTts, FakeVad } from "../pipeline/_fakes.ts";

const TOKEN = "twilio-test-auth-token-0123456789";
const PUBLIC = "https://tom.praxis.example";
const PATIENT = "+4930123456";
const HEALTH = "Insulin-MARKER-7Q3";
const NEW_FACT = "Neuer-Fakt-MARKER-K9";

/** An OpenAI-compatible chat server that answers one short sentence and records every request body. */
function llmStandIn() {
  const bodies: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    bodies.push(await req.text());
    const chunk = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
    const sse = chunk({ choices: [{ index: 0, delta: { content: "Gern, ich notiere das." } }] }) +
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) + "data: [DONE]\n\n";
    return new Response(sse, { headers: { "content-type": "text/event-stream" } });
  });
  return { bodies, url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

async function until(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setup() {
  const llm = llmStandIn();
  const dir = await Deno.makeTempDir({ prefix: "tom-identity-" });
  const keyring = await TranscriptKeyring.open(join(dir, "transcripts.key"));
  // One utterance per call: what the caller asks after the check (scripted STT).
  const stt = new FakeStt([]);
  const answerer: { inner?: Answerer } = {};
  const phraseMarks: string[] = [];
  const gw: GatewayHarness = await startGateway({
    // TOM's phrase marks, as the pipeline hands them to the Twilio transport (which renames them m1, m2...).
    answer: (ctx) => {
      const output = ctx.output;
      const mark = output.mark.bind(output);
      output.mark = (name: string) => {
        phraseMarks.push(name);
        mark(name);
      };
      if (!answerer.inner) throw new Error("the answerer is not ready");
      return answerer.inner(ctx);
    },
    env: { TOM_TWILIO_PUBLIC_URL: PUBLIC, TOM_TWILIO_AUTH_TOKEN: TOKEN },
    transports: [(app, deps, guard) => mountTwilio(app, deps, guard)],
  });
  const tts = new FakeTts();
  const phrases = new PhraseCache(tts);
  for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(160));
  answerer.inner = pipelineAnswerer({
    stt,
    llm: new OpenAiChatLlm({ url: llm.url, model: "tom" }),
    tts,
    vad: () => new FakeVad(),
    log: silentLogger,
    store: gw.store,
    keyring,
    phrases,
    options: { minSpeechMs: 60, endOfTurnSilenceMs: 300, tickMs: 10, ratingWaitMs: 2_000 },
  });
  const accountId = defaultAccountId(gw.store);
  const person = createPerson(gw.store, accountId, {
    kind: "patient",
    displayName: "Erika Mustermann",
    phoneE164: PATIENT,
    consentTranscript: true,
  });
  saveMemory(gw.store, accountId, person.id, { health_notes: [HEALTH], facts: ["Hat einen Hund"] }, 0);
  setBirthDate(gw.store, keyring, accountId, person.id, "1950-03-01");
  setCallerCheck(gw.store, accountId, { method: "birth_date", maxAttempts: 3 });
  return {
    gw,
    llm,
    stt,
    keyring,
    accountId,
    person,
    phraseMarks,
    async close() {
      await gw.close();
      await llm.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** One call from the patient's number: the check keyed as `entries`, then one request spoken. */
async function call(t: Setup, entries: string[]): Promise<{ callId: string; prompts: string[] }> {
  const before = t.llm.bodies.length;
  t.stt.texts.push("Ich brauche ein neues Rezept.");
  const callSid = "CA" + crypto.randomUUID().replaceAll("-", "");
  const params = { CallSid: callSid, AccountSid: "AC" + "2".repeat(32), From: PATIENT, To: "+4989765432" };
  const res = await fetch(`${t.gw.http}/twilio/voice`, {
    method: "POST",
    body: new URLSearchParams(params).toString(),
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Twilio-Signature": signLikeTwilio(TOKEN, PUBLIC + "/twilio/voice", params),
    },
  });
  assert.equal(res.status, 200);
  const client = new TwilioStreamClient(`${t.gw.ws}/twilio/stream`, {
    callSid,
    headers: { "X-Twilio-Signature": signLikeTwilio(TOKEN, "wss://tom.praxis.example/twilio/stream") },
  });
  await client.opened;
  client.connected();
  client.start(twimlParameters(await res.text()));
  t.phraseMarks.length = 0;
  const said = (phrase: string) => t.phraseMarks.filter((n) => n.startsWith(`tom:p:${phrase}:`)).length;
  await until(() => said("askBirthDate") === 1, "the question for the date of birth");
  for (const [i, entry] of entries.entries()) {
    for (const digit of entry) client.dtmf(digit);
    const last = i === entries.length - 1;
    const next = entry === "01031950" ? "identityConfirmed" : last ? "identityFailed" : "askIdentityAgain";
    await until(() => said(next) >= (next === "askIdentityAgain" ? i + 1 : 1), next);
  }
  // The request, spoken: 600 ms of speech and a pause (the VAD stand-in hears loud frames as speech).
  const speech = encodeMulaw(tone(440, 12_000, 600, 8000));
  const quiet = encodeMulaw(new Int16Array(8000 * 0.02));
  client.mediaMulaw(speech);
  // Then silence, as a phone line sends it, until the turn is stored (the transcript the analysis reads).
  const callId = listCalls(t.gw.store, t.accountId, { limit: 1 })[0].id;
  const stored = async () => (await readTranscript(t.gw.store, t.keyring, t.accountId, callId)).length > 0;
  const deadline = Date.now() + 15_000;
  while (!(t.llm.bodies.length > before && await stored())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the LLM request and the stored turn");
    client.mediaMulaw(quiet);
    await new Promise((r) => setTimeout(r, 20));
  }
  client.stop();
  client.close();
  await client.closed;
  const prompts = t.llm.bodies.slice(before).map((b) =>
    (JSON.parse(b) as { messages: { content: string }[] }).messages.map((m) => m.content).join("\n")
  );
  return { callId, prompts };
}

/** The after-call analysis as the appliance's worker runs it, with a scripted JSON answer. */
async function analyse(t: Setup, callId: string): Promise<void> {
  await until(() => {
    const c = listCalls(t.gw.store, t.accountId, { limit: 1 })[0];
    return c.id === callId && c.status !== "active";
  }, "the end of the call");
  enqueueAnalysis(t.gw.store, t.accountId, callId);
  const worker = new AnalysisWorker(t.gw.store, {
    chat: () =>
      Promise.resolve(JSON.stringify({
        sentiment: "positiv",
        score: 50,
        confidence: 80,
        reason: "Rezept erbeten.",
        summary: ["Rezept erbeten"],
        memory: {
          facts: [NEW_FACT],
          preferences: [],
          important_people: [],
          recent_topics: ["Rezept"],
          health_notes: [],
          mood: "ruhig",
        },
      })),
    loadTranscript: async (a, c) =>
      (await readTranscript(t.gw.store, t.keyring, a, c)).map((l) => ({ speaker: l.speaker, text: l.text })),
  });
  await worker.analyze(t.accountId, callId);
}

Deno.test({
  name:
    "Twilio: a caller whose number matches a patient gets no health data until the date of birth is keyed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const t = await setup();
    try {
      // 1. Three wrong dates: TOM goes on politely without the patient's data.
      const unverified = await call(t, ["01011960", "02031950", "01031951"]);
      assert.ok(unverified.prompts.length > 0);
      for (const p of unverified.prompts) {
        assert.ok(!p.includes(HEALTH), "no health data in the LLM request of an unverified caller");
        assert.ok(!p.includes("Mustermann"), "at most the first name");
        assert.ok(!p.includes("Hund"), "no memory at all");
      }
      assert.match(unverified.prompts[0], /vermutlich Erika \(nur an der Rufnummer erkannt/);
      assert.equal(getCallIdentity(t.gw.store, t.accountId, unverified.callId), "number_match");
      const memoryBefore = getMemory(t.gw.store, t.accountId, t.person.id);
      await analyse(t, unverified.callId);
      assert.deepEqual(getAnalysis(t.gw.store, t.accountId, unverified.callId)?.summary, ["Rezept erbeten"]);
      assert.deepEqual(getMemory(t.gw.store, t.accountId, t.person.id), memoryBefore, "memory unchanged");

      // 2. The right date, keyed TTMMJJJJ after one wrong try: memory in the prompt, merged afterwards.
      const verified = await call(t, ["01011960", "01031950"]);
      assert.ok(verified.prompts.every((p) => p.includes(HEALTH)), "memory in every request after the check");
      assert.equal(getCallIdentity(t.gw.store, t.accountId, verified.callId), "verified");
      await analyse(t, verified.callId);
      const after = getMemory(t.gw.store, t.accountId, t.person.id);
      assert.ok(JSON.stringify(after?.memory).includes(NEW_FACT), "the analysis is merged");
      assert.ok(JSON.stringify(after?.memory).includes(HEALTH));

      // Every attempt audited, without the digits.
      const audit = listAudit(t.gw.store, t.accountId, { limit: 50 })
        .filter((e) => e.action === "call.identity_check");
      assert.equal(audit.length, 5);
      assert.deepEqual(audit.map((e) => e.detail.ok).filter((ok) => ok === true).length, 1);
      const text = JSON.stringify(audit);
      for (const d of ["01011960", "1950", "01031951"]) {
        assert.ok(!text.includes(d), "no digits in the audit");
      }
      console.log(
        `LLM requests captured: unverified ${unverified.prompts.length}, verified ${verified.prompts.length}`,
      );
    } finally {
      await t.close();
    }
  },
});
