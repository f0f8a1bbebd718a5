import assert from "node:assert/strict";
import { Supervisor } from "../../../infra/supervisor.ts";
import { engineSpecs } from "../../../infra/engines/specs.ts";
import { silentLogger } from "../../../infra/log.ts";
import { freePort, testConfig, waitFor } from "../../infra/fixtures/engines.ts";
import { skipWithoutEngines } from "../../_engines.ts";
import { createLlm } from "../../../pipeline/engines/llm.ts";
import { OpenAiChatLlm } from "../../../pipeline/engines/openai_chat.ts";
import type { LlmEngine, LlmFrame } from "../../../pipeline/engines/types.ts";

const MSGS = [
  { role: "system" as const, content: "Du bist TOM, die Telefonassistenz der Praxis." },
  { role: "user" as const, content: "Guten Tag, ich möchte einen Termin." },
];

async function collect(it: AsyncIterable<LlmFrame>): Promise<LlmFrame[]> {
  const out: LlmFrame[] = [];
  for await (const f of it) out.push(f);
  return out;
}

/** Poll llama-server's `/slots` until no slot is generating (a cancelled request frees its slot). */
async function waitForIdleSlots(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (true) {
    const slots = await (await fetch(`${url}/slots`)).json() as Array<{ is_processing: boolean }>;
    if (slots.every((s) => !s.is_processing)) return;
    if (Date.now() > end) throw new Error(`A llama-server slot is still generating after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "OpenAI-compatible adapter against the real llama-server",
  ignore: skipWithoutEngines,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const config = testConfig();
  const sup = new Supervisor(engineSpecs(config).filter((s) => s.name === "llm"), { log: silentLogger });
  await sup.start();
  const url = config.llm.url;
  // ignore_eos (a llama-server extension): the random-weight model must not stop early by chance.
  const llm = createLlm(config, { extraBody: { ignore_eos: true } }) as LlmEngine;
  const signal = () => new AbortController().signal;
  try {
    await t.step("tokens stream as several token frames, then done", async () => {
      const firsts: number[] = [];
      let frames: LlmFrame[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        frames = [];
        for await (const f of llm.chat(MSGS, { signal: signal(), maxTokens: 24, temperature: 0 })) {
          if (frames.length === 0) firsts.push(Math.round(performance.now() - t0));
          frames.push(f);
        }
      }
      console.log(`llama-server (synthetic) first token ms: ${firsts.join(", ")}`);
      const tokens = frames.filter((f) => f.type === "token");
      assert.ok(tokens.length >= 2, `expected several tokens, got ${JSON.stringify(frames)}`);
      assert.equal(frames.at(-1)?.type, "done");
      assert.ok(frames.slice(0, -1).every((f) => f.type === "token"));
    });

    await t.step("max_tokens is respected (token count from usage)", async () => {
      const frames = await collect(llm.chat(MSGS, { signal: signal(), maxTokens: 5 }));
      assert.deepEqual(frames.at(-1), { type: "done", finishReason: "length", tokens: 5 });
      assert.ok(frames.filter((f) => f.type === "token").length <= 5);
      await llm.keepWarm?.(signal()); // llama-server keeps its model loaded: a no-op that must not fail
    });

    await t.step("abort mid-stream ends quietly and the server stops generating", async () => {
      const ac = new AbortController();
      const frames: LlmFrame[] = [];
      for await (const f of llm.chat(MSGS, { signal: ac.signal, maxTokens: 3000 })) {
        frames.push(f);
        if (frames.length === 3) ac.abort();
      }
      assert.equal(frames.length, 3);
      assert.ok(frames.every((f) => f.type === "token"), "no error or done frame after abort");
      await waitForIdleSlots(url, 10_000);
    });

    await t.step("llama-server killed mid-stream gives a retryable error frame", async () => {
      const frames: LlmFrame[] = [];
      for await (const f of llm.chat(MSGS, { signal: signal(), maxTokens: 3000 })) {
        frames.push(f);
        if (frames.length === 2) Deno.kill(sup.status()[0].pid ?? 0, "SIGKILL");
      }
      const last = frames.at(-1);
      assert.ok(last?.type === "error", JSON.stringify(frames.slice(-2)));
      assert.equal(last.error.kind, "crashed");
      assert.equal(last.error.retryable, true);
      await waitFor(
        () => sup.status()[0].state === "healthy" && sup.status()[0].restarts === 1,
        30_000,
        "restart",
      );
    });

    await t.step(
      "Ollama's OpenAI-compatible path is the same adapter, here against llama-server",
      async () => {
        const viaOllamaKind = createLlm({ llm: { ...config.llm, kind: "ollama" } }, {
          ollamaApi: "openai",
          extraBody: { ignore_eos: true },
        });
        assert.ok(viaOllamaKind instanceof OpenAiChatLlm);
        const frames = await collect(viaOllamaKind.chat(MSGS, { signal: signal(), maxTokens: 4 }));
        assert.deepEqual(frames.at(-1), { type: "done", finishReason: "length", tokens: 4 });
      },
    );

    await t.step("a bad URL is a retryable unavailable frame", async () => {
      const bad = createLlm({ llm: { ...config.llm, url: `http://127.0.0.1:${freePort()}` } }) as LlmEngine;
      const frames = await collect(bad.chat(MSGS, { signal: signal() }));
      assert.equal(frames.length, 1);
      assert.ok(
        frames[0].type === "error" && frames[0].error.kind === "unavailable" && frames[0].error.retryable,
      );
    });
  } finally {
    await sup.stop();
  }
});
