/**
 * What became of one utterance of the caller, read off the state machine's transition, for the call's
 * log: answered, or why not (empty transcript, a backchannel while TOM spoke, a goodbye, ...). Pure; the
 * runtime ({@linkcode ./call.ts}) logs it with the utterance's length and the transcript's length, never
 * the words.
 *
 * @module
 */
import type { CallInput, CallState, Effect } from "./state.ts";
import { isBackchannel } from "./texts.ts";

/** The decision about one transcribed (or failed) utterance. */
export type UtteranceDecision =
  /** A reply started: `answerTurn` says which. */
  | "answered"
  /** Kept for the answer: the caller is speaking again or another utterance is still being transcribed. */
  | "held"
  /** STT heard no words: nothing to answer. */
  | "empty_transcript"
  /** A short "ja"/"mhm" while TOM spoke: TOM went on. */
  | "backchannel"
  /** Real words while TOM spoke: TOM stopped (and answers them). */
  | "barge_in"
  /** The caller said goodbye: the rating question or a goodbye instead of an answer. */
  | "farewell"
  /** An answer in the rating dialogue. */
  | "rating"
  /** STT failed (the engine error is logged on its own): apology and retry, or the callback offer. */
  | "stt_failed"
  /** The utterance was no longer awaited (the call was closing or over). */
  | "stale";

/** The input types {@linkcode utteranceDecision} explains. */
export type UtteranceInput = Extract<CallInput, { type: "transcript" | "stt_failed" }>;

/**
 * Explain what the transition did with an utterance.
 *
 * @param before the state the input met
 * @param input the transcript (or STT failure) of the utterance
 * @param effects the transition's effects
 * @returns the decision, and the turn of the reply it started, if any
 */
export function utteranceDecision(
  before: CallState,
  input: UtteranceInput,
  effects: readonly Effect[],
): { decision: UtteranceDecision; answerTurn?: number } {
  const reply = effects.find((e) => e.type === "reply");
  const answerTurn = reply?.type === "reply" ? reply.turn : undefined;
  const out = (
    decision: UtteranceDecision,
  ) => (answerTurn === undefined ? { decision } : { decision, answerTurn });
  const probe = before.probes.includes(input.utterance);
  if (!probe && !before.stt.includes(input.utterance)) return out("stale");
  if (input.type === "stt_failed") return out("stt_failed");
  const empty = input.text.trim() === "";
  if (before.phase === "rating") return out(empty ? "empty_transcript" : "rating");
  if (empty) return out("empty_transcript");
  const farewell = effects.some((e) =>
    (e.type === "rating" && e.event.type === "start") || (e.type === "say" && e.phrase === "goodbyeCaller")
  );
  if (farewell) return out("farewell");
  if (probe) {
    if (effects.some((e) => e.type === "barge_in" || e.type === "clear")) return out("barge_in");
    if (isBackchannel(input.text)) return out("backchannel");
  }
  return out(answerTurn === undefined ? "held" : "answered");
}
