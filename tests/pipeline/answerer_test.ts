import assert from "node:assert/strict";
import { silentLogger } from "../../infra/log.ts";
import { createAccount, createCall, openStore, putPractice, type Store } from "../../store/mod.ts";
import { PHRASES, pipelineAnswerer } from "../../pipeline/mod.ts";
import type { PipelineEvent } from "../../gateway/mod.ts";
import { disclosesAi, greetingNames } from "../../pipeline/disclosure.ts";
import { Caller, FakeLlm, FakeStt, FakeTts, FakeVad, greetedCall, silentPhrases, until } from "./_fakes.ts";
import { berlinPractice } from "./_practice.ts";

const NOW = new Date("2026-03-30T08:15:00Z"); // Monday 10:15 in Berlin

async function call(
  store: Store,
  accountId: string,
  answer: ReturnType<typeof pipelineAnswerer>,
  llm: FakeLlm,
) {
  const row = createCall(store, accountId, { direction: "inbound", transport: "browser" });
  const { out, handler, ac } = await greetedCall(answer, { callId: row.id, accountId, personId: null });
  await new Promise((r) => setTimeout(r, 10));
  new Caller(handler).say(600);
  await until(() => out.events().some((e) => e.type === "turn_end"), "turn end");
  handler.handle({ type: "stop", reason: "done" });
  ac.abort();
  const said = out.events().find((e): e is Extract<PipelineEvent, { type: "tts_audio" }> =>
    e.type === "tts_audio"
  );
  return { greeting: String(said?.text), system: llm.requests.at(-1)?.[0].content ?? "" };
}

function setup(withPractice: boolean) {
  const store = openStore(":memory:");
  const account = createAccount(store, { name: "Praxis Weber", kind: "clinical" });
  if (withPractice) putPractice(store, account.id, berlinPractice(), null);
  const tts = new FakeTts();
  const phrases = silentPhrases(tts);
  const llm = new FakeLlm(["Gern.", "Gern."]);
  const answer = pipelineAnswerer({
    stt: new FakeStt(["Wann haben Sie auf?", "Wann haben Sie auf?"]),
    llm,
    tts,
    vad: () => new FakeVad(),
    log: silentLogger,
    store,
    phrases,
    now: () => NOW,
    options: { minSpeechMs: 60, endOfTurnSilenceMs: 300, tickMs: 10 },
  });
  return { store, accountId: account.id, tts, llm, answer };
}

Deno.test("the practice's facts and this moment reach the prompt; the greeting names the practice's AI", async () => {
  const s = setup(true);
  const first = await call(s.store, s.accountId, s.answer, s.llm);
  assert.match(
    first.system,
    /^Du bist Anna, die freundliche KI-Telefonassistenz der Hausarztpraxis Dr\. Weber\./,
  );
  assert.match(first.system, /Fakten zur Praxis[^]*Lindenstraße 5/);
  assert.match(
    first.system,
    /Heute ist Montag, 30\. März 2026, 10:15 Uhr\. Die Praxis ist jetzt geöffnet bis 12:00 Uhr\./,
  );
  // The first call may fall back to the neutral greeting while the practice's one is synthesized.
  assert.ok([PHRASES.greeting, expected].includes(first.greeting), first.greeting);
  await until(() => s.tts.texts.includes(expected), "the practice's greeting synthesized");
  const second = await call(s.store, s.accountId, s.answer, s.llm);
  assert.equal(second.greeting, expected);
  assert.ok(disclosesAi(second.greeting, greetingNames(berlinPractice())));
  s.store.close();
});

const expected = "Guten Tag, hier ist Anna, die KI-Assistenz der Hausarztpraxis Dr. Weber. " +
  "Ihre Anliegen notiere ich für das Praxisteam. Wie kann ich Ihnen helfen?";

Deno.test("without a practice: the neutral disclosed greeting and no facts", async () => {
  const s = setup(false);
  const r = await call(s.store, s.accountId, s.answer, s.llm);
  assert.equal(r.greeting, PHRASES.greeting);
  assert.match(r.greeting, /hier ist TOM, die KI-Assistenz der Praxis\. Ihre Anliegen notiere ich/);
  assert.match(r.system, /^Du bist TOM, die freundliche KI-Telefonassistenz der Praxis\./);
  assert.doesNotMatch(r.system, /Fakten zur Praxis|Heute ist/);
  s.store.close();
});
