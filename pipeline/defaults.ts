/**
 * The pipeline's tunables: one checked constant, the reason for each number beside it. Their ranges live in
 * infra/pipeline_bounds.ts, shared with the configuration schema.
 *
 * @module
 */
import { type BoundedOption, type Bounds, PIPELINE_BOUNDS } from "../infra/mod.ts";

/** Turn-taking, timeouts and limits of one call. All times in milliseconds. */
export interface PipelineOptions {
  /** VAD probability at or above which a frame counts as speech (Silero's own default is 0.5). */
  vadThreshold: number;
  /** Probability below which speech is over (hysteresis, Silero's `threshold - 0.15`). */
  vadNegThreshold: number;
  /** Speech must last this long before it counts as the caller speaking (filters clicks and line noise). */
  minSpeechMs: number;
  /** Silence after speech that ends the caller's turn (LiveKit's default min endpointing delay is 500 ms). */
  endOfTurnSilenceMs: number;
  /** Speech while TOM talks shorter than this is a backchannel candidate, not a barge-in (LiveKit: 500 ms). */
  bargeInMinMs: number;
  /** Audio kept from before the detected speech onset so the first syllable reaches STT. */
  preRollMs: number;
  /** Caller silence in the listening state before TOM re-prompts. */
  silenceRepromptMs: number;
  /** Re-prompts before TOM says goodbye (one re-prompt, then a polite goodbye). */
  maxReprompts: number;
  /** Longest call; then a polite goodbye (a phone assistant is not a companion for hours). */
  maxCallMs: number;
  /** STT must answer within this (a 10 s utterance takes about 1 s on a CPU with the small model). */
  sttTimeoutMs: number;
  /** First LLM token must arrive within this. Tight: the apology must come within 2 s of a failure. */
  llmFirstTokenTimeoutMs: number;
  /** Longest silence between two LLM tokens before the LLM counts as hung. */
  llmTokenGapMs: number;
  /** TTS must produce its first audio of a sentence within this. */
  ttsTimeoutMs: number;
  /** Attempts after the first failure of a turn (retry once, then offer a callback). */
  retries: number;
  /** Wait before a retry: the apology plays meanwhile and the supervisor restarts a crashed engine. */
  retryDelayMs: number;
  /** Longest answer in LLM tokens (short answers suit a phone). */
  maxTokens: number;
  /** Sampling temperature. */
  temperature: number;
  /** Turns of history sent to the LLM (system prompt always). */
  historyTurns: number;
  /** How often time-based rules (silence, max duration, engine timeouts) are checked. */
  tickMs: number;
  /** Speech language sent to STT. */
  language: string;
  /** After the rating question: how long TOM waits for an answer before re-asking or saying goodbye. */
  ratingWaitMs: number;
  /**
   * The reply's first piece ends at its first clause boundary (comma, semicolon, colon, dash after four
   * words), so the TTS starts before the first full stop; later pieces stay whole sentences (prosody).
   * False: the first piece waits for its full stop too (the baseline).
   */
  clauseStart: boolean;
  /**
   * Speculative end of turn: after `speculativePauseMs` of silence STT and the LLM start at once; speech
   * again discards that work, the confirmed turn reuses it (off: the fixed silence window, the baseline).
   */
  speculative: boolean;
  /** The pause that starts speculative work (200 ms: shorter than any end of turn, longer than a plosive). */
  speculativePauseMs: number;
  /** Silence that confirms a turn ending like a full sentence or question (LiveKit's min delay is 300-500). */
  earlyEndSilenceMs: number;
  /** Silence that confirms a turn ending in a conjunction, preposition, article or filler (turn_cues.ts). */
  lateEndSilenceMs: number;
  /**
   * Barge-in on words: after this much caller speech while TOM talks the speech so far is transcribed; words
   * that are not a backchannel interrupt at once, "ja", "mhm" never do. 0: the old `bargeInMinMs` rule.
   */
  bargeInProbeMs: number;
}

/** The defaults, with their reasons in {@linkcode PipelineOptions}. */
export const DEFAULT_PIPELINE_OPTIONS: Readonly<PipelineOptions> = Object.freeze({
  vadThreshold: 0.5,
  vadNegThreshold: 0.35,
  minSpeechMs: 100,
  endOfTurnSilenceMs: 500,
  bargeInMinMs: 500,
  preRollMs: 300,
  silenceRepromptMs: 8_000,
  maxReprompts: 1,
  maxCallMs: 15 * 60_000,
  sttTimeoutMs: 5_000,
  llmFirstTokenTimeoutMs: 1_800,
  llmTokenGapMs: 1_800,
  ttsTimeoutMs: 1_800,
  retries: 1,
  retryDelayMs: 1_500,
  maxTokens: 120,
  temperature: 0.6,
  historyTurns: 12,
  tickMs: 100,
  language: "de",
  ratingWaitMs: 8_000,
  clauseStart: true,
  speculative: true,
  speculativePauseMs: 200,
  earlyEndSilenceMs: 300,
  lateEndSilenceMs: 1_200,
  bargeInProbeMs: 250,
});

/**
 * Merge and check options against {@linkcode PIPELINE_BOUNDS} (the ranges the configuration schema also
 * enforces, so a configured value never fails here). @throws {RangeError} on a value out of range
 */
export function resolvePipelineOptions(opts: Partial<PipelineOptions> = {}): PipelineOptions {
  const o: PipelineOptions = { ...DEFAULT_PIPELINE_OPTIONS, ...opts };
  const check = (name: BoundedOption, lo: number, hi: number) => {
    const v = o[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < lo || v > hi) {
      throw new RangeError(`Cannot use pipeline option ${name}: need a number from ${lo} to ${hi}, got ${v}`);
    }
  };
  for (const [name, b] of Object.entries(PIPELINE_BOUNDS) as [BoundedOption, Bounds][]) {
    check(name, b.min, name === "vadNegThreshold" ? Math.min(b.max, o.vadThreshold) : b.max);
  }
  return o;
}
