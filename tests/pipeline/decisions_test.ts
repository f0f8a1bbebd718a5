/**
 * What the operator sees in the log when TOM does not answer: one line per caller utterance with its
 * length, the transcript's length and the decision (answered, empty transcript, noise, backchannel,
 * ...), never the caller's words. First the decision table on the pure state machine, then the log
 * lines of a real PipelineCall (fake engines) whose STT hears nothing in the first utterance.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../infra/log.ts";
import { PipelineCall } from "../../pipeline/call_pipeline.ts";
import { resolvePipelineOptions } from "../../pipeline/defaults.ts";
import { utteranceDecision, type UtteranceInput } from "../../pipeline/decisions.ts";
import { PhraseCache } from "../../pipeline/phrases.ts";
import { type CallInput, type CallState, initialState, transition } from "../../pipeline/state.ts";
import { type PhraseName, PHRASES } from "../../pipeline/texts.ts";
import { Caller, fakeContext, FakeLlm, FakeOutput, FakeStt, FakeTts, FakeVad, until } from "./_fakes.ts";

const OPTS = { silenceRepromptMs: 8_000, maxReprompts: 1, maxCallMs: 600_000, retries: 1 };

function run(inputs: CallInput[], opts = {}): CallState {
  let s = initialState(0);
  for (const i of inputs) s = transition(s, i, { ...OPTS, ...opts }).state;
  return s;
}

const listening: CallInput[] = [
  { type: "start", at: 0 },
  { type: "phrase_played", at: 3000, phrase: "greeting" },
  { type: "speech_start", at: 4000 },
  { type: "speech_end", at: 5000, utterance: 1 },
];
const speaking: CallInput[] = [
  ...listening,
  { type: "transcript", at: 5300, utterance: 1, text: "Ich brauche einen Termin." },
  { type: "reply_audio", at: 5800, turn: 1 },
  { type: "speech_start", at: 6000 },
  { type: "speech_end", at: 6300, utterance: 2 },
];
const twoPending: CallInput[] = [
  ...listening,
  { type: "speech_start", at: 5100 },
  { type: "speech_end", at: 5600, utterance: 2 },
];

/** [what, inputs before, the input, extra machine options, expected decision, answer turn]. */
const TABLE: [string, CallInput[], UtteranceInput, object, string, number | undefined][] = [
  ["words are answered", listening, tr(1, "Ich brauche einen Termin."), {}, "answered", 1],
  ["nothing heard", listening, tr(1, "  "), {}, "empty_transcript", undefined],
  ["more still being transcribed", twoPending, tr(1, "Ich brauche"), {}, "held", undefined],
  ["goodbye", listening, tr(1, "Tschüss"), {}, "farewell", undefined],
  ["goodbye with the rating", listening, tr(1, "Tschüss"), { askRating: true }, "farewell", undefined],
  ["'ja' while TOM speaks", speaking, tr(2, "ja"), {}, "backchannel", undefined],
  ["words while TOM speaks", speaking, tr(2, "Nein, am Dienstag"), {}, "barge_in", 2],
  ["STT failed", listening, { type: "stt_failed", at: 5300, utterance: 1 }, {}, "stt_failed", undefined],
  ["an utterance not awaited", listening, tr(9, "Hallo"), {}, "stale", undefined],
];

function tr(utterance: number, text: string): UtteranceInput {
  return { type: "transcript", at: 6500, utterance, text };
}

for (const [what, before, input, opts, decision, answerTurn] of TABLE) {
  Deno.test(`utterance decision: ${what} -> ${decision}`, () => {
    const s = run(before, opts);
    const { effects } = transition(s, input, { ...OPTS, ...opts });
    const d = utteranceDecision(s, input, effects);
    assert.equal(d.decision, decision);
    assert.equal(d.answerTurn, answerTurn);
  });
}

Deno.test("the log says why an utterance was not answered, with lengths only, never the words", async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ salt: "s", level: "debug", sink: (l) => lines.push(JSON.parse(l)) });
  const out = new FakeOutput();
  const ac = new AbortController();
  const stt = new FakeStt(["", "Ich brauche einen Termin am Montag."]);
  const tts = new FakeTts();
  const phrases = new PhraseCache(tts);
  for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(1600));
  const call = new PipelineCall({ ...fakeContext(out, ac), log: log.child({ call_id: "call-1" }) }, {
    stt,
    llm: new FakeLlm(["Gern. Wann passt es Ihnen?"]),
    tts,
    vad: () => new FakeVad(),
    phrases,
    options: resolvePipelineOptions({ minSpeechMs: 60, endOfTurnSilenceMs: 300, tickMs: 10 }),
    systemPrompt: () => "Du bist Tom.",
  });
  out.handler = call;
  const caller = new Caller(call);
  try {
    call.handle({
      type: "start",
      callId: "call-1",
      transport: "browser",
      direction: "inbound",
      peerRate: 16000,
      meta: {},
    });
    await until(() => out.pendingMarks.length === 1, "greeting mark");
    out.play();
    caller.frames(20, true); // a click: shorter than minSpeechMs
    caller.frames(200, false);
    caller.say(600); // STT hears nothing
    const decided = () => lines.filter((l) => l.message === "caller utterance decided");
    await until(() => decided().length === 1, "the first decision");
    caller.say(800); // answered
    await until(() => decided().length === 2, "the second decision");
    const noise = lines.find((l) => l.message === "caller sound ignored as noise");
    assert.ok(noise, "the click is logged as noise");
    assert.equal(noise.level, "debug");
    assert.ok((noise.sound_ms as number) < 60 && noise.min_speech_ms === 60);
    const [first, second] = decided();
    assert.equal(first.level, "info");
    assert.equal(first.call_id, "call-1");
    assert.equal(first.decision, "empty_transcript");
    assert.equal(first.transcript_chars, 0);
    assert.equal(first.answer_turn, undefined);
    assert.ok((first.utterance_ms as number) >= 600, `utterance_ms ${first.utterance_ms}`);
    assert.ok(typeof first.stt_ms === "number");
    assert.equal(second.decision, "answered");
    assert.equal(second.answer_turn, 1);
    assert.equal(second.transcript_chars, "Ich brauche einen Termin am Montag.".length);
    assert.ok((second.utterance_ms as number) > (first.utterance_ms as number));
    const ended = lines.filter((l) => l.message === "caller utterance ended");
    assert.deepEqual(ended.map((l) => [l.level, l.utterance]), [["debug", 1], ["debug", 2]]);
    const text = JSON.stringify(lines);
    for (const w of ["Termin", "Montag", "Gern"]) assert.ok(!text.includes(w), `"${w}" is in the log`);
  } finally {
    call.handle({ type: "stop", reason: "test over" });
  }
});
