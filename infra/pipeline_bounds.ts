/**
 * The allowed range of every pipeline tunable: the one source of truth that both the configuration schema
 * (infra/config.ts, which refuses a value with exit code 2 before anything is written) and the pipeline's
 * checked defaults (pipeline/defaults.ts, `resolvePipelineOptions`) read. It lives at the bottom (infra/,
 * importing nothing) because the pipeline may import infra/ but infra/ must not import the pipeline.
 *
 * Units are the pipeline's (milliseconds); configuration keys in seconds or minutes convert with
 * {@linkcode scaledBounds}.
 *
 * @module
 */

/** An inclusive range. */
export interface Bounds {
  readonly min: number;
  readonly max: number;
}

/** The range of each numeric pipeline option (`vadNegThreshold` must also stay at or below `vadThreshold`). */
export const PIPELINE_BOUNDS = Object.freeze(
  {
    vadThreshold: { min: 0.05, max: 0.99 },
    vadNegThreshold: { min: 0, max: 0.99 },
    minSpeechMs: { min: 0, max: 2_000 },
    endOfTurnSilenceMs: { min: 20, max: 10_000 },
    bargeInMinMs: { min: 0, max: 5_000 },
    preRollMs: { min: 0, max: 2_000 },
    silenceRepromptMs: { min: 100, max: 600_000 },
    maxReprompts: { min: 0, max: 10 },
    /** Four hours: a phone assistant is not a companion for a day. */
    maxCallMs: { min: 1_000, max: 4 * 3_600_000 },
    /** Engine deadlines: 100 ms is already hopeless, 10 min is a CPU box with a huge model. */
    sttTimeoutMs: { min: 100, max: 600_000 },
    llmFirstTokenTimeoutMs: { min: 100, max: 600_000 },
    llmTokenGapMs: { min: 100, max: 600_000 },
    ttsTimeoutMs: { min: 100, max: 600_000 },
    retries: { min: 0, max: 5 },
    /** Up to a minute: a large model's engine may need that long to come back after a crash. */
    retryDelayMs: { min: 0, max: 60_000 },
    maxTokens: { min: 8, max: 4_096 },
    temperature: { min: 0, max: 2 },
    historyTurns: { min: 0, max: 200 },
    tickMs: { min: 5, max: 10_000 },
    ratingWaitMs: { min: 500, max: 120_000 },
    /** Speculative end of turn: the pause that starts STT and the LLM early (below the end-of-turn silence). */
    speculativePauseMs: { min: 40, max: 2_000 },
    /** Silence that confirms a turn whose words end like a complete sentence or question. */
    earlyEndSilenceMs: { min: 20, max: 10_000 },
    /** Silence that confirms a turn ending in "und", "weil", "der", "äh" (the caller is not done). */
    lateEndSilenceMs: { min: 20, max: 10_000 },
    /** Caller speech while TOM talks after which its words are transcribed to decide a barge-in; 0: off. */
    bargeInProbeMs: { min: 0, max: 5_000 },
  } satisfies Record<string, Bounds>,
);

/** The name of a bounded pipeline option. */
export type BoundedOption = keyof typeof PIPELINE_BOUNDS;

/**
 * The bounds in another unit (`per` pipeline units make one), rounded inwards so every allowed value
 * converts into the pipeline's range: `scaledBounds(PIPELINE_BOUNDS.maxCallMs, 60_000)` is minutes.
 */
export function scaledBounds(b: Bounds, per: number): Bounds {
  return { min: Math.ceil(b.min / per), max: Math.floor(b.max / per) };
}

/** The values two options that one key sets both accept. */
export function commonBounds(a: Bounds, b: Bounds): Bounds {
  return { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) };
}
