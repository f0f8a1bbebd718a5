// End to end through the browser protocol with the real engines: whisper-server and llama-server on the
// synthetic models (under the Supervisor), espeak-ng, Silero. A client speaks an espeak-ng German
// utterance as 16 kHz frames at real time; TOM answers; the client barges in; TOM flushes and listens on.
import assert from "node:assert/strict";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { silentLogger } from "../../infra/log.ts";
import { pipelineAnswerer } from "../../pipeline/mod.ts";
import { synthesizeAll } from "../../pipeline/phrases.ts";
import { pcmBytes, startGateway, TestClient } from "../gateway/server_harness.ts";
import { ENGINES_MISSING, startEngines } from "./pipeline_engines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Send PCM as 20 ms frames at real time, then `silenceMs` of silence (a phone line never goes quiet). */
async function speak(client: TestClient, pcm: Int16Array, silenceMs: number): Promise<number> {
  const all = new Int16Array(pcm.length + (silenceMs * 16));
  all.set(pcm);
  const t0 = performance.now();
  let lastVoice = t0;
  for (let i = 0, k = 0; i < all.length; i += 320, k++) {
    client.send(pcmBytes(all.subarray(i, i + 320)));
    if (i < pcm.length) lastVoice = performance.now();
    const wait = t0 + (k + 1) * 20 - performance.now();
    if (wait > 0) await sleep(wait);
  }
  return lastVoice;
}

Deno.test({
  name:
    "browser call with real engines: greeting, utterance, spoken answer, barge-in with flush, listening on",
  ignore: ENGINES_MISSING !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The synthetic whisper model decodes up to its token limit: tens of seconds on a shared 2-core CPU.
    const engines = await startEngines({}, { sttTimeoutMs: 170_000 });
    const provider = new MeterProvider();
    let closeAll = () => engines.close();
    try {
      const answer = pipelineAnswerer({
        stt: engines.stt,
        llm: engines.llm,
        tts: engines.tts,
        vad: () => engines.vad.createVad(),
        log: silentLogger,
        meter: provider.getMeter("pipeline-e2e"),
        config: engines.config,
        options: {
          sttTimeoutMs: 180_000,
          llmFirstTokenTimeoutMs: 30_000,
          llmTokenGapMs: 30_000,
          ttsTimeoutMs: 30_000,
        },
      });
      const h = await startGateway({ answer });
      closeAll = async () => {
        await h.close();
        await engines.close();
      };
      const callId = `pipe-${crypto.randomUUID()}`;
      const client = new TestClient(`${h.ws}/ws/stream/${callId}?token=${await h.token(callId)}`);
      try {
        const ac = new AbortController();
        const utterance = await synthesizeAll(
          engines.tts,
          "Guten Tag, ich hätte gern einen Termin.",
          ac.signal,
        );
        assert.ok(utterance && utterance.length > 16_000);
        await client.event("connected");
        client.send({ type: "start" });
        await client.event("streaming_started");
        // Greeting: spoken audio, then its mark once played.
        await client.until(() => client.events.some((e) => e.type === "mark"), "the greeting's mark", 60_000);
        assert.ok(client.frames.length > 25, "greeting audio arrived");
        const greetingFrames = client.frames.length;

        // The caller's utterance at real time; TOM must hear it, transcribe it, answer in speech.
        const silenceKeeper = (async () => {
          await speak(client, utterance, 1_500);
        })();
        await silenceKeeper;
        await client.until(() => client.events.some((e) => e.type === "stt_final"), "stt_final", 200_000);
        await client.until(
          () => client.events.some((e) => e.type === "tts_audio" && (e as { turn: number }).turn === 1),
          "the answer's audio",
          60_000,
        );
        await client.until(() => client.frames.length > greetingFrames + 10, "answer frames", 30_000);

        // Barge in while TOM speaks.
        const framesBefore = client.frames.length;
        await speak(client, utterance, 1_000);
        await client.until(() => client.events.some((e) => e.type === "barge_in"), "barge_in", 30_000);
        await client.until(() => client.events.some((e) => e.type === "clear"), "clear", 10_000);

        const types = client.events.map((e) => e.type as string);
        const order = [
          "connected",
          "streaming_started",
          "vad",
          "stt_final",
          "llm_token",
          "tts_audio",
          "barge_in",
        ];
        let at = 0;
        for (const t of order) {
          const i = types.indexOf(t, at);
          assert.ok(i >= at, `${t} in order: ${types.filter((x) => x !== "llm_token").join(",")}`);
          at = i + 1;
        }
        assert.ok(types.indexOf("clear", types.indexOf("barge_in") - 2) >= 0, "the flush was sent");
        assert.ok(
          client.frames.length > framesBefore || framesBefore > greetingFrames,
          "answer audio arrived",
        );
        const turnEnd = client.events.find((e) => e.type === "turn_end") as
          | { interrupted: boolean; latencies: Record<string, number> }
          | undefined;
        assert.ok(turnEnd?.interrupted, "the interrupted turn ended with interrupted = true");
        // TOM keeps listening: the barge-in's own speech end is detected, and the call is still up.
        await client.until(
          () =>
            types.length < client.events.length &&
            client.events.slice(types.length - 1).some((e) => e.type === "vad"),
          "vad after the barge-in",
          10_000,
        ).catch(() => {});
        assert.ok(!client.events.some((e) => e.type === "call_end"), "the call goes on");
        console.log(`voice-to-voice (turn 1): ${JSON.stringify(turnEnd?.latencies)}`);
        client.send({ type: "stop" });
        await client.until(() => client.events.some((e) => e.type === "call_end"), "call_end", 10_000);
      } finally {
        await client.close();
      }
    } finally {
      await closeAll();
    }
  },
});
