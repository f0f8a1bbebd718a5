/**
 * A reply's tool calls in Ollama's native format (pipeline/engines/ollama_chat.ts, `/api/chat` NDJSON,
 * a call sent whole with its arguments as an object) through runReply, against the Ollama stand-in
 * (engines/fixtures/ollama_stub.ts, built from Ollama's documented API: Ollama itself cannot run here)
 * and the real store. TTS is the fake (its texts are what was spoken); the real espeak-ng path is in
 * reply_tools_llama_server_test.ts.
 */
import assert from "node:assert/strict";
import { OllamaChatLlm } from "../../pipeline/engines/ollama_chat.ts";
import type { ToolSpec } from "../../pipeline/engines/types.ts";
import { MAX_REFUSALS } from "../../pipeline/reply.ts";
import { ASK_AGAIN } from "../../pipeline/read_back.ts";
import { CALL_TOOLS } from "../../pipeline/tools.ts";
import { runToolReply } from "./_reply_tools.ts";
import { FakeTts } from "./_fakes.ts";
import { startOllamaStub } from "./engines/fixtures/ollama_stub.ts";

const MSGS = [
  { role: "system" as const, content: "Du bist TOM, die Telefonassistenz der Praxis." },
  { role: "user" as const, content: "Bitte rufen Sie mich zurück, 0171 2345678." },
];
const NOTE = CALL_TOOLS.filter((t) => t.name === "note_request") as ToolSpec[];

async function replyWith(args: Record<string, unknown>) {
  const stub = startOllamaStub({ toolCalls: [{ function: { name: "note_request", arguments: args } }] });
  const tts = new FakeTts();
  try {
    const r = await runToolReply({
      messages: MSGS,
      llm: new OllamaChatLlm({ url: stub.url, model: "tom" }),
      tts,
      specs: NOTE,
      maxTokens: 120,
    });
    return { ...r, requests: stub.requests.filter((q) => q.path === "/api/chat"), texts: tts.texts };
  } finally {
    await stub.close();
  }
}

Deno.test("reply via Ollama native: a whole tool call is stored and read back", async () => {
  const r = await replyWith({
    kind: "callback",
    callback_number: "0171 2345678",
    summary: "Bitte um Rückruf",
  });
  assert.equal(r.failure, null);
  assert.equal(r.requests.length, 1);
  assert.deepEqual(
    (r.requests[0].body.tools as { function: { name: string } }[]).map((t) => t.function.name),
    [
      "note_request",
    ],
  );
  assert.equal(r.requests[0].body.tool_choice, undefined, "Ollama's /api/chat has no tool_choice");
  assert.deepEqual(r.calls, [{ type: "tool_call", turn: 1, name: "note_request", accepted: true }]);
  assert.equal(r.stored.length, 1);
  assert.deepEqual(
    [r.stored[0].kind, r.stored[0].callbackNumber, r.stored[0].summary],
    ["callback", "+491712345678", "Bitte um Rückruf"],
  );
  const phrase = "Ich habe notiert: Rückruf unter 0171 234 56 78. Das Praxisteam meldet sich.";
  assert.deepEqual(r.texts, ["Einen Moment.", phrase], "the model's words, then the read-back");
  assert.ok(r.spoken(phrase));
});

Deno.test("reply via Ollama native: a refused call is answered as role tool with tool_name; nothing stored", async () => {
  const args = { kind: "message", summary: "" };
  const r = await replyWith(args);
  assert.equal(r.failure, null);
  assert.equal(r.stored.length, 0);
  const reason = "Ungültige Angaben: Feld „summary“: darf nicht leer sein.";
  assert.deepEqual(r.calls.map((c) => [c.accepted, c.reason]), Array(MAX_REFUSALS + 1).fill([false, reason]));
  // Each refusal is told to the model and it is asked again; after MAX_REFUSALS, TOM asks the caller.
  assert.equal(r.requests.length, MAX_REFUSALS + 1);
  const messages = r.requests[1].body.messages as unknown[];
  assert.deepEqual(messages.slice(MSGS.length), [
    {
      role: "assistant",
      content: "Einen Moment.",
      tool_calls: [{ function: { name: "note_request", arguments: args } }],
    },
    { role: "tool", tool_name: "note_request", content: reason },
  ]);
  assert.equal((r.requests[2].body.messages as unknown[]).length, MSGS.length + 4);
  assert.deepEqual(r.says.map((s) => s.text), [ASK_AGAIN]);
  assert.ok(r.spoken(ASK_AGAIN));
  assert.equal(r.texts.at(-1), ASK_AGAIN);
});
