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

/** Re-ask after an unclear answer. */
export const FEEDBACK_REASK =
  "Entschuldigung, das habe ich nicht verstanden. Bitte sagen Sie eine Zahl von eins " +
  "bis fünf, oder drücken Sie eine Taste von eins bis fünf.";
/** Goodbye without a rating. */
export const FEEDBACK_GOODBYE = "Vielen Dank für Ihren Anruf. Auf Wiederhören!";

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
