/**
 * LLM adapter for Ollama's native API (documented in ollama/docs/api.md):
 * - `POST /api/chat` `{model, messages, stream: true, think: false, keep_alive, options: {num_predict,
 *   temperature}}`
 *   streams NDJSON: `{"message":{"role":"assistant","content":"..."},"done":false}` per token, then
 *   `{"done":true,"done_reason":"stop"|"length","eval_count":N,...}`; a failure is `{"error":"..."}`
 *   (as the body of a non-200 answer, or as a line of the stream).
 * - Tools: `tools` (the OpenAI function shape) in the request; a call arrives whole as
 *   `message.tool_calls: [{function: {name, arguments: {...}}}]` (arguments an object, no id: ids are
 *   generated as `call_N`) and becomes one `tool_call` frame. There is no `tool_choice` in the native
 *   API: a forced choice is not sent (the model may answer in text; the call handles that).
 * - Keep-warm: Ollama unloads a model after 5 idle minutes by default (`OLLAMA_KEEP_ALIVE`), and a
 *   reload can take tens of seconds. Every chat request carries `keep_alive` (default `-1`: never
 *   unload), and {@linkcode OllamaChatLlm.keepWarm} sends the documented load request
 *   `POST /api/generate {"model": M, "keep_alive": -1}` without a prompt ("If an empty prompt is
 *   provided, the model will be loaded into memory"), which answers one JSON object with
 *   `done_reason: "load"`. Assumption: servers older than keep_alive (before 0.1.23) ignore the field.
 *
 * @module
 */
import type { ChatMessage, ChatOptions, LlmEngine, LlmFrame } from "./types.ts";
import { ollamaToolCalls, wireMessages, wireTools } from "./llm_tools.ts";
import { engineError, errorMessageOf, fetchFailure, statusFailure } from "./llm_http.ts";
import { type LineParser, streamChat, type StreamTimeouts } from "./llm_stream.ts";
import { LLM_DEFAULTS } from "./openai_chat.ts";

/** Options of {@linkcode OllamaChatLlm}. */
export interface OllamaChatOptions extends Partial<StreamTimeouts> {
  /** Ollama's base URL, e.g. `http://127.0.0.1:11434`. */
  url: string;
  /** Model tag, e.g. `llama3.1:8b`. */
  model: string;
  /** `keep_alive` sent with every request: seconds (-1: forever) or a duration such as `"30m"` (default -1). */
  keepAlive?: number | string;
  maxTokens?: number;
  temperature?: number;
  /** Extra `options` (e.g. `num_ctx`). */
  options?: Record<string, unknown>;
  name?: string;
  fetch?: typeof fetch;
}

/** A parser for Ollama's NDJSON chat stream. */
export function ollamaNdjsonParser(): LineParser {
  let tokens = 0;
  const ids = { n: 0 };
  return {
    line(line: string) {
      if (line.trim() === "") return { frames: [] };
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        return {
          frames: [{
            type: "error",
            error: engineError("llm", "bad_response", `Unparsable stream line: ${line.slice(0, 200)}`, true),
          }],
          end: true,
        };
      }
      const err = errorMessageOf(json);
      if (err !== undefined) {
        return {
          frames: [{
            type: "error",
            error: engineError("llm", "crashed", `Ollama stream error: ${err}`, true),
          }],
          end: true,
        };
      }
      const m = json as {
        message?: { content?: string; tool_calls?: unknown };
        done?: boolean;
        done_reason?: string;
        eval_count?: number;
      };
      const frames: LlmFrame[] = [];
      const text = m.message?.content;
      if (typeof text === "string" && text !== "") {
        tokens++;
        frames.push({ type: "token", text });
      }
      frames.push(...ollamaToolCalls(m.message?.tool_calls, ids));
      if (m.done === true) {
        frames.push({
          type: "done",
          finishReason: m.done_reason ?? "stop",
          tokens: typeof m.eval_count === "number" ? m.eval_count : tokens,
        });
        return { frames, end: true };
      }
      return { frames };
    },
    finish: () => [],
  };
}

/** Streaming chat against Ollama's native `/api/chat`. */
export class OllamaChatLlm implements LlmEngine {
  readonly name: string;
  readonly #base: string;
  readonly #model: string;
  readonly #keepAlive: number | string;
  readonly #maxTokens: number;
  readonly #temperature: number;
  readonly #options: Record<string, unknown>;
  readonly #timeouts: StreamTimeouts;
  readonly #fetch: typeof fetch | undefined;

  constructor(opts: OllamaChatOptions) {
    if (!/^https?:\/\//.test(opts.url)) {
      throw new TypeError(
        `Cannot create OllamaChatLlm: url must be http(s), got ${JSON.stringify(opts.url)}`,
      );
    }
    if (opts.model === "") throw new TypeError("Cannot create OllamaChatLlm: model must name an Ollama tag");
    this.name = opts.name ?? "ollama";
    this.#base = opts.url.replace(/\/+$/, "");
    this.#model = opts.model;
    this.#keepAlive = opts.keepAlive ?? -1;
    this.#maxTokens = opts.maxTokens ?? LLM_DEFAULTS.maxTokens;
    this.#temperature = opts.temperature ?? LLM_DEFAULTS.temperature;
    this.#options = opts.options ?? {};
    this.#timeouts = {
      firstTokenMs: opts.firstTokenMs ?? LLM_DEFAULTS.firstTokenMs,
      stallMs: opts.stallMs ?? LLM_DEFAULTS.stallMs,
    };
    this.#fetch = opts.fetch;
  }

  /** Stream an answer. */
  chat(messages: ChatMessage[], opts: ChatOptions): AsyncIterable<LlmFrame> {
    return streamChat({
      url: `${this.#base}/api/chat`,
      body: {
        model: this.#model,
        messages: wireMessages(messages, "ollama"),
        ...(opts.tools && opts.tools.length > 0 ? { tools: wireTools(opts.tools) } : {}),
        stream: true,
        // A model with the thinking capability (qwen3 …) thinks by default before it answers, which a
        // caller hears as silence; `false` is accepted by models without the capability (only `true` is
        // refused there).
        think: false,
        keep_alive: this.#keepAlive,
        options: {
          ...this.#options,
          num_predict: opts.maxTokens ?? this.#maxTokens,
          temperature: opts.temperature ?? this.#temperature,
        },
      },
      headers: { accept: "application/x-ndjson" },
      signal: opts.signal,
      parser: ollamaNdjsonParser(),
      ...this.#timeouts,
      fetch: this.#fetch,
    });
  }

  /**
   * Load the model and keep it loaded (`POST /api/generate {model, keep_alive}` without a prompt).
   *
   * @throws {Error} with an {@linkcode EngineError}-style message when Ollama cannot be reached or refuses.
   */
  async keepWarm(signal: AbortSignal): Promise<void> {
    const url = `${this.#base}/api/generate`;
    let res: Response;
    try {
      res = await (this.#fetch ?? fetch)(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: this.#model, keep_alive: this.#keepAlive, stream: false }),
        signal,
      });
    } catch (err) {
      if (signal.aborted) return;
      throw new Error(fetchFailure("llm", url, err, false).message, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) throw new Error(statusFailure("llm", url, res.status, text).message);
    const err = errorMessageOf(text);
    if (err !== undefined) throw new Error(`Ollama at ${url} refused to load ${this.#model}: ${err}`);
  }
}
