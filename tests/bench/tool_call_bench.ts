/**
 * Added per-turn latency of the tool-call path, before/after in one run. Baseline: a plain spoken answer
 * (40 content deltas) streamed through the OpenAI-compatible adapter from an in-memory SSE body. After:
 * the same answer plus one `note_request` call whose arguments arrive in 60 fragments, accumulated,
 * parsed, validated (zod, number normalisation) and read back; the same for Ollama's native NDJSON with
 * the call as one line. Turns alternate between the variants so both see the same machine state.
 * Also prints the size the tool declarations add to every request (they sit in the prompt prefix,
 * which llama-server caches; chars/4 is a rough token estimate).
 *
 *   deno run -A tests/bench/tool_call_bench.ts [turns]
 *
 * @module
 */
import { OpenAiChatLlm } from "../../pipeline/engines/openai_chat.ts";
import { OllamaChatLlm } from "../../pipeline/engines/ollama_chat.ts";
import { wireTools } from "../../pipeline/engines/llm_tools.ts";
import type { LlmEngine } from "../../pipeline/engines/types.ts";
import { CALL_TOOLS, validateToolCall } from "../../pipeline/tools.ts";
import { readBack } from "../../pipeline/read_back.ts";

const TURNS = Number(Deno.args[0] ?? 2000);
const WORDS = "Gerne, ich notiere Ihren Wunsch nach einem Rückruf und gebe ihn an das Praxisteam weiter."
  .split(" ");
const ARGS = JSON.stringify({
  kind: "callback",
  caller_name: "Frau Müller",
  callback_number: "0171 234 56 78",
  preferred_times: "morgen vormittags",
  medication: "Ramipril 5 mg",
  summary: "Bittet um Rückruf wegen Folgerezept Ramipril, Packung fast leer.",
});
const text = Array.from({ length: 40 }, (_, i) => WORDS[i % WORDS.length] + " ");
const sseEv = (delta: unknown, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const step = Math.ceil(ARGS.length / 60);
const fragments = Array.from(
  { length: Math.ceil(ARGS.length / step) },
  (_, i) => ARGS.slice(i * step, (i + 1) * step),
);

const bodies = {
  sse: [...text.map((t) => sseEv({ content: t })), sseEv({}, "stop"), "data: [DONE]\n\n"].join(""),
  sseTool: [
    ...text.map((t) => sseEv({ content: t })),
    ...fragments.map((f, i) =>
      sseEv({
        tool_calls: [{
          index: 0,
          ...(i === 0
            ? { id: "c1", function: { name: "note_request", arguments: f } }
            : { function: { arguments: f } }),
        }],
      })
    ),
    sseEv({}, "tool_calls"),
    "data: [DONE]\n\n",
  ].join(""),
  nd: [
    ...text.map((t) => JSON.stringify({ message: { role: "assistant", content: t }, done: false }) + "\n"),
    JSON.stringify({ done: true, done_reason: "stop", eval_count: 40 }) + "\n",
  ].join(""),
  ndTool: [
    ...text.map((t) => JSON.stringify({ message: { role: "assistant", content: t }, done: false }) + "\n"),
    JSON.stringify({
      message: {
        role: "assistant",
        content: "",
        tool_calls: [{ function: { name: "note_request", arguments: JSON.parse(ARGS) } }],
      },
      done: false,
    }) + "\n",
    JSON.stringify({ done: true, done_reason: "stop", eval_count: 41 }) + "\n",
  ].join(""),
};
const fetchOf = (body: string) => (() => Promise.resolve(new Response(body))) as unknown as typeof fetch;
const engines: Record<keyof typeof bodies, LlmEngine> = {
  sse: new OpenAiChatLlm({ url: "http://x", model: "m", fetch: fetchOf(bodies.sse) }),
  sseTool: new OpenAiChatLlm({ url: "http://x", model: "m", fetch: fetchOf(bodies.sseTool) }),
  nd: new OllamaChatLlm({ url: "http://x", model: "m", fetch: fetchOf(bodies.nd) }),
  ndTool: new OllamaChatLlm({ url: "http://x", model: "m", fetch: fetchOf(bodies.ndTool) }),
};

async function turn(name: keyof typeof bodies): Promise<number> {
  const tools = name.endsWith("Tool") ? CALL_TOOLS : undefined;
  const t0 = performance.now();
  let said = "";
  for await (
    const f of engines[name].chat([{ role: "user", content: "Hallo" }], {
      signal: new AbortController().signal,
      tools,
    })
  ) {
    if (f.type === "token") said += f.text;
    else if (f.type === "tool_call") {
      const v = validateToolCall(f.name, f.args);
      if (!v.ok || v.value.name !== "note_request") throw new Error(`refused: ${JSON.stringify(v)}`);
      said += readBack(v.value.args);
    }
  }
  const ms = performance.now() - t0;
  if (said.length < 100) throw new Error(`short turn: ${said}`);
  return ms;
}

const names = Object.keys(bodies) as Array<keyof typeof bodies>;
const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<
  keyof typeof bodies,
  number[]
>;
for (let i = 0; i < 200; i++) for (const n of names) await turn(n); // warm-up (JIT, zod)
for (let i = 0; i < TURNS; i++) for (const n of names) times[n].push(await turn(n));
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];
const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
console.log(`tool-call path, ${TURNS} turns per variant (in-memory streams; no network, no model)`);
for (
  const [base, tool, label] of [["sse", "sseTool", "OpenAI SSE"], ["nd", "ndTool", "Ollama NDJSON"]] as const
) {
  const [b, t] = [times[base], times[tool]];
  console.log(
    `${label.padEnd(14)} plain median ${us(q(b, 0.5))} p95 ${us(q(b, 0.95))} | with tool call median ${
      us(q(t, 0.5))
    } p95 ${us(q(t, 0.95))} | added median ${us(q(t, 0.5) - q(b, 0.5))}`,
  );
}
const v0 = performance.now();
for (let i = 0; i < TURNS; i++) validateToolCall("note_request", JSON.parse(ARGS));
console.log(`validateToolCall(note_request) alone: ${us((performance.now() - v0) / TURNS)} per call`);
const decl = JSON.stringify(wireTools(CALL_TOOLS)).length;
console.log(
  `tool declarations per request: ${decl} chars (~${
    Math.round(decl / 4)
  } tokens, in the cached prompt prefix)`,
);
