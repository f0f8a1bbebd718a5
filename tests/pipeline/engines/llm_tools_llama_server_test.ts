/**
 * Tool calls through the real llama-server (synthetic random-weight model, gibberish), started with the
 * tool-aware template and the other settings of llama_tools_support.ts (why each is needed is there).
 * The conversation ends with the assistant prefill "<tool_call>\n" that llama-server continues; from there
 * the grammar (from the JSON schema of our zod schemas) makes the arguments valid JSON for the schema:
 * required keys present, enums and length limits kept.
 */
import assert from "node:assert/strict";
import { skipWithoutEngines } from "../../_engines.ts";
import type { ChatMessage, LlmFrame, ToolCallFrame } from "../../../pipeline/engines/types.ts";
import { CALL_TOOLS, validateToolCall } from "../../../pipeline/tools.ts";
import { readBack } from "../../../pipeline/read_back.ts";
import { REQUEST_KINDS } from "../../../store/mod.ts";
import { startToolLlama, TOOL_CALL_PREFILL } from "./llama_tools_support.ts";

const MSGS: ChatMessage[] = [
  { role: "system", content: "Du bist TOM, die Telefonassistenz der Praxis." },
  { role: "user", content: "Bitte rufen Sie mich zurück, 0171 2345678." },
  TOOL_CALL_PREFILL,
];

async function collect(it: AsyncIterable<LlmFrame>): Promise<LlmFrame[]> {
  const out: LlmFrame[] = [];
  for await (const f of it) out.push(f);
  return out;
}

Deno.test({
  name: "real llama-server: a forced tool choice gives real tool_call frames that validation judges",
  ignore: skipWithoutEngines,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const { llm, stop } = await startToolLlama();
  const byName = (n: string) => CALL_TOOLS.filter((x) => x.name === n);
  try {
    for (const name of ["end_call", "note_request"]) {
      await t.step(`only ${name} offered, tool_choice required`, async () => {
        const frames = await collect(llm.chat(MSGS, {
          signal: new AbortController().signal,
          tools: byName(name),
          toolChoice: "required",
          maxTokens: 400,
          temperature: 0,
        }));
        const calls = frames.filter((f): f is ToolCallFrame => f.type === "tool_call");
        assert.ok(calls.length >= 1, JSON.stringify(frames.slice(-3)));
        assert.deepEqual(frames.at(-1), { ...frames.at(-1), type: "done", finishReason: "tool_calls" });
        for (const c of calls) {
          assert.equal(c.name, name);
          assert.ok(c.id.length > 0);
          assert.ok(c.args !== undefined, `grammar-constrained arguments are a JSON object: ${c.raw}`);
          if (name === "end_call") assert.equal(typeof c.args.reason, "string");
          else {
            assert.ok((REQUEST_KINDS as readonly unknown[]).includes(c.args.kind), c.raw);
            assert.equal(typeof c.args.summary, "string");
          }
          const v = validateToolCall(c.name, c.args);
          console.log(`${name}: ${c.raw.slice(0, 160)} -> ${v.ok ? "accepted" : `refused: ${v.reason}`}`);
          if (!v.ok) assert.match(v.reason, /^(Ungültige Angaben|Für einen Rückruf|Feld „callback_number“)/);
          else {
            assert.equal(v.value.name, name);
            if (v.value.name === "note_request") assert.match(readBack(v.value.args), /^Ich habe notiert: /);
          }
        }
      });
    }
  } finally {
    await stop();
  }
});
