/**
 * Tool calls through the real llama-server (synthetic random-weight model, gibberish). What is true here:
 * - The synthetic model's own template describes no tools, so llama-server (with `--jinja`) ignores
 *   `tools` for it; this test starts the managed spec with a tool-aware template (fixture, the
 *   Hermes-style `<tool_call>` block llama.cpp's autoparser recognises).
 * - This llama.cpp build feeds the template's generation prompt into the tool grammar token by token
 *   and drops a first token that starts with a space; the synthetic SentencePiece vocabulary adds one
 *   ("<|" becomes " <"), so a forced choice fails with 400 unless `add_space_prefix` is overridden off.
 * - The grammar lets content come before the call, and a random model never opens `<tool_call>` by
 *   itself, so the conversation ends with an assistant prefill "<tool_call>\n" that llama-server
 *   continues. From there the grammar (from the JSON schema of our zod schemas) makes the arguments
 *   valid JSON for the schema: required keys present, enums and length limits kept.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Supervisor } from "../../../infra/supervisor.ts";
import { engineSpecs } from "../../../infra/engines/specs.ts";
import { silentLogger } from "../../../infra/log.ts";
import { testConfig } from "../../infra/fixtures/engines.ts";
import { skipWithoutEngines } from "../../_engines.ts";
import { OpenAiChatLlm } from "../../../pipeline/engines/openai_chat.ts";
import type { ChatMessage, LlmFrame, ToolCallFrame } from "../../../pipeline/engines/types.ts";
import { CALL_TOOLS, validateToolCall } from "../../../pipeline/tools.ts";
import { readBack } from "../../../pipeline/read_back.ts";
import { REQUEST_KINDS } from "../../../store/mod.ts";

const TEMPLATE = fileURLToPath(new URL("./fixtures/tool_template.jinja", import.meta.url));
const MSGS: ChatMessage[] = [
  { role: "system", content: "Du bist TOM, die Telefonassistenz der Praxis." },
  { role: "user", content: "Bitte rufen Sie mich zurück, 0171 2345678." },
  { role: "assistant", content: "<tool_call>\n" },
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
  const config = testConfig();
  const specs = engineSpecs(config).filter((s) => s.name === "llm").map((s) => ({
    ...s,
    args: [
      ...(s.args ?? []),
      ...["--chat-template-file", TEMPLATE],
      ...["--override-kv", "tokenizer.ggml.add_space_prefix=bool:false"],
    ],
  }));
  assert.ok(specs[0].args.includes("--jinja"), "the managed llama-server runs with --jinja");
  const sup = new Supervisor(specs, { log: silentLogger });
  await sup.start();
  // One call per answer: the random model would otherwise chain calls until max_tokens.
  const llm = new OpenAiChatLlm({
    url: config.llm.url,
    model: config.llm.modelName,
    extraBody: { parallel_tool_calls: false },
  });
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
    await sup.stop();
  }
});
