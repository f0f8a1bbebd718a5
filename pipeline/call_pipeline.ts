/**
 * One call's pipeline at run time: audio -> VAD -> turn detector -> state machine; the machine's effects
 * run the engines (STT, LLM streamed into sentences, TTS per sentence) with abort controllers and
 * deadlines, play TOM's phrases, flush playback on barge-in and report every stage. All decisions are
 * in {@linkcode ./state.ts}; this file only moves frames and keeps time.
 *
 * @module
 */
import {
  type CallContext,
  type CallEvent,
  type CallHandler,
  PIPELINE_RATE,
  type TransferCaller,
  type TransferTo,
} from "../gateway/mod.ts";
import { emitPipelineEvent } from "../gateway/mod.ts";
import type { EngineError, LlmEngine, SttEngine, TtsEngine, Vad } from "./engines/types.ts";
import type { Tracer } from "@opentelemetry/api";
import type { PipelineOptions } from "./defaults.ts";
import { guarded } from "./engines/deadline.ts";
import { heardText } from "./heard.ts";
import type { PipelineMetrics, Stage } from "./metrics.ts";
import type { PhraseCache } from "./phrases.ts";
import { buildMessages, type HistoryTurn } from "./prompt.ts";
import { newReplyWork, type ReplyWork, runReply } from "./reply.ts";
import { Speculation } from "./speculation.ts";
import { endSilenceFor } from "./turn_cues.ts";
import type { SttFrame } from "./engines/types.ts";
import { CALL_TOOLS, type NoteRequest } from "./tools.ts";
import { CallDesk, type CallRequests } from "./call_desk.ts";
import { redFlag } from "./red_flags.ts";
import { CallerAudio, type HeardEvent } from "./hearing.ts";
import {
  type CallInput,
  type CallState,
  type Effect,
  initialState,
  joinText,
  type MachineOptions,
  type RatingEvent,
  transition,
} from "./state.ts";
import { CallUsage } from "./usage.ts";
import { type CheckOptions, type CheckStep, identityCheck, maskSpokenDigits } from "./identity_check.ts";
import { utteranceDecision } from "./decisions.ts";
import {
  isBackchannel,
  isFarewell,
  isRepeat,
  type PhraseName,
  PHRASES,
  PIN_ANSWER_SHOWN,
  wantsPerson,
} from "./texts.ts";
import { Trace } from "./trace.ts";

/** What one call's pipeline needs. */
export interface CallDeps {
  stt: SttEngine;
  llm: LlmEngine;
  tts: TtsEngine;
  vad: () => Vad | Promise<Vad>;
  phrases: PhraseCache;
  options: PipelineOptions;
  metrics?: PipelineMetrics;
  /** One span per turn (`tom.turn`), from the caller's last word to the turn's end, stages as attributes. */
  tracer?: Tracer;
  /** The system prompt for this call (policy + caller memory); resolved once at the start. */
  systemPrompt: () => string | Promise<string>;
  /** Called for each finished turn (store transcripts and turn metrics). Errors are logged. */
  onTurn?: (t: FinishedTurn) => void | Promise<void>;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
  /** Said instead of PHRASES.greeting (the call's policy variant); synthesized once and cached by text. */
  greeting?: string;
  /** The end-of-call rating dialogue; without it a caller's goodbye gets a goodbye, no question. */
  rating?: () => RatingDialogue;
  /** Called once after the call ended, with what happened (learning loop, usage log). Errors are logged. */
  onEnd?: (summary: CallSummary) => void | Promise<void>;
  /**
   * Requests for the practice team: with it the model gets the tools (note a request, end the call, ask
   * for a person) and TOM asks for a callback number when one is missing; without it, plain answers.
   */
  requests?: CallRequests;
  /** The caller's number as the transport gave it, in E.164 (confirmed with the caller before use). */
  callerId?: string | null;
  /** Who is calling, shown to the staff who take a transfer (see TransferCaller). */
  caller?: TransferCaller;
  /**
   * Where a transfer goes right now (the practice's target for this hour); null: no transfer now (after
   * hours without a target, "no transfer"). Asked at the start and every minute. Without it: never.
   */
  transferTarget?: () => TransferTo | null;
  /** How long a transfer may take before it counts as failed (default 30 s). */
  transferTimeoutMs?: number;
  /**
   * The caller ID matched a person and the practice asks for a check (identity_check.ts): TOM asks right
   * after the greeting; `verified` is called once the caller passed it (the prompt is then rebuilt).
   */
  identityCheck?: CheckOptions & { verified(): void };
}

export type { CallRequests };

/** One call's rating dialogue, as the pipeline drives it (the learning loop implements it). */
export interface RatingDialogue {
  /** Take a step: which phrase TOM says now (if any) and whether the dialogue is over. */
  step(event: RatingEvent): { say?: PhraseName; done: boolean };
}

/** How a call ended, as the pipeline saw it. */
export type CallEnding =
  /** The caller said goodbye (then the rating question, if asked). */
  | "farewell"
  /** Nobody spoke after the re-prompt. */
  | "silence"
  | "max_duration"
  /** Engines failed after the retries: TOM offered a callback (a hand-over to the practice). */
  | "callback"
  /** The line went down or the caller hung up while TOM was still in the conversation. */
  | "hangup"
  /** The caller was handed to a person (a hand-over). */
  | "transfer";

/** What happened in a call, for the learning loop and the usage log. */
export interface CallSummary {
  callId: string;
  /** Call time in ms from the start event to the end. */
  durationMs: number;
  ending: CallEnding;
  /** TOM's answers (turns), those interrupted by the caller, those that failed. */
  turns: number;
  bargeIns: number;
  failedTurns: number;
  /** Times the caller said (nearly) the same thing again, i.e. TOM had not understood. */
  repeats: number;
  /** Whether the rating question was asked. */
  ratingAsked: boolean;
  usage: CallUsage;
  /** The red flag that fired in the call, if any (such a call is excluded from learning). */
  emergency: string | null;
  /** The requests stored during the call (for the after-call pass, which must not note them twice). */
  noted: NoteRequest[];
  /**
   * The call's words, caller's and TOM's, in order: kept in memory for the after-call pass only (it
   * finds requests the call did not note) and dropped after it; never stored from here.
   */
  words: { speaker: "caller" | "assistant"; text: string }[];
}

/** A turn as it is recorded. */
export interface FinishedTurn {
  turn: number;
  callerText: string;
  /** What the caller heard of TOM's answer. */
  assistantText: string;
  interrupted: boolean;
  failed: boolean;
  /** Stage latencies in ms from the caller's last word. */
  latencies: Record<string, number>;
}

/** The pipeline's handler of one call. */
export class PipelineCall implements CallHandler {
  readonly #ctx: CallContext;
  readonly #d: CallDeps;
  readonly #o: PipelineOptions;
  readonly #now: () => number;
  readonly #t0: number;
  #state: CallState;
  readonly #hearing: CallerAudio;
  #utterances = new Map<number, Int16Array>();
  /** Per utterance, for its decision's log line: audio ms sent to STT and how long STT took. */
  #heard = new Map<number, { utteranceMs: number; sttMs?: number }>();
  #traces = new Map<number, Trace>();
  #nextUtterance = 1;
  #stt = new Map<number, AbortController>();
  #reply: ReplyWork | null = null;
  #cancelled: ReplyWork | null = null;
  #history: HistoryTurn[] = [];
  #system: string | null = null;
  #check: ReturnType<typeof identityCheck> | null = null;
  /** What the last `private` event said (the PIN question open: `#answersPin`). */
  #private = false;
  #markSeq = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #queue: CallInput[] = [];
  #dispatching = false;
  #bargeDetectT: number | null = null;
  /** The caller's speech onset (monotonic ms) of the speech in progress, and of the barge-in deciding now. */
  #onsetT: number | null = null;
  #bargeOnsetT: number | null = null;
  /** Speculative end of turn in flight (speculation.ts). */
  #spec: Speculation | null = null;
  /** Barge-in on words: the probe STT in flight; `#bargeHold`: a probe heard only a backchannel. */
  #bargeProbe: AbortController | null = null;
  #bargeHold = false;
  #lastTrace: Trace | null = null;
  #ended = false;
  #retryGen = 0;
  #retryTimers = new Set<ReturnType<typeof setTimeout>>();
  readonly #machine: MachineOptions;
  readonly #usage = new CallUsage();
  #rating: RatingDialogue | null = null;
  #ratingPlaying = false;
  #ending: CallEnding = "hangup";
  #turns: FinishedTurn[] = [];
  readonly #desk: CallDesk;

  constructor(ctx: CallContext, deps: CallDeps) {
    this.#ctx = { ...ctx, output: this.#usage.wrap(ctx.output) };
    this.#d = deps;
    this.#o = deps.options;
    this.#machine = {
      ...deps.options,
      askRating: deps.rating !== undefined,
      canNote: deps.requests !== undefined,
      verifyFirst: deps.identityCheck !== undefined,
    };
    this.#now = deps.now ?? (() => performance.now());
    this.#t0 = this.#now();
    this.#state = initialState(0);
    this.#desk = new CallDesk({
      ctx: this.#ctx,
      now: this.#now,
      at: () => this.#at(),
      input: (i) => this.#input(i),
      state: () => this.#state,
      mark: (phrase) => this.#mark("p", phrase),
      ended: () => this.#ended,
      setEnding: (e) => (this.#ending = e),
      lastCallerText: () => this.#turns.at(-1)?.callerText ?? "",
    }, { ...deps, ttsTimeoutMs: this.#o.ttsTimeoutMs });
    this.#hearing = new CallerAudio(this.#o, {
      now: this.#now,
      onEvent: (e) => this.#onHeard(e),
      onVadFailed: (e) => this.#vadDown(e),
    });
    ctx.signal.addEventListener(
      "abort",
      () => this.#input({ type: "hangup", at: this.#at(), reason: "aborted" }),
      {
        once: true,
      },
    );
  }

  /** The machine's current state (for tests and diagnostics). */
  get state(): CallState {
    return this.#state;
  }

  /** The call's pipeline options (the defaults with its policy variant's parameters). */
  get options(): Readonly<PipelineOptions> {
    return this.#o;
  }

  /** The conversation so far, as the caller heard it. */
  get history(): readonly HistoryTurn[] {
    return this.#history;
  }

  handle(event: CallEvent): void {
    if (this.#ended) return;
    switch (event.type) {
      case "start":
        this.#start(event.meta.returnedFromTransfer === true);
        break;
      case "audio":
        this.#usage.samplesIn += event.pcm.length;
        this.#hearing.push(event.pcm, event.atMs);
        break;
      case "mark":
        this.#onMark(event.name, event.cleared);
        break;
      case "dtmf":
        // Keys matter only for the rating; the digit itself is not logged (it may be part of a PIN).
        this.#input({ type: "dtmf", at: this.#at(), digit: event.digit });
        break;
      case "stop":
        this.#input({ type: "hangup", at: this.#at(), reason: event.reason });
        break;
    }
  }

  #at(): number {
    return this.#now() - this.#t0;
  }

  /** `returning`: back from a transfer nobody answered (the start's `meta.returnedFromTransfer`). */
  #start(returning: boolean): void {
    if (returning) this.#desk.handoverWhy = "Die Weiterleitung wurde nicht angenommen.";
    this.#input({ type: "start", at: this.#at(), ...(returning ? { returning } : {}) });
    this.#desk.transferCheck();
    let lastCheck = this.#at();
    this.#timer = setInterval(() => {
      const at = this.#at();
      if (at - lastCheck >= 60_000) {
        lastCheck = at;
        this.#desk.transferCheck();
      }
      this.#input({ type: "tick", at });
    }, this.#o.tickMs);
    Promise.resolve().then(() => this.#d.vad()).then((v) => this.#hearing.attach(v)).catch((e) =>
      this.#hearing.fail(e)
    );
    Promise.resolve().then(() => this.#d.systemPrompt()).then((s) => (this.#system = s)).catch((e) => {
      this.#ctx.log.warn("could not build the system prompt", { error: e });
    });
  }

  #vadDown(e: unknown): void {
    this.#ctx.log.error("vad failed; using the energy fallback", { error: e });
    this.#d.metrics?.engineError({ engine: "vad", kind: "crashed", message: String(e), retryable: false });
  }

  // ------------------------------------------------------------------ audio in

  #onHeard(ev: HeardEvent): void {
    const at = this.#at();
    if (ev.type === "speech_start") {
      emitPipelineEvent(this.#ctx.output, {
        type: "vad",
        state: "speech_start",
        atMs: ev.onsetAt,
        probability: ev.probability,
      });
      this.#onsetT = ev.onsetT;
      this.#bargeHold = false;
      this.#bargeProbe?.abort(new Error("new speech"));
      this.#bargeProbe = null;
      this.#discardSpec("speech again");
      this.#input({ type: "speech_start", at });
    } else if (ev.type === "speech_long") {
      // Barge-in on words: while a probe's words are awaited or were a backchannel, length alone decides nothing.
      if (this.#o.bargeInProbeMs > 0 && (this.#bargeProbe !== null || this.#bargeHold)) return;
      this.#bargeNow(ev.arrived, at);
    } else if (ev.type === "speech_probe") {
      this.#probeWords(ev.pcm);
    } else if (ev.type === "speech_pause") {
      this.#speculate(ev);
    } else if (ev.type === "speech_resume") {
      this.#discardSpec("speech again");
    } else if (ev.type === "noise") {
      this.#ctx.log.debug("caller sound ignored as noise", {
        sound_ms: Math.round(ev.durationMs),
        min_speech_ms: this.#o.minSpeechMs,
        phase: this.#state.phase,
      });
    } else {
      emitPipelineEvent(this.#ctx.output, { type: "vad", state: "speech_end", atMs: ev.at });
      const u = this.#nextUtterance++;
      this.#utterances.set(u, ev.pcm);
      const utteranceMs = Math.round((ev.pcm.length * 1000) / PIPELINE_RATE);
      this.#heard.set(u, { utteranceMs });
      this.#ctx.log.debug("caller utterance ended", { utterance: u, utterance_ms: utteranceMs });
      // The caller's last word was (ev.at - ev.lastSpeechAt) ms of audio before this frame arrived.
      const spec = this.#spec;
      if (spec && spec.utterance === null) spec.utterance = u;
      const trace = spec?.utterance === u
        ? spec.trace
        : new Trace(ev.arrived - (ev.at - ev.lastSpeechAt), this.#now);
      trace.mark("vad_end", ev.arrived);
      this.#traces.set(u, trace);
      this.#input({ type: "speech_end", at, utterance: u });
    }
  }

  // ------------------------------------------------------------------ marks

  #onMark(name: string, cleared: boolean): void {
    const m = /^tom:(p|r):([^:]+):\d+$/.exec(name);
    if (!m || cleared) return;
    if (m[1] === "p") {
      if (m[2].startsWith("rating")) this.#ratingPlaying = false;
      if (m[2].startsWith("askNumber")) this.#desk.numberPlaying = false;
      this.#input({ type: "phrase_played", at: this.#at(), phrase: m[2] as PhraseName });
    } else {
      const turn = Number(m[2]);
      const r = this.#reply;
      let then: "ask_number" | "end_call" | "transfer" | undefined;
      if (r && r.turn === turn) {
        this.#reply = null;
        this.#finishTurn(r, r.spoken.join(" "), false, false);
        const o = r.outcome;
        if (o.needsNumber) {
          this.#desk.pendingNote = o.needsNumber;
          then = "ask_number";
        } else if (o.transfer !== undefined) {
          this.#desk.handoverWhy = o.transfer;
          then = "transfer";
        } else if (o.endCall !== undefined) then = "end_call";
      }
      this.#input({ type: "reply_played", at: this.#at(), turn, then });
    }
  }

  #mark(kind: "p" | "r", what: string | number): void {
    this.#ctx.output.mark(`tom:${kind}:${what}:${++this.#markSeq}`);
  }

  // ------------------------------------------------------------------ the machine

  #input(input: CallInput): void {
    this.#queue.push(input);
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      while (this.#queue.length > 0) {
        const next = this.#queue.shift() as CallInput;
        const { state, effects } = transition(this.#state, next, this.#machine);
        if (next.type === "transcript" || next.type === "stt_failed") this.#logUtterance(next, effects);
        this.#state = state;
        // While the PIN question is open the caller's answer (spoken, or keyed as in-band tones) stays out of
        // the recording; derived from the state, so every way the question closes (the check's end, an
        // emergency, a transfer) ends it. Said before the effects, so before the question is heard.
        const secret = this.#answersPin();
        if (secret !== this.#private) {
          this.#private = secret;
          emitPipelineEvent(this.#ctx.output, { type: "private", on: secret });
        }
        for (const e of effects) {
          try {
            this.#effect(e);
          } catch (err) {
            this.#ctx.log.error("pipeline effect failed", { effect: e.type, error: err });
          }
        }
      }
    } finally {
      this.#dispatching = false;
    }
  }

  /** One line per utterance: its length, the transcript's length and what was decided (never the words). */
  #logUtterance(input: Extract<CallInput, { type: "transcript" | "stt_failed" }>, effects: Effect[]): void {
    const { decision, answerTurn } = utteranceDecision(this.#state, input, effects);
    const heard = this.#heard.get(input.utterance);
    if (input.type === "transcript") this.#heard.delete(input.utterance);
    this.#ctx.log.info("caller utterance decided", {
      utterance: input.utterance,
      utterance_ms: heard?.utteranceMs,
      stt_ms: heard?.sttMs,
      transcript_chars: input.type === "transcript" ? input.text.trim().length : undefined,
      phase: this.#state.phase,
      decision,
      answer_turn: answerTurn,
    });
  }

  #effect(e: Effect): void {
    switch (e.type) {
      case "say":
        return this.#say(e.phrase);
      case "transcribe":
        return this.#later(e.attempt ?? 0, () => this.#transcribe(e.utterance));
      case "reply":
        return this.#later(e.attempt, () => this.#startReply(e.turn, e.text, e.attempt));
      case "cancel_reply":
        return this.#cancelReply(e.turn);
      case "clear":
        return this.#clear();
      case "barge_in":
        return this.#bargeIn(e.turn);
      case "rating":
        return this.#ratingStep(e.event);
      case "number":
        return e.reason === "verify" ? this.#verifyStep(e.event) : this.#desk.numberStep(e.event, e.reason);
      case "transfer":
        return this.#desk.transfer(e.reason);
      case "emergency":
        return this.#desk.emergency(e.flag);
      case "hangup":
        this.#ctx.output.hangup(e.reason);
        return;
      case "end":
        return this.#end();
    }
  }

  /** Run a first attempt now, a retry after `retryDelayMs` (unless the call ended or moved on). */
  #later(attempt: number, run: () => void): void {
    if (attempt === 0 || this.#o.retryDelayMs === 0) return run();
    const gen = ++this.#retryGen;
    const t = setTimeout(() => {
      this.#retryTimers.delete(t);
      if (!this.#ended && gen === this.#retryGen) run();
    }, this.#o.retryDelayMs);
    this.#retryTimers.add(t);
  }

  /** One step of the identity check (the number phase with the reason "verify"). */
  #verifyStep(event: RatingEvent): void {
    const c = this.#d.identityCheck;
    let step: CheckStep = { done: true, verified: false };
    try {
      if (c) step = (this.#check ??= identityCheck(c)).step(event);
    } catch (e) {
      this.#ctx.log.error("identity check failed", { error: e });
    }
    if (step.verified && c) {
      try {
        c.verified();
        // Asked before the first reply: the prompt is built once more, with the memory, and stays the
        // stable prefix of every request that follows.
        this.#system = null;
      } catch (e) {
        this.#ctx.log.error("could not mark the caller verified", { error: e });
      }
    }
    if (step.say && event.type !== "start") this.#ctx.output.clear();
    if (step.say) this.#say(step.say);
    this.#input({
      type: "number_said",
      at: this.#at(),
      speaking: step.say !== undefined,
      done: step.done,
      close: false,
    });
  }

  #ratingStep(event: RatingEvent): void {
    if (event.type === "start") this.#ending = "farewell";
    this.#rating ??= this.#d.rating?.() ?? null;
    let step: { say?: PhraseName; done: boolean } = { done: true };
    try {
      if (this.#rating) step = this.#rating.step(event);
    } catch (e) {
      this.#ctx.log.error("rating dialogue failed", { error: e });
    }
    // An answer while the question still plays (a key pressed early): stop the question first.
    if (step.say && this.#ratingPlaying && event.type !== "start") this.#ctx.output.clear();
    if (step.say) {
      this.#ratingPlaying = true;
      this.#say(step.say);
    }
    this.#input({ type: "rating_said", at: this.#at(), phrase: step.say, done: step.done });
  }

  #say(phrase: PhraseName): void {
    if (phrase === "goodbyeCaller") this.#ending = "farewell";
    else if (phrase === "goodbyeSilence") this.#ending = "silence";
    else if (phrase === "goodbyeMaxDuration") this.#ending = "max_duration";
    else if (phrase === "callbackOffer" || phrase === "technicalGoodbye") this.#ending = "callback";
    const custom = phrase === "greeting" ? this.#d.greeting : undefined;
    const play = (pcm: Int16Array | null | undefined, text: string = custom ?? PHRASES[phrase]) => {
      if (this.#ended) return;
      if (pcm && pcm.length > 0) {
        emitPipelineEvent(this.#ctx.output, {
          type: "tts_audio",
          turn: this.#state.turn,
          text,
          durationMs: (pcm.length * 1000) / PIPELINE_RATE,
        });
        this.#ctx.output.audio(pcm);
      }
      // The mark comes back even without audio, so the call never waits on a phrase that cannot play.
      this.#mark("p", phrase);
    };
    if (custom !== undefined) {
      const have = this.#d.phrases.getText(custom);
      if (have) return play(have);
      // The variant's greeting is not synthesized yet: fall back to the default greeting's cache rather
      // than keep the caller waiting, and synthesize it for the next call.
      const fallback = this.#d.phrases.get(phrase);
      if (fallback) {
        // Not tied to this call: the next caller should get it even if this one hangs up at once.
        this.#d.phrases.loadText(custom, new AbortController().signal).catch(() => undefined);
        return play(fallback, PHRASES[phrase]);
      }
      this.#d.phrases.loadText(custom, this.#ctx.signal).then(play, () => play(null));
      return;
    }
    const cached = this.#d.phrases.get(phrase);
    if (cached) return play(cached);
    this.#d.phrases.load(phrase, this.#ctx.signal).then(play, () => play(null));
  }

  #clear(): void {
    const r = this.#reply;
    if (r && r.playedAtClear === null) r.playedAtClear = Math.max(0, r.queuedMs - this.#ctx.output.queuedMs);
    this.#ctx.output.clear();
    if (this.#bargeDetectT !== null) this.#d.metrics?.bargeIn((this.#now() - this.#bargeDetectT) / 1000);
    if (this.#bargeDetectT !== null && this.#bargeOnsetT !== null) {
      this.#d.metrics?.bargeInOnset?.((this.#now() - this.#bargeOnsetT) / 1000);
    }
  }

  #transcribe(u: number): void {
    const pcm = this.#utterances.get(u);
    const trace = this.#traces.get(u);
    if (!pcm) return this.#input({ type: "stt_failed", at: this.#at(), utterance: u });
    const ac = new AbortController();
    this.#stt.get(u)?.abort();
    this.#stt.set(u, ac);
    // The speculative STT heard exactly this turn (no speech after its pause): its frames are used, even
    // while still in flight.
    const spec = this.#spec?.utterance === u && !this.#spec.sttFailed ? this.#spec : null;
    if (spec) spec.useStt();
    else if (this.#spec?.utterance === u) this.#discardSpec("speculative stt failed");
    this.#runStt(u, pcm, ac, trace, spec?.stt ?? undefined).catch((e) => {
      this.#ctx.log.error("stt stage failed", { error: e });
      this.#input({ type: "stt_failed", at: this.#at(), utterance: u });
    }).finally(() => {
      // The confirmed turn did not take the speculative reply (other words, a farewell, a red flag).
      if (this.#spec?.utterance === u) this.#discardSpec("turn answered otherwise");
    });
  }

  /** STT of `pcm` under the call's deadlines (first frame and gaps bounded by `sttTimeoutMs`). */
  #sttFrames(pcm: Int16Array, ac: AbortController): AsyncGenerator<SttFrame> {
    return guarded(
      "stt",
      () =>
        this.#d.stt.transcribe(pcm, {
          signal: ac.signal,
          language: this.#o.language,
          callId: this.#ctx.callId,
        }),
      {
        signal: ac.signal,
        abort: (r) => ac.abort(r),
        firstMs: this.#o.sttTimeoutMs,
        gapMs: this.#o.sttTimeoutMs,
      },
    );
  }

  /** STT of `pcm` under the call's deadlines, its frames collected (speculative work, barge-in words). */
  async #collectStt(pcm: Int16Array, ac: AbortController): Promise<SttFrame[]> {
    const out: SttFrame[] = [];
    const frames = this.#sttFrames(pcm, ac);
    const started = this.#now();
    for await (const f of frames) out.push(f);
    this.#usage.add("stt", this.#now() - started);
    return out;
  }

  /** Final text of collected STT frames; null on an error or none. */
  static #textOf(frames: SttFrame[]): string | null {
    if (frames.some((f) => f.type === "error")) return null;
    const f = frames.findLast((x) => x.type === "final");
    return f && f.type === "final" ? f.text : null;
  }

  /** A short pause in the caller's turn: transcribe now, cue the end silence, start the reply (held). */
  #speculate(ev: Extract<HeardEvent, { type: "speech_pause" }>): void {
    const s = this.#state;
    if (!this.#o.speculative || this.#ended || s.phase !== "listening" || s.reply || s.stt.length > 0) return;
    if (s.probes.length > 0) return;
    this.#discardSpec("a newer pause");
    const spec = new Speculation(
      new Trace(ev.arrived - (ev.at - ev.lastSpeechAt), this.#now),
      this.#d.metrics,
    );
    this.#spec = spec;
    spec.stt = this.#collectStt(ev.pcm, spec.sttAc);
    spec.stt.then((frames) => {
      if (this.#spec !== spec || spec.sttAc.signal.aborted) return;
      const text = PipelineCall.#textOf(frames);
      if (text === null) return void (spec.sttFailed = true);
      spec.text = text;
      if (spec.utterance === null) this.#hearing.setEndSilence(endSilenceFor(text, this.#o));
      const st = this.#state;
      // Only a plain answer is prepared: farewells, hand-overs and emergencies are decided on the final turn.
      if (text.trim() === "" || redFlag(text) || isFarewell(text) || wantsPerson(text)) return;
      if (isRepeat(this.#state.lastCallerText, text)) return; // may be handed over, not answered
      if (st.phase !== "listening" && !(st.phase === "thinking" && spec.utterance !== null)) return;
      this.#startSpecReply(spec, st.turn + 1, joinText(st.heldText, text));
    }, () => {});
  }

  #startSpecReply(spec: Speculation, turn: number, text: string): void {
    const w = newReplyWork(turn, text, spec.trace);
    spec.work = w;
    spec.done = this.#produce(w, { ...this.#ctx, output: spec.output }, spec).catch((e) => ({
      engine: "llm" as const,
      kind: "bad_response" as const,
      message: String(e),
      retryable: true,
    }));
  }

  #discardSpec(why: string): void {
    const spec = this.#spec;
    if (!spec) return;
    this.#spec = null;
    spec.discard(why);
    this.#hearing.setEndSilence(null);
  }

  /** Barge-in decided now (`detectT`: the deciding frame's arrival, monotonic ms). */
  #bargeNow(detectT: number, at: number): void {
    this.#bargeDetectT = detectT;
    this.#bargeOnsetT = this.#onsetT;
    this.#input({ type: "speech_long", at });
    this.#bargeDetectT = null;
    this.#bargeOnsetT = null;
  }

  /** The caller's words so far while TOM talks: not a backchannel -> interrupt at once. */
  #probeWords(pcm: () => Int16Array): void {
    const talking = () =>
      this.#state.callerSpeaking && (this.#state.phase === "speaking" || this.#state.phase === "greeting");
    if (this.#o.bargeInProbeMs === 0 || this.#bargeProbe || !talking()) return;
    const ac = new AbortController();
    this.#bargeProbe = ac;
    this.#collectStt(pcm(), ac).then((frames) => {
      if (this.#bargeProbe !== ac) return;
      this.#bargeProbe = null;
      const text = PipelineCall.#textOf(frames);
      if (text === null) return void (this.#bargeHold = false);
      if (isBackchannel(text)) return void (this.#bargeHold = true);
      if (talking()) this.#bargeNow(this.#now(), this.#at());
    }, () => {
      if (this.#bargeProbe === ac) this.#bargeProbe = null;
    });
  }

  async #runStt(
    u: number,
    pcm: Int16Array,
    ac: AbortController,
    trace: Trace | undefined,
    ready?: Promise<SttFrame[]>,
  ): Promise<void> {
    const started = this.#now();
    if (trace?.has("vad_end")) {
      this.#d.metrics?.handover("speech_end_to_stt", (started - trace.get("vad_end")) / 1000);
    }
    let text: string | null = null;
    let error: EngineError | null = null;
    const frames = ready ? await ready : this.#sttFrames(pcm, ac);
    trace?.note("stt_queue_wait", 0);
    for await (const f of frames) {
      if (f.type === "queued") {
        this.#d.metrics?.queueWait(f.waitMs / 1000);
        trace?.note("stt_queue_wait", f.waitMs); // the STT pool's queue, per turn (tom probe shows it)
      } else if (f.type === "final") text = f.text;
      else if (f.type === "error") error = f.error;
    }
    if (!ready) this.#usage.add("stt", this.#now() - started);
    const heard = this.#heard.get(u);
    if (heard) heard.sttMs = Math.round(this.#now() - started);
    if (this.#stt.get(u) === ac) this.#stt.delete(u);
    if (this.#ended || (ac.signal.aborted && !error)) return;
    if (error || text === null) {
      const err = error ?? { engine: "stt", kind: "bad_response", message: "No transcript", retryable: true };
      this.#engineError(err);
      return this.#input({ type: "stt_failed", at: this.#at(), utterance: u });
    }
    this.#utterances.delete(u);
    // Emergencies by code, on every transcript (also while TOM speaks): the LLM never sees these words.
    const hit = redFlag(text);
    if (hit) {
      this.#ctx.log.warn("red flag in the caller's words", { flag: hit.flag, utterance: u });
      // Said while the PIN question was open, the words may hold the PIN: the emergency note keeps the
      // words, not the numbers.
      this.#desk.redFlagText = this.#answersPin() ? maskSpokenDigits(text) : text;
      return this.#input({ type: "red_flag", at: this.#at(), utterance: u, flag: hit.flag });
    }
    const probe = this.#state.probes.includes(u);
    if (trace) {
      trace.mark("stt");
      // A probe that is more than a backchannel becomes the caller's turn: its answer is timed from it.
      if (!probe || !isBackchannel(text)) this.#lastTrace = trace;
    }
    if (!(probe && isBackchannel(text)) && text.trim() !== "") {
      emitPipelineEvent(this.#ctx.output, {
        type: "stt_final",
        turn: this.#state.turn + 1,
        // An answer to the PIN question may be the PIN: the live view and the test call show that an
        // answer came, never its words (and no transcript turn is stored for it: it is no reply turn).
        text: this.#answersPin() ? PIN_ANSWER_SHOWN : text.slice(0, 10_000),
        atMs: Math.round(this.#at()),
      });
    }
    this.#input({ type: "transcript", at: this.#at(), utterance: u, text });
  }

  /** Whether the caller's words now answer the identity check's PIN question. */
  #answersPin(): boolean {
    const s = this.#state;
    return s.phase === "number" && s.numberReason === "verify" && this.#d.identityCheck?.method === "pin";
  }

  #engineError(e: EngineError): void {
    this.#ctx.log.warn("engine failed in a call", { engine: e.engine, kind: e.kind, message: e.message });
    this.#d.metrics?.engineError(e);
    emitPipelineEvent(this.#ctx.output, {
      type: "error",
      code: `${e.engine}_${e.kind}`,
      message: `The ${e.engine} engine failed (${e.kind})`,
    });
  }

  // ------------------------------------------------------------------ replies

  #startReply(turn: number, text: string, attempt: number): void {
    this.#reply?.ac.abort();
    const spec = this.#spec;
    if (
      attempt === 0 && spec?.work && spec.utterance !== null && spec.work.turn === turn &&
      spec.work.text === text
    ) {
      return this.#adopt(spec, spec.work);
    }
    // A trace that already timed an answer is never reused for the next one (its first audio would count
    // as this answer's and the answer would never be marked audible).
    const last = this.#lastTrace && !this.#lastTrace.has("first_audio_out") ? this.#lastTrace : null;
    const trace = (attempt === 0 ? last : this.#reply?.trace) ?? new Trace(this.#now(), this.#now);
    const work = newReplyWork(turn, text, trace);
    this.#reply = work;
    this.#runReply(work).catch((e) => {
      this.#ctx.log.error("reply stage failed", { error: e });
      if (this.#reply === work) this.#input({ type: "reply_failed", at: this.#at(), turn });
    });
  }

  /** The confirmed turn takes the speculative reply: its held audio goes out now, its tool calls may run. */
  #adopt(spec: Speculation, w: ReplyWork): void {
    this.#spec = null;
    this.#reply = w;
    if (w.trace.has("first_audio_out")) w.trace.restamp("first_audio_out", this.#now());
    spec.adopt(this.#ctx.output);
    if (spec.audible) this.#input({ type: "reply_audio", at: this.#at(), turn: w.turn });
    spec.done?.then((failure) => this.#afterReply(w, failure)).catch((e) => {
      this.#ctx.log.error("reply stage failed", { error: e });
      if (this.#reply === w) this.#input({ type: "reply_failed", at: this.#at(), turn: w.turn });
    });
  }

  async #runReply(w: ReplyWork): Promise<void> {
    if (w.trace.has("stt")) {
      this.#d.metrics?.handover("stt_to_llm", (this.#now() - w.trace.get("stt")) / 1000);
    }
    this.#afterReply(w, await this.#produce(w, this.#ctx, null));
  }

  /** Run the reply's engines into `ctx` (the line, or a speculation's held output). */
  async #produce(w: ReplyWork, ctx: CallContext, spec: Speculation | null): Promise<EngineError | null> {
    const system = this.#system ?? (await Promise.resolve(this.#d.systemPrompt()).catch(() => ""));
    const messages = buildMessages(system, this.#history, w.text, this.#o.historyTurns);
    // Speculative work waits for the confirmed turn before a tool call of it runs (spec.gate).
    const note = (n: NoteRequest) => spec ? spec.gate.then(() => this.#desk.note(n)) : this.#desk.note(n);
    return await runReply(w, messages, {
      ctx,
      llm: this.#d.llm,
      tts: this.#d.tts,
      metrics: this.#d.metrics,
      options: this.#o,
      now: this.#now,
      usage: this.#usage,
      isCurrent: () => (this.#reply === w || (spec !== null && this.#spec === spec)) && !this.#ended,
      onAudible: () => {
        if (this.#reply === w) this.#input({ type: "reply_audio", at: this.#at(), turn: w.turn });
        else if (spec) spec.audible = true;
      },
      ...(this.#d.requests ? { tools: { specs: CALL_TOOLS, note } } : {}),
    });
  }

  /** A reply's engines are done: its end mark, or a failure. */
  #afterReply(w: ReplyWork, failure: EngineError | null): void {
    if (this.#reply !== w || this.#ended) return;
    if (failure) {
      this.#engineError(failure);
      return this.#input({ type: "reply_failed", at: this.#at(), turn: w.turn });
    }
    const o = w.outcome;
    const acted = o.noted.length > 0 || o.needsNumber || o.endCall !== undefined || o.transfer !== undefined;
    if (w.sentences.length === 0 && !acted) {
      // The model said nothing: count it as a failure rather than leaving the caller in silence.
      this.#engineError({ engine: "llm", kind: "bad_response", message: "Empty answer", retryable: true });
      return this.#input({ type: "reply_failed", at: this.#at(), turn: w.turn });
    }
    this.#mark("r", w.turn);
  }

  #cancelReply(turn: number): void {
    const r = this.#reply;
    if (!r || r.turn !== turn) return;
    r.ac.abort(new Error("reply cancelled"));
    this.#reply = null;
    this.#cancelled = r;
    // Retries exhausted, call closing: the turn is recorded as failed, with what the caller heard.
    if (this.#state.phase === "closing" || this.#state.phase === "ended") {
      const played = r.playedAtClear ?? Math.max(0, r.queuedMs - this.#ctx.output.queuedMs);
      this.#finishTurn(r, heardText(r.sentences, played), false, this.#state.phase === "closing");
    }
  }

  #bargeIn(turn: number): void {
    const r = this.#reply?.turn === turn
      ? this.#reply
      : this.#cancelled?.turn === turn
      ? this.#cancelled
      : null;
    const played = r ? (r.playedAtClear ?? Math.max(0, r.queuedMs - this.#ctx.output.queuedMs)) : 0;
    const heard = r ? heardText(r.sentences, played) : "";
    emitPipelineEvent(this.#ctx.output, {
      type: "barge_in",
      turn,
      atMs: Math.round(this.#at()),
      heardText: heard.slice(0, 10_000),
    });
    if (r) this.#finishTurn(r, heard, true, false);
  }

  #finishTurn(r: ReplyWork, assistant: string, interrupted: boolean, failed: boolean): void {
    this.#history.push({ caller: r.text, assistant });
    const latencies = r.trace.latencies();
    this.#d.metrics?.turn(failed ? "failed" : interrupted ? "interrupted" : "answered");
    for (const [stage, ms] of Object.entries(latencies)) {
      // The STT queue wait is a duration with its own histogram (tom_stt_queue_wait_seconds), not a stage.
      if (stage !== "stt_queue_wait") this.#d.metrics?.stage(stage as Stage, ms / 1000);
    }
    emitPipelineEvent(this.#ctx.output, { type: "turn_end", turn: r.turn, interrupted, latencies });
    if (this.#d.tracer) {
      const attributes: Record<string, string | number | boolean> = {
        "tom.call_id": this.#ctx.callId,
        "tom.turn": r.turn,
        "tom.interrupted": interrupted,
        "tom.failed": failed,
      };
      for (const [k, v] of Object.entries(latencies)) attributes[`tom.latency_ms.${k}`] = v;
      const span = this.#d.tracer.startSpan("tom.turn", {
        startTime: performance.timeOrigin + r.trace.origin,
        attributes,
      });
      span.end(performance.timeOrigin + this.#now());
    }
    const done: FinishedTurn = {
      turn: r.turn,
      callerText: r.text,
      assistantText: assistant,
      interrupted,
      failed,
      latencies,
    };
    this.#turns.push(done);
    Promise.resolve().then(() => this.#d.onTurn?.(done)).catch((e) =>
      this.#ctx.log.error("could not record a turn", { error: e })
    );
  }

  // ------------------------------------------------------------------ the end

  #end(): void {
    if (this.#ended) return;
    const r = this.#reply;
    this.#ended = true;
    clearInterval(this.#timer);
    for (const t of this.#retryTimers) clearTimeout(t);
    this.#retryTimers.clear();
    if (r) r.ac.abort(new Error("call ended"));
    this.#discardSpec("call ended");
    this.#bargeProbe?.abort(new Error("call ended"));
    for (const ac of this.#stt.values()) ac.abort(new Error("call ended"));
    this.#stt.clear();
    this.#utterances.clear();
    this.#heard.clear();
    this.#hearing.close((e) => this.#ctx.log.warn("vad dispose failed", { error: e }));
    const onEnd = this.#d.onEnd;
    if (!onEnd) return;
    const summary: CallSummary = {
      callId: this.#ctx.callId,
      durationMs: Math.max(0, this.#at()),
      ending: this.#ending,
      turns: this.#turns.length,
      bargeIns: this.#turns.filter((t) => t.interrupted).length,
      failedTurns: this.#turns.filter((t) => t.failed).length,
      repeats: countRepeats(this.#turns.map((t) => t.callerText)),
      ratingAsked: this.#rating !== null,
      usage: this.#usage,
      emergency: this.#state.emergency,
      noted: this.#desk.noted,
      words: this.#turns.flatMap((t) => [
        { speaker: "caller" as const, text: t.callerText },
        ...(t.assistantText ? [{ speaker: "assistant" as const, text: t.assistantText }] : []),
      ]),
    };
    // After the transport has recorded the end of the call (it delivers `stop` before it does).
    setTimeout(() => {
      Promise.resolve().then(() => onEnd(summary)).catch((e) =>
        this.#ctx.log.error("could not finish the call's bookkeeping", { error: e })
      );
    }, 0);
  }
}

/** How often the caller said (nearly) the same as in the turn before: a sign TOM did not understand. */
export function countRepeats(callerTexts: readonly string[]): number {
  let n = 0;
  for (let i = 1; i < callerTexts.length; i++) if (isRepeat(callerTexts[i - 1], callerTexts[i])) n++;
  return n;
}
