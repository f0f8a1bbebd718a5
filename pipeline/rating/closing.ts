/**
 * The end-of-call rating dialogue as a small state machine for the pipeline: TOM asks, the caller
 * answers by voice or key; an unclear answer gets one re-ask, silence or a second unclear answer ends
 * without a rating (the reward then treats the rating as missing). Pure: no I/O, no clock.
 *
 * @module
 */
import {
  FEEDBACK_QUESTION,
  FEEDBACK_THANKS,
  type ParsedRating,
  parseDtmfRating,
  parseRating,
} from "./rating.ts";
import { type PhraseName, PHRASES } from "../texts.ts";

/** Re-ask after an unclear answer. */
export const FEEDBACK_REASK: string = PHRASES.ratingReask;
/** Goodbye without a rating. */
export const FEEDBACK_GOODBYE: string = PHRASES.ratingGoodbye;

/** State of the dialogue. */
export interface ClosingState {
  phase: "idle" | "asked" | "done";
  reasks: number;
  result: ParsedRating | null;
  /** How the dialogue ended. */
  source: "voice" | "dtmf" | "none";
}

/** What happened. */
export type ClosingInput =
  | { type: "start" }
  | { type: "transcript"; text: string }
  | { type: "dtmf"; digit: string }
  /** The caller said nothing within the wait (pipeline: about 8 s). */
  | { type: "timeout" }
  | { type: "hangup" };

/** The next state and what TOM should say. */
export interface ClosingStep {
  state: ClosingState;
  say?: string;
  /** True when the call may end (say the text, then hang up). */
  done: boolean;
}

/** The state before the question. */
export function closingStart(): ClosingState {
  return { phase: "idle", reasks: 0, result: null, source: "none" };
}

/**
 * Advance the rating dialogue.
 * @example
 * ```ts
 * let s = closingStep(closingStart(), { type: "start" }).state;
 * closingStep(s, { type: "transcript", text: "vier" }).state.result?.rating; // 4
 * ```
 */
export function closingStep(state: ClosingState, input: ClosingInput, maxReasks = 1): ClosingStep {
  if (state.phase === "done") return { state, done: true };
  if (input.type === "hangup") return { state: { ...state, phase: "done" }, done: true };
  if (input.type === "start") {
    return { state: { ...state, phase: "asked" }, say: FEEDBACK_QUESTION, done: false };
  }
  if (state.phase !== "asked") return { state, done: false };
  const parsed = input.type === "dtmf"
    ? parseDtmfRating(input.digit)
    : input.type === "transcript"
    ? parseRating(input.text)
    : null;
  if (parsed) {
    const source = input.type === "dtmf" ? "dtmf" : "voice";
    return { state: { ...state, phase: "done", result: parsed, source }, say: FEEDBACK_THANKS, done: true };
  }
  const source = input.type === "dtmf" ? "dtmf" : input.type === "transcript" ? "voice" : state.source;
  if (input.type !== "timeout" && state.reasks < maxReasks) {
    return { state: { ...state, reasks: state.reasks + 1, source }, say: FEEDBACK_REASK, done: false };
  }
  return { state: { ...state, phase: "done", source }, say: FEEDBACK_GOODBYE, done: true };
}

/** The phrase name of each dialogue text (the pipeline plays cached phrases by name). */
const PHRASE_OF: ReadonlyMap<string, PhraseName> = new Map([
  [FEEDBACK_QUESTION, "ratingQuestion"],
  [FEEDBACK_REASK, "ratingReask"],
  [FEEDBACK_THANKS, "ratingThanks"],
  [FEEDBACK_GOODBYE, "ratingGoodbye"],
]);

/** One call's rating dialogue, in the shape the pipeline drives (`RatingDialogue` in pipeline/mod.ts). */
export interface CallRatingDialogue {
  step(input: Exclude<ClosingInput, { type: "hangup" }>): { say?: PhraseName; done: boolean };
  /** The state now (result and source once done). */
  readonly state: ClosingState;
}

/** A fresh rating dialogue for one call. */
export function createRatingDialogue(maxReasks = 1): CallRatingDialogue {
  let state = closingStart();
  return {
    step(input) {
      const r = closingStep(state, input, maxReasks);
      state = r.state;
      return { say: r.say === undefined ? undefined : PHRASE_OF.get(r.say), done: r.done };
    },
    get state() {
      return state;
    },
  };
}
