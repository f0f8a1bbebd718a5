import assert from "node:assert/strict";

const assertEquals = (a: unknown, b: unknown, msg?: string) => assert.deepStrictEqual(a, b, msg ?? "");
import {
  type CallInput,
  type CallState,
  type Effect,
  initialState,
  type MachineOptions,
  transition,
} from "../../pipeline/state.ts";

const OPTS = { silenceRepromptMs: 8_000, maxReprompts: 1, maxCallMs: 600_000, retries: 1 };

function run(
  inputs: CallInput[],
  from: CallState = initialState(0),
  opts: MachineOptions = OPTS,
): { state: CallState; effects: Effect[] } {
  let state = from;
  const effects: Effect[] = [];
  for (const i of inputs) {
    const r = transition(state, i, opts);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

const greeted: CallInput[] = [{ type: "start", at: 0 }, {
  type: "phrase_played",
  at: 3000,
  phrase: "greeting",
}];
const asked: CallInput[] = [
  ...greeted,
  { type: "speech_start", at: 4000 },
  { type: "speech_end", at: 5000, utterance: 1 },
  { type: "transcript", at: 5300, utterance: 1, text: "Ich brauche einen Termin." },
];
const speaking: CallInput[] = [...asked, { type: "reply_audio", at: 5800, turn: 1 }];

Deno.test("the call greets first, then listens", () => {
  const a = run([{ type: "start", at: 0 }]);
  assertEquals(a.state.phase, "greeting");
  assertEquals(a.effects, [{ type: "say", phrase: "greeting" }]);
  assertEquals(run(greeted).state.phase, "listening");
});

Deno.test("a caller back from a transfer nobody answered: 'niemand erreichbar', then the number dialogue", () => {
  const a = run([{ type: "start", at: 0, returning: true }]);
  assertEquals(a.effects, [
    { type: "say", phrase: "transferFailed" },
    { type: "number", event: { type: "start" }, reason: "transfer" },
  ]);
  assertEquals(a.state.phase, "number");
  assertEquals(a.state.numberReason, "transfer");
  // The caller keys the number: it goes to the dialogue, never to a new transfer (0 is a digit here).
  const b = run([{ type: "dtmf", at: 4000, digit: "0" }], a.state);
  assertEquals(b.effects, [{ type: "number", event: { type: "dtmf", digit: "0" }, reason: "transfer" }]);
  // Done (not closing): the conversation goes on.
  const c = run([{ type: "number_said", at: 9000, speaking: true, done: true, close: false }], b.state);
  assert.notEqual(c.state.phase, "closing");
});

Deno.test("an utterance is transcribed and answered", () => {
  const r = run(asked);
  assertEquals(r.state.phase, "thinking");
  assertEquals(r.effects.slice(1), [
    { type: "transcribe", utterance: 1 },
    { type: "reply", turn: 1, text: "Ich brauche einen Termin.", attempt: 0 },
  ]);
  const s = run(speaking);
  assertEquals(s.state.phase, "speaking");
  const done = transition(s.state, { type: "reply_played", at: 9000, turn: 1 }, OPTS);
  assertEquals(done.state.phase, "listening");
  assertEquals(done.state.quietSince, 9000);
});

Deno.test("long speech while TOM speaks barges in: clear, cancel, barge_in, keep listening", () => {
  const r = run([{ type: "speech_start", at: 6000 }, { type: "speech_long", at: 6500 }], run(speaking).state);
  assertEquals(r.effects, [
    { type: "clear" },
    { type: "cancel_reply", turn: 1 },
    { type: "barge_in", turn: 1, at: 6500 },
  ]);
  assertEquals(r.state.phase, "listening");
  assertEquals(r.state.callerSpeaking, true);
  const next = run([
    { type: "speech_end", at: 7000, utterance: 2 },
    { type: "transcript", at: 7200, utterance: 2, text: "Nein, morgen." },
  ], r.state);
  assertEquals(next.effects.at(-1), { type: "reply", turn: 2, text: "Nein, morgen.", attempt: 0 });
});

Deno.test("a short burst that transcribes to a backchannel does not interrupt TOM", () => {
  for (const word of ["ja", "Mhm.", "genau", "Okay!", "hm", "ja genau"]) {
    const r = run([
      { type: "speech_start", at: 6000 },
      { type: "speech_end", at: 6300, utterance: 2 },
      { type: "transcript", at: 6500, utterance: 2, text: word },
    ], run(speaking).state);
    assertEquals(r.state.phase, "speaking", word);
    assertEquals(r.effects, [{ type: "transcribe", utterance: 2 }], word);
    assertEquals(r.state.probes, []);
  }
});

Deno.test("a short burst with real words interrupts TOM and is answered", () => {
  const r = run([
    { type: "speech_start", at: 6000 },
    { type: "speech_end", at: 6300, utterance: 2 },
    { type: "transcript", at: 6500, utterance: 2, text: "Stopp" },
  ], run(speaking).state);
  assertEquals(r.effects.slice(1), [
    { type: "clear" },
    { type: "cancel_reply", turn: 1 },
    { type: "barge_in", turn: 1, at: 6500 },
    { type: "reply", turn: 2, text: "Stopp", attempt: 0 },
  ]);
});

Deno.test("the caller going on before the answer is audible drops it and answers everything together", () => {
  const r = run([
    { type: "speech_start", at: 5400 },
    { type: "speech_end", at: 6000, utterance: 2 },
    { type: "transcript", at: 6200, utterance: 2, text: "Am Dienstag." },
  ], run(asked).state);
  assertEquals(r.effects, [
    { type: "cancel_reply", turn: 1 },
    { type: "transcribe", utterance: 2 },
    { type: "reply", turn: 2, text: "Ich brauche einen Termin. Am Dienstag.", attempt: 0 },
  ]);
});

Deno.test("silence: one re-prompt, then a polite goodbye and hang-up", () => {
  const a = run([...greeted, { type: "tick", at: 10_000 }, { type: "tick", at: 11_100 }]);
  assertEquals(a.effects, [{ type: "say", phrase: "greeting" }, { type: "say", phrase: "reprompt" }]);
  const b = run(
    [{ type: "phrase_played", at: 13_000, phrase: "reprompt" }, { type: "tick", at: 20_000 }],
    a.state,
  );
  assertEquals(b.effects, []);
  const c = run([{ type: "tick", at: 21_000 }], b.state);
  assertEquals(c.effects, [{ type: "say", phrase: "goodbyeSilence" }]);
  assertEquals(c.state.phase, "closing");
  const d = run([{ type: "phrase_played", at: 25_000, phrase: "goodbyeSilence" }], c.state);
  assertEquals(d.state.phase, "ended");
  assertEquals(d.effects.map((e) => e.type), ["hangup", "end"]);
});

Deno.test("speech resets the re-prompt count", () => {
  const a = run([...greeted, { type: "tick", at: 11_000 }, { type: "speech_start", at: 12_000 }]);
  assertEquals(a.state.reprompts, 0);
});

Deno.test("the maximum call duration ends the call politely, even mid-answer", () => {
  const r = run([{ type: "tick", at: 600_000 }], run(speaking).state);
  assertEquals(r.effects, [
    { type: "cancel_reply", turn: 1 },
    { type: "clear" },
    { type: "say", phrase: "goodbyeMaxDuration" },
  ]);
  assertEquals(r.state.phase, "closing");
});

Deno.test("a failed reply without a store: apology and one retry, then a goodbye that promises nothing", () => {
  const a = run([{ type: "reply_failed", at: 6000, turn: 1 }], run(asked).state);
  assertEquals(a.effects, [
    { type: "say", phrase: "apology" },
    { type: "reply", turn: 1, text: "Ich brauche einen Termin.", attempt: 1 },
  ]);
  const b = run([{ type: "reply_failed", at: 8000, turn: 1 }], a.state);
  assertEquals(b.effects, [{ type: "cancel_reply", turn: 1 }, { type: "say", phrase: "technicalGoodbye" }]);
  assertEquals(b.state.phase, "closing");
  const c = run([{ type: "speech_long", at: 8100 }, {
    type: "phrase_played",
    at: 12_000,
    phrase: "technicalGoodbye",
  }], b.state);
  assertEquals(c.effects.map((e) => e.type), ["hangup", "end"]);
});

const NOTING = { ...OPTS, canNote: true };
const runN = (inputs: CallInput[], from: CallState = initialState(0)) => run(inputs, from, NOTING);

Deno.test("failing engines with a store: TOM asks for the number, notes it, and only then says goodbye", () => {
  const a = runN(
    [{ type: "reply_failed", at: 6000, turn: 1 }, { type: "reply_failed", at: 8000, turn: 1 }],
    run(asked).state,
  );
  assertEquals(a.effects.slice(-2), [
    { type: "cancel_reply", turn: 1 },
    { type: "number", event: { type: "start" }, reason: "failure" },
  ]);
  assertEquals(a.state.phase, "number");
  assert.ok(!a.effects.some((e) => e.type === "say" && e.phrase === "callbackOffer"), "no promise yet");
  // The question is said, the caller keys digits: each key goes to the dialogue.
  const b = runN([
    { type: "number_said", at: 8100, speaking: true, done: false, close: false },
    { type: "phrase_played", at: 11_000, phrase: "askNumber" },
    { type: "dtmf", at: 12_000, digit: "0" },
  ], a.state);
  assertEquals(b.effects, [{ type: "number", event: { type: "dtmf", digit: "0" }, reason: "failure" }]);
  // Noted: the runtime says the read-back, the call closes and hangs up after it.
  const c = runN([
    { type: "request_noted", at: 13_000, callback: true },
    { type: "number_said", at: 13_000, speaking: true, done: true, close: true },
  ], b.state);
  assertEquals(c.state.phase, "closing");
  assertEquals(c.state.callbackNoted, true);
  const d = runN([{ type: "phrase_played", at: 18_000, phrase: "callbackNoted" }], c.state);
  assertEquals(d.effects.map((e) => e.type), ["hangup", "end"]);
});

Deno.test("failing engines after a callback with a number was noted: the callback offer is a kept promise", () => {
  const noted = runN([{ type: "request_noted", at: 5500, callback: true }], run(asked).state);
  const a = runN(
    [{ type: "reply_failed", at: 6000, turn: 1 }, { type: "reply_failed", at: 8000, turn: 1 }],
    noted.state,
  );
  assertEquals(a.effects.slice(-1), [{ type: "say", phrase: "callbackOffer" }]);
  // A request without a callback number does not allow the promise.
  const other = runN([{ type: "request_noted", at: 5500, callback: false }], run(asked).state);
  assertEquals(other.state.callbackNoted, false);
});

Deno.test("a reply whose tool calls need a number or end the call: the machine follows after it played", () => {
  const played = (then: "ask_number" | "end_call") =>
    runN([{ type: "reply_played", at: 9000, turn: 1, then }], run(speaking).state);
  const a = played("ask_number");
  assertEquals(a.state.phase, "number");
  assertEquals(a.effects, [{ type: "number", event: { type: "start" }, reason: "reply" }]);
  // The dialogue done without closing: back to listening, the conversation goes on.
  const b = runN([{ type: "number_said", at: 9500, speaking: true, done: true, close: false }], a.state);
  assertEquals(b.state.phase, "listening");
  const c = played("end_call");
  assertEquals(c.effects, [{ type: "say", phrase: "goodbyeCaller" }]);
  assertEquals(c.state.phase, "closing");
  // In the number phase, the caller's silence goes to the dialogue (it re-asks or gives up).
  const quiet = runN([
    { type: "number_said", at: 9100, speaking: true, done: false, close: false },
    { type: "phrase_played", at: 10_000, phrase: "askNumber" },
    { type: "tick", at: 19_000 },
  ], a.state);
  assertEquals(quiet.effects.at(-1), { type: "number", event: { type: "timeout" }, reason: "reply" });
});

Deno.test("a retry that works resets the failure count for the next turn", () => {
  const a = run([
    { type: "reply_failed", at: 6000, turn: 1 },
    { type: "reply_audio", at: 7000, turn: 1 },
    { type: "reply_played", at: 9000, turn: 1 },
  ], run(asked).state);
  assertEquals(a.state.failures, 0);
  assertEquals(a.state.phase, "listening");
});

Deno.test("a failed transcription is retried once after the apology", () => {
  const base = run([...greeted, { type: "speech_start", at: 4000 }, {
    type: "speech_end",
    at: 5000,
    utterance: 1,
  }]);
  const a = run([{ type: "stt_failed", at: 5500, utterance: 1 }], base.state);
  assertEquals(a.effects, [{ type: "say", phrase: "apology" }, {
    type: "transcribe",
    utterance: 1,
    attempt: 1,
  }]);
  const b = run([{ type: "stt_failed", at: 6500, utterance: 1 }], a.state);
  assertEquals(b.effects, [{ type: "say", phrase: "technicalGoodbye" }]);
});

Deno.test("a hang-up from the caller cancels everything and ends once", () => {
  const r = run([{ type: "hangup", at: 6000, reason: "caller hung up" }], run(speaking).state);
  assertEquals(r.effects, [{ type: "cancel_reply", turn: 1 }, { type: "end", reason: "caller hung up" }]);
  assertEquals(r.state.phase, "ended");
  assertEquals(transition(r.state, { type: "hangup", at: 7000, reason: "again" }, OPTS).effects, []);
});

Deno.test("the machine is pure: the input state is not changed", () => {
  const s = run(speaking).state;
  const copy = structuredClone(s);
  transition(s, { type: "speech_long", at: 1 }, OPTS);
  transition(s, { type: "hangup", at: 1, reason: "x" }, OPTS);
  assertEquals(s, copy);
});
