// Speculative end of turn and barge-in on words, decided with scripted STT and a loudness VAD (fakes).
import assert from "node:assert/strict";
import { PipelineCall } from "../../pipeline/call_pipeline.ts";
import {
  DEFAULT_PIPELINE_OPTIONS,
  type PipelineOptions,
  resolvePipelineOptions,
} from "../../pipeline/defaults.ts";
import { PhraseCache } from "../../pipeline/phrases.ts";
import { type PhraseName, PHRASES } from "../../pipeline/texts.ts";
import type { PipelineMetrics } from "../../pipeline/metrics.ts";
import { TurnDetector, type TurnEvent } from "../../pipeline/turn_detector.ts";
import { HeldOutput } from "../../pipeline/speculation.ts";
import { pipelineOptionsOf } from "../../pipeline/config_options.ts";
import { loadConfig } from "../../infra/config.ts";
import type { NoteRequest } from "../../pipeline/tools.ts";
import { type ScriptedToolAnswer } from "./_fakes.ts";
import { Caller, fakeContext, FakeLlm, FakeOutput, FakeStt, FakeTts, FakeVad, until } from "./_fakes.ts";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(
  texts: string[],
  answers: (string | ScriptedToolAnswer)[],
  options: Partial<PipelineOptions> = {},
) {
  const noted: NoteRequest[] = [];
  const out = new FakeOutput();
  const stt = new FakeStt(texts);
  const llm = new FakeLlm(answers);
  const tts = new FakeTts();
  const phrases = new PhraseCache(tts);
  for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(1600));
  const spec: string[] = [];
  const onset: number[] = [];
  const turns: { callerText: string; assistantText: string; interrupted: boolean }[] = [];
  const metrics: PipelineMetrics = {
    stage: () => {},
    handover: () => {},
    bargeIn: () => {},
    queueWait: () => {},
    engineError: () => {},
    turn: () => {},
    bargeInOnset: (s) => void onset.push(s),
    speculation: (engine, outcome) => void spec.push(`${engine}:${outcome}`),
  };
  const call = new PipelineCall(fakeContext(out), {
    stt,
    llm,
    tts,
    vad: () => new FakeVad(),
    phrases,
    options: resolvePipelineOptions({
      minSpeechMs: 60,
      endOfTurnSilenceMs: 300,
      speculativePauseMs: 100,
      tickMs: 10,
      retryDelayMs: 20,
      ...options,
    }),
    metrics,
    systemPrompt: () => "Du bist Tom.",
    onTurn: (t) => void turns.push(t),
    requests: {
      note: (n: NoteRequest) => {
        noted.push(n);
        return Promise.resolve(`req-${noted.length}`);
      },
    },
  });
  out.handler = call;
  return { out, stt, llm, tts, call, caller: new Caller(call), spec, onset, turns, noted };
}

type Rig = ReturnType<typeof setup>;

async function greet(t: Rig) {
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
}

/** Feed `ms` of frames in 100 ms steps with real time between them (the engines answer meanwhile). */
async function speak(t: Rig, ms: number, loud: boolean) {
  for (let done = 0; done < ms; done += 100) {
    t.caller.frames(Math.min(100, ms - done), loud);
    await wait(15);
  }
}

const ttsTexts = (t: Rig) =>
  t.out.events().flatMap((e) => (e.type === "tts_audio" && e.text ? [e.text] : []));
const sttFinals = (t: Rig) => t.out.events().flatMap((e) => (e.type === "stt_final" ? [e.text] : []));
const stop = (t: Rig) => t.call.handle({ type: "stop", reason: "test over" });

Deno.test("detector: a short pause is reported once, speech after it resumes, the end silence can change", () => {
  const d = new TurnDetector({
    ...DEFAULT_PIPELINE_OPTIONS,
    minSpeechMs: 32,
    speculativePauseMs: 96,
    bargeInProbeMs: 0,
  });
  const feed = (ps: number[], from: number) => ps.flatMap((p, i) => d.push(p, from + i * 32, 32));
  const a = feed([0.9, 0.9, 0.9, 0.01, 0.01, 0.01, 0.01], 0);
  assert.deepStrictEqual(a.map((e) => e.type), ["speech_start", "pause"]);
  assert.equal((a[1] as Extract<TurnEvent, { type: "pause" }>).lastSpeechAt, 96);
  const b = feed([0.9, 0.01, 0.01, 0.01], 224);
  assert.deepStrictEqual(b.map((e) => e.type), ["resume", "pause"]);
  // The words said "complete": 160 ms of silence end the turn instead of 500.
  d.setEndSilence(160);
  const c = feed([0.01, 0.01], 352);
  assert.deepStrictEqual(c.map((e) => e.type), ["speech_end"]);
});

Deno.test("detector: probes every bargeInProbeMs of speech", () => {
  const d = new TurnDetector({
    ...DEFAULT_PIPELINE_OPTIONS,
    minSpeechMs: 32,
    bargeInProbeMs: 256,
    bargeInMinMs: 5000,
  });
  const ev = Array.from({ length: 20 }, (_, i) => d.push(0.9, i * 32, 32)).flat();
  assert.deepStrictEqual(ev.filter((e) => e.type === "probe").map((e) => e.at), [256, 512]);
});

Deno.test("held output: nothing reaches the line before release; dropped work never does", () => {
  const line = new FakeOutput();
  const held = new HeldOutput();
  held.audio(new Int16Array(10));
  held.mark("tom:r:1:1");
  held.event({ type: "say", text: "x" });
  assert.deepStrictEqual(line.log, []);
  held.release(line);
  assert.deepStrictEqual(line.types(), ["audio", "mark", "say"]);
  const dropped = new HeldOutput();
  dropped.audio(new Int16Array(10));
  dropped.drop();
  dropped.release(line);
  assert.equal(line.log.length, 3);
});

Deno.test("the caller speaks on after a pause: the speculative answer never reaches the line or the transcript", async () => {
  const t = setup(
    ["Ich brauche einen Termin.", "Ich brauche einen Termin am Montag."],
    ["Falsche Antwort.", "Montag geht."],
    { endOfTurnSilenceMs: 900, earlyEndSilenceMs: 900, lateEndSilenceMs: 900 },
  );
  await greet(t);
  const before = t.out.log.length;
  await speak(t, 400, true);
  await speak(t, 300, false);
  // TOM started transcribing and answering in the pause; the answer's audio is held back.
  await until(
    () => t.llm.requests.length === 1 && t.tts.texts.includes("Falsche Antwort."),
    "speculative reply",
  );
  assert.equal(t.out.log.slice(before).filter((r) => r.kind === "audio").length, 0, "no audio on the line");
  await speak(t, 300, true); // "... am Montag"
  await speak(t, 1100, false);
  await until(() => t.turns.length === 0 && ttsTexts(t).includes("Montag geht."), "the real answer");
  t.out.play();
  await until(() => t.turns.length === 1, "turn recorded");
  assert.equal(t.turns[0].callerText, "Ich brauche einen Termin am Montag.");
  assert.equal(t.turns[0].assistantText, "Montag geht.");
  assert.ok(!ttsTexts(t).includes("Falsche Antwort."), "the discarded answer was never played");
  assert.deepStrictEqual(sttFinals(t), ["Ich brauche einen Termin am Montag."]);
  assert.equal(t.llm.requests.length, 2);
  assert.equal(t.llm.requests[1].at(-1)?.content, "Ich brauche einen Termin am Montag.");
  // The first pause's work was wasted; the second pause's was the confirmed turn's.
  assert.deepStrictEqual(t.spec, ["stt:wasted", "llm:wasted", "stt:used", "llm:used"]);
  stop(t);
});

Deno.test("a confirmed turn reuses the speculative transcript and answer: one STT, one LLM request", async () => {
  const t = setup(["Ich brauche einen Termin."], ["Gern. Wann passt es?"]);
  await greet(t);
  await speak(t, 400, true);
  await speak(t, 600, false);
  await until(() => t.out.pendingMarks.some((m) => m.startsWith("tom:r:1:")), "reply end mark");
  assert.equal(t.stt.calls.length, 1);
  assert.equal(t.llm.requests.length, 1);
  assert.deepStrictEqual(ttsTexts(t).slice(1), ["Gern.", "Wann passt es?"], "after the greeting");
  assert.deepStrictEqual(t.spec, ["stt:used", "llm:used"]);
  t.out.play();
  await until(() => t.turns.length === 1, "turn recorded");
  assert.equal(t.turns[0].callerText, "Ich brauche einen Termin.");
  stop(t);
});

Deno.test("speculation off (the baseline): no work before the fixed silence ended the turn", async () => {
  const t = setup(["Ich brauche einen Termin."], ["Gern."], { speculative: false });
  await greet(t);
  await speak(t, 400, true);
  await speak(t, 200, false);
  assert.equal(t.stt.calls.length, 0);
  await speak(t, 400, false);
  await until(() => t.llm.requests.length === 1, "answered after the silence");
  assert.deepStrictEqual(t.spec, []);
  stop(t);
});

Deno.test("barge-in on words: 'ja', 'mhm', 'genau', 'okay' never interrupt, 'Moment, nein' does at once", async () => {
  for (const bc of ["ja", "mhm", "genau", "okay", "Ja, genau."]) {
    const t = setup(["Ich brauche einen Termin.", bc, bc, bc, bc], [
      "Eins zwei drei vier fünf sechs sieben acht neun.",
    ], {
      bargeInMinMs: 300,
      bargeInProbeMs: 200,
      speculative: false,
    });
    await greet(t);
    await speak(t, 400, true);
    await speak(t, 400, false);
    await until(() => t.call.state.phase === "speaking", "speaking");
    // Longer than bargeInMinMs: the old rule would have cut TOM off.
    await speak(t, 700, true);
    await speak(t, 400, false);
    await wait(30);
    assert.equal(t.call.state.phase, "speaking", `"${bc}" must not interrupt`);
    assert.ok(!t.out.types().includes("clear"));
    stop(t);
  }
  const t = setup(["Ich brauche einen Termin.", "Moment, nein"], ["Eins zwei drei vier fünf sechs sieben."], {
    bargeInMinMs: 2000,
    bargeInProbeMs: 200,
    speculative: false,
  });
  await greet(t);
  await speak(t, 400, true);
  await speak(t, 400, false);
  await until(() => t.call.state.phase === "speaking", "speaking");
  await speak(t, 300, true);
  await until(() => t.out.types().includes("clear"), "flushed on the words, long before bargeInMinMs");
  assert.equal(t.call.state.phase, "listening");
  assert.equal(t.onset.length, 1, "onset-to-flush measured");
  stop(t);
});

Deno.test("the switch: TOM_PIPELINE_SPECULATIVE=false gives the baseline; the new silences are configurable", () => {
  const on = pipelineOptionsOf(loadConfig({ env: { HOME: "/home/x" }, cwd: "/srv/tom" }));
  assert.equal(on.speculative, true);
  assert.equal(on.speculativePauseMs, 200);
  const off = pipelineOptionsOf(loadConfig({
    env: {
      HOME: "/home/x",
      TOM_PIPELINE_SPECULATIVE: "false",
      TOM_PIPELINE_LATE_END_SILENCE_MS: "1000",
      TOM_PIPELINE_BARGE_IN_PROBE_MS: "0",
    },
    cwd: "/srv/tom",
  }));
  assert.equal(off.speculative, false);
  assert.equal(off.lateEndSilenceMs, 1000);
  assert.equal(off.bargeInProbeMs, 0);
  assert.throws(() => loadConfig({ env: { HOME: "/h", TOM_PIPELINE_SPECULATIVE_PAUSE_MS: "5" }, cwd: "/" }));
});

Deno.test("a tool call of discarded speculative work is never executed: nothing is noted (scripted STT)", async () => {
  const callback = {
    kind: "callback",
    caller_name: "Erika Muster",
    callback_number: "0171 2345678",
    summary: "Rückruf wegen Termin",
  };
  const t = setup(
    ["Rufen Sie mich zurück.", "Rufen Sie mich zurück, nein, doch nicht."],
    [{ text: "Gern. ", calls: [{ name: "note_request", args: callback }] }, "Gut, dann nicht."],
    { endOfTurnSilenceMs: 900, earlyEndSilenceMs: 900, lateEndSilenceMs: 900 },
  );
  await greet(t);
  await speak(t, 400, true);
  await speak(t, 300, false);
  await until(() => t.llm.requests.length === 1, "speculative request with a tool call");
  await wait(50);
  await speak(t, 300, true);
  await speak(t, 1100, false);
  await until(() => ttsTexts(t).includes("Gut, dann nicht."), "the real answer");
  assert.deepStrictEqual(t.noted, [], "the discarded reply stored nothing");
  assert.ok(!t.out.events().some((e) => e.type === "tool_call" || e.type === "request_noted"));
  stop(t);
});

Deno.test("an engine that dies under speculative work: the confirmed turn transcribes again and answers", async () => {
  // Decision test with a scripted STT (the synthetic whisper model transcribes gibberish): the speculative
  // request crashes (a killed whisper-server), the turn's own request works (restarted), the caller hears
  // the answer and nothing of the failed work; the plumbing with real engines is tests/e2e/pipeline_faults_test.ts.
  const t = setup(["Ich brauche einen Termin."], ["Gern. Wann passt es?"]);
  t.stt.behaviours = ["error", "ok"];
  await greet(t);
  await speak(t, 400, true);
  await speak(t, 600, false);
  await until(() => ttsTexts(t).includes("Gern."), "the answer");
  assert.equal(t.stt.calls.length, 2, "transcribed again after the speculative request failed");
  assert.ok(!ttsTexts(t).includes(PHRASES.apology), "no apology: the turn's own transcription worked");
  stop(t);
});

Deno.test("an STT that fails on every try under speculation: the caller hears the apology, the call goes on", async () => {
  const t = setup(["Ich brauche einen Termin."], ["Gern."]);
  t.stt.behaviours = ["error", "error", "error", "error", "error", "error"];
  await greet(t);
  await speak(t, 400, true);
  await speak(t, 600, false);
  await until(() => ttsTexts(t).includes(PHRASES.apology), "the apology");
  assert.notEqual(t.call.state.phase, "ended");
  stop(t);
});
