/**
 * Tool calls on the wire, for both LLM adapters: the request side (`tools`, `tool_choice` in the
 * OpenAI shape, which Ollama's native `/api/chat` shares for `tools`) and the answer side. OpenAI-
 * compatible servers (llama-server with `--jinja`, vLLM, Ollama's `/v1`) stream a call as
 * `choices[0].delta.tool_calls: [{index, id?, function: {name?, arguments?}}]` whose `arguments` are
 * text fragments to concatenate; a call is complete when a later index starts or the choice finishes.
 * Ollama's native stream sends each call whole (`message.tool_calls: [{function: {name, arguments:
 * {...}}}]`, arguments an object). Either way the adapter emits one `tool_call` frame per complete
 * call; nothing here validates the arguments (pipeline/tools.ts does).
 *
 * @module
 */
import type { ChatMessage, ToolCallFrame, ToolChoice, ToolSpec } from "./types.ts";

/** `tools` of a request body. */
export function wireTools(tools: ToolSpec[]): unknown[] {
  return tools.map((t) => ({
    type: "function",
    function: { name: t.name, description: t.description, parameters: t.parameters },
  }));
}

/** `tool_choice` of an OpenAI-compatible request body. */
export function wireToolChoice(choice: ToolChoice): unknown {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

/** A frame for a call whose arguments arrived as text. */
export function toolCallFromText(id: string, name: string, raw: string): ToolCallFrame {
  let args: Record<string, unknown> | undefined;
  try {
    const v: unknown = JSON.parse(raw.trim() === "" ? "{}" : raw);
    if (v !== null && typeof v === "object" && !Array.isArray(v)) args = v as Record<string, unknown>;
  } catch {
    args = undefined;
  }
  return { type: "tool_call", id, name, args, raw };
}

/** One entry of `delta.tool_calls` (every field optional: servers send them in pieces). */
export interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/** Collects streamed OpenAI tool call fragments and releases each call once it is complete. */
export class ToolCallAccumulator {
  readonly #calls = new Map<number, { id: string; name: string; args: string }>();
  #emitted = -1;

  /** Add one chunk's `delta.tool_calls`; returns the calls completed by it (a later index started). */
  add(deltas: ToolCallDelta[]): ToolCallFrame[] {
    let highest = -1;
    for (const [i, d] of deltas.entries()) {
      const index = typeof d.index === "number" ? d.index : i;
      highest = Math.max(highest, index);
      const c = this.#calls.get(index) ?? { id: "", name: "", args: "" };
      if (typeof d.id === "string" && d.id !== "") c.id = d.id;
      if (typeof d.function?.name === "string") c.name += d.function.name;
      if (typeof d.function?.arguments === "string") c.args += d.function.arguments;
      this.#calls.set(index, c);
    }
    return this.#release(highest - 1);
  }

  /** The choice finished (or the stream ended): every call not yet released. */
  flush(): ToolCallFrame[] {
    return this.#release(Math.max(-1, ...this.#calls.keys()));
  }

  #release(upTo: number): ToolCallFrame[] {
    const out: ToolCallFrame[] = [];
    for (const index of [...this.#calls.keys()].sort((a, b) => a - b)) {
      if (index <= this.#emitted || index > upTo) continue;
      const c = this.#calls.get(index) as { id: string; name: string; args: string };
      out.push(toolCallFromText(c.id || `call_${index}`, c.name, c.args));
      this.#emitted = index;
    }
    return out;
  }
}

/** Ollama native: frames for one message's `tool_calls` (arguments an object; ids generated). */
export function ollamaToolCalls(calls: unknown, counter: { n: number }): ToolCallFrame[] {
  if (!Array.isArray(calls)) return [];
  const out: ToolCallFrame[] = [];
  for (const c of calls) {
    const call = c as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
    const name = typeof call.function?.name === "string" ? call.function.name : "";
    const id = typeof call.id === "string" && call.id !== "" ? call.id : `call_${counter.n}`;
    counter.n++;
    const a = call.function?.arguments;
    if (typeof a === "string") out.push(toolCallFromText(id, name, a));
    else {
      const args = a !== null && typeof a === "object" && !Array.isArray(a)
        ? a as Record<string, unknown>
        : undefined;
      out.push({ type: "tool_call", id, name, args, raw: JSON.stringify(a ?? null) });
    }
  }
  return out;
}

/**
 * `messages` of a request body. OpenAI-compatible: an assistant's calls as `tool_calls` (arguments as JSON
 * text, `{}` for text that is no JSON object; content null when it said nothing) and each answer as `{role: "tool", tool_call_id, content}`.
 * Ollama native: `tool_calls` with arguments as an object, answers as `{role: "tool", tool_name, content}`.
 */
export function wireMessages(messages: readonly ChatMessage[], flavour: "openai" | "ollama"): unknown[] {
  return messages.map((m) => {
    if (m.role === "tool") {
      return flavour === "openai"
        ? { role: "tool", tool_call_id: m.toolCallId, content: m.content }
        : { role: "tool", tool_name: m.name, content: m.content };
    }
    if (m.role === "assistant" && m.toolCalls && m.toolCalls.length > 0) {
      const calls = m.toolCalls.map((c) =>
        flavour === "openai"
          ? { id: c.id, type: "function", function: { name: c.name, arguments: argsText(c.raw) } }
          : { function: { name: c.name, arguments: argsObject(c.raw) } }
      );
      return {
        role: "assistant",
        content: flavour === "openai" && m.content === "" ? null : m.content,
        tool_calls: calls,
      };
    }
    return { role: m.role, content: m.content };
  });
}

/**
 * Arguments text as the OpenAI shape carries it: as the model wrote it when it is a JSON object, else
 * `{}` (a call cut off at the token limit is refused, and llama-server answers HTTP 500 to a conversation
 * whose earlier call is no JSON).
 */
function argsText(raw: string): string {
  try {
    const v: unknown = JSON.parse(raw);
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return raw;
  } catch { /* no JSON */ }
  return "{}";
}

/** Arguments text as an object (Ollama wants one); `{}` when the model wrote no JSON object. */
function argsObject(raw: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(raw);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : {};
  } catch {
    return {};
  }
}
