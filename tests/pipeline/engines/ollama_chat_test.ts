import assert from "node:assert/strict";
import { OllamaChatLlm } from "../../../pipeline/engines/ollama_chat.ts";
import { createLlm } from "../../../pipeline/engines/llm.ts";
import type { LlmFrame } from "../../../pipeline/engines/types.ts";
import { freePort, testConfig, waitFor } from "../../infra/fixtures/engines.ts";
import { startOllamaStub } from "./fixtures/ollama_stub.ts";

const MSGS = [{ role: "system" as const, content: "Du bist TOM." }, {
  role: "user" as const,
  content: "Hallo",
}];

async function collect(it: AsyncIterable<LlmFrame>): Promise<LlmFrame[]> {
  const out: LlmFrame[] = [];
  for await (const f of it) out.push(f);
  return out;
}

function llm(
  url: string,
  model = "tom",
  extra: Partial<ConstructorParameters<typeof OllamaChatLlm>[0]> = {},
) {
  return new OllamaChatLlm({ url, model, ...extra });
}

Deno.test("Ollama native /api/chat: NDJSON split mid-line becomes token frames, then done with eval_count", async () => {
  const stub = startOllamaStub();
  try {
    const frames = await collect(
      llm(stub.url).chat(MSGS, { signal: new AbortController().signal, maxTokens: 5 }),
    );
    const tokens = frames.filter((f) => f.type === "token");
    assert.equal(tokens.length, 5);
    assert.equal(tokens.map((f) => f.type === "token" ? f.text : "").join(""), "Guten Tag, wie kann");
    assert.deepEqual(frames.at(-1), { type: "done", finishReason: "length", tokens: 5 });
    const req = stub.requests[0];
    assert.equal(req.path, "/api/chat");
    assert.equal(req.body.stream, true);
    assert.equal(req.body.keep_alive, -1);
    assert.deepEqual(req.body.messages, MSGS);
    assert.deepEqual(req.body.options, { num_predict: 5, temperature: 0.7 });

    const all = await collect(
      llm(stub.url).chat(MSGS, { signal: new AbortController().signal, maxTokens: 50 }),
    );
    assert.deepEqual(all.at(-1), { type: "done", finishReason: "stop", tokens: 8 });
  } finally {
    await stub.close();
  }
});

Deno.test("Ollama keepWarm loads the model with keep_alive -1 through /api/generate without a prompt", async () => {
  const stub = startOllamaStub();
  try {
    const engine = createLlm(testConfig({ TOM_LLM_KIND: "ollama", TOM_LLM_URL: stub.url }));
    assert.ok(engine instanceof OllamaChatLlm);
    await engine.keepWarm?.(new AbortController().signal);
    const req = stub.requests[0];
    assert.equal(req.path, "/api/generate");
    assert.deepEqual(req.body, { model: "tom", keep_alive: -1, stream: false });
    assert.equal(stub.loaded.get("tom"), Infinity);

    await llm(stub.url, "tom", { keepAlive: "30m" }).keepWarm(new AbortController().signal);
    assert.ok((stub.loaded.get("tom") ?? 0) < Infinity);
    await assert.rejects(llm(stub.url, "missing").keepWarm(new AbortController().signal), /not found/);
    const down = `http://127.0.0.1:${freePort()}`;
    await assert.rejects(llm(down).keepWarm(new AbortController().signal), /Cannot reach llm engine/);
  } finally {
    await stub.close();
  }
});

Deno.test("Ollama errors become error frames: unknown model, error line, cut stream, unreachable", async () => {
  const stub = startOllamaStub();
  const signal = () => new AbortController().signal;
  try {
    const missing = await collect(llm(stub.url, "missing").chat(MSGS, { signal: signal() }));
    assert.equal(missing.length, 1);
    assert.ok(missing[0].type === "error");
    assert.equal(missing[0].error.kind, "rejected");
    assert.equal(missing[0].error.retryable, false);
    assert.match(missing[0].error.message, /HTTP 404: model "missing" not found/);

    const broken = await collect(llm(stub.url, "broken").chat(MSGS, { signal: signal() }));
    assert.deepEqual(broken.map((f) => f.type), ["token", "error"]);
    assert.ok(broken[1].type === "error" && broken[1].error.retryable);
    assert.match(broken[1].type === "error" ? broken[1].error.message : "", /CUDA error/);

    const cut = await collect(llm(stub.url, "cut").chat(MSGS, { signal: signal() }));
    assert.deepEqual(cut.map((f) => f.type), ["token", "error"]);
    assert.ok(cut[1].type === "error" && cut[1].error.kind === "crashed");

    const down = await collect(llm(`http://127.0.0.1:${freePort()}`).chat(MSGS, { signal: signal() }));
    assert.equal(down.length, 1);
    assert.ok(down[0].type === "error");
    assert.equal(down[0].error.kind, "unavailable");
    assert.equal(down[0].error.retryable, true);
  } finally {
    await stub.close();
  }
});

Deno.test("Ollama first-token and stall timeouts become retryable timeout frames and close the stream", async () => {
  const stub = startOllamaStub({ slowMs: 3_000 });
  const signal = () => new AbortController().signal;
  try {
    const slow = await collect(llm(stub.url, "slow", { firstTokenMs: 100 }).chat(MSGS, { signal: signal() }));
    assert.equal(slow.length, 1);
    assert.ok(slow[0].type === "error" && slow[0].error.kind === "timeout" && slow[0].error.retryable);
    assert.match(slow[0].type === "error" ? slow[0].error.message : "", /first token/);

    const stall = await collect(llm(stub.url, "stall", { stallMs: 100 }).chat(MSGS, { signal: signal() }));
    assert.deepEqual(stall.map((f) => f.type), ["token", "token", "error"]);
    assert.ok(stall[2].type === "error" && stall[2].error.kind === "timeout");
    assert.match(stall[2].type === "error" ? stall[2].error.message : "", /next token/);
    await waitFor(() => stub.openStreams() === 0, 5_000, "the stalled stream to be closed");
  } finally {
    await stub.close();
  }
});

Deno.test("aborting an Ollama stream ends it quietly and closes the connection", async () => {
  const stub = startOllamaStub();
  try {
    const ac = new AbortController();
    const frames: LlmFrame[] = [];
    for await (const f of llm(stub.url, "stall").chat(MSGS, { signal: ac.signal })) {
      frames.push(f);
      if (frames.length === 2) ac.abort();
    }
    assert.deepEqual(frames.map((f) => f.type), ["token", "token"]);
    await waitFor(() => stub.openStreams() === 0, 5_000, "the aborted stream to be closed");
    const pre = new AbortController();
    pre.abort();
    assert.deepEqual(await collect(llm(stub.url).chat(MSGS, { signal: pre.signal })), []);
  } finally {
    await stub.close();
  }
});

// A thinking model (qwen3 on Ollama) thinks by default: seconds of `message.thinking` lines before the first
// word, which a caller hears as silence. TOM asks every model not to think (`think: false`); what the caller
// gets: the answer's first token at once. The stand-in plays Ollama's documented rules (see the stub).
Deno.test("Ollama: think false on every request, so a thinking model answers at once; others accept it", async () => {
  const stub = startOllamaStub({ thinkMs: 5_000 });
  try {
    const t0 = performance.now();
    const frames = await collect(
      llm(stub.url, "thinker").chat(MSGS, { signal: new AbortController().signal, maxTokens: 3 }),
    );
    console.log(
      `thinking model, first answer in ${Math.round(performance.now() - t0)} ms (stub thinks 5000 ms)`,
    );
    assert.equal(stub.requests[0].body.think, false);
    assert.equal(frames.filter((f) => f.type === "token").length, 3, "the answer, not the reasoning");
    const plain = await collect(llm(stub.url, "tom").chat(MSGS, { signal: new AbortController().signal }));
    assert.equal(plain.at(-1)?.type, "done", "a model without the capability accepts think: false");
    // What TOM avoids: without the field the stub's thinker thinks first (the stub's default, as Ollama's).
    const res = await fetch(`${stub.url}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "thinker", messages: MSGS, stream: true }),
    });
    assert.ok(res.body);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) text += (await reader.read()).value ?? "";
    await reader.cancel();
    assert.equal(JSON.parse(text.split("\n")[0]).message.thinking, " Der Anrufer fragt");
  } finally {
    await stub.close();
  }
});
