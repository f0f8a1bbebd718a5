import assert from "node:assert/strict";
import { chatCompletionsUrl, OpenAiChatLlm } from "../../../pipeline/engines/openai_chat.ts";
import { createLlm } from "../../../pipeline/engines/llm.ts";
import type { LlmFrame } from "../../../pipeline/engines/types.ts";
import { freePort, testConfig } from "../../infra/fixtures/engines.ts";

const MSGS = [{ role: "user" as const, content: "Hallo" }];

async function collect(it: AsyncIterable<LlmFrame>): Promise<LlmFrame[]> {
  const out: LlmFrame[] = [];
  for await (const f of it) out.push(f);
  return out;
}

/** A fetch that answers with `chunks` as the body (and records the request). */
function fakeFetch(
  chunks: string[],
  status = 200,
  seen: RequestInit[] = [],
): typeof fetch {
  return ((_url: string | URL | Request, init?: RequestInit) => {
    seen.push(init ?? {});
    const enc = new TextEncoder();
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i < chunks.length) c.enqueue(enc.encode(chunks[i++]));
        else c.close();
      },
    });
    return Promise.resolve(new Response(body, { status }));
  }) as typeof fetch;
}

const chunk = (content: string | null, finish: string | null = null) =>
  `data: ${
    JSON.stringify({
      choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }],
    })
  }\n\n`;
const SSE = [
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant", content: null } }] })}\n\n`,
  ": keep-alive comment\n\n",
  chunk("Guten"),
  chunk(" Tag"),
  chunk("ß ü"),
  chunk(null, "stop"),
  `data: ${JSON.stringify({ choices: [], usage: { completion_tokens: 4, prompt_tokens: 9 } })}\n\n`,
  "data: [DONE]\n\n",
].join("");

function engine(f: typeof fetch, extra: Partial<ConstructorParameters<typeof OpenAiChatLlm>[0]> = {}) {
  return new OpenAiChatLlm({ url: "http://127.0.0.1:1", model: "tom", fetch: f, ...extra });
}

Deno.test("SSE split at every byte offset (and all in one chunk) gives the same frames", async () => {
  const expected: LlmFrame[] = [
    { type: "token", text: "Guten" },
    { type: "token", text: " Tag" },
    { type: "token", text: "ß ü" },
    { type: "done", finishReason: "stop", tokens: 4 },
  ];
  assert.deepEqual(
    await collect(engine(fakeFetch([SSE])).chat(MSGS, { signal: new AbortController().signal })),
    expected,
  );
  const bytes = new TextEncoder().encode(SSE);
  for (let cut = 1; cut < bytes.length; cut++) {
    // Split the bytes (also inside multi-byte characters) through a byte-level fetch.
    const f = ((_u: unknown, _i?: RequestInit) =>
      Promise.resolve(
        new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(bytes.slice(0, cut));
              c.enqueue(bytes.slice(cut));
              c.close();
            },
          }),
        ),
      )) as typeof fetch;
    assert.deepEqual(
      await collect(engine(f).chat(MSGS, { signal: new AbortController().signal })),
      expected,
      `cut ${cut}`,
    );
  }
  const crlf = SSE.replaceAll("\n", "\r\n");
  assert.deepEqual(
    await collect(
      engine(fakeFetch(crlf.match(/[\s\S]{1,5}/g) ?? [])).chat(MSGS, {
        signal: new AbortController().signal,
      }),
    ),
    expected,
  );
});

Deno.test("the request body carries model, stream, max_tokens, temperature and include_usage", async () => {
  const seen: RequestInit[] = [];
  await collect(
    engine(fakeFetch([SSE], 200, seen), { apiKey: "k", extraBody: { ignore_eos: true } }).chat(MSGS, {
      signal: new AbortController().signal,
      maxTokens: 7,
      temperature: 0.2,
    }),
  );
  const body = JSON.parse(String(seen[0].body));
  assert.deepEqual(body, {
    ignore_eos: true,
    model: "tom",
    messages: MSGS,
    stream: true,
    max_tokens: 7,
    temperature: 0.2,
    stream_options: { include_usage: true },
  });
  assert.equal((seen[0].headers as Record<string, string>).authorization, "Bearer k");
  assert.equal(chatCompletionsUrl("http://h:1/v1/"), "http://h:1/v1/chat/completions");
  assert.equal(chatCompletionsUrl("http://h:1"), "http://h:1/v1/chat/completions");
});

Deno.test("non-200 answers and error events become error frames with the right kind", async () => {
  const signal = () => new AbortController().signal;
  const loading = await collect(
    engine(
      fakeFetch([
        JSON.stringify({ error: { code: 503, message: "Loading model", type: "unavailable_error" } }),
      ], 503),
    )
      .chat(MSGS, { signal: signal() }),
  );
  assert.equal(loading.length, 1);
  assert.ok(loading[0].type === "error");
  assert.equal(loading[0].error.kind, "unavailable");
  assert.equal(loading[0].error.retryable, true);
  assert.match(loading[0].error.message, /HTTP 503: Loading model/);

  const bad = await collect(
    engine(fakeFetch(['{"error":"bad request"}'], 400)).chat(MSGS, { signal: signal() }),
  );
  assert.ok(bad[0].type === "error" && bad[0].error.kind === "rejected" && !bad[0].error.retryable);

  const midError = await collect(
    engine(fakeFetch([chunk("a"), 'data: {"error":{"message":"slot crashed"}}\n\n'])).chat(MSGS, {
      signal: signal(),
    }),
  );
  assert.deepEqual(midError.map((f) => f.type), ["token", "error"]);
  assert.match(midError[1].type === "error" ? midError[1].error.message : "", /slot crashed/);

  const eventError = await collect(
    engine(fakeFetch([chunk("a"), 'event: error\ndata: {"message":"boom"}\n\n'])).chat(MSGS, {
      signal: signal(),
    }),
  );
  assert.deepEqual(eventError.map((f) => f.type), ["token", "error"]);

  const garbage = await collect(engine(fakeFetch(["data: {not json\n\n"])).chat(MSGS, { signal: signal() }));
  assert.ok(garbage[0].type === "error" && garbage[0].error.kind === "bad_response");

  const cut = await collect(engine(fakeFetch([chunk("a")])).chat(MSGS, { signal: signal() }));
  assert.deepEqual(cut.map((f) => f.type), ["token", "error"]);
  assert.ok(cut[1].type === "error" && cut[1].error.kind === "crashed");

  // No [DONE] but a finish reason: the stream ended properly (some servers omit [DONE]).
  const noDone = await collect(
    engine(fakeFetch([chunk("a"), chunk(null, "length")])).chat(MSGS, { signal: signal() }),
  );
  assert.deepEqual(noDone.at(-1), { type: "done", finishReason: "length", tokens: 1 });
});

Deno.test("an unreachable server is a retryable unavailable frame; kind none builds nothing", async () => {
  const llm = createLlm(
    testConfig({ TOM_LLM_KIND: "openai", TOM_LLM_URL: `http://127.0.0.1:${freePort()}/v1` }),
  );
  assert.ok(llm instanceof OpenAiChatLlm);
  const frames = await collect(llm.chat(MSGS, { signal: new AbortController().signal }));
  assert.equal(frames.length, 1);
  assert.ok(frames[0].type === "error");
  assert.equal(frames[0].error.kind, "unavailable");
  assert.equal(frames[0].error.retryable, true);
  assert.equal(frames[0].error.engine, "llm");
  assert.equal(createLlm(testConfig({ TOM_LLM_KIND: "none" })), null);
});
