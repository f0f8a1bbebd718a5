/**
 * LLM adapter for OpenAI-compatible streaming chat completions: llama-server, Ollama's `/v1`, vLLM.
 * `POST {base}/v1/chat/completions` with `stream: true`; the answer arrives as server-sent events
 * (`data: {json}` lines, blank-line separated, ending with `data: [DONE]`). Token frames carry
 * `choices[0].delta.content`; `done` carries the finish reason and the completion token count (from
 * `usage` when the server sends it, else the number of content deltas). Tool calls (`tools`,
 * `tool_choice` in the request) stream as `delta.tool_calls` fragments and come out as one
 * `tool_call` frame per complete call (llm_tools.ts); llama-server needs `--jinja` and a chat template
 * that describes tools for them.
 *
 * Keep-warm: llama-server and vLLM never unload their model, so {@linkcode OpenAiChatLlm.keepWarm} does
 * nothing. (Ollama's `/v1` does unload after `OLLAMA_KEEP_ALIVE`; use the native adapter for Ollama, or
 * start Ollama with `OLLAMA_KEEP_ALIVE=-1`.)
 *
 * @module
 */
import type { ChatMessage, ChatOptions, LlmEngine, LlmFrame } from "./types.ts";
import { engineError, errorMessageOf } from "./llm_http.ts";
import {
  ToolCallAccumulator,
  type ToolCallDelta,
  wireMessages,
  wireToolChoice,
  wireTools,
} from "./llm_tools.ts";
import { type LineParser, streamChat, type StreamTimeouts } from "./llm_stream.ts";

/** Options of {@linkcode OpenAiChatLlm}. */
export interface OpenAiChatOptions extends Partial<StreamTimeouts> {
  /** Base URL: `http://127.0.0.1:8179` or one ending in `/v1` (both are accepted). */
  url: string;
  /** Model id sent as `model` (llama-server: its `--alias`). */
  model: string;
  /** Sent as `Authorization: Bearer` when set. */
  apiKey?: string;
  /** Default `max_tokens` when a request names none (default 256: a spoken turn is short). */
  maxTokens?: number;
  /** Default temperature (default 0.7). */
  temperature?: number;
  /** Ask for `usage` in the last chunk (`stream_options.include_usage`, default true). */
  includeUsage?: boolean;
  /** Extra fields merged into every request body (e.g. llama-server's `ignore_eos`, `cache_prompt`). */
  extraBody?: Record<string, unknown>;
  /** Name shown in logs and metrics (default `openai`). */
  name?: string;
  fetch?: typeof fetch;
}

/** Defaults, with the reason for each. */
export const LLM_DEFAULTS = {
  /** A cold 8B model on a GPU answers well within this; longer means the engine is stuck or loading. */
  firstTokenMs: 15_000,
  /** At 20+ tok/s a 5 s silence is a stuck engine, not a slow one. */
  stallMs: 5_000,
  /** A spoken answer is one to three sentences. */
  maxTokens: 256,
  temperature: 0.7,
} as const;

/** The chat completions endpoint for a base URL with or without `/v1`. */
export function chatCompletionsUrl(base: string): string {
  const b = base.replace(/\/+$/, "");
  return /\/v1$/.test(b) ? `${b}/chat/completions` : `${b}/v1/chat/completions`;
}

/**
 * A parser for one SSE stream of chat completion chunks. Handles `data:` with or without a space,
 * multi-line `data` fields, comments (`:`), `event: error`, error objects inside `data`, `[DONE]`.
 */
export function openAiSseParser(): LineParser {
  let data: string[] = [];
  let event = "";
  let tokens = 0;
  let usageTokens: number | undefined;
  let finishReason: string | undefined;
  const calls = new ToolCallAccumulator();
  const done = (): LlmFrame => ({
    type: "done",
    finishReason: finishReason ?? "stop",
    tokens: usageTokens ?? tokens,
  });
  const dispatch = (): { frames: LlmFrame[]; end?: boolean; progress?: boolean } => {
    const payload = data.join("\n");
    const ev = event;
    data = [];
    event = "";
    if (payload === "") return { frames: [] };
    if (payload.trim() === "[DONE]") return { frames: [...calls.flush(), done()], end: true };
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch {
      return {
        frames: [{
          type: "error",
          error: engineError(
            "llm",
            "bad_response",
            `Unparsable stream event: ${payload.slice(0, 200)}`,
            true,
          ),
        }],
        end: true,
      };
    }
    const err = errorMessageOf(json);
    if (err !== undefined || ev === "error") {
      return {
        frames: [{
          type: "error",
          error: engineError("llm", "crashed", `LLM stream error: ${err ?? payload}`, true),
        }],
        end: true,
      };
    }
    const chunk = json as {
      choices?: Array<{
        delta?: { content?: string | null; tool_calls?: ToolCallDelta[] | null };
        finish_reason?: string | null;
      }>;
      usage?: { completion_tokens?: number } | null;
    };
    const frames: LlmFrame[] = [];
    const choice = chunk.choices?.[0];
    const text = choice?.delta?.content;
    if (typeof text === "string" && text !== "") {
      tokens++;
      frames.push({ type: "token", text });
    }
    const deltas = choice?.delta?.tool_calls;
    const progress = Array.isArray(deltas) && deltas.length > 0;
    if (progress) frames.push(...calls.add(deltas));
    if (choice?.finish_reason) {
      finishReason = choice.finish_reason;
      frames.push(...calls.flush());
    }
    if (typeof chunk.usage?.completion_tokens === "number") usageTokens = chunk.usage.completion_tokens;
    return { frames, progress };
  };
  const line = (line: string): { frames: LlmFrame[]; end?: boolean; progress?: boolean } => {
    if (line === "") return dispatch();
    if (line.startsWith(":")) return { frames: [] };
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      // Some servers omit the blank line between events: a complete JSON value or [DONE] is an event.
      if (data.length > 0) {
        const r = dispatch();
        data = [value];
        return r;
      }
      data.push(value);
      if (value.trim() === "[DONE]") return dispatch();
    } else if (field === "event") event = value;
    return { frames: [] };
  };
  const finish = (): LlmFrame[] => {
    const r = dispatch();
    if (r.end) return r.frames;
    return finishReason === undefined
      ? r.frames.filter((f) => f.type === "error")
      : [...r.frames, ...calls.flush(), done()];
  };
  return { line, finish };
}

/** Streaming chat against an OpenAI-compatible server. */
export class OpenAiChatLlm implements LlmEngine {
  readonly name: string;
  readonly #o: Required<Omit<OpenAiChatOptions, "apiKey" | "fetch" | "name">> & {
    apiKey?: string;
    fetch?: typeof fetch;
  };

  constructor(opts: OpenAiChatOptions) {
    if (!/^https?:\/\//.test(opts.url)) {
      throw new TypeError(
        `Cannot create OpenAiChatLlm: url must be http(s), got ${JSON.stringify(opts.url)}`,
      );
    }
    this.name = opts.name ?? "openai";
    this.#o = {
      url: chatCompletionsUrl(opts.url),
      model: opts.model,
      apiKey: opts.apiKey,
      maxTokens: opts.maxTokens ?? LLM_DEFAULTS.maxTokens,
      temperature: opts.temperature ?? LLM_DEFAULTS.temperature,
      includeUsage: opts.includeUsage ?? true,
      extraBody: opts.extraBody ?? {},
      firstTokenMs: opts.firstTokenMs ?? LLM_DEFAULTS.firstTokenMs,
      stallMs: opts.stallMs ?? LLM_DEFAULTS.stallMs,
      fetch: opts.fetch,
    };
  }

  /** Stream an answer. */
  chat(messages: ChatMessage[], opts: ChatOptions): AsyncIterable<LlmFrame> {
    const o = this.#o;
    const body: Record<string, unknown> = {
      ...o.extraBody,
      model: o.model,
      messages: wireMessages(messages, "openai"),
      stream: true,
      max_tokens: opts.maxTokens ?? o.maxTokens,
      temperature: opts.temperature ?? o.temperature,
    };
    if (o.includeUsage) body.stream_options = { include_usage: true };
    if (opts.tools && opts.tools.length > 0) {
      body.tools = wireTools(opts.tools);
      body.tool_choice = wireToolChoice(opts.toolChoice ?? "auto");
    }
    return streamChat({
      url: o.url,
      body,
      headers: o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {},
      signal: opts.signal,
      parser: openAiSseParser(),
      firstTokenMs: o.firstTokenMs,
      stallMs: o.stallMs,
      fetch: o.fetch,
    });
  }

  /** Nothing to do: llama-server and vLLM keep their model loaded. */
  keepWarm(_signal: AbortSignal): Promise<void> {
    return Promise.resolve();
  }
}
