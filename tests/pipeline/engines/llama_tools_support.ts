/**
 * Test support for tool calls through the real llama-server (synthetic random-weight model): the managed
 * llm spec started with what tool calls need here, and a wrapper engine that forces one tool.
 * - The synthetic model's own template describes no tools, so llama-server (with `--jinja`) would ignore
 *   `tools`; the spec gets a tool-aware template (fixture, the Hermes-style `<tool_call>` block
 *   llama.cpp's autoparser recognises).
 * - This llama.cpp build feeds the template's generation prompt into the tool grammar token by token and
 *   drops a first token that starts with a space; the synthetic SentencePiece vocabulary adds one ("<|"
 *   becomes " <"), so a forced choice fails with 400 unless `add_space_prefix` is overridden off.
 * - The grammar lets content come before the call, and a random model never opens `<tool_call>` by
 *   itself, so a forced conversation ends with the assistant prefill {@linkcode TOOL_CALL_PREFILL} that
 *   llama-server continues; from there the grammar (from the tool's JSON schema) makes the arguments
 *   valid JSON for the schema.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { Supervisor } from "../../../infra/supervisor.ts";
import { engineSpecs } from "../../../infra/engines/specs.ts";
import type { Config } from "../../../infra/config.ts";
import { silentLogger } from "../../../infra/log.ts";
import { testConfig } from "../../infra/fixtures/engines.ts";
import { OpenAiChatLlm } from "../../../pipeline/engines/openai_chat.ts";
import type {
  ChatMessage,
  ChatOptions,
  LlmEngine,
  LlmFrame,
  ToolSpec,
} from "../../../pipeline/engines/types.ts";
import { CALL_TOOLS } from "../../../pipeline/tools.ts";

/** The tool-aware chat template (fixture). */
export const TOOL_TEMPLATE: string = fileURLToPath(
  new URL("./fixtures/tool_template.jinja", import.meta.url),
);

/** The assistant prefill that opens a call, continued by llama-server. */
export const TOOL_CALL_PREFILL: ChatMessage = { role: "assistant", content: "<tool_call>\n" };

/** A running llama-server for tool calls. */
export interface ToolLlama {
  config: Config;
  /** The adapter on it; one call per answer (the random model would otherwise chain calls). */
  llm: OpenAiChatLlm;
  stop(): Promise<void>;
}

/**
 * Start the managed llm spec with a chat template of the test's own (`--chat-template-file`).
 *
 * @throws when the managed spec does not run llama-server with `--jinja` (the template would not be used)
 */
export async function startLlamaWithTemplate(
  template: string,
  extraArgs: string[] = [],
): Promise<{ config: Config; stop(): Promise<void> }> {
  const config = testConfig();
  // Run llama-server itself, not through tom-engine-guard (which passes only the options TOM builds).
  const specs = engineSpecs(config).filter((s) => s.name === "llm").map((s) => ({
    ...s,
    command: s.bin,
    args: [
      ...(s.command !== s.bin ? (s.args ?? []).slice(1) : (s.args ?? [])),
      ...["--chat-template-file", template],
      ...extraArgs,
    ],
  }));
  if (!specs[0]?.args.includes("--jinja")) throw new Error("the managed llama-server must run with --jinja");
  const sup = new Supervisor(specs, { log: silentLogger });
  await sup.start();
  return { config, stop: () => sup.stop() };
}

/** Start the managed llm spec with the tool-aware template. */
export async function startToolLlama(): Promise<ToolLlama> {
  const { config, stop } = await startLlamaWithTemplate(TOOL_TEMPLATE, [
    ...["--override-kv", "tokenizer.ggml.add_space_prefix=bool:false"],
  ]);
  const llm = new OpenAiChatLlm({
    url: config.llm.url,
    model: config.llm.modelName,
    extraBody: { parallel_tool_calls: false },
  });
  return { config, llm, stop };
}

/**
 * An engine that forces one tool on every request that offers tools: the synthetic model answers
 * gibberish and never calls a tool by itself, so a test of the tool path has to force the choice and
 * open the call ({@linkcode TOOL_CALL_PREFILL}). The named form of `tool_choice` (`{name}`, sent as
 * `{type: "function", function: {name}}`) is answered by this llama.cpp build with a stream error ("does
 * not match the expected peg-native format"), so the choice is forced as `required` with only that tool
 * offered. What the server then generates is the model's, under the grammar of the offered schema.
 * Requests without tools pass through unchanged.
 */
export class ForcedToolLlm implements LlmEngine {
  readonly name = "forced-tool";
  /** The conversation of each request, as the reply sent it (without the prefill). */
  readonly requests: ChatMessage[][] = [];
  constructor(readonly inner: LlmEngine, readonly tool: string) {}
  chat(messages: ChatMessage[], opts: ChatOptions): AsyncIterable<LlmFrame> {
    this.requests.push(messages);
    if (!opts.tools || opts.tools.length === 0) return this.inner.chat(messages, opts);
    return this.inner.chat([...messages, TOOL_CALL_PREFILL], {
      ...opts,
      tools: opts.tools.filter((t) => t.name === this.tool),
      toolChoice: "required",
    });
  }
}

/**
 * `note_request` with every field fixed to one value (enum-only schema): under its grammar the model can
 * write only that call, valid or not as the values are.
 */
export function fixedNoteSpec(args: Record<string, string>): ToolSpec {
  const spec = CALL_TOOLS.find((t) => t.name === "note_request") as ToolSpec;
  return {
    ...spec,
    parameters: {
      type: "object",
      properties: Object.fromEntries(
        Object.entries(args).map(([k, v]) => [k, { type: "string", enum: [v] }]),
      ),
      required: Object.keys(args),
      additionalProperties: false,
    },
  };
}
