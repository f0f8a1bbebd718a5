/**
 * One non-streaming LLM request whose answer is constrained to a JSON schema. Returns the raw text; the
 * caller validates it (zod).
 * Thinking is off on every path (a hybrid reasoning model such as the catalogue's Qwen3-8B answers at once).
 * - llama-server: its native API, `POST /apply-template` (the model's own chat template, with
 *   `enable_thinking: false`) then `POST /completion` with `json_schema`. (Its `/v1/chat/completions` with
 *   `response_format: json_schema` answers 400 "Failed to initialize samplers" with the provisioned build
 *   and model, while `/completion` with the same schema works.)
 * - other OpenAI-compatible servers (`openai`): `response_format: {type: "json_schema", json_schema}`.
 * - Ollama: native `/api/chat` with `format: schema` and `think: false`.
 *
 * @module
 */
import type { ChatMessage } from "./types.ts";
import { chatCompletionsUrl } from "./openai_chat.ts";

/** Asks the LLM for JSON that follows `schema`. */
export type JsonChat = (
  messages: ChatMessage[],
  schema: Record<string, unknown>,
  signal?: AbortSignal,
) => Promise<string>;

/** Options of {@linkcode createJsonChat}. */
export interface JsonChatOptions {
  /** `llm.kind` of the configuration. */
  kind: "llama-server" | "openai" | "ollama";
  /** `llm.url`. */
  url: string;
  /** `llm.modelName`. */
  model: string;
  /** Bound on the answer (default 1536: the schema's limits fit; keeps a gibberish model quick). */
  maxTokens?: number;
  temperature?: number;
  apiKey?: string;
  /** Per request (default 60 s; the analysis runs after the call, never during it). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Build a {@linkcode JsonChat} for the configured LLM.
 * @throws {Error} from the returned function on HTTP errors, timeouts and truncated answers
 */
export function createJsonChat(opts: JsonChatOptions): JsonChat {
  const f = opts.fetch ?? fetch;
  const maxTokens = opts.maxTokens ?? 1536;
  const temperature = opts.temperature ?? 0.2;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return async (messages, schema, signal) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
    if (opts.kind === "ollama") {
      const res = await f(`${opts.url.replace(/\/+$/, "")}/api/chat`, {
        method: "POST",
        headers,
        signal: sig,
        body: JSON.stringify({
          model: opts.model,
          messages,
          stream: false,
          format: schema,
          // Thinking off, as for the spoken reply (ollama_chat.ts): a hybrid reasoning model would spend the
          // request's time bound on a trace before the first character of JSON.
          think: false,
          options: { num_predict: maxTokens, temperature },
        }),
      });
      if (!res.ok) {
        throw new Error(`Cannot analyse: Ollama answered ${res.status} ${(await res.text()).slice(0, 200)}`);
      }
      const body = await res.json() as { message?: { content?: string }; done_reason?: string };
      if (body.done_reason === "length") {
        throw new Error(`Cannot analyse: answer truncated at ${maxTokens} tokens`);
      }
      return body.message?.content ?? "";
    }
    if (opts.kind === "llama-server") {
      const base = opts.url.replace(/\/+$/, "").replace(/\/v1$/, "");
      const tpl = await f(`${base}/apply-template`, {
        method: "POST",
        headers,
        signal: sig,
        // The template's thinking switch, as for the spoken reply (llm.ts): a hybrid reasoning model's prompt
        // ends with the reasoning block closed, so the JSON grammar starts where the model expects an answer.
        body: JSON.stringify({ messages, chat_template_kwargs: { enable_thinking: false } }),
      });
      if (!tpl.ok) throw new Error(`Cannot analyse: llama-server answered ${tpl.status} to apply-template`);
      const { prompt } = await tpl.json() as { prompt: string };
      const res = await f(`${base}/completion`, {
        method: "POST",
        headers,
        signal: sig,
        body: JSON.stringify({
          prompt,
          n_predict: maxTokens,
          temperature,
          json_schema: schema,
          cache_prompt: true,
        }),
      });
      if (!res.ok) {
        throw new Error(
          `Cannot analyse: llama-server answered ${res.status} ${(await res.text()).slice(0, 200)}`,
        );
      }
      const body = await res.json() as { content?: string; stop_type?: string; truncated?: boolean };
      if (body.stop_type === "limit") {
        throw new Error(`Cannot analyse: answer truncated at ${maxTokens} tokens`);
      }
      return body.content ?? "";
    }
    const res = await f(chatCompletionsUrl(opts.url), {
      method: "POST",
      headers,
      signal: sig,
      body: JSON.stringify({
        model: opts.model,
        messages,
        stream: false,
        max_tokens: maxTokens,
        temperature,
        response_format: { type: "json_schema", json_schema: { name: "analysis", strict: true, schema } },
      }),
    });
    if (!res.ok) {
      throw new Error(`Cannot analyse: LLM answered ${res.status} ${(await res.text()).slice(0, 200)}`);
    }
    const body = await res.json() as {
      choices?: Array<{ message?: { content?: string | null }; finish_reason?: string }>;
    };
    const choice = body.choices?.[0];
    if (choice?.finish_reason === "length") {
      throw new Error(`Cannot analyse: answer truncated at ${maxTokens} tokens`);
    }
    return choice?.message?.content ?? "";
  };
}
