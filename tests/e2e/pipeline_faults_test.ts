// Fault tests with the real engines: the STT or LLM process is killed mid-turn. The caller hears the
// apology, the Supervisor restarts the engine, TOM's retry answers, and the next turn works.
import assert from "node:assert/strict";
import { silentLogger } from "../../infra/log.ts";
import { PHRASES, pipelineAnswerer } from "../../pipeline/mod.ts";
import { synthesizeAll } from "../../pipeline/phrases.ts";
import { createStt } from "../../pipeline/engines/stt.ts";
import { pcmBytes, startGateway, TestClient } from "../gateway/server_harness.ts";
import { ENGINES_MISSING, startEngines } from "./pipeline_engines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function speak(client: TestClient, pcm: Int16Array, silenceMs: number): Promise<void> {
  const all = new Int16Array(pcm.length + silenceMs * 16);
  all.set(pcm);
  const t0 = performance.now();
  for (let i = 0, k = 0; i < all.length; i += 320, k++) {
    client.send(pcmBytes(all.subarray(i, i + 320)));
    const wait = t0 + (k + 1) * 20 - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

for (const victim of ["stt", "llm"] as const) {
  Deno.test({
    name: `${victim} killed mid-turn: apology, supervisor restart, retry answers, the next turn works`,
    ignore: ENGINES_MISSING !== undefined,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const engines = await startEngines({}, { sttTimeoutMs: 170_000 });
      let cleanup = () => engines.close();
      try {
        // Without the whisper-cli fallback, so a dead whisper-server is a failure the call must handle.
        const stt = createStt(engines.config, { timeoutMs: 170_000, cliFallback: false }) ?? engines.stt;
        const answer = pipelineAnswerer({
          stt,
          llm: engines.llm,
          tts: engines.tts,
          vad: () => engines.vad.createVad(),
          log: silentLogger,
          config: engines.config,
          options: {
            sttTimeoutMs: 180_000,
            llmFirstTokenTimeoutMs: 30_000,
            llmTokenGapMs: 30_000,
            ttsTimeoutMs: 30_000,
            retryDelayMs: 3_000,
            maxTokens: 24,
            // The kill must land while the turn's own request runs: with speculation the requests start in
            // the caller's pauses and may be done before the kill (speculative failures and the retry:
            // tests/pipeline/speculation_test.ts).
            speculative: false,
          },
        });
        const h = await startGateway({ answer });
        cleanup = async () => {
          await h.close();
          await engines.close();
        };
        const callId = `fault-${crypto.randomUUID()}`;
        const client = new TestClient(`${h.ws}/ws/stream/${callId}?token=${await h.token(callId)}`);
        try {
          const utterance = await synthesizeAll(
            engines.tts,
            "Ich hätte gern einen Termin.",
            new AbortController().signal,
          );
          assert.ok(utterance);
          await client.event("connected");
          client.send({ type: "start" });
          await client.until(() => client.events.some((e) => e.type === "mark"), "greeting", 60_000);
          const status = () => engines.supervisor.status().find((s) => s.name === victim);
          const pid = status()?.pid ?? 0;
          assert.ok(pid > 0);
          // Kill the engine as the turn reaches it: STT at the end of the utterance, LLM at the transcript.
          const killWhen = victim === "stt" ? "vad" : "stt_final";
          const killer = client.until(
            () =>
              client.events.some((e) =>
                e.type === killWhen && (victim !== "stt" || e.state === "speech_end")
              ),
            killWhen,
            200_000,
          ).then(() => Deno.kill(pid, "SIGKILL"));
          await speak(client, utterance, 1_500);
          await killer;
          await client.until(
            () => client.events.some((e) => e.type === "tts_audio" && e.text === PHRASES.apology),
            "the apology",
            30_000,
          );
          await client.until(
            () => (status()?.restarts ?? 0) >= 1 && status()?.state === "healthy",
            "restart",
            60_000,
          );
          await client.until(
            () => client.events.some((e) => e.type === "turn_end"),
            "the retried answer",
            200_000,
          );
          assert.ok(!client.events.some((e) => e.type === "call_end"), "the call goes on");
          // The next turn works.
          await client.until(
            () => client.events.filter((e) => e.type === "mark").length >= 3,
            "answer played",
            120_000,
          )
            .catch(() => {});
          const ends = client.events.filter((e) => e.type === "turn_end").length;
          await speak(client, utterance, 1_500);
          await client.until(
            () => client.events.filter((e) => e.type === "turn_end").length > ends,
            "the next turn",
            200_000,
          );
          assert.ok(client.events.some((e) => e.type === "error" && String(e.code).startsWith(victim)));
          client.send({ type: "stop" });
          await client.until(() => client.events.some((e) => e.type === "call_end"), "call_end", 10_000);
        } finally {
          await client.close();
        }
      } finally {
        await cleanup();
      }
    },
  });
}
