// `tom probe` against a real gateway (WebSocket, browser protocol) whose pipeline runs on fake engines:
// the probe's own measuring, reporting and budget verdicts, fast and without engine processes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { silentLogger } from "../../infra/log.ts";
import { probeMain, type ProbeReport } from "../../app/commands/probe.ts";
import { PhraseCache, type PhraseName, PHRASES, pipelineAnswerer } from "../../pipeline/mod.ts";
import { startGateway } from "../gateway/server_harness.ts";
import { type AudioSocketServer, startAudioSocketServer } from "../../gateway/asterisk/audiosocket.ts";
import { FakeLlm, FakeStt, FakeTts, FakeVad } from "../pipeline/_fakes.ts";
import { ENGINES_MISSING } from "./pipeline_engines.ts";

Deno.test({
  name: "tom probe: 3 calls x 2 turns measure voice-to-voice and stages, write JSON, judge budgets",
  ignore: ENGINES_MISSING === "espeak-ng not installed",
  async fn() {
    const tts = new FakeTts();
    const phrases = new PhraseCache(tts);
    for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(3200));
    const answer = pipelineAnswerer({
      stt: new FakeStt(Array(20).fill("Ich hätte gern einen Termin.")),
      llm: new FakeLlm(Array(20).fill("Gern. Wann passt es Ihnen?")),
      tts,
      vad: () => new FakeVad(),
      log: silentLogger,
      phrases,
    });
    const h = await startGateway({ answer });
    const dir = await Deno.makeTempDir({ prefix: "tom-probe-" });
    try {
      const out = join(dir, "probe.json");
      const code = await probeMain(h.config, {
        url: h.http,
        calls: "3",
        turns: "2",
        out,
        budgetP50: "60000",
        budgetP95: "60000",
        answerTimeout: "20000",
        utterances: ["Guten Tag.", "Danke schön."],
      });
      const report = JSON.parse(await Deno.readTextFile(out)) as ProbeReport;
      assert.deepStrictEqual(report.errors, []);
      assert.equal(code, 0);
      assert.equal(report.summaries.voice_to_voice_wire.n, 6);
      for (const stage of ["stt", "llm_first_token", "first_audio_out"]) {
        assert.equal(report.summaries[stage]?.n, 6, stage);
      }
      assert.ok(report.budgets.every((b) => b.ok));
      // A budget no CPU can meet makes the probe fail.
      const strict = await probeMain(h.config, { url: h.http, turns: "1", budgetP50: "1", budgetP95: "1" });
      assert.equal(strict, 1);
      assert.equal(await probeMain(h.config, { calls: "0" }), 2);
    } finally {
      await h.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "tom probe --audiosocket: calls TOM like Asterisk does and measures voice-to-voice",
  ignore: ENGINES_MISSING === "espeak-ng not installed",
  async fn() {
    const tts = new FakeTts();
    const phrases = new PhraseCache(tts);
    for (const name of Object.keys(PHRASES) as PhraseName[]) {
      phrases.set(name, new Int16Array(3200).fill(3000));
    }
    const answer = pipelineAnswerer({
      stt: new FakeStt(Array(20).fill("Ich hätte gern einen Termin.")),
      llm: new FakeLlm(Array(20).fill("Gern. Wann passt es Ihnen?")),
      tts,
      vad: () => new FakeVad(),
      log: silentLogger,
      phrases,
    });
    let server: AudioSocketServer | undefined;
    const h = await startGateway({
      answer,
      transports: [
        async (_app, deps, guard) => (server = await startAudioSocketServer(deps, guard, { port: 0 })),
      ],
    });
    const dir = await Deno.makeTempDir({ prefix: "tom-probe-as-" });
    try {
      const out = join(dir, "probe.json");
      const code = await probeMain(h.config, {
        audiosocket: true,
        audiosocketAddress: `127.0.0.1:${(server as AudioSocketServer).addr.port}`,
        calls: "2",
        turns: "2",
        out,
        budgetP50: "60000",
        budgetP95: "60000",
        answerTimeout: "20000",
        utterances: ["Guten Tag.", "Danke schön."],
      });
      const report = JSON.parse(await Deno.readTextFile(out)) as ProbeReport;
      assert.deepStrictEqual(report.errors, []);
      assert.equal(code, 0);
      assert.equal(report.summaries.voice_to_voice_wire.n, 4);
      assert.ok(report.summaries.voice_to_voice_wire.p50 > 0);
    } finally {
      await h.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// A turn TOM leaves unanswered (STT hears nothing in the second utterance): the probe counts it and goes
// on with the third; the answered turns' figures stay in the report. TOM either re-prompts (seen on the
// browser protocol as a phrase of the current turn) or says nothing until the answer wait runs out.
for (
  const v of [
    { how: "prompted", options: { silenceRepromptMs: 1_500 }, answerTimeout: "20000" },
    { how: "timeout", options: { silenceRepromptMs: 600_000 }, answerTimeout: "4000" },
  ] as const
) {
  Deno.test({
    name: `tom probe: an unanswered turn (${v.how}) is counted, the run goes on, the other figures stay`,
    ignore: ENGINES_MISSING === "espeak-ng not installed",
    async fn() {
      const tts = new FakeTts();
      const phrases = new PhraseCache(tts);
      for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(3200));
      const answer = pipelineAnswerer({
        stt: new FakeStt(["Ich hätte gern einen Termin.", "", "Danke schön."]),
        llm: new FakeLlm(["Gern. Wann passt es Ihnen?", "Bitte sehr."]),
        tts,
        vad: () => new FakeVad(),
        log: silentLogger,
        phrases,
        options: v.options,
      });
      const h = await startGateway({ answer });
      const dir = await Deno.makeTempDir({ prefix: "tom-probe-unanswered-" });
      try {
        const out = join(dir, "probe.json");
        const code = await probeMain(h.config, {
          url: h.http,
          turns: "3",
          out,
          budgetP50: "60000",
          budgetP95: "60000",
          answerTimeout: v.answerTimeout,
          utterances: ["Guten Tag.", "Hm.", "Danke schön."],
        });
        const report = JSON.parse(await Deno.readTextFile(out)) as ProbeReport;
        assert.deepStrictEqual(report.errors, []);
        const turns = report.results[0].turns;
        assert.deepStrictEqual(turns.map((t) => t.unanswered ?? "answered"), ["answered", v.how, "answered"]);
        assert.deepStrictEqual(turns.map((t) => t.answered), [true, false, true]);
        assert.equal(report.answered, 2);
        assert.equal(report.unanswered, 1);
        assert.equal(report.summaries.voice_to_voice_wire.n, 2, "the answered turns' figures are kept");
        assert.equal(report.summaries.first_audio_out?.n, 2);
        assert.equal(turns[1].voiceToVoiceMs, null);
        assert.equal(code, 1, "an unanswered turn fails the probe");
      } finally {
        await h.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
