import assert from "node:assert/strict";
import { PipelineCall } from "../../pipeline/call_pipeline.ts";
import { resolvePipelineOptions } from "../../pipeline/defaults.ts";
import { PhraseCache } from "../../pipeline/phrases.ts";
import { type PhraseName, PHRASES } from "../../pipeline/texts.ts";
import type { PipelineMetrics } from "../../pipeline/metrics.ts";
import { Caller, fakeContext, FakeLlm, FakeOutput, FakeStt, FakeTts, FakeVad, until } from "./_fakes.ts";

interface Recorded {
  stages: string[];
  handovers: string[];
  bargeIns: number;
  errors: string[];
  turns: string[];
}

function setup(o: { texts?: string[]; answers?: string[]; options?: Record<string, number> } = {}) {
  const out = new FakeOutput();
  const ac = new AbortController();
  const stt = new FakeStt(o.texts ?? ["Ich brauche einen Termin."]);
  const llm = new FakeLlm(o.answers ?? ["Gern. Wann passt es Ihnen?"]);
  const tts = new FakeTts();
  const vad = new FakeVad();
  const phrases = new PhraseCache(tts);
  for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(1600));
  const rec: Recorded = { stages: [], handovers: [], bargeIns: 0, errors: [], turns: [] };
  const metrics: PipelineMetrics = {
    stage: (s) => rec.stages.push(s),
    handover: (h) => rec.handovers.push(h),
    bargeIn: () => rec.bargeIns++,
    queueWait: () => {},
    engineError: (e) => rec.errors.push(`${e.engine}:${e.kind}`),
    turn: (t) => rec.turns.push(t),
  };
  const turns: { turn: number; callerText: string; assistantText: string; interrupted: boolean }[] = [];
  const call = new PipelineCall(fakeContext(out, ac), {
    stt,
    llm,
    tts,
    vad: () => vad,
    phrases,
    options: resolvePipelineOptions({
      minSpeechMs: 60,
      endOfTurnSilenceMs: 300,
      bargeInMinMs: 400,
      tickMs: 10,
      sttTimeoutMs: 300,
      llmFirstTokenTimeoutMs: 300,
      llmTokenGapMs: 300,
      ttsTimeoutMs: 300,
      retryDelayMs: 20,
      ...o.options,
    }),
    metrics,
    systemPrompt: () => "Du bist Tom.",
    onTurn: (t) => void turns.push(t),
  });
  out.handler = call;
  const caller = new Caller(call);
  return { out, ac, stt, llm, tts, vad, call, caller, rec, turns };
}

async function greetAndAsk(t: ReturnType<typeof setup>) {
  t.call.handle({
    type: "start",
    callId: "call-1",
    transport: "browser",
    direction: "inbound",
    peerRate: 16000,
    meta: {},
  });
  await until(() => t.out.pendingMarks.length === 1, "greeting mark");
  t.out.play();
  assert.equal(t.call.state.phase, "listening");
  t.caller.say(600);
  await until(() => t.call.state.phase === "speaking", "speaking");
  await until(() => t.out.pendingMarks.some((m) => m.startsWith("tom:r:1:")), "reply end mark");
}

const stop = (t: ReturnType<typeof setup>) => t.call.handle({ type: "stop", reason: "test over" });

Deno.test("a turn: greeting, vad, transcript, tokens, audio, turn_end in order", async () => {
  const t = setup();
  await greetAndAsk(t);
  t.out.play();
  await until(() => t.call.state.phase === "listening", "listening again");
  const types = t.out.types().filter((x) => x !== "audio");
  let at = 0;
  for (const x of ["vad", "stt_final", "llm_token", "tts_audio", "turn_end"]) {
    const i = types.indexOf(x, at);
    assert.ok(i >= at, `${x} after position ${at} in ${types.join(",")}`);
    at = i + 1;
  }
  assert.equal(types[0], "tts_audio", "the greeting is spoken first");
  const final = t.out.events().find((e) => e.type === "stt_final");
  assert.deepStrictEqual(final && final.type === "stt_final" ? final.text : "", "Ich brauche einen Termin.");
  assert.deepStrictEqual(t.tts.texts, ["Gern.", "Wann passt es Ihnen?"]);
  assert.ok(t.out.log.filter((r) => r.kind === "audio").length >= 3);
  assert.deepStrictEqual(t.turns.map((x) => [x.callerText, x.assistantText, x.interrupted]), [
    ["Ich brauche einen Termin.", "Gern. Wann passt es Ihnen?", false],
  ]);
  const end = t.out.events().find((e) => e.type === "turn_end");
  assert.ok(end?.type === "turn_end" && end.latencies.voice_to_voice !== undefined);
  for (const s of ["stt", "llm_first_token", "first_sentence", "tts_first_audio", "first_audio_out"]) {
    assert.ok(t.rec.stages.includes(s), s);
  }
  assert.ok(t.rec.handovers.includes("sentence_to_tts") && t.rec.handovers.includes("tts_to_output"));
  // The system prompt and the caller's words went to the LLM.
  assert.deepStrictEqual(t.llm.requests[0].map((m) => m.role), ["system", "user"]);
  stop(t);
});

Deno.test("barge-in: long speech while TOM speaks flushes playback, keeps what was heard, listens on", async () => {
  const t = setup({
    texts: ["Ich brauche einen Termin.", "Nein, am Dienstag."],
    answers: ["Gern. Wann passt es?", "Gut."],
  });
  await greetAndAsk(t);
  // Fake TTS makes 10 ms per character: "Gern." (50 ms) was played, "Wann passt es?" (140 ms) is queued.
  t.out.queuedMs = 140;
  t.caller.frames(600, true);
  await until(() => t.out.types().includes("clear"), "clear");
  const barge = t.out.events().find((e) => e.type === "barge_in");
  assert.ok(barge && barge.type === "barge_in");
  assert.equal(t.call.state.phase, "listening");
  assert.equal(t.rec.bargeIns, 1);
  assert.deepStrictEqual(t.turns[0].interrupted, true);
  assert.equal(t.turns[0].assistantText, "Gern.");
  assert.equal(barge.heardText, "Gern.");
  // TOM keeps listening and answers the interruption.
  t.caller.frames(400, false);
  await until(() => t.turns.length === 1 && t.llm.requests.length === 2, "second request");
  const second = t.llm.requests[1];
  assert.equal(second.at(-1)?.content, "Nein, am Dienstag.");
  assert.deepStrictEqual(second.filter((m) => m.role === "assistant").map((m) => m.content), ["Gern."]);
  stop(t);
});

Deno.test("a backchannel while TOM speaks does not interrupt it", async () => {
  const t = setup({ texts: ["Ich brauche einen Termin.", "mhm"] });
  await greetAndAsk(t);
  t.caller.say(200, 400);
  await until(() => t.stt.calls.length === 2, "backchannel transcribed");
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(!t.out.types().includes("clear"));
  assert.equal(t.call.state.phase, "speaking");
  assert.ok(!t.out.events().some((e) => e.type === "stt_final" && e.text === "mhm"));
  t.out.play();
  await until(() => t.call.state.phase === "listening", "answer finished");
  stop(t);
});

Deno.test("an LLM that hangs: apology within the deadline, then the retry answers", async () => {
  const t = setup({ answers: ["Gern geschehen."] });
  t.llm.behaviours = ["hang"];
  await greetAndAsk(t);
  assert.equal(t.llm.aborted, 1);
  const said = t.out.log.filter((r) => r.kind === "mark").map((r) => r.kind === "mark" ? r.name : "");
  assert.ok(said.some((m) => m.startsWith("tom:p:apology:")), said.join(","));
  assert.deepStrictEqual(t.rec.errors, ["llm:timeout"]);
  assert.equal(t.llm.requests.length, 2);
  assert.ok(t.out.events().some((e) => e.type === "error" && e.code === "llm_timeout"));
  stop(t);
});

for (const engine of ["stt", "llm", "tts"] as const) {
  Deno.test(`${engine} failing twice: apology, then a callback offer and a polite hang-up`, async () => {
    const t = setup();
    t[engine].behaviours = engine === "stt" ? ["throw", "error"] : ["error", "throw"];
    t.call.handle({
      type: "start",
      callId: "c",
      transport: "browser",
      direction: "inbound",
      peerRate: 16000,
      meta: {},
    });
    await until(() => t.out.pendingMarks.length === 1, "greeting");
    t.out.play();
    t.caller.say(600);
    await until(() => t.call.state.phase === "closing", "closing");
    const marks = t.out.log.flatMap((r) => (r.kind === "mark" ? [r.name.split(":")[2]] : []));
    assert.deepStrictEqual(marks.filter((m) => m !== "1"), ["greeting", "apology", "callbackOffer"]);
    t.out.play();
    await until(() => t.out.types().includes("hangup"), "hangup");
    assert.equal(t.call.state.phase, "ended");
    assert.equal(t.rec.errors.length, 2);
    assert.ok(t.rec.errors.every((e) => e.startsWith(engine)), t.rec.errors.join());
  });
}

Deno.test("silence: re-prompt, then goodbye and hang-up", async () => {
  const t = setup({ options: { silenceRepromptMs: 100 } });
  t.out.autoPlay = true;
  t.call.handle({
    type: "start",
    callId: "c",
    transport: "browser",
    direction: "inbound",
    peerRate: 16000,
    meta: {},
  });
  await until(() => t.out.types().includes("hangup"), "hangup");
  const marks = t.out.log.flatMap((r) => (r.kind === "mark" ? [r.name.split(":")[2]] : []));
  assert.deepStrictEqual(marks, ["greeting", "reprompt", "goodbyeSilence"]);
  assert.equal(t.vad.disposed, true);
});

Deno.test("the caller hanging up mid-answer aborts the engines and ends cleanly", async () => {
  const t = setup({ answers: ["Eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf."] });
  t.call.handle({
    type: "start",
    callId: "c",
    transport: "browser",
    direction: "inbound",
    peerRate: 16000,
    meta: {},
  });
  await until(() => t.out.pendingMarks.length === 1, "greeting");
  t.out.play();
  t.caller.say(600);
  await until(() => t.out.events().some((e) => e.type === "llm_token"), "first token");
  stop(t);
  t.ac.abort();
  await until(() => t.llm.aborted === 1, "llm aborted");
  const n = t.out.log.length;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(t.out.log.length, n, "nothing is sent after the end");
  assert.equal(t.call.state.phase, "ended");
  await until(() => t.vad.disposed, "vad disposed");
});
