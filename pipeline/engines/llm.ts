/**
 * Choose the LLM adapter for the configured kind:
 * - `llama-server`, `openai`: {@linkcode OpenAiChatLlm} (`/v1/chat/completions`, SSE); llama-server's
 *   requests carry `cache_prompt: true` (reuse the KV cache of the common prefix, tools/server/README.md);
 * - `ollama`: {@linkcode OllamaChatLlm} (native `/api/chat` with `keep_alive`), or with
 *   `ollamaApi: "openai"` Ollama's own OpenAI-compatible `/v1` through {@linkcode OpenAiChatLlm};
 * - `none`: `null`.
 *
 * @module
 */
import type { Config } from "../../infra/mod.ts";
import type { LlmEngine } from "./types.ts";
import { OpenAiChatLlm } from "./openai_chat.ts";
import { OllamaChatLlm } from "./ollama_chat.ts";
import type { StreamTimeouts } from "./llm_stream.ts";

export { LLM_DEFAULTS, OpenAiChatLlm, type OpenAiChatOptions } from "./openai_chat.ts";
export { OllamaChatLlm, type OllamaChatOptions } from "./ollama_chat.ts";

/** Options of {@linkcode createLlm} beyond the configuration. */
export interface CreateLlmOptions extends Partial<StreamTimeouts> {
  /** Ollama: native `/api/chat` (default) or its OpenAI-compatible `/v1`. */
  ollamaApi?: "native" | "openai";
  /** Ollama `keep_alive` (default -1: keep the model loaded). */
  keepAlive?: number | string;
  /** Bearer token for a remote OpenAI-compatible server. */
  apiKey?: string;
  maxTokens?: number;
  temperature?: number;
  /** Extra request fields for OpenAI-compatible servers. */
  extraBody?: Record<string, unknown>;
  fetch?: typeof fetch;
}

/**
 * Build the configured LLM engine.
 *
 * @param config The loaded configuration (`llm.kind`, `llm.url`, `llm.modelName`).
 * @returns The engine, or `null` for kind `none`.
 */
export function createLlm(config: Pick<Config, "llm">, opts: CreateLlmOptions = {}): LlmEngine | null {
  const llm = config.llm;
  const common = {
    url: llm.url,
    model: llm.modelName,
    maxTokens: opts.maxTokens,
    temperature: opts.temperature,
    firstTokenMs: opts.firstTokenMs,
    stallMs: opts.stallMs,
    fetch: opts.fetch,
  };
  switch (llm.kind) {
    case "none":
      return null;
    case "ollama":
      if (opts.ollamaApi === "openai") {
        // Ollama's `/v1` takes no `think`; `reasoning_effort: "none"` is its documented way to turn thinking
        // off there (openai-compatibility docs; older versions ignore the unknown field).
        return new OpenAiChatLlm({
          ...common,
          name: "ollama-openai",
          extraBody: { reasoning_effort: "none", ...opts.extraBody },
        });
      }
      return new OllamaChatLlm({ ...common, keepAlive: opts.keepAlive });
    case "llama-server":
      // The system prompt is the stable prefix of every turn (prompt.ts): llama-server evaluates only what
      // follows the longest prefix it still holds. `cache_prompt` is its default since 2024, sent anyway so
      // a server started with `--no-cache-prompt` or an older build reuses it too.
      // `enable_thinking: false`: a hybrid reasoning model (the catalogue's Qwen3-8B) answers at once instead
      // of writing a reasoning trace first, which a caller would hear as seconds of silence; chat templates
      // without the variable ignore it.
      return new OpenAiChatLlm({
        ...common,
        name: llm.kind,
        apiKey: opts.apiKey,
        extraBody: {
          cache_prompt: true,
          chat_template_kwargs: { enable_thinking: false },
          ...opts.extraBody,
        },
      });
    case "openai":
      return new OpenAiChatLlm({ ...common, name: llm.kind, apiKey: opts.apiKey, extraBody: opts.extraBody });
  }
}
