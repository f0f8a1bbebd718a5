/**
 * The system prompt as a stable prefix (pipeline/prompt.ts, pipeline/engines/llm.ts): a call with a
 * practice (facts and "Heute ist ..., 10:15 Uhr") answered by the real LLM adapter against a stand-in
 * llama-server that records every request. What the practice gets: the second turn's request starts with
 * the first turn's messages byte for byte (the clock moved on, the prompt did not), and every request
 * carries `cache_prompt: true`, so llama-server evaluates only the new words instead of the whole prompt.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../../infra/log.ts";
import { createAccount, createCall, openStore, putPractice } from "../../store/mod.ts";
import { pipelineAnswerer } from "../../pipeline/mod.ts";
import { createLlm } from "../../pipeline/engines/llm.ts";
import type { LlmEngine } from "../../pipeline/engines/types.ts";
import { Caller, FakeStt, FakeTts, FakeVad, greetedCall, silentPhrases, until } from "./_fakes.ts";
import { berlinPractice } from "./_practice.ts";

/** A stand-in llama-server: `/v1/chat/completions` answering one SSE sentence, recording each body. */
function standInLlamaServer() {
  const bodies: Record<string, unknown>[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    if (new URL(req.url).pathname !== "/v1/chat/completions") return new Response("", { status: 404 });
    bodies.push(await req.json());
    const events = [
      { choices: [{ delta: { content: "Gern, " } }] },
      { choices: [{ delta: { content: "ich notiere das." } }] },
      { choices: [{ delta: {}, finish_reason: "stop" }] },
    ].map((e) => `data: ${JSON.stringify(e)}\n\n`).join("") + "data: [DONE]\n\n";
    return new Response(events, { headers: { "content-type": "text/event-stream" } });
  });
  return { bodies, server, url: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test("prompt: consecutive turns share the system prompt and history byte for byte and carry cache_prompt", async () => {
  const stand = standInLlamaServer();
  const store = openStore(":memory:");
  try {
    const account = createAccount(store, { name: "Praxis Weber", kind: "clinical" });
    putPractice(store, account.id, berlinPractice(), null);
    const tts = new FakeTts();
    const phrases = silentPhrases(tts);
    let now = new Date("2026-03-30T08:15:00Z"); // Monday 10:15 in Berlin
    const llm = createLlm({
      llm: { kind: "llama-server", url: stand.url, modelName: "tom" } as Parameters<
        typeof createLlm
      >[0]["llm"],
    }) as LlmEngine;
    const answer = pipelineAnswerer({
      stt: new FakeStt(["Ich brauche ein Rezept.", "Für Ramipril, bitte."]),
      llm,
      tts,
      vad: () => new FakeVad(),
      log: silentLogger,
      store,
      phrases,
      now: () => now,
      options: { minSpeechMs: 60, endOfTurnSilenceMs: 300, tickMs: 10, bargeInProbeMs: 0 },
    });
    const row = createCall(store, account.id, { direction: "inbound", transport: "browser" });
    const { out, handler, ac } = await greetedCall(answer, {
      callId: row.id,
      accountId: account.id,
      personId: null,
    });
    const caller = new Caller(handler);
    /** Answers played to their end: each answer's audio is followed by its mark, which autoPlay acknowledges. */
    const ends = () => {
      let n = 0;
      let open = false;
      for (const r of out.log) {
        if (r.kind === "event" && r.event.type === "tts_audio" && r.event.text?.includes("ich notiere das")) {
          open = true;
        }
        if (r.kind === "mark" && open) [n, open] = [n + 1, false];
      }
      return n;
    };
    caller.say(600, 1500);
    await until(() => ends() >= 1, "the first answer spoken");
    await new Promise((r) => setTimeout(r, 20)); // its mark comes back: TOM listens again
    now = new Date(now.getTime() + 60_000); // the clock moves on between the turns
    caller.say(600, 1500);
    await until(() => ends() >= 2, "the second answer spoken");
    handler.handle({ type: "stop", reason: "done" });
    ac.abort();

    const [first, second] = [stand.bodies[0], stand.bodies.at(-1) as Record<string, unknown>];
    assert.ok(stand.bodies.length >= 2, `requests: ${stand.bodies.length}`);
    for (const b of stand.bodies) assert.equal(b.cache_prompt, true, "every request asks to reuse the cache");
    const m1 = first.messages as { role: string; content: string }[];
    const m2 = second.messages as { role: string; content: string }[];
    assert.equal(m1[0].role, "system");
    assert.match(m1[0].content, /Heute ist Montag, 30\. März 2026, 10:15 Uhr\./);
    const wire1 = JSON.stringify(m1);
    const wire2 = JSON.stringify(m2.slice(0, m1.length));
    assert.equal(wire2, wire1, "the second turn's request starts with the first turn's messages");
    assert.deepEqual(m2.slice(m1.length).map((m) => m.role), ["assistant", "user"]);
    assert.equal(m2.at(-1)?.content, "Für Ramipril, bitte.");
    // Every request of the call, discarded ones included, begins with the same system prompt.
    for (const b of stand.bodies) {
      assert.equal(JSON.stringify((b.messages as unknown[])[0]), JSON.stringify(m1[0]));
    }
  } finally {
    store.close();
    await stand.server.shutdown();
  }
});
