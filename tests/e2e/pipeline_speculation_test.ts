// Speculative end of turn through the real engines (whisper-server and llama-server on synthetic models,
// espeak-ng, Silero): a German sentence with a pause inside it is answered, the speculative requests are
// counted, and the caller hears one answer per turn. The synthetic whisper model transcribes gibberish, so
// the words are not checked here (scripted transcripts: tests/pipeline/speculation_test.ts).
import assert from "node:assert/strict";
import { PipelineCall } from "../../pipeline/call_pipeline.ts";
import { resolvePipelineOptions } from "../../pipeline/defaults.ts";
import { PhraseCache, synthesizeAll } from "../../pipeline/phrases.ts";
import type { PipelineMetrics } from "../../pipeline/metrics.ts";
import { type PhraseName, PHRASES } from "../../pipeline/texts.ts";
import { fakeContext, FakeOutput } from "../pipeline/_fakes.ts";
import { ENGINES_MISSING, startEngines } from "./pipeline_engines.ts";

Deno.test({
  name: "a sentence with a pause inside: TOM answers once, its speculative work counted (real engines)",
  ignore: ENGINES_MISSING !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const engines = await startEngines({}, { sttTimeoutMs: 120_000 });
    try {
      const signal = new AbortController().signal;
      const a = await synthesizeAll(engines.tts, "Ich hätte gern einen Termin,", signal);
      const b = await synthesizeAll(engines.tts, "am Montag um zehn Uhr.", signal);
      assert.ok(a && b);
      const pcm = new Int16Array(a.length + 16 * 350 + b.length);
      pcm.set(a, 0);
      pcm.set(b, a.length + 16 * 350);
      const out = new FakeOutput();
      out.autoPlay = true;
      const phrases = new PhraseCache(engines.tts);
      for (const name of Object.keys(PHRASES) as PhraseName[]) phrases.set(name, new Int16Array(320));
      const spec: string[] = [];
      const metrics: PipelineMetrics = {
        stage: () => {},
        handover: () => {},
        bargeIn: () => {},
        queueWait: () => {},
        engineError: () => {},
        turn: () => {},
        speculation: (engine, outcome) => void spec.push(`${engine}:${outcome}`),
      };
      const turns: { callerText: string; assistantText: string }[] = [];
      const call = new PipelineCall(fakeContext(out), {
        stt: engines.stt,
        llm: engines.llm,
        tts: engines.tts,
        vad: () => engines.vad.createVad(),
        phrases,
        options: resolvePipelineOptions({
          speculative: true,
          maxTokens: 16,
          sttTimeoutMs: 120_000,
          llmFirstTokenTimeoutMs: 120_000,
          llmTokenGapMs: 120_000,
          ttsTimeoutMs: 120_000,
        }),
        metrics,
        systemPrompt: () => "Du bist Tom.",
        onTurn: (t) => void turns.push(t),
      });
      out.handler = call;
      call.handle({
        type: "start",
        callId: "e2e",
        transport: "browser",
        direction: "inbound",
        peerRate: 16000,
        meta: {},
      });
      let at = 0;
      const feed = async (x: Int16Array) => {
        for (let i = 0; i < x.length; i += 320) {
          call.handle({ type: "audio", pcm: x.subarray(i, i + 320), atMs: at });
          at += 20;
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await feed(new Int16Array(16 * 600));
      await feed(pcm);
      const quiet = new Int16Array(320);
      for (let i = 0; i < 3000 && turns.length === 0; i++) await feed(quiet);
      assert.ok(turns.length >= 1, "the caller got an answer");
      assert.ok(spec.length > 0, "speculative requests were counted");
      // Every reply that reached the line is a recorded turn: nothing of discarded work was played.
      const played = out.events().filter((e) => e.type === "turn_end").length;
      assert.equal(played, turns.length);
      call.handle({ type: "stop", reason: "test over" });
    } finally {
      await engines.close();
    }
  },
});
