/**
 * The pipeline's options from TOM's configuration: the one mapping of configuration keys (seconds,
 * minutes, one LLM deadline for two options) to {@linkcode PipelineOptions}, checked by the pipeline
 * itself. `tom serve` calls it before anything is written, so a refused value stops start-up with exit
 * code 2, a message naming the environment variable and an untouched data directory.
 *
 * @module
 */
import { type Config, ConfigError, envName } from "../infra/mod.ts";
import { type PipelineOptions, resolvePipelineOptions } from "./defaults.ts";

/** The configuration key behind each pipeline option, named when the pipeline refuses a value. */
const OPTION_KEYS: Partial<Record<keyof PipelineOptions, string>> = {
  vadThreshold: "vad.threshold",
  vadNegThreshold: "vad.threshold",
  minSpeechMs: "pipeline.minSpeechMs",
  endOfTurnSilenceMs: "pipeline.endOfTurnSilenceMs",
  bargeInMinMs: "pipeline.bargeInMinMs",
  speculativePauseMs: "pipeline.speculativePauseMs",
  earlyEndSilenceMs: "pipeline.earlyEndSilenceMs",
  lateEndSilenceMs: "pipeline.lateEndSilenceMs",
  bargeInProbeMs: "pipeline.bargeInProbeMs",
  silenceRepromptMs: "pipeline.silenceRepromptSeconds",
  maxReprompts: "pipeline.maxReprompts",
  maxCallMs: "pipeline.maxCallMinutes",
  sttTimeoutMs: "pipeline.sttTimeoutMs",
  llmFirstTokenTimeoutMs: "pipeline.llmTimeoutMs",
  llmTokenGapMs: "pipeline.llmTimeoutMs",
  ttsTimeoutMs: "pipeline.ttsTimeoutMs",
  retryDelayMs: "pipeline.retryDelayMs",
  maxTokens: "pipeline.maxTokens",
  temperature: "pipeline.temperature",
};

/** Silero's hysteresis (`threshold - 0.15`), floored at 0 so a low configured threshold stays usable. */
export function vadNegThresholdFor(threshold: number): number {
  return Math.max(0, Math.round((threshold - 0.15) * 1000) / 1000);
}

/**
 * The checked pipeline options of a configuration.
 * @throws {ConfigError} naming the environment variable of the refused key
 */
export function pipelineOptionsOf(config: Pick<Config, "vad" | "stt" | "pipeline">): PipelineOptions {
  const p = config.pipeline;
  try {
    return resolvePipelineOptions({
      vadThreshold: config.vad.threshold,
      vadNegThreshold: vadNegThresholdFor(config.vad.threshold),
      language: config.stt.language,
      minSpeechMs: p.minSpeechMs,
      endOfTurnSilenceMs: p.endOfTurnSilenceMs,
      bargeInMinMs: p.bargeInMinMs,
      speculative: p.speculative,
      clauseStart: p.clauseStart,
      speculativePauseMs: p.speculativePauseMs,
      earlyEndSilenceMs: p.earlyEndSilenceMs,
      lateEndSilenceMs: p.lateEndSilenceMs,
      bargeInProbeMs: p.bargeInProbeMs,
      silenceRepromptMs: p.silenceRepromptSeconds * 1000,
      maxReprompts: p.maxReprompts,
      maxCallMs: p.maxCallMinutes * 60_000,
      sttTimeoutMs: p.sttTimeoutMs,
      llmFirstTokenTimeoutMs: p.llmTimeoutMs,
      llmTokenGapMs: p.llmTimeoutMs,
      ttsTimeoutMs: p.ttsTimeoutMs,
      retryDelayMs: p.retryDelayMs,
      maxTokens: p.maxTokens,
      temperature: p.temperature,
    });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const option = /pipeline option (\w+)/.exec(e.message)?.[1] as keyof PipelineOptions | undefined;
    const key = option ? OPTION_KEYS[option] : undefined;
    throw new ConfigError([key ? `${envName(key)} (${key}): ${e.message}` : e.message]);
  }
}
