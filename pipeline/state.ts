/**
 * The call as a pure state machine (`transition(state, event) -> { state, effects }`), Pipecat/LiveKit
 * style: the runtime ({@linkcode ./call.ts}) turns audio, engine frames, marks and timer ticks into
 * {@linkcode CallInput}s and carries out the {@linkcode Effect}s; every decision about turn-taking,
 * barge-in, backchannels, silence, failures and the end of the call is made here and tested on its own.
 *
 * Phases: greeting -> listening -> thinking -> speaking -> listening ... -> closing -> ended. When the
 * caller says goodbye ("Tschüss", "das war's") TOM does not answer but closes: with the rating question
 * first (phase `rating`, when the learning loop asks one), else with a short goodbye.
 *
 * @module
 */
import type { PipelineOptions } from "./defaults.ts";
import { isBackchannel, isFarewell, isRepeat, type PhraseName, wantsPerson } from "./texts.ts";

/** Where the call stands. */
export type Phase =
  | "greeting"
  | "listening"
  | "thinking"
  | "speaking"
  | "rating"
  /** TOM asks for a callback number (callback_number.ts): by caller ID, spoken or keyed digits. */
  | "number"
  /** TOM says it connects the caller, then the transport transfers the call (cold transfer). */
  | "transferring"
  | "closing"
  | "ended";

/** Why TOM hands the caller to a person. */
export type HandoverReason =
  | "caller_asked"
  | "dtmf_0"
  | "tool"
  | "not_understood"
  | "engines_failed";

/** Why TOM asks for a callback number: its engines failed (then the call ends), or the reply needs one. */
export type NumberReason = "failure" | "reply" | "transfer" | "verify";

/** The whole state of one call's conversation (times are call milliseconds). */
export interface CallState {
  readonly phase: Phase;
  readonly startedAt: number;
  /** Number of TOM's answers started so far; the current reply's turn. */
  readonly turn: number;
  readonly callerSpeaking: boolean;
  /** Since when nobody said anything while TOM listens (re-prompt timer). */
  readonly quietSince: number;
  readonly reprompts: number;
  /** Failures in the current turn. */
  readonly failures: number;
  /** Utterances being transcribed as the caller's turn. */
  readonly stt: readonly number[];
  /** Short bursts while TOM spoke, transcribed to tell backchannels from interruptions. */
  readonly probes: readonly number[];
  /** The reply in flight (LLM + TTS), if any. */
  readonly reply: { turn: number; text: string; audible: boolean } | null;
  /** What the caller said that TOM has not answered yet. */
  readonly heldText: string;
  readonly closingSince: number | null;
  /** In the rating or number phase: TOM is saying its question (the answer wait starts when it was played). */
  readonly ratingSpeaking: boolean;
  /** A callback request with a number is stored for this call: only then may TOM say the practice calls back. */
  readonly callbackNoted: boolean;
  /** In the number phase: why TOM asks (decides whether the call goes on or ends after it). */
  readonly numberReason: NumberReason | null;
  /** A transfer target is there now (the practice's target for this hour, on a transport that transfers). */
  readonly transferAvailable: boolean;
  /** In the transferring phase: why. */
  readonly transferReason: HandoverReason | null;
  /** The caller's last turn, and how often in a row the caller said (nearly) the same again. */
  readonly lastCallerText: string;
  readonly repeats: number;
  /** A red flag fired in this call (its name): the call is excluded from learning. */
  readonly emergency: string | null;
}

/** What happens to the call, as the state machine sees it. */
export type CallInput =
  /** `returning`: the caller is back from a transfer nobody answered (TOM offers a callback at once). */
  | { type: "start"; at: number; returning?: boolean }
  | { type: "tick"; at: number }
  | { type: "speech_start"; at: number }
  /** The caller has been speaking for `bargeInMinMs`: no backchannel. */
  | { type: "speech_long"; at: number }
  | { type: "speech_end"; at: number; utterance: number }
  | { type: "transcript"; at: number; utterance: number; text: string }
  | { type: "stt_failed"; at: number; utterance: number }
  /** The first audio of a reply was queued for the caller. */
  | { type: "reply_audio"; at: number; turn: number }
  | { type: "reply_failed"; at: number; turn: number }
  /**
   * All of a reply's audio was played (its end mark came back). `then`: what its tool calls asked for
   * after it (ask the caller for a callback number; end the call).
   */
  | { type: "reply_played"; at: number; turn: number; then?: "ask_number" | "end_call" | "transfer" }
  | { type: "phrase_played"; at: number; phrase: PhraseName }
  /** A key the caller pressed. */
  | { type: "dtmf"; at: number; digit: string }
  /** The rating dialogue took its step: it said `phrase` (if any) and may be `done`. */
  | { type: "rating_said"; at: number; phrase?: PhraseName; done: boolean }
  /** Whether a transfer target is there now (at the start, and again as the hours change). */
  | { type: "transfer_available"; at: number; available: boolean }
  /** The transport's answer to a transfer: on success the caller is gone (its `stop` follows). */
  | { type: "transfer_result"; at: number; ok: boolean }
  /**
   * A red flag in the caller's words (pipeline/red_flags.ts, checked by code on every transcript): the
   * utterance is answered by the emergency advice, never by the LLM.
   */
  | { type: "red_flag"; at: number; utterance: number; flag: string }
  /** A request was stored; `callback`: a callback with a number. */
  | { type: "request_noted"; at: number; callback: boolean }
  /**
   * The number dialogue took its step: TOM says something (`speaking`) or waits; when `done`, the runtime
   * has noted what it could and says its last words: the call ends after them (`close`) or goes on.
   */
  | { type: "number_said"; at: number; speaking: boolean; done: boolean; close: boolean }
  | { type: "hangup"; at: number; reason: string };

/** What the rating dialogue is told. */
export type RatingEvent =
  | { type: "start" }
  | { type: "transcript"; text: string }
  | { type: "dtmf"; digit: string }
  /** The caller said nothing for `ratingWaitMs` after the question. */
  | { type: "timeout" };

/** What the runtime must do. */
export type Effect =
  | { type: "say"; phrase: PhraseName }
  | { type: "transcribe"; utterance: number; attempt?: number }
  | { type: "reply"; turn: number; text: string; attempt: number }
  | { type: "cancel_reply"; turn: number }
  /** Drop everything queued for playback (barge-in). */
  | { type: "clear" }
  | { type: "barge_in"; turn: number; at: number }
  /** Drive the rating dialogue; the runtime answers with `rating_said`. */
  | { type: "rating"; event: RatingEvent }
  /** Hand the caller to a person (the runtime calls the transport's transfer; answers `transfer_result`). */
  | { type: "transfer"; reason: HandoverReason }
  /** Note the emergency (request, event, metric); the advice phrase is a `say` effect beside it. */
  | { type: "emergency"; flag: string }
  /** Drive the callback number dialogue; the runtime answers with `number_said`. */
  | { type: "number"; event: RatingEvent; reason: NumberReason }
  | { type: "hangup"; reason: string }
  /** Release everything: the call is over. */
  | { type: "end"; reason: string };

/** A transition's result. */
export interface Transition {
  state: CallState;
  effects: Effect[];
}

/** Timing rules the machine needs (a subset of the pipeline options). */
export type MachineOptions =
  & Pick<PipelineOptions, "silenceRepromptMs" | "maxReprompts" | "maxCallMs" | "retries">
  & Partial<Pick<PipelineOptions, "ratingWaitMs">>
  & {
    /** Ask for a rating when the caller says goodbye (the learning loop is on). Default false. */
    askRating?: boolean;
    /**
     * Requests can be stored (the call has a store): after failing engines TOM asks for a callback number
     * and notes it. Without, it apologises and asks the caller to call again (promising nothing).
     */
    canNote?: boolean;
    /**
     * The caller ID matched a person and the practice asks for a check (identity_check.ts): right after the
     * greeting TOM asks for it, in the number phase with the reason "verify". Default false.
     */
    verifyFirst?: boolean;
  };

/** Phrases after which a closing call hangs up. */
const FINAL_PHRASES: ReadonlySet<PhraseName> = new Set([
  "goodbyeSilence",
  "goodbyeMaxDuration",
  "callbackOffer",
  "goodbyeCaller",
  "ratingThanks",
  "ratingGoodbye",
  "callbackNoted",
  "noNumberGoodbye",
  "technicalGoodbye",
]);

/** How many times in a row the caller may say the same before TOM hands over (it did not understand). */
export const REPEATS_BEFORE_HANDOVER = 2;

/** How long a closing phrase may take to play before TOM hangs up anyway. */
export const CLOSING_GRACE_MS = 20_000;

/** The state before the call starts. */
export function initialState(at = 0): CallState {
  return {
    phase: "greeting",
    startedAt: at,
    turn: 0,
    callerSpeaking: false,
    quietSince: at,
    reprompts: 0,
    failures: 0,
    stt: [],
    probes: [],
    reply: null,
    heldText: "",
    closingSince: null,
    ratingSpeaking: false,
    callbackNoted: false,
    numberReason: null,
    transferAvailable: false,
    transferReason: null,
    lastCallerText: "",
    repeats: 0,
    emergency: null,
  };
}

export const joinText = (
  a: string,
  b: string,
): string => (a === "" ? b.trim() : b.trim() === "" ? a : `${a} ${b.trim()}`);

function close(s: CallState, at: number, phrase: PhraseName, extra: Effect[] = []): Transition {
  const effects: Effect[] = [...extra];
  if (s.reply) effects.push({ type: "cancel_reply", turn: s.reply.turn });
  if (s.reply?.audible || s.phase === "greeting") effects.push({ type: "clear" });
  effects.push({ type: "say", phrase });
  return {
    state: { ...s, phase: "closing", reply: null, stt: [], probes: [], closingSince: at },
    effects,
  };
}

/** The caller's words are complete: answer them, or keep listening when there is nothing to answer. */
function maybeReply(s: CallState, at: number, opts: MachineOptions): Transition {
  if (s.callerSpeaking || s.stt.length > 0) return { state: s, effects: [] };
  if (s.heldText.trim() === "") {
    return { state: { ...s, phase: s.reply ? s.phase : "listening", quietSince: at }, effects: [] };
  }
  const text = s.heldText;
  if (isFarewell(text)) return farewell({ ...s, heldText: "" }, at, opts);
  if (wantsPerson(text)) return handover({ ...s, heldText: "" }, at, "caller_asked");
  const repeats = isRepeat(s.lastCallerText, text) ? s.repeats + 1 : 0;
  if (repeats >= REPEATS_BEFORE_HANDOVER) {
    return handover({ ...s, heldText: "", lastCallerText: text, repeats: 0 }, at, "not_understood");
  }
  s = { ...s, lastCallerText: text, repeats };
  const turn = s.turn + 1;
  return {
    state: { ...s, phase: "thinking", turn, failures: 0, reply: { turn, text, audible: false } },
    effects: [{ type: "reply", turn, text, attempt: 0 }],
  };
}

/**
 * Hand the caller to a person: with a target now, TOM says it connects and the transport transfers after
 * the sentence; without one, TOM says so and asks for a callback number instead (the call goes on).
 */
function handover(s: CallState, at: number, reason: HandoverReason): Transition {
  const effects: Effect[] = [];
  if (s.reply) effects.push({ type: "cancel_reply", turn: s.reply.turn });
  if (s.reply?.audible || s.phase === "greeting" || s.phase === "speaking") effects.push({ type: "clear" });
  const base: CallState = { ...s, reply: null, stt: [], probes: [], quietSince: at };
  if (s.transferAvailable) {
    return {
      state: { ...base, phase: "transferring", transferReason: reason, closingSince: at },
      effects: [...effects, { type: "say", phrase: "transferring" }],
    };
  }
  return askNumber(base, at, "transfer", [...effects, { type: "say", phrase: "noTransfer" }]);
}

/** The conversation is over (the caller's goodbye, or the model ended it): the rating question, or goodbye. */
function farewell(s: CallState, at: number, opts: MachineOptions): Transition {
  if (opts.askRating) {
    return {
      state: { ...s, phase: "rating", ratingSpeaking: true, quietSince: at, reprompts: 0 },
      effects: [{ type: "rating", event: { type: "start" } }],
    };
  }
  return close(s, at, "goodbyeCaller");
}

/** TOM asks for a callback number (the number dialogue speaks first). */
function askNumber(s: CallState, at: number, reason: NumberReason, extra: Effect[] = []): Transition {
  return {
    state: {
      ...s,
      phase: "number",
      numberReason: reason,
      reply: null,
      stt: [],
      probes: [],
      ratingSpeaking: true,
      quietSince: at,
      reprompts: 0,
    },
    effects: [...extra, { type: "number", event: { type: "start" }, reason }],
  };
}

/** TOM is interrupted: stop the reply everywhere and listen. */
function bargeIn(s: CallState, at: number): Transition {
  const effects: Effect[] = [{ type: "clear" }];
  if (s.reply) {
    effects.push({ type: "cancel_reply", turn: s.reply.turn });
    effects.push({ type: "barge_in", turn: s.reply.turn, at });
  }
  return { state: { ...s, phase: "listening", reply: null, quietSince: at }, effects };
}

/**
 * A turn failed: apologise and retry. After the retries the call ends with a callback, but TOM says the
 * practice calls back only when a callback with a number is stored; else it first asks for the number.
 */
function failed(s: CallState, at: number, retry: Effect, opts: MachineOptions): Transition {
  const failures = s.failures + 1;
  if (failures > opts.retries) {
    if (s.transferAvailable) return handover({ ...s, failures }, at, "engines_failed");
    if (s.callbackNoted) return close({ ...s, failures }, at, "callbackOffer");
    if (!opts.canNote) return close({ ...s, failures }, at, "technicalGoodbye");
    const extra: Effect[] = [];
    if (s.reply) extra.push({ type: "cancel_reply", turn: s.reply.turn });
    if (s.reply?.audible) extra.push({ type: "clear" });
    return askNumber({ ...s, failures }, at, "failure", extra);
  }
  const effects: Effect[] = [];
  if (s.reply?.audible) effects.push({ type: "clear" });
  effects.push({ type: "say", phrase: "apology" }, retry);
  const reply = s.reply && retry.type === "reply" ? { ...s.reply, audible: false } : s.reply;
  return { state: { ...s, failures, reply, phase: "thinking" }, effects };
}

/**
 * The next state and the effects to carry out. Pure: same inputs, same result; `state` is not changed.
 *
 * @param state the current state
 * @param input what happened
 * @param opts timing rules
 * @returns the new state and the effects, in the order to carry them out
 */
export function transition(state: CallState, input: CallInput, opts: MachineOptions): Transition {
  const s = state;
  const none: Transition = { state: s, effects: [] };
  if (s.phase === "ended") return none;
  if (input.type === "hangup") {
    const effects: Effect[] = s.reply ? [{ type: "cancel_reply", turn: s.reply.turn }] : [];
    effects.push({ type: "end", reason: input.reason });
    return { state: { ...s, phase: "ended", reply: null, stt: [], probes: [] }, effects };
  }
  if (s.phase === "closing") {
    const done = (input.type === "phrase_played" && FINAL_PHRASES.has(input.phrase)) ||
      (input.type === "tick" && s.closingSince !== null && input.at - s.closingSince >= CLOSING_GRACE_MS);
    if (!done) return none;
    const reason = "tom said goodbye";
    return {
      state: { ...s, phase: "ended" },
      effects: [{ type: "hangup", reason }, { type: "end", reason }],
    };
  }
  if (input.type === "request_noted") {
    return input.callback ? { state: { ...s, callbackNoted: true }, effects: [] } : none;
  }
  if (input.type === "transfer_available") {
    return { state: { ...s, transferAvailable: input.available }, effects: [] };
  }
  if (s.phase === "transferring") return transferring(s, input);
  if (input.type === "red_flag") return emergency(s, input);
  // DTMF 0 at any moment of the conversation (not while the caller keys a number or a rating).
  if (input.type === "dtmf" && input.digit === "0" && s.phase !== "rating" && s.phase !== "number") {
    return handover(s, input.at, "dtmf_0");
  }
  if (s.phase === "rating" || s.phase === "number") return dialogue(s, input, opts);
  switch (input.type) {
    case "start":
      if (input.returning) {
        return askNumber(initialState(input.at), input.at, "transfer", [{
          type: "say",
          phrase: "transferFailed",
        }]);
      }
      if (opts.verifyFirst) {
        return askNumber(initialState(input.at), input.at, "verify", [{ type: "say", phrase: "greeting" }]);
      }
      return { state: { ...initialState(input.at) }, effects: [{ type: "say", phrase: "greeting" }] };
    case "tick": {
      if (input.at - s.startedAt >= opts.maxCallMs) return close(s, input.at, "goodbyeMaxDuration");
      const idle = s.phase === "listening" && !s.callerSpeaking && s.stt.length === 0 && !s.reply &&
        s.heldText === "";
      if (!idle || input.at - s.quietSince < opts.silenceRepromptMs) return none;
      if (s.reprompts >= opts.maxReprompts) return close(s, input.at, "goodbyeSilence");
      return {
        state: { ...s, reprompts: s.reprompts + 1, quietSince: input.at },
        effects: [{ type: "say", phrase: "reprompt" }],
      };
    }
    case "speech_start": {
      const next: CallState = { ...s, callerSpeaking: true, reprompts: 0 };
      // Caller goes on talking before TOM's answer is audible: drop that answer, answer everything later.
      if (s.phase === "thinking" && s.reply && !s.reply.audible) {
        return {
          state: { ...next, phase: "listening", reply: null },
          effects: [{ type: "cancel_reply", turn: s.reply.turn }],
        };
      }
      return { state: next, effects: [] };
    }
    case "speech_long":
      if (s.callerSpeaking && (s.phase === "speaking" || s.phase === "greeting")) return bargeIn(s, input.at);
      return none;
    case "speech_end": {
      const next: CallState = { ...s, callerSpeaking: false };
      if (s.phase === "speaking" || s.phase === "greeting") {
        // A short burst while TOM talks: a backchannel unless its words say otherwise.
        return {
          state: { ...next, probes: [...s.probes, input.utterance] },
          effects: [{ type: "transcribe", utterance: input.utterance }],
        };
      }
      return {
        state: { ...next, phase: s.reply ? s.phase : "thinking", stt: [...s.stt, input.utterance] },
        effects: [{ type: "transcribe", utterance: input.utterance }],
      };
    }
    case "transcript": {
      if (s.probes.includes(input.utterance)) {
        const probes = s.probes.filter((u) => u !== input.utterance);
        if (isBackchannel(input.text)) return { state: { ...s, probes }, effects: [] };
        const cut = s.phase === "speaking" || s.phase === "greeting"
          ? bargeIn({ ...s, probes }, input.at)
          : { state: { ...s, probes }, effects: [] };
        const r = maybeReply(
          { ...cut.state, heldText: joinText(cut.state.heldText, input.text) },
          input.at,
          opts,
        );
        return { state: r.state, effects: [...cut.effects, ...r.effects] };
      }
      if (!s.stt.includes(input.utterance)) return none;
      const stt = s.stt.filter((u) => u !== input.utterance);
      return maybeReply({ ...s, stt, heldText: joinText(s.heldText, input.text) }, input.at, opts);
    }
    case "stt_failed": {
      if (s.probes.includes(input.utterance)) {
        return { state: { ...s, probes: s.probes.filter((u) => u !== input.utterance) }, effects: [] };
      }
      if (!s.stt.includes(input.utterance)) return none;
      return failed(
        s,
        input.at,
        { type: "transcribe", utterance: input.utterance, attempt: s.failures + 1 },
        opts,
      );
    }
    case "reply_audio":
      if (s.reply?.turn !== input.turn || s.reply.audible) return none;
      return {
        state: { ...s, phase: "speaking", heldText: "", reply: { ...s.reply, audible: true } },
        effects: [],
      };
    case "reply_failed":
      if (s.reply?.turn !== input.turn) return none;
      return failed(s, input.at, {
        type: "reply",
        turn: s.reply.turn,
        text: s.reply.text,
        attempt: s.failures + 1,
      }, opts);
    case "reply_played": {
      if (s.reply?.turn !== input.turn) return none;
      const next: CallState = { ...s, phase: "listening", reply: null, failures: 0, quietSince: input.at };
      if (input.then === "ask_number") return askNumber(next, input.at, "reply");
      if (input.then === "transfer") return handover(next, input.at, "tool");
      if (input.then === "end_call") return farewell(next, input.at, opts);
      return { state: next, effects: [] };
    }
    case "dtmf":
    case "rating_said":
    case "number_said":
    case "transfer_result":
      return none;
    case "phrase_played":
      if (input.phrase === "greeting" && s.phase === "greeting") {
        return { state: { ...s, phase: "listening", quietSince: input.at }, effects: [] };
      }
      if (input.phrase === "reprompt" && s.phase === "listening") {
        return { state: { ...s, quietSince: input.at }, effects: [] };
      }
      return none;
  }
}

/** Default wait for the caller's rating after the question was played. */
export const RATING_WAIT_MS = 8_000;

/**
 * The rating and the number phases: every answer (words or a key) and every silence goes to the phase's
 * dialogue (the rating question, or the callback number).
 */
function dialogue(s: CallState, input: CallInput, opts: MachineOptions): Transition {
  const none: Transition = { state: s, effects: [] };
  const step = (event: RatingEvent): Effect =>
    s.phase === "number"
      ? { type: "number", event, reason: s.numberReason ?? "reply" }
      : { type: "rating", event };
  switch (input.type) {
    case "tick": {
      if (input.at - s.startedAt >= opts.maxCallMs) return close(s, input.at, "goodbyeMaxDuration");
      const waiting = !s.ratingSpeaking && !s.callerSpeaking && s.stt.length === 0;
      if (!waiting || input.at - s.quietSince < (opts.ratingWaitMs ?? RATING_WAIT_MS)) return none;
      return {
        state: { ...s, ratingSpeaking: true, quietSince: input.at },
        effects: [step({ type: "timeout" })],
      };
    }
    case "speech_start":
      return { state: { ...s, callerSpeaking: true }, effects: [] };
    case "speech_end":
      return {
        state: { ...s, callerSpeaking: false, stt: [...s.stt, input.utterance] },
        effects: [{ type: "transcribe", utterance: input.utterance }],
      };
    case "transcript": {
      if (!s.stt.includes(input.utterance)) return none;
      const next = { ...s, stt: s.stt.filter((u) => u !== input.utterance), quietSince: input.at };
      if (input.text.trim() === "") return { state: next, effects: [] };
      return {
        state: { ...next, ratingSpeaking: true },
        effects: [step({ type: "transcript", text: input.text })],
      };
    }
    case "stt_failed":
      return {
        state: { ...s, stt: s.stt.filter((u) => u !== input.utterance), quietSince: input.at },
        effects: [],
      };
    case "dtmf":
      return {
        state: { ...s, ratingSpeaking: true, quietSince: input.at },
        effects: [step({ type: "dtmf", digit: input.digit })],
      };
    case "number_said":
      if (s.phase !== "number") return none;
      if (!input.done) {
        return { state: { ...s, ratingSpeaking: input.speaking, quietSince: input.at }, effects: [] };
      }
      if (input.close) {
        return {
          state: {
            ...s,
            phase: "closing",
            closingSince: input.at,
            ratingSpeaking: false,
            numberReason: null,
          },
          effects: [],
        };
      }
      return {
        state: { ...s, phase: "listening", ratingSpeaking: false, numberReason: null, quietSince: input.at },
        effects: [],
      };
    case "rating_said":
      if (s.phase !== "rating") return none;
      if (!input.done) return { state: { ...s, ratingSpeaking: input.phrase !== undefined }, effects: [] };
      if (input.phrase === undefined) {
        const reason = "rating finished";
        return {
          state: { ...s, phase: "ended" },
          effects: [{ type: "hangup", reason }, { type: "end", reason }],
        };
      }
      return {
        state: { ...s, phase: "closing", closingSince: input.at, ratingSpeaking: false },
        effects: [],
      };
    case "phrase_played":
      if (
        input.phrase === "ratingQuestion" || input.phrase === "ratingReask" || input.phrase === "askNumber" ||
        input.phrase === "askNumberAgain" || input.phrase === "askBirthDate" || input.phrase === "askPin" ||
        input.phrase === "askIdentityAgain" || input.phrase === "askPinAgain"
      ) {
        return { state: { ...s, ratingSpeaking: false, quietSince: input.at }, effects: [] };
      }
      return none;
    default:
      return none;
  }
}

/** Saying "ich verbinde Sie", then waiting for the transport's answer. */
function transferring(s: CallState, input: CallInput): Transition {
  const none: Transition = { state: s, effects: [] };
  switch (input.type) {
    case "phrase_played":
      if (input.phrase !== "transferring" || s.transferReason === null) return none;
      return { state: s, effects: [{ type: "transfer", reason: s.transferReason }] };
    case "transfer_result":
      if (input.ok) {
        // The caller is with a person now: the peer ends TOM's leg; TOM hangs up itself after the grace.
        return {
          state: { ...s, phase: "closing", closingSince: input.at, transferReason: null },
          effects: [],
        };
      }
      return askNumber({ ...s, transferReason: null }, input.at, "transfer", [{
        type: "say",
        phrase: "transferFailed",
      }]);
    case "tick":
      // A transport that never answers: the runtime bounds the transfer itself; this is the last guard.
      if (s.closingSince !== null && input.at - s.closingSince >= CLOSING_GRACE_MS * 3) {
        return askNumber({ ...s, transferReason: null }, input.at, "transfer", [{
          type: "say",
          phrase: "transferFailed",
        }]);
      }
      return none;
    default:
      return none;
  }
}

/**
 * A red flag: whatever TOM says stops, the emergency advice is said at once (pre-synthesized), the
 * emergency is noted; the utterance is never given to the LLM, so no later text of it can contradict
 * the advice. The way to a person stays open (DTMF 0, "Mitarbeiter").
 */
function emergency(s: CallState, input: Extract<CallInput, { type: "red_flag" }>): Transition {
  const effects: Effect[] = [];
  if (s.reply) effects.push({ type: "cancel_reply", turn: s.reply.turn });
  if (s.reply?.audible || s.phase === "greeting" || s.phase === "speaking") effects.push({ type: "clear" });
  effects.push({ type: "say", phrase: "emergencyAdvice" }, { type: "emergency", flag: input.flag });
  return {
    state: {
      ...s,
      // Whatever TOM was doing (rating, goodbye, a number): the advice comes first, then TOM listens.
      phase: "listening",
      numberReason: null,
      ratingSpeaking: false,
      closingSince: null,
      reply: null,
      heldText: "",
      stt: s.stt.filter((u) => u !== input.utterance),
      probes: s.probes.filter((u) => u !== input.utterance),
      quietSince: input.at,
      emergency: s.emergency ?? input.flag,
    },
    effects,
  };
}
