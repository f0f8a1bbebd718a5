/**
 * Thinking off for hybrid reasoning models (the catalogue's Qwen3-8B): a caller must not wait in silence
 * while the model writes a reasoning trace, so every llama-server request TOM sends says
 * `chat_template_kwargs: {enable_thinking: false}` (pipeline/engines/llm.ts); the after-call analysis
 * (json_llm.ts) says the same to `/apply-template`, `think: false` to Ollama's `/api/chat`; a reply through
 * Ollama's OpenAI-compatible `/v1` says `reasoning_effort: "none"`. A server that writes a trace into the
 * answer anyway (`<think>…</think>`) has it dropped (pipeline/engines/llm_stream.ts): the caller hears only
 * the answer, and a long trace ends in the first-token timeout, not in minutes of silence.
 * - Decision (stand-in llama-server that records the bodies): the field is on every request, next to the
 *   caller's own extra fields.
 * - Plumbing (the REAL llama-server, synthetic model, a fixture chat template shaped like Qwen3's: an
 *   empty `<think></think>` block when thinking is off, an open `<think>` otherwise; the server started with
 *   `--reasoning on`, so its default is to think): the body TOM sent,
 *   given to the server's `/apply-template`, renders the prompt with thinking closed; the same body without
 *   the field opens a reasoning trace. What the caller gets: the model's first token is the answer.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { skipWithoutEngines } from "../../_engines.ts";
import { createLlm } from "../../../pipeline/engines/llm.ts";
import { createJsonChat } from "../../../pipeline/engines/json_llm.ts";
import { LeadingThoughts } from "../../../pipeline/engines/llm_stream.ts";
import { OpenAiChatLlm } from "../../../pipeline/engines/openai_chat.ts";
import type { LlmFrame } from "../../../pipeline/engines/types.ts";
import type { LlmEngine } from "../../../pipeline/engines/types.ts";
import { startLlamaWithTemplate } from "./llama_tools_support.ts";

const THINKING_TEMPLATE = fileURLToPath(new URL("./fixtures/thinking_template.jinja", import.meta.url));
const MSGS = [
  { role: "system" as const, content: "Du bist TOM, die Telefonassistenz der Praxis." },
  { role: "user" as const, content: "Haben Sie morgen geöffnet?" },
];

/** The body createLlm sends for MSGS (recorded by a stand-in): llama-server unless `kind` says otherwise. */
async function sentBody(
  opts: Parameters<typeof createLlm>[1] = {},
  kind: "llama-server" | "ollama" = "llama-server",
): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> | undefined;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    body = await req.json();
    return new Response("data: [DONE]\n\n", { headers: { "content-type": "text/event-stream" } });
  });
  try {
    const llm = createLlm(
      { llm: { kind, url: `http://127.0.0.1:${server.addr.port}`, modelName: "tom" } } as Parameters<
        typeof createLlm
      >[0],
      opts,
    ) as LlmEngine;
    for await (const _ of llm.chat(MSGS, { signal: new AbortController().signal })) { /* drain */ }
  } finally {
    await server.shutdown();
  }
  assert.ok(body, "the adapter sent a request");
  return body;
}

Deno.test("decision: every llama-server request turns thinking off, next to the caller's extra fields", async () => {
  const plain = await sentBody();
  assert.deepEqual(plain.chat_template_kwargs, { enable_thinking: false });
  assert.equal(plain.cache_prompt, true);
  const extra = await sentBody({ extraBody: { ignore_eos: true } });
  assert.deepEqual(extra.chat_template_kwargs, { enable_thinking: false });
  assert.equal(extra.ignore_eos, true);
});

Deno.test({
  name: "plumbing: the real llama-server renders TOM's request with the reasoning block closed",
  ignore: skipWithoutEngines,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const body = await sentBody();
  // `--reasoning on`: a server whose default is to think (as a Qwen3 template detected by llama.cpp is).
  const llama = await startLlamaWithTemplate(THINKING_TEMPLATE, ["--reasoning", "on"]);
  try {
    const render = async (b: Record<string, unknown>) => {
      const res = await fetch(`${llama.config.llm.url}/apply-template`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(b),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { prompt: string }).prompt;
    };
    const off = await render(body);
    assert.match(
      off,
      /<\|assistant\|>\n<think>\n\n<\/think>\n\n$/,
      `thinking closed: ${JSON.stringify(off)}`,
    );
    const { chat_template_kwargs: _, ...without } = body;
    const on = await render(without);
    assert.match(
      on,
      /<\|assistant\|>\n<think>\n$/,
      `without the field the trace opens: ${JSON.stringify(on)}`,
    );
  } finally {
    await llama.stop();
  }
});

/** A stand-in that records each request's path and body and answers what the JSON chat expects. */
async function recordJsonChat(
  kind: "llama-server" | "ollama",
): Promise<Map<string, Record<string, unknown>>> {
  const seen = new Map<string, Record<string, unknown>>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    seen.set(path, await req.json());
    if (path === "/apply-template") return Response.json({ prompt: "<|user|>\nx" });
    if (path === "/completion") return Response.json({ content: "{}", stop_type: "eos" });
    return Response.json({ message: { role: "assistant", content: "{}" }, done: true, done_reason: "stop" });
  });
  try {
    const chat = createJsonChat({ kind, url: `http://127.0.0.1:${server.addr.port}`, model: "tom" });
    assert.equal(await chat(MSGS, { type: "object" }), "{}");
  } finally {
    await server.shutdown();
  }
  return seen;
}

Deno.test("decision: the after-call analysis turns thinking off on llama-server and Ollama", async () => {
  const llama = await recordJsonChat("llama-server");
  assert.deepEqual(llama.get("/apply-template")?.chat_template_kwargs, { enable_thinking: false });
  assert.ok(llama.get("/completion")?.json_schema, "the schema constrains the answer");
  const ollama = await recordJsonChat("ollama");
  assert.equal(ollama.get("/api/chat")?.think, false);
  assert.deepEqual(ollama.get("/api/chat")?.format, { type: "object" });
});

Deno.test("decision: a reply through Ollama's OpenAI-compatible /v1 says reasoning_effort none", async () => {
  const body = await sentBody({ ollamaApi: "openai" }, "ollama");
  assert.equal(body.reasoning_effort, "none");
});

Deno.test({
  name: "plumbing: the real llama-server renders the analysis prompt with the reasoning block closed",
  ignore: skipWithoutEngines,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const llama = await startLlamaWithTemplate(THINKING_TEMPLATE, ["--reasoning", "on"]);
  // A pass-through in front of the real server that keeps the prompt TOM sends to /completion.
  const prompts: string[] = [];
  const proxy = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const text = await req.text();
    if (path === "/completion") prompts.push((JSON.parse(text) as { prompt: string }).prompt);
    const res = await fetch(`${llama.config.llm.url}${path}`, {
      method: req.method,
      headers: { "content-type": "application/json" },
      body: text,
    });
    return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
  });
  try {
    const chat = createJsonChat({
      kind: "llama-server",
      url: `http://127.0.0.1:${proxy.addr.port}`,
      model: "tom",
      maxTokens: 64,
    });
    const schema = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] };
    const answer = await chat(MSGS, schema).catch((e) => String(e));
    assert.equal(prompts.length, 1, `one completion request (${answer})`);
    assert.match(
      prompts[0],
      /<\|assistant\|>\n<think>\n\n<\/think>\n\n$/,
      `thinking closed: ${JSON.stringify(prompts[0])}`,
    );
  } finally {
    await proxy.shutdown();
    await llama.stop();
  }
});

Deno.test("decision: a leading <think> trace is dropped however the tokens split it; other text passes", () => {
  const run = (...tokens: string[]) => {
    const t = new LeadingThoughts();
    return t.frames([...tokens.map((text) => ({ type: "token" as const, text })), DONE]);
  };
  const text = (frames: LlmFrame[]) =>
    frames.map((f) => (f.type === "token" ? f.text : `|${f.type}`)).join("");
  const trace = "<think>\nDer Anrufer fragt nach den Öffnungszeiten.\n</think>\n\nGuten Tag.";
  for (let cut = 1; cut < trace.length; cut++) {
    for (const step of [1, 2, 3, 5]) {
      const tokens = [
        trace.slice(0, cut),
        ...(trace.slice(cut).match(new RegExp(`[\\s\\S]{1,${step}}`, "g")) ?? []),
      ];
      assert.equal(text(run(...tokens)), "Guten Tag.|done", `cut ${cut}, step ${step}`);
    }
  }
  assert.equal(
    text(run("\n<think>", "x", "</think>", " ", "Ja.")),
    "Ja.|done",
    "white space around the trace",
  );
  assert.equal(text(run(" Guten", " Tag")), " Guten Tag|done", "an answer passes as is");
  assert.equal(text(run("<", "b>", "fett")), "<b>fett|done", "another tag passes");
  assert.equal(text(run("<th")), "<th|done", "held text that never became the tag comes before the end");
  assert.equal(text(run("Ich <think> nicht")), "Ich <think> nicht|done", "only a trace before the words");
  // A trace that never closes: nothing is said.
  const open = new LeadingThoughts();
  for (let i = 0; i < 10_000; i++) {
    assert.equal(open.push("<think>".slice(0, i === 0 ? 7 : 0) + "denke "), "");
  }
  assert.equal(text(open.frames([DONE])), "|done");
});

const DONE: LlmFrame = { type: "done", finishReason: "stop", tokens: 1 };

/** A stand-in OpenAI-compatible server (a practice's own) that writes `content` tokens, `gapMs` apart. */
function thinkingServer(tokens: string[], gapMs = 0) {
  const enc = new TextEncoder();
  return Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, () => {
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        for (const t of tokens) {
          c.enqueue(
            enc.encode(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: t } }] })}\n\n`),
          );
          if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
        }
        c.enqueue(
          enc.encode(
            `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`,
          ),
        );
        c.enqueue(enc.encode("data: [DONE]\n\n"));
        c.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
}

Deno.test("decision: a server that writes its trace into the answer: the caller gets the answer only", async () => {
  const server = thinkingServer([
    "<think>",
    "\nDer Anrufer",
    " fragt.",
    "\n</think>",
    "\n\n",
    "Guten",
    " Tag.",
  ]);
  try {
    const llm = new OpenAiChatLlm({ url: `http://127.0.0.1:${server.addr.port}`, model: "tom" });
    const frames: LlmFrame[] = [];
    for await (const f of llm.chat(MSGS, { signal: new AbortController().signal })) frames.push(f);
    assert.deepEqual(frames.filter((f) => f.type === "token").map((f) => f.type === "token" && f.text), [
      "Guten",
      " Tag.",
    ]);
    assert.equal(frames.at(-1)?.type, "done");
  } finally {
    await server.shutdown();
  }
});

Deno.test("decision: a trace longer than the first-token bound ends in the timeout, not in silence", async () => {
  const server = thinkingServer(["<think>", ...Array(40).fill(" denke"), "</think>", "Zu spät."], 25);
  try {
    const llm = new OpenAiChatLlm({
      url: `http://127.0.0.1:${server.addr.port}`,
      model: "tom",
      firstTokenMs: 300,
      stallMs: 5000,
    });
    const frames: LlmFrame[] = [];
    for await (const f of llm.chat(MSGS, { signal: new AbortController().signal })) frames.push(f);
    assert.equal(frames.length, 1, JSON.stringify(frames));
    assert.equal(frames[0].type, "error");
    assert.match(frames[0].type === "error" ? frames[0].error.message : "", /first token/);
  } finally {
    await server.shutdown();
  }
});
