import assert from "node:assert/strict";
import { Supervisor } from "../../../infra/supervisor.ts";
import { engineSpecs } from "../../../infra/engines/specs.ts";
import { silentLogger } from "../../../infra/log.ts";
import { freePort, testConfig, waitFor } from "../../infra/fixtures/engines.ts";
import { skipWithoutEngines } from "../../_engines.ts";
import { FairQueue, type QueueEvent } from "../../../pipeline/engines/queue.ts";
import { WhisperServerStt } from "../../../pipeline/engines/whisper_server.ts";
import { createStt } from "../../../pipeline/engines/stt.ts";
import type { SttFrame } from "../../../pipeline/engines/types.ts";
import { collect, countingProxy, germanSpeech, SPEECH_MISSING } from "./stt_fixtures.ts";

const CI = Deno.env.get("CI") === "true";
if (SPEECH_MISSING && !CI) console.error(`skipping whisper-server tests: ${SPEECH_MISSING}`);
const ignore = skipWithoutEngines || (SPEECH_MISSING !== undefined && !CI);

function finalOf(frames: SttFrame[]): Extract<SttFrame, { type: "final" }> {
  const last = frames.at(-1);
  assert.ok(last?.type === "final", `expected a final frame, got ${JSON.stringify(frames)}`);
  return last;
}

Deno.test({
  name: "whisper-server adapter against the real engine",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const config = testConfig();
  const sup = new Supervisor(engineSpecs(config).filter((s) => s.name === "stt"), { log: silentLogger });
  await sup.start();
  const proxy = countingProxy(config.stt.url);
  const speech = await germanSpeech();
  const signal = () => new AbortController().signal;
  try {
    await t.step(
      "German speech becomes one final frame with a string (no queued frame when idle)",
      async () => {
        const stt = createStt(config, { cliFallback: false }) as WhisperServerStt;
        const times: number[] = [];
        for (let i = 0; i < 3; i++) {
          const frames = await collect(stt.transcribe(speech, { signal: signal(), callId: "a" }));
          assert.equal(frames.length, 1);
          const f = finalOf(frames);
          assert.equal(typeof f.text, "string");
          assert.equal(f.language, "de");
          assert.ok(f.processingMs >= 0);
          times.push(f.processingMs);
        }
        console.log(
          `whisper-server (synthetic tiny) on a ${(speech.length / 16000).toFixed(2)} s utterance: ` +
            `processingMs ${times.join(", ")}`,
        );
      },
    );

    await t.step("three calls with three utterances each are served interleaved", async () => {
      const events: QueueEvent[] = [];
      const stt = new WhisperServerStt({
        url: proxy.url,
        queue: new FairQueue({ onEvent: (e) => events.push(e) }),
      });
      const before = proxy.count("/inference");
      const jobs: Array<Promise<SttFrame[]>> = [];
      for (const call of ["A", "B", "C"]) {
        for (let i = 0; i < 3; i++) {
          jobs.push(collect(stt.transcribe(speech, { signal: signal(), callId: call })));
        }
      }
      const results = await Promise.all(jobs);
      const served = events.filter((e) => e.type === "start").map((e) => e.key);
      console.log(`whisper queue service order (submitted AAABBBCCC): ${served.join(" ")}`);
      assert.deepEqual(served, ["A", "A", "B", "C", "A", "B", "C", "B", "C"]);
      for (const [i, frames] of results.entries()) {
        finalOf(frames);
        if (i === 0) assert.equal(frames.length, 1);
        else {
          assert.equal(frames[0].type, "queued", "a request that waited reports it");
          assert.ok(frames[0].type === "queued" && frames[0].waitMs >= 0);
        }
      }
      assert.equal(proxy.count("/inference") - before, 9);
    });

    await t.step("a request aborted while queued is removed and the server never sees it", async () => {
      const events: QueueEvent[] = [];
      const stt = new WhisperServerStt({
        url: proxy.url,
        queue: new FairQueue({ onEvent: (e) => events.push(e) }),
      });
      const before = proxy.count("/inference");
      const running = collect(stt.transcribe(speech, { signal: signal(), callId: "A" }));
      const ac = new AbortController();
      const aborted = collect(stt.transcribe(speech, { signal: ac.signal, callId: "B" }));
      const after = collect(stt.transcribe(speech, { signal: signal(), callId: "C" }));
      await waitFor(() => stt.queue.waiting === 2, 5_000, "two queued requests");
      ac.abort();
      assert.deepEqual(await aborted, [], "an aborted request ends quietly");
      assert.equal(stt.queue.waiting, 1);
      finalOf(await running);
      finalOf(await after);
      assert.equal(proxy.count("/inference") - before, 2);
      assert.deepEqual(events.filter((e) => e.type === "start").map((e) => e.key), ["A", "C"]);
    });

    await t.step("a request aborted while running ends quietly and frees the slot", async () => {
      const stt = new WhisperServerStt({ url: config.stt.url });
      const ac = new AbortController();
      const it = collect(stt.transcribe(speech, { signal: ac.signal, callId: "A" }));
      await waitFor(() => stt.queue.active === 1, 5_000, "request in flight");
      ac.abort(); // the slot is held: the request is being sent or processed
      assert.deepEqual(await it, []);
      assert.equal(stt.queue.active, 0);
      finalOf(await collect(stt.transcribe(speech, { signal: signal(), callId: "A" })));
    });

    await t.step("a per-request timeout becomes a retryable timeout frame", async () => {
      const stt = new WhisperServerStt({ url: config.stt.url, timeoutMs: 1 });
      const frames = await collect(stt.transcribe(speech, { signal: signal(), callId: "A" }));
      assert.equal(frames.length, 1);
      assert.ok(frames[0].type === "error");
      assert.equal(frames[0].error.kind, "timeout");
      assert.equal(frames[0].error.retryable, true);
      assert.equal(frames[0].error.engine, "stt");
    });

    await t.step("whisper-server killed mid-request gives a retryable error frame, not a throw", async () => {
      const stt = new WhisperServerStt({
        url: config.stt.url,
        queue: new FairQueue({
          onEvent: (e) => {
            if (e.type === "start") setTimeout(() => Deno.kill(sup.status()[0].pid ?? 0, "SIGKILL"), 30);
          },
        }),
      });
      const frames = await collect(stt.transcribe(speech, { signal: signal(), callId: "A" }));
      assert.equal(frames.length, 1, JSON.stringify(frames));
      assert.ok(frames[0].type === "error");
      assert.ok(["crashed", "unavailable"].includes(frames[0].error.kind), frames[0].error.message);
      assert.equal(frames[0].error.retryable, true);
      await waitFor(
        () => sup.status()[0].state === "healthy" && sup.status()[0].restarts === 1,
        30_000,
        "restart",
      );
    });
  } finally {
    await proxy.close();
    await sup.stop();
  }
});

Deno.test({
  name: "whisper-server down: whisper-cli fallback produces a final frame; without it, unavailable",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const config = testConfig({ TOM_STT_URL: `http://127.0.0.1:${freePort()}` });
  const speech = await germanSpeech("Ich brauche einen Termin");
  const stt = createStt(config) as WhisperServerStt;
  const frames = await collect(stt.transcribe(speech, { signal: new AbortController().signal, callId: "A" }));
  assert.equal(frames.length, 1, JSON.stringify(frames));
  const f = finalOf(frames);
  assert.equal(typeof f.text, "string");
  assert.deepEqual(stt.counts, { server: 1, cli: 1 });

  const noCli = createStt(config, { cliFallback: false }) as WhisperServerStt;
  const err = await collect(noCli.transcribe(speech, { signal: new AbortController().signal }));
  assert.equal(err.length, 1);
  assert.ok(err[0].type === "error");
  assert.equal(err[0].error.kind, "unavailable");
  assert.equal(err[0].error.retryable, true);
});
