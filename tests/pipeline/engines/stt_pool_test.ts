// The STT pool (pipeline/engines/stt_pool.ts): utterances go to free members, a member that is down
// hands its share to the others, and with real whisper-servers under the Supervisor a member killed
// mid-run is restarted while the calls' utterances are still all transcribed.
import assert from "node:assert/strict";
import { FairQueue } from "../../../pipeline/engines/queue.ts";
import { POOL_BACKOFF, SttPool } from "../../../pipeline/engines/stt_pool.ts";
import { WhisperServerStt } from "../../../pipeline/engines/whisper_server.ts";
import { createStt } from "../../../pipeline/engines/stt.ts";
import type { SttFrame } from "../../../pipeline/engines/types.ts";
import { Supervisor, type SupervisorEvent } from "../../../infra/supervisor.ts";
import { engineSpecs } from "../../../infra/engines/specs.ts";
import { silentLogger } from "../../../infra/log.ts";
import { alive, freePort, testConfig, waitFor } from "../../infra/fixtures/engines.ts";
import { skipWithoutEngines } from "../../_engines.ts";
import { collect, germanSpeech, SPEECH_MISSING } from "./stt_fixtures.ts";

const PCM = new Int16Array(1600);
const signal = () => new AbortController().signal;

Deno.test("a request takes a free member; a busy pool queues it on the least busy member", () => {
  const queue = new FairQueue({ concurrency: 1 });
  const pool = new SttPool(["a", "b", "c"], queue, () => 0);
  assert.equal(queue.concurrency, 3); // one slot per member
  assert.deepEqual([pool.take(), pool.take(), pool.take()], [0, 1, 2]);
  pool.give(1, true);
  assert.equal(pool.take(), 1);
  assert.equal(pool.take(new Set([0])), 1); // all busy: the least busy, never one already tried
  assert.equal(pool.take(new Set([0, 1, 2])), null);
});

Deno.test("a member that fails is down for a while: the queue shrinks and the others serve", () => {
  let now = 0;
  const queue = new FairQueue({ concurrency: 1 });
  const pool = new SttPool(["a", "b"], queue, () => now);
  const m = pool.take();
  assert.equal(m, 0);
  pool.give(0, false);
  assert.equal(pool.up, 1);
  assert.equal(queue.concurrency, 1);
  assert.equal(pool.take(), 1); // the free member that is up, not the down one
  pool.give(1, true);
  now += POOL_BACKOFF.initialMs;
  assert.equal(pool.take(new Set([1])), 0); // back after the pause: tried again
  pool.give(0, true);
  assert.equal(queue.concurrency, 2);
  // Failing again and again doubles the pause up to the maximum.
  for (let i = 0; i < 10; i++) pool.give(pool.take(new Set([1])) as number, false);
  assert.ok(pool.members[0].downUntil - now <= POOL_BACKOFF.maxMs);
  assert.equal(pool.members[0].downUntil - now, POOL_BACKOFF.maxMs);
});

/** A whisper-server stand-in: answers `text`, or closes the connection mid-request when `crash`. */
function standIn(
  text: string,
  crash = false,
): { url: string; hits: () => number; close: () => Promise<void> } {
  let hits = 0;
  const onError = () => new Response("whisper-server crashed", { status: 500 });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {}, onError }, async (req) => {
    hits++;
    await req.arrayBuffer();
    if (crash) throw new Error("crashed"); // answered 500: the request counts as broken
    return Response.json({ text });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    hits: () => hits,
    close: () => server.shutdown(),
  };
}

Deno.test("an utterance whose member cannot be reached or breaks goes to another member", async () => {
  const closed = `http://127.0.0.1:${freePort()}`; // nobody listens: connection refused
  const broken = standIn("kaputt", true);
  const good = standIn("Guten Tag");
  try {
    const stt = new WhisperServerStt({ url: closed, poolUrls: [closed, broken.url, good.url] });
    const frames = await collect(stt.transcribe(PCM, { signal: signal(), callId: "a" }));
    const last = frames.at(-1) as SttFrame;
    assert.ok(last.type === "final", JSON.stringify(frames));
    assert.equal(last.text, "Guten Tag");
    assert.equal(broken.hits(), 1);
    assert.equal(stt.pool.up, 1); // the two others are down for now
    assert.equal(stt.queue.concurrency, 1);
    // The next utterances go straight to the member that is up.
    for (let i = 0; i < 3; i++) await collect(stt.transcribe(PCM, { signal: signal(), callId: `c${i}` }));
    assert.equal(good.hits(), 4);
    assert.equal(broken.hits(), 1);
  } finally {
    await broken.close();
    await good.close();
  }
});

Deno.test("with one member a refused connection is still the single try it was (then whisper-cli)", async () => {
  const closed = `http://127.0.0.1:${freePort()}`;
  const stt = new WhisperServerStt({ url: closed });
  const frames = await collect(stt.transcribe(PCM, { signal: signal(), callId: "a" }));
  assert.equal(frames.length, 1);
  assert.ok(frames[0].type === "error" && frames[0].error.kind === "unavailable");
});

const CI = Deno.env.get("CI") === "true";
Deno.test({
  name: "a pool of real whisper-servers: a killed member is restarted and its utterances go to the other",
  ignore: skipWithoutEngines || (SPEECH_MISSING !== undefined && !CI),
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const config = testConfig({
    TOM_STT_POOL_SIZE: "2",
    TOM_STT_POOL_PORT: String(freePort()),
    TOM_STT_THREADS: "1",
  });
  const events: SupervisorEvent[] = [];
  const sup = new Supervisor(engineSpecs(config).filter((s) => s.name === "stt"), {
    log: silentLogger,
    onEvent: (e) => events.push(e),
    backoff: { initialMs: 1_000 },
  });
  await sup.start();
  try {
    const stt = createStt(config, { cliFallback: false }) as WhisperServerStt;
    assert.equal(stt.queue.concurrency, 2);
    const speech = await germanSpeech();
    const victim = sup.status()[1];
    assert.equal(victim.label, "stt#2");
    Deno.kill(victim.pid as number, "SIGKILL");
    await waitFor(() => !alive(victim.pid as number), 5_000, "the member to die");
    // Six utterances from three calls while the member is down: every one is transcribed.
    const results = await Promise.all(
      Array.from(
        { length: 6 },
        (_, i) => collect(stt.transcribe(speech, { signal: signal(), callId: `call-${i % 3}` })),
      ),
    );
    for (const frames of results) assert.equal(frames.at(-1)?.type, "final", JSON.stringify(frames));
    assert.ok(stt.pool.members[0].failures === 0);
    await waitFor(() => events.some((e) => e.type === "restarted"), 15_000, "the member's restart");
    await waitFor(() => sup.status()[1].state === "healthy", 15_000, "the restarted member's health");
    assert.equal(sup.status()[1].restarts, 1);
    // Once its pause is over, the restarted member serves again.
    await new Promise((r) => setTimeout(r, POOL_BACKOFF.maxMs / 4));
    const again = await Promise.all(
      Array.from(
        { length: 4 },
        (_, i) => collect(stt.transcribe(speech, { signal: signal(), callId: `d${i}` })),
      ),
    );
    for (const frames of again) assert.equal(frames.at(-1)?.type, "final");
    assert.equal(stt.pool.members[1].failures, 0);
    assert.equal(stt.pool.up, 2);
    assert.equal(stt.queue.concurrency, 2);
  } finally {
    await sup.stop();
  }
});
