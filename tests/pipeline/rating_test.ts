// The end of a call: a caller's goodbye leads to the rating question (learning loop on) or a goodbye,
// the answer (spoken or by key) closes the call; the call's summary reports how it ended and what it used.
import assert from "node:assert/strict";
import { type CallSummary, PipelineCall, type RatingDialogue } from "../../pipeline/call_pipeline.ts";
import { resolvePipelineOptions } from "../../pipeline/defaults.ts";
import { PhraseCache } from "../../pipeline/phrases.ts";
import { type CallState, initialState, type MachineOptions, transition } from "../../pipeline/state.ts";
import { isFarewell, type PhraseName, PHRASES } from "../../pipeline/texts.ts";
import { countRepeats } from "../../pipeline/call_pipeline.ts";
import { createRatingDialogue } from "../../pipeline/rating/closing.ts";
import { Caller, fakeContext, FakeLlm, FakeOutput, FakeStt, FakeTts, FakeVad, until } from "./_fakes.ts";

const M: MachineOptions = {
  silenceRepromptMs: 8000,
  maxReprompts: 1,
  maxCallMs: 900_000,
  retries: 1,
  ratingWaitMs: 5000,
  askRating: true,
};

Deno.test("farewells are recognised; requests that merely contain one are not", () => {
  for (
    const t of [
      "Tschüss!",
      "Danke, das war's.",
      "Das wäre alles, danke",
      "Auf Wiederhören",
      "Okay, dann auf Wiedersehen",
      "Schönen Tag noch!",
      "Mehr wollte ich nicht, danke.",
      "Gut, ich lege jetzt auf.",
    ]
  ) assert.ok(isFarewell(t), t);
  for (
    const t of [
      "Ich brauche einen Termin",
      "ja",
      "",
      "Ich wollte fragen ob ich morgen früh noch vorbeikommen kann bevor ich tschüss sage",
      "Was ist das?",
    ]
  ) assert.ok(!isFarewell(t), t);
});

function listening(): CallState {
  return { ...initialState(0), phase: "listening", stt: [1] };
}

Deno.test("state: a goodbye starts the rating dialogue instead of an answer", () => {
  const r = transition(listening(), { type: "transcript", at: 100, utterance: 1, text: "Tschüss!" }, M);
  assert.equal(r.state.phase, "rating");
  assert.deepEqual(r.effects, [{ type: "rating", event: { type: "start" } }]);
});

Deno.test("state: without the learning loop a goodbye gets a goodbye phrase and the call closes", () => {
  const r = transition(listening(), { type: "transcript", at: 100, utterance: 1, text: "Tschüss!" }, {
    ...M,
    askRating: false,
  });
  assert.equal(r.state.phase, "closing");
  assert.deepEqual(r.effects, [{ type: "say", phrase: "goodbyeCaller" }]);
  const end = transition(r.state, { type: "phrase_played", at: 900, phrase: "goodbyeCaller" }, M);
  assert.deepEqual(end.effects.map((e) => e.type), ["hangup", "end"]);
});

Deno.test("state: in the rating phase words and keys go to the dialogue, silence after the question times out", () => {
  let s = transition(listening(), { type: "transcript", at: 100, utterance: 1, text: "Tschüss" }, M).state;
  s = transition(s, { type: "rating_said", at: 100, phrase: "ratingQuestion", done: false }, M).state;
  // While the question plays, no timeout.
  assert.deepEqual(transition(s, { type: "tick", at: 20_000 }, M).effects, []);
  s = transition(s, { type: "phrase_played", at: 6000, phrase: "ratingQuestion" }, M).state;
  assert.deepEqual(transition(s, { type: "tick", at: 10_000 }, M).effects, []);
  assert.deepEqual(transition(s, { type: "tick", at: 11_000 }, M).effects, [
    { type: "rating", event: { type: "timeout" } },
  ]);
  assert.deepEqual(transition(s, { type: "dtmf", at: 7000, digit: "4" }, M).effects, [
    { type: "rating", event: { type: "dtmf", digit: "4" } },
  ]);
  const spoke = transition(s, { type: "speech_end", at: 7000, utterance: 2 }, M);
  assert.deepEqual(spoke.effects, [{ type: "transcribe", utterance: 2 }]);
  const heard = transition(spoke.state, { type: "transcript", at: 7500, utterance: 2, text: "fünf" }, M);
  assert.deepEqual(heard.effects, [{ type: "rating", event: { type: "transcript", text: "fünf" } }]);
  // No reply is ever started in the rating phase.
  assert.ok(!heard.effects.some((e) => e.type === "reply"));
  const done = transition(
    heard.state,
    { type: "rating_said", at: 7600, phrase: "ratingThanks", done: true },
    M,
  );
  assert.equal(done.state.phase, "closing");
  const end = transition(done.state, { type: "phrase_played", at: 9000, phrase: "ratingThanks" }, M);
  assert.deepEqual(end.effects.map((e) => e.type), ["hangup", "end"]);
});

Deno.test("repeats: nearly the same words again count, different turns and one-word turns do not", () => {
  assert.equal(countRepeats(["Ich brauche einen Termin", "ich brauche einen Termin bitte"]), 1);
  assert.equal(countRepeats(["Ich brauche einen Termin", "Am Montag um zehn"]), 0);
  assert.equal(countRepeats(["ja", "ja"]), 0);
  assert.equal(countRepeats([]), 0);
});

function setup(texts: string[], rating?: () => RatingDialogue) {
  const out = new FakeOutput();
  const ac = new AbortController();
  const tts = new FakeTts();
  const phrases = new PhraseCache(tts);
  for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(1600));
  const summaries: CallSummary[] = [];
  const call = new PipelineCall(fakeContext(out, ac), {
    stt: new FakeStt(texts),
    llm: new FakeLlm(["Gern. Wann passt es Ihnen?"]),
    tts,
    vad: () => new FakeVad(),
    phrases,
    options: resolvePipelineOptions({
      minSpeechMs: 60,
      endOfTurnSilenceMs: 300,
      bargeInMinMs: 400,
      // One scripted transcript per utterance: no extra STT of barge-in words (speculation_test.ts).
      bargeInProbeMs: 0,
      tickMs: 10,
      ratingWaitMs: 600,
    }),
    systemPrompt: () => "Du bist Tom.",
    rating,
    onEnd: (s) => void summaries.push(s),
  });
  out.handler = call;
  out.autoPlay = true;
  call.handle({
    type: "start",
    callId: "call-1",
    transport: "browser",
    direction: "inbound",
    peerRate: 16000,
    meta: {},
  });
  return { out, call, caller: new Caller(call), summaries, ac };
}

const phrasesSaid = (out: FakeOutput) =>
  out.log.flatMap((r) => (r.kind === "mark" && r.name.startsWith("tom:p:") ? [r.name.split(":")[2]] : []));

Deno.test("call: a question answered, goodbye, rating by key, thanks, hang-up; the summary says so", async () => {
  let dialogue: ReturnType<typeof createRatingDialogue> | undefined;
  const t = setup(
    ["Ich brauche einen Termin.", "Danke, das war's."],
    () => (dialogue = createRatingDialogue()),
  );
  await until(() => phrasesSaid(t.out).includes("greeting"), "greeting");
  t.caller.say(600);
  await until(() => t.out.events().some((e) => e.type === "turn_end"), "turn end");
  t.caller.say(600);
  await until(() => phrasesSaid(t.out).includes("ratingQuestion"), "rating question");
  assert.equal(t.call.state.phase, "rating");
  t.call.handle({ type: "dtmf", digit: "4" });
  await until(() => t.out.log.some((r) => r.kind === "hangup"), "hang-up");
  assert.deepEqual(phrasesSaid(t.out), ["greeting", "ratingQuestion", "ratingThanks"]);
  assert.equal(dialogue?.state.result?.rating, 4);
  assert.equal(dialogue?.state.source, "dtmf");
  t.call.handle({ type: "stop", reason: "hung up" });
  await until(() => t.summaries.length === 1, "summary");
  const s = t.summaries[0];
  assert.equal(s.ending, "farewell");
  assert.equal(s.ratingAsked, true);
  assert.equal(s.turns, 1);
  assert.equal(s.bargeIns, 0);
  assert.ok(s.usage.audioInSeconds >= 2.4, `audio in ${s.usage.audioInSeconds}`);
  assert.ok(s.usage.audioOutSeconds > 0);
  assert.equal(s.usage.requests.stt, 2);
  assert.equal(s.usage.requests.llm, 1);
  assert.ok(s.usage.requests.tts >= 1);
});

Deno.test("call: a spoken rating while the question still plays stops the question and is taken", async () => {
  let dialogue: ReturnType<typeof createRatingDialogue> | undefined;
  const t = setup(["Tschüss", "vier Komma fünf"], () => (dialogue = createRatingDialogue()));
  await until(() => phrasesSaid(t.out).includes("greeting"), "greeting");
  t.caller.say(600);
  await until(() => phrasesSaid(t.out).includes("ratingQuestion"), "rating question");
  t.out.autoPlay = false; // the question is still playing
  await new Promise((r) => setTimeout(r, 20));
  t.caller.say(500);
  await until(() => phrasesSaid(t.out).includes("ratingThanks"), "thanks");
  assert.ok(t.out.log.some((r) => r.kind === "clear"), "the question was flushed");
  assert.equal(dialogue?.state.result?.value, 4.5);
  t.out.play();
  t.out.play();
  await until(() => t.out.log.some((r) => r.kind === "hangup"), "hang-up");
  t.call.handle({ type: "stop", reason: "hung up" });
  await until(() => t.summaries.length === 1, "summary");
  assert.equal(t.summaries[0].turns, 0);
});

Deno.test("call: silence after the question ends politely without a rating", async () => {
  let dialogue: ReturnType<typeof createRatingDialogue> | undefined;
  const t = setup(["Auf Wiederhören"], () => (dialogue = createRatingDialogue()));
  await until(() => phrasesSaid(t.out).includes("greeting"), "greeting");
  t.caller.say(600);
  await until(() => t.out.log.some((r) => r.kind === "hangup"), "hang-up", 10_000);
  assert.deepEqual(phrasesSaid(t.out), ["greeting", "ratingQuestion", "ratingGoodbye"]);
  assert.equal(dialogue?.state.result, null);
  assert.equal(dialogue?.state.source, "none");
  t.call.handle({ type: "stop", reason: "hung up" });
});

Deno.test("call: a caller who hangs up mid-conversation ends as hangup, with no question asked", async () => {
  const t = setup(["Ich brauche einen Termin."], () => createRatingDialogue());
  await until(() => phrasesSaid(t.out).includes("greeting"), "greeting");
  t.call.handle({ type: "stop", reason: "peer hung up" });
  await until(() => t.summaries.length === 1, "summary");
  assert.equal(t.summaries[0].ending, "hangup");
  assert.equal(t.summaries[0].ratingAsked, false);
});
