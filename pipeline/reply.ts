/**
 * One reply of TOM: the LLM's token stream cut into sentences by the German splitter (sentences.ts: no
 * cut inside "z. B.", "i. d. R.", "am 3. Mai"; the first piece may end at a clause), each sentence synthesized while the LLM goes on, the audio
 * resampled to the pipeline rate and queued on the transport. Two stages joined by a channel; an engine
 * failure aborts both and is returned (never thrown).
 *
 * @module
 */
import { type CallContext, PIPELINE_RATE } from "../gateway/mod.ts";
import { emitPipelineEvent } from "../gateway/mod.ts";
import { createResampler, loadResampler } from "../gateway/audio/mod.ts";
import type {
  ChatMessage,
  EngineError,
  LlmEngine,
  ToolCallFrame,
  ToolSpec,
  TtsEngine,
} from "./engines/types.ts";
import { type NoteRequest, validateToolCall } from "./tools.ts";
import { ASK_AGAIN, NOTE_FAILED, readBack } from "./read_back.ts";
import type { PipelineOptions } from "./defaults.ts";
import { guarded } from "./engines/deadline.ts";
import type { QueuedSentence } from "./heard.ts";
import type { PipelineMetrics } from "./metrics.ts";
import type { CallUsage } from "./usage.ts";
import { CLAUSE_START, SentenceSplitter } from "./sentences.ts";
import type { Trace } from "./trace.ts";

/** A reply in flight. */
export interface ReplyWork {
  turn: number;
  text: string;
  ac: AbortController;
  /** Sentences whose audio was queued, with their durations (for what the caller heard). */
  sentences: QueuedSentence[];
  queuedMs: number;
  /** Played ms when playback was flushed (barge-in). */
  playedAtClear: number | null;
  spoken: string[];
  trace: Trace;
  /** What the reply's tool calls asked for. */
  outcome: ReplyOutcome;
}

/** What {@linkcode runReply} needs from its call. */
export interface ReplyEnv {
  ctx: CallContext;
  llm: LlmEngine;
  tts: TtsEngine;
  metrics?: PipelineMetrics;
  options: PipelineOptions;
  now: () => number;
  /** False once the reply was cancelled or the call ended: then nothing more is sent. */
  isCurrent(): boolean;
  /** The reply's first audio was queued. */
  onAudible(): void;
  /** Engine time is added here (usage log). */
  usage?: CallUsage;
  /** Tools offered to the model; none: plain text answers. */
  tools?: ReplyTools;
}

/** Tool calls the model may make in a reply, and what the call does with an accepted note. */
export interface ReplyTools {
  specs: ToolSpec[];
  /**
   * Store a validated note for the practice team.
   *
   * @returns the stored request's id
   * @throws when it could not be stored (then TOM says so and promises nothing)
   */
  note(note: NoteRequest): Promise<string>;
}

/** What a reply's tool calls asked the call to do after it. */
export interface ReplyOutcome {
  /** Notes stored in this reply. */
  noted: NoteRequest[];
  /** A callback the caller wants whose number is missing: the call asks for it (TOM, not the model). */
  needsNumber?: NoteRequest;
  /** The model ended the call (its reason). */
  endCall?: string;
  /** The caller asked for a person (its reason). */
  transfer?: string;
}

/** Refusals told to the model in one reply before TOM asks the caller itself. */
export const MAX_REFUSALS = 2;
/** Tool calls handled in one reply (a model that loops calling tools is cut off here). */
export const MAX_TOOL_CALLS = 6;

/**
 * Run the reply to its end (or its abort). With tools, the model's calls are validated (tools.ts); an
 * accepted note is stored and read back with the fixed phrase; a refused call is answered with the reason
 * and the model asked again, at most {@linkcode MAX_REFUSALS} times, then TOM asks the caller itself.
 *
 * @returns the engine failure that stopped it, or null
 */
export async function runReply(
  w: ReplyWork,
  messages: ChatMessage[],
  env: ReplyEnv,
): Promise<EngineError | null> {
  const { ac, trace } = w;
  const sentences = new Channel<{ text: string; readyT: number }>();
  let failure: EngineError | null = null;
  const fail = (e: EngineError) => {
    if (failure || !env.isCurrent()) return;
    failure = e;
    ac.abort(new Error(e.message));
  };
  const speak = speakAll(w, sentences, fail, env);
  // A sentence goes to TTS as soon as the next word shows it ended; a long one is cut at a comma, and the
  // first one (with `clauseStart`) at its first clause, so the caller hears TOM before the full stop.
  const splitter = new SentenceSplitter(env.options.clauseStart ? { firstClause: CLAUSE_START } : {});
  const push = (parts: string[]) => {
    for (const s of parts) {
      if (!trace.has("first_sentence")) trace.mark("first_sentence");
      sentences.push({ text: s, readyT: env.now() });
    }
  };
  /** A fixed phrase of TOM's (read-back, question): spoken after what the model said so far. */
  const say = (text: string) => {
    push(splitter.flush());
    emitPipelineEvent(env.ctx.output, { type: "say", text });
    push([text]);
  };
  const tools = env.tools;
  let conversation = messages;
  let refusals = 0;
  let handled = 0;
  const llmStarted = env.now();
  try {
    for (;;) {
      const round = await streamRound(w, conversation, env, tools?.specs, push, fail, splitter);
      if (ac.signal.aborted || failure || round.calls.length === 0 || !tools) break;
      const answers: ChatMessage[] = [];
      let refused = false;
      for (const call of round.calls) {
        if (handled++ >= MAX_TOOL_CALLS) {
          emitPipelineEvent(env.ctx.output, {
            type: "tool_call",
            turn: w.turn,
            name: call.name.slice(0, 64),
            accepted: false,
            reason: "Zu viele Werkzeugaufrufe in einer Antwort.",
          });
          continue;
        }
        const reason = await handleToolCall(w, call, env, tools, say);
        if (reason !== null) {
          refused = true;
          answers.push({ role: "tool", toolCallId: call.id, name: call.name, content: reason });
        } else {
          answers.push({ role: "tool", toolCallId: call.id, name: call.name, content: "Erledigt." });
        }
      }
      if (!refused || w.outcome.needsNumber || ac.signal.aborted) break;
      if (handled >= MAX_TOOL_CALLS || ++refusals > MAX_REFUSALS) {
        say(ASK_AGAIN);
        break;
      }
      // Tell the model why, and let it try again (its text so far was spoken already).
      conversation = [
        ...conversation,
        {
          role: "assistant",
          content: round.text,
          toolCalls: round.calls.map((c) => ({ id: c.id, name: c.name, raw: c.raw })),
        },
        ...answers,
      ];
    }
    if (!ac.signal.aborted) push(splitter.flush());
  } finally {
    env.usage?.add("llm", env.now() - llmStarted);
    sentences.close();
    await speak;
  }
  return failure;
}

/** One LLM request: its text goes to the sentences as it streams; its complete tool calls are returned. */
async function streamRound(
  w: ReplyWork,
  messages: ChatMessage[],
  env: ReplyEnv,
  tools: ToolSpec[] | undefined,
  push: (parts: string[]) => void,
  fail: (e: EngineError) => void,
  splitter: SentenceSplitter,
): Promise<{ text: string; calls: ToolCallFrame[] }> {
  const { ac, trace } = w;
  const o = env.options;
  let text = "";
  const calls: ToolCallFrame[] = [];
  const frames = guarded("llm", () =>
    env.llm.chat(messages, {
      signal: ac.signal,
      maxTokens: o.maxTokens,
      temperature: o.temperature,
      callId: env.ctx.callId,
      ...(tools && tools.length > 0 ? { tools, toolChoice: "auto" as const } : {}),
    }), {
    signal: ac.signal,
    abort: (r) => ac.abort(r),
    firstMs: o.llmFirstTokenTimeoutMs,
    gapMs: o.llmTokenGapMs,
  });
  for await (const f of frames) {
    if (f.type === "token") {
      if (!trace.has("llm_first_token")) trace.mark("llm_first_token");
      emitPipelineEvent(env.ctx.output, { type: "llm_token", turn: w.turn, token: f.text.slice(0, 1_000) });
      text += f.text;
      push(splitter.push(f.text));
    } else if (f.type === "tool_call") {
      if (!trace.has("llm_first_token")) trace.mark("llm_first_token");
      calls.push(f);
    } else if (f.type === "error") {
      fail(f.error);
    } else break;
  }
  return { text, calls };
}

/**
 * Validate one call and carry it out.
 *
 * @returns null when accepted, else the reason the model is told
 */
async function handleToolCall(
  w: ReplyWork,
  call: ToolCallFrame,
  env: ReplyEnv,
  tools: ReplyTools,
  say: (text: string) => void,
): Promise<string | null> {
  const v = validateToolCall(call.name, call.args);
  const event = (accepted: boolean, reason?: string) =>
    emitPipelineEvent(env.ctx.output, {
      type: "tool_call",
      turn: w.turn,
      name: call.name.slice(0, 64),
      accepted,
      ...(reason ? { reason: reason.slice(0, 500) } : {}),
    });
  if (!v.ok) {
    event(false, v.reason);
    env.ctx.log.info("tool call refused", { tool: call.name.slice(0, 64), reason: v.reason });
    if (v.needsNumber) w.outcome.needsNumber = v.needsNumber;
    return v.reason;
  }
  event(true);
  const c = v.value;
  if (c.name === "end_call") w.outcome.endCall = c.args.reason;
  else if (c.name === "transfer_to_staff") w.outcome.transfer = c.args.reason;
  else {
    const note = c.args;
    if (w.outcome.noted.some((n) => sameNote(n, note))) return null;
    try {
      await tools.note(note);
      w.outcome.noted.push(note);
      say(readBack(note));
    } catch (e) {
      env.ctx.log.error("could not store a request", { error: e });
      say(NOTE_FAILED);
    }
  }
  return null;
}

/** The same request twice in one reply (a model repeating its call). */
function sameNote(a: NoteRequest, b: NoteRequest): boolean {
  return a.kind === b.kind && a.callbackNumber === b.callbackNumber && a.summary === b.summary;
}

async function speakAll(
  w: ReplyWork,
  sentences: Channel<{ text: string; readyT: number }>,
  fail: (e: EngineError) => void,
  env: ReplyEnv,
): Promise<void> {
  const { ac, trace } = w;
  const tts = env.tts;
  if (tts.sampleRate !== PIPELINE_RATE) await loadResampler();
  for await (const s of sentences) {
    if (ac.signal.aborted) continue;
    env.metrics?.handover("sentence_to_tts", (env.now() - s.readyT) / 1000);
    const rs = createResampler(tts.sampleRate, PIPELINE_RATE);
    let samples = 0;
    let firstChunk = true;
    const out = (pcm: Int16Array, recvT: number) => {
      if (pcm.length === 0 || ac.signal.aborted || !env.isCurrent()) return;
      if (!trace.has("tts_first_audio")) trace.mark("tts_first_audio", recvT);
      const ms = (pcm.length * 1000) / PIPELINE_RATE;
      emitPipelineEvent(env.ctx.output, {
        type: "tts_audio",
        turn: w.turn,
        ...(firstChunk ? { text: s.text.slice(0, 2_000) } : {}),
        durationMs: ms,
      });
      firstChunk = false;
      const first = !trace.has("first_audio_out");
      // The reply's first audio is stamped when the transport writes it to the peer (what the caller
      // hears); until then, and with a transport that cannot tell, when it is queued.
      env.ctx.output.audio(pcm, first ? () => trace.restamp("first_audio_out", env.now()) : undefined);
      const sentT = env.now();
      env.metrics?.handover("tts_to_output", (sentT - recvT) / 1000);
      samples += pcm.length;
      w.queuedMs += ms;
      if (first) {
        trace.mark("first_audio_out", sentT);
        env.onAudible();
      }
    };
    const ttsStarted = env.now();
    try {
      const frames = guarded(
        "tts",
        () => tts.synthesize(s.text, { signal: ac.signal, callId: env.ctx.callId }),
        {
          signal: ac.signal,
          abort: (r) => ac.abort(r),
          firstMs: env.options.ttsTimeoutMs,
          gapMs: env.options.ttsTimeoutMs,
        },
      );
      for await (const f of frames) {
        if (f.type === "audio") {
          // A chunk can hold seconds of speech: resample it in slices and let the transports' pacing
          // timers run between them (all at once, the event loop is held past the next frame's slot).
          const recvT = env.now();
          const slice = Math.max(1, Math.round(tts.sampleRate * SLICE_S));
          for (let at = 0; at < f.pcm.length && !ac.signal.aborted; at += slice) {
            if (at > 0) await new Promise((r) => setTimeout(r, 0));
            out(rs.process(f.pcm.subarray(at, at + slice)).slice(), recvT);
          }
        } else if (f.type === "error") fail(f.error);
        else break;
      }
      if (!ac.signal.aborted) out(rs.flush().slice(), env.now());
    } finally {
      env.usage?.add("tts", env.now() - ttsStarted);
      rs.dispose();
    }
    if (ac.signal.aborted) continue;
    w.sentences.push({ text: s.text, ms: (samples * 1000) / PIPELINE_RATE });
    w.spoken.push(s.text);
  }
}

/** Seconds of TTS audio resampled and queued in one go. */
const SLICE_S = 0.25;

/** A minimal unbounded async channel between the two stages. */
class Channel<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #closed = false;
  #wake: (() => void) | null = null;
  push(v: T): void {
    if (this.#closed) return;
    this.#items.push(v);
    this.#wake?.();
  }
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        yield this.#items.shift() as T;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = null;
    }
  }
}

/** A reply to produce for `turn`, answering `text`, timed by `trace`. */
export function newReplyWork(turn: number, text: string, trace: Trace): ReplyWork {
  return {
    outcome: { noted: [] },
    turn,
    text,
    ac: new AbortController(),
    sentences: [],
    queuedMs: 0,
    playedAtClear: null,
    spoken: [],
    trace,
  };
}
