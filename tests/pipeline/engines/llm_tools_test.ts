import assert from "node:assert/strict";
import { OpenAiChatLlm } from "../../../pipeline/engines/openai_chat.ts";
import { OllamaChatLlm } from "../../../pipeline/engines/ollama_chat.ts";
import { ToolCallAccumulator, wireMessages, wireToolChoice } from "../../../pipeline/engines/llm_tools.ts";
import type { LlmFrame, ToolCallFrame } from "../../../pipeline/engines/types.ts";
import { CALL_TOOLS, validateToolCall } from "../../../pipeline/tools.ts";
import { startOllamaStub } from "./fixtures/ollama_stub.ts";

/** The parts of a JSON schema the tests look at. */
type Schema = {
  type?: string;
  required?: string[];
  additionalProperties?: boolean;
  $schema?: string;
  properties: Record<string, { enum?: string[]; maxLength?: number }>;
};

const MSGS = [{ role: "user" as const, content: "Ich brauche einen Rückruf." }];
const signal = () => new AbortController().signal;

async function collect(it: AsyncIterable<LlmFrame>): Promise<LlmFrame[]> {
  const out: LlmFrame[] = [];
  for await (const f of it) out.push(f);
  return out;
}

/** A fetch that answers `chunks` as an SSE body and records the request bodies. */
function sse(chunks: string[], bodies: Record<string, unknown>[] = []): typeof fetch {
  return ((_u: string | URL | Request, init?: RequestInit) => {
    bodies.push(JSON.parse(String(init?.body)));
    const enc = new TextEncoder();
    let i = 0;
    return Promise.resolve(
      new Response(
        new ReadableStream<Uint8Array>({
          pull(c) {
            if (i < chunks.length) c.enqueue(enc.encode(chunks[i++]));
            else c.close();
          },
        }),
      ),
    );
  }) as typeof fetch;
}

const ev = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const tc = (index: number, fn: { name?: string; arguments?: string }, id?: string) =>
  ev({ tool_calls: [{ index, ...(id ? { id, type: "function" } : {}), function: fn }] });

const NOTE = JSON.stringify({
  kind: "prescription",
  caller_name: "Frau Müller",
  callback_number: "0171 2345678",
  medication: "Ramipril",
  summary: "Folgerezept Ramipril",
});

function llm(chunks: string[], bodies: Record<string, unknown>[] = []) {
  return new OpenAiChatLlm({ url: "http://127.0.0.1:1", model: "m", fetch: sse(chunks, bodies) });
}

Deno.test("OpenAI SSE: argument fragments across chunks become one tool_call frame with parsed args", async () => {
  const parts = [NOTE.slice(0, 7), NOTE.slice(7, 40), NOTE.slice(40, 41), NOTE.slice(41)];
  const frames = await collect(
    llm([
      ev({ role: "assistant", content: null }),
      tc(0, { name: "note_", arguments: "" }, "call_a"),
      tc(0, { name: "request", arguments: parts[0] }),
      ...parts.slice(1).map((p) => tc(0, { arguments: p })),
      ev({}, "tool_calls"),
      "data: [DONE]\n\n",
    ]).chat(MSGS, { signal: signal(), tools: CALL_TOOLS, toolChoice: "required" }),
  );
  assert.deepEqual(frames, [
    { type: "tool_call", id: "call_a", name: "note_request", args: JSON.parse(NOTE), raw: NOTE },
    { type: "done", finishReason: "tool_calls", tokens: 0 },
  ]);
  const v = validateToolCall("note_request", (frames[0] as ToolCallFrame).args);
  assert.ok(v.ok && v.value.name === "note_request");
  assert.equal(v.value.args.callbackNumber, "+491712345678");
});

Deno.test("OpenAI SSE: two calls, the first released as soon as the second starts", async () => {
  const it = llm([
    tc(0, { name: "note_request", arguments: NOTE.slice(0, 20) }, "c1"),
    tc(0, { arguments: NOTE.slice(20) }),
    tc(1, { name: "end_call", arguments: '{"reason":' }, "c2"),
    tc(1, { arguments: '"fertig"}' }),
    ev({}, "tool_calls"),
    "data: [DONE]\n\n",
  ]).chat(MSGS, { signal: signal(), tools: CALL_TOOLS });
  const order: string[] = [];
  for await (const f of it) order.push(f.type === "tool_call" ? `${f.name}:${f.id}` : f.type);
  assert.deepEqual(order, ["note_request:c1", "end_call:c2", "done"]);
  const acc = new ToolCallAccumulator();
  assert.deepEqual(acc.add([{ index: 0, id: "x", function: { name: "end_call", arguments: "{" } }]), []);
  assert.equal(acc.add([{ index: 1, function: { name: "end_call", arguments: "{}" } }])[0].raw, "{");
});

Deno.test("OpenAI SSE: text then a tool call; a call without finish_reason is flushed at [DONE]", async () => {
  const frames = await collect(
    llm([
      ev({ content: "Einen Moment," }),
      ev({ content: " ich notiere das." }),
      tc(0, { name: "end_call", arguments: '{"reason":"Anrufer verabschiedet"}' }),
      "data: [DONE]\n\n",
    ]).chat(MSGS, { signal: signal(), tools: CALL_TOOLS }),
  );
  assert.deepEqual(frames.map((f) => f.type), ["token", "token", "tool_call", "done"]);
  const call = frames[2] as ToolCallFrame;
  assert.equal(call.id, "call_0"); // no id from the server: generated
  assert.deepEqual(call.args, { reason: "Anrufer verabschiedet" });
});

Deno.test("OpenAI SSE: broken JSON arguments keep the raw text and are refused with a German reason", async () => {
  const frames = await collect(
    llm([tc(0, { name: "note_request", arguments: '{"kind": "callback", "summ' }), ev({}, "tool_calls")])
      .chat(MSGS, { signal: signal(), tools: CALL_TOOLS }),
  );
  const call = frames[0] as ToolCallFrame;
  assert.equal(call.args, undefined);
  assert.equal(call.raw, '{"kind": "callback", "summ');
  const v = validateToolCall(call.name, call.args);
  assert.deepEqual(v, { ok: false, reason: "Die Argumente sind kein gültiges JSON-Objekt." });
});

Deno.test("request bodies: tools with JSON schema, tool_choice auto, required and named; none without tools", async () => {
  const bodies: Record<string, unknown>[] = [];
  const done = ["data: [DONE]\n\n"];
  await collect(llm(done, bodies).chat(MSGS, { signal: signal(), tools: CALL_TOOLS }));
  await collect(
    llm(done, bodies).chat(MSGS, { signal: signal(), tools: CALL_TOOLS, toolChoice: "required" }),
  );
  await collect(
    llm(done, bodies).chat(MSGS, { signal: signal(), tools: CALL_TOOLS, toolChoice: { name: "end_call" } }),
  );
  await collect(llm(done, bodies).chat(MSGS, { signal: signal() }));
  assert.deepEqual(bodies.map((b) => b.tool_choice), [
    "auto",
    "required",
    { type: "function", function: { name: "end_call" } },
    undefined,
  ]);
  assert.equal(bodies[3].tools, undefined);
  const tools = bodies[0].tools as Array<{ type: string; function: { name: string; parameters: Schema } }>;
  assert.deepEqual(tools.map((t) => t.function.name), ["note_request", "end_call", "transfer_to_staff"]);
  assert.ok(tools.every((t) => t.type === "function"));
  const p = tools[0].function.parameters;
  assert.equal(p.type, "object");
  assert.deepEqual(p.required, ["kind", "summary"]);
  assert.equal(p.additionalProperties, false);
  assert.equal(p.properties.kind.enum?.length, 7);
  assert.equal(p.$schema, undefined);
  assert.deepEqual(wireToolChoice({ name: "x" }), { type: "function", function: { name: "x" } });
});

Deno.test("Ollama native: tools in the body, no tool_choice; a whole tool_calls message becomes a frame", async () => {
  const stub = startOllamaStub({
    toolCalls: [
      { function: { name: "note_request", arguments: JSON.parse(NOTE) } },
      { function: { name: "end_call", arguments: { reason: "" } } },
    ],
  });
  try {
    const engine = new OllamaChatLlm({ url: stub.url, model: "tom" });
    const frames = await collect(
      engine.chat(MSGS, { signal: signal(), tools: CALL_TOOLS, toolChoice: "required" }),
    );
    assert.deepEqual(frames.map((f) => f.type), ["token", "tool_call", "tool_call", "done"]);
    const [note, end] = [frames[1], frames[2]] as ToolCallFrame[];
    assert.deepEqual([note.id, note.name, end.id], ["call_0", "note_request", "call_1"]);
    assert.deepEqual(note.args, JSON.parse(NOTE));
    assert.deepEqual(frames.at(-1), { type: "done", finishReason: "stop", tokens: 2 });
    const body = stub.requests[0].body;
    assert.equal((body.tools as unknown[]).length, 3);
    assert.equal(body.tool_choice, undefined); // the native API has no forcing
    assert.ok(validateToolCall(note.name, note.args).ok);
    const refused = validateToolCall(end.name, end.args);
    assert.deepEqual(refused, {
      ok: false,
      reason: "Ungültige Angaben: Feld „reason“: darf nicht leer sein.",
    });
    // Without tools the same stub answers in text, as before.
    const plain = await collect(engine.chat(MSGS, { signal: signal(), maxTokens: 2 }));
    assert.deepEqual(plain.map((f) => f.type), ["token", "token", "done"]);
  } finally {
    await stub.close();
  }
});

Deno.test("tool call fragments count as output for the first-token timeout (a slow long call is not a timeout)", async () => {
  const chunks = [
    tc(0, { name: "end_call", arguments: "" }, "c1"),
    ...Array.from(
      { length: 11 },
      (_, i) => tc(0, { arguments: '{"reason":"Anrufer hat sich verabschiedet"}'.slice(i * 4, i * 4 + 4) }),
    ),
    ev({}, "tool_calls"),
    "data: [DONE]\n\n",
  ];
  const enc = new TextEncoder();
  const slow = ((_u: string, init?: RequestInit) => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 25));
        if (init?.signal?.aborted) c.error(init.signal.reason);
        else if (i < chunks.length) c.enqueue(enc.encode(chunks[i++]));
        else c.close();
      },
    });
    return Promise.resolve(new Response(body));
  }) as unknown as typeof fetch;
  const engine = new OpenAiChatLlm({
    url: "http://127.0.0.1:1",
    model: "m",
    fetch: slow,
    firstTokenMs: 120,
    stallMs: 2_000,
  });
  const frames = await collect(engine.chat(MSGS, { signal: signal(), tools: CALL_TOOLS }));
  assert.deepEqual(frames.map((f) => f.type), ["tool_call", "done"]);
});

Deno.test("wireMessages: a refused call goes back in each flavour; arguments cut off at the limit become {}", () => {
  const msgs = [
    {
      role: "assistant" as const,
      content: "",
      toolCalls: [
        { id: "c1", name: "note_request", raw: '{"kind":"message"}' },
        { id: "c2", name: "note_request", raw: '{"kind":"mess' },
      ],
    },
    { role: "tool" as const, toolCallId: "c1", name: "note_request", content: "Ungültige Angaben." },
  ];
  assert.deepEqual(wireMessages(msgs, "openai"), [
    {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "c1", type: "function", function: { name: "note_request", arguments: '{"kind":"message"}' } },
        // llama-server answers HTTP 500 to a conversation whose earlier call's arguments are no JSON.
        { id: "c2", type: "function", function: { name: "note_request", arguments: "{}" } },
      ],
    },
    { role: "tool", tool_call_id: "c1", content: "Ungültige Angaben." },
  ]);
  assert.deepEqual(wireMessages(msgs, "ollama"), [
    {
      role: "assistant",
      content: "",
      tool_calls: [
        { function: { name: "note_request", arguments: { kind: "message" } } },
        { function: { name: "note_request", arguments: {} } },
      ],
    },
    { role: "tool", tool_name: "note_request", content: "Ungültige Angaben." },
  ]);
});
