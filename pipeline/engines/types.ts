/**
 * The engine adapter contract (Pipecat style): an AbortSignal in, an async iterable of frames out.
 * Failures never throw across stages: they arrive as `error` frames that the call handles (apology,
 * retry, callback offer). Aborting ends the iteration quietly (no error frame).
 *
 * @module
 */

/** Why an engine call failed; `retryable` says whether trying again may help (timeout, crash, 5xx). */
export interface EngineError {
  engine: "stt" | "llm" | "tts" | "vad";
  kind: "timeout" | "unavailable" | "crashed" | "bad_response" | "rejected";
  message: string;
  retryable: boolean;
}

/** An engine failure as a frame. */
export type ErrorFrame = { type: "error"; error: EngineError };

/** Speech to text. */
export interface SttEngine {
  readonly name: string;
  /**
   * Transcribe one utterance (16 kHz mono PCM). Yields `queued` when the request had to wait for the
   * shared engine (with the wait), then one `final` transcript (or an error frame).
   */
  transcribe(
    pcm: Int16Array,
    opts: { signal: AbortSignal; language?: string; callId?: string },
  ): AsyncIterable<SttFrame>;
}

/** Frames of {@linkcode SttEngine.transcribe}. */
export type SttFrame =
  | { type: "queued"; waitMs: number }
  | { type: "final"; text: string; language?: string; processingMs: number }
  | ErrorFrame;

/** A tool call the model made, as a later request repeats it in the conversation. */
export interface ChatToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them (JSON text). */
  raw: string;
}

/**
 * One chat message. An assistant message may carry the tool calls the model made; a `tool` message answers
 * one of them (TOM's verdict: noted, or refused and why). Adapters write both in their server's format.
 */
export type ChatMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; toolCalls?: ChatToolCall[] }
  | { role: "tool"; toolCallId: string; name: string; content: string };

/** A tool the model may call: name, description and the JSON schema of its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON schema (an object schema) of the arguments. */
  parameters: Record<string, unknown>;
}

/**
 * Whether the model must call a tool: `auto` (it may), `required` (some tool), or one named tool.
 * OpenAI-compatible servers honour it (`tool_choice`); Ollama's native API has no forcing, so the
 * native adapter sends the tools and ignores the choice (the call decides what to do without a call).
 */
export type ToolChoice = "auto" | "required" | { name: string };

/** Options of one {@linkcode LlmEngine.chat} request. */
export interface ChatOptions {
  signal: AbortSignal;
  maxTokens?: number;
  temperature?: number;
  callId?: string;
  /** Tools offered for this turn (none: a plain text answer). */
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
}

/** A chat model, streaming. */
export interface LlmEngine {
  readonly name: string;
  /** Stream the answer token by token (text deltas) and complete tool calls, then `done`. */
  chat(messages: ChatMessage[], opts: ChatOptions): AsyncIterable<LlmFrame>;
  /** Keep the model loaded (Ollama unloads after 5 idle minutes): called periodically. */
  keepWarm?(signal: AbortSignal): Promise<void>;
}

/** Frames of {@linkcode LlmEngine.chat}. */
export type LlmFrame =
  | { type: "token"; text: string }
  | ToolCallFrame
  | { type: "done"; finishReason: string; tokens: number }
  | ErrorFrame;

/**
 * One complete tool call, emitted once its arguments are whole (never validated here: see
 * pipeline/tools.ts). `args` is the parsed JSON object, or undefined when the text is not a JSON
 * object (then `raw` is all there is).
 */
export interface ToolCallFrame {
  type: "tool_call";
  /** The server's call id (Ollama native sends none: a generated `call_N`). */
  id: string;
  name: string;
  args: Record<string, unknown> | undefined;
  raw: string;
}

/** Text to speech. */
export interface TtsEngine {
  readonly name: string;
  /** Sample rate of the PCM this engine produces. */
  readonly sampleRate: number;
  /** Synthesize one sentence; yields PCM chunks (mono, `sampleRate`) as soon as they exist, then `done`. */
  synthesize(text: string, opts: { signal: AbortSignal; callId?: string }): AsyncIterable<TtsFrame>;
  /** Stop any long-running process. */
  close?(): Promise<void>;
}

/** Frames of {@linkcode TtsEngine.synthesize}. */
export type TtsFrame =
  | { type: "audio"; pcm: Int16Array }
  | { type: "done" }
  | ErrorFrame;

/** Voice activity: a speech probability per frame of 16 kHz audio. */
export interface Vad {
  /** Samples per call of {@linkcode Vad.process} (Silero: 512 at 16 kHz). */
  readonly frameSamples: number;
  /** Speech probability 0..1 for exactly `frameSamples` samples (in order: the model keeps state). */
  process(frame: Float32Array): Promise<number>;
  reset(): void;
  dispose(): void;
}
