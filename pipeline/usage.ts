/**
 * What one call used: engine time per stage (STT, LLM, TTS, summed over the call, including work that
 * was later cancelled by barge-in, because the GPU spent it) and audio seconds in and out. The appliance
 * writes one JSON line per call from it (app/usage_log.ts), for capacity planning and billing.
 *
 * @module
 */
import type { CallOutput } from "../gateway/mod.ts";
import { PIPELINE_RATE } from "../gateway/mod.ts";
import { tapOutput } from "../gateway/mod.ts";

/** Stages whose engine time is counted. */
export type UsageStage = "stt" | "llm" | "tts";

/** A call's usage so far. */
export class CallUsage {
  /** Engine milliseconds per stage. */
  readonly engineMs: Record<UsageStage, number> = { stt: 0, llm: 0, tts: 0 };
  /** Engine requests per stage. */
  readonly requests: Record<UsageStage, number> = { stt: 0, llm: 0, tts: 0 };
  /** Caller audio received, in samples at the pipeline rate. */
  samplesIn = 0;
  /** TOM's audio queued for the caller, in samples at the pipeline rate. */
  samplesOut = 0;
  /** Times playback was flushed (barge-in). */
  clears = 0;

  /** Add one engine request that took `ms`. */
  add(stage: UsageStage, ms: number): void {
    this.engineMs[stage] += Math.max(0, ms);
    this.requests[stage]++;
  }

  /** Seconds of caller audio. */
  get audioInSeconds(): number {
    return this.samplesIn / PIPELINE_RATE;
  }

  /** Seconds of TOM's audio sent. */
  get audioOutSeconds(): number {
    return this.samplesOut / PIPELINE_RATE;
  }

  /**
   * The transport output, counting what TOM sends through it.
   * @param output the call's real output
   */
  wrap(output: CallOutput): CallOutput {
    return tapOutput(output, {
      audio: (pcm) => void (this.samplesOut += pcm.length),
      clear: () => void this.clears++,
    });
  }
}
