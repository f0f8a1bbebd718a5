/**
 * The pipeline's Prometheus metrics (through OpenTelemetry): per-stage turn latencies, TOM's own
 * hand-over time between stages, barge-in latency, STT queue waits, counters of turns, barge-ins and
 * engine errors.
 *
 * @module
 */
import type { Meter } from "@opentelemetry/api";
import type { EngineError } from "./engines/types.ts";

/** Histogram buckets from 1 ms to 10 s (seconds): stage hand-overs are ms, engine stages 0.05-5 s. */
export const STAGE_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.2,
  0.3,
  0.5,
  0.75,
  1,
  1.5,
  2,
  3,
  5,
  10,
];

/** Stage names of `tom_turn_stage_seconds`. */
export type Stage =
  | "vad_end"
  | "stt"
  | "llm_first_token"
  | "first_sentence"
  | "tts_first_audio"
  | "first_audio_out"
  | "voice_to_voice";

/** Hand-overs timed in `tom_stage_handover_seconds` (TOM's own work between two stages). */
export type Handover = "speech_end_to_stt" | "stt_to_llm" | "sentence_to_tts" | "tts_to_output";

/** The recorders the pipeline uses. */
export interface PipelineMetrics {
  stage(stage: Stage, seconds: number): void;
  handover(kind: Handover, seconds: number): void;
  bargeIn(seconds: number): void;
  queueWait(seconds: number): void;
  engineError(e: EngineError): void;
  turn(outcome: "answered" | "interrupted" | "failed"): void;
  /** A transfer ended: why it was made and how it ended (connected, busy, no_answer, ..., no_target). */
  transfer?(reason: string, outcome: string): void;
  /** A red flag fired (its name). */
  emergency?(flag: string): void;
  /** Barge-in from the caller's first speech frame to the playback flush (what the caller feels). */
  bargeInOnset?(seconds: number): void;
  /** A speculative engine request (end of turn, barge-in words) was used or started and discarded. */
  speculation?(engine: "stt" | "llm", outcome: "used" | "wasted"): void;
}

/**
 * Create the pipeline's instruments on `meter`.
 *
 * @param meter an OpenTelemetry meter (the Prometheus-exported one in production)
 * @returns recorders
 */
export function createPipelineMetrics(meter: Meter): PipelineMetrics {
  const advice = { explicitBucketBoundaries: [...STAGE_BUCKETS] };
  const stage = meter.createHistogram("tom_turn_stage_seconds", {
    description: "Time from the caller's speech end to each stage of TOM's answer",
    unit: "s",
    advice,
  });
  const handover = meter.createHistogram("tom_stage_handover_seconds", {
    description: "TOM's own time between one stage's output and the next stage's start",
    unit: "s",
    advice,
  });
  const barge = meter.createHistogram("tom_barge_in_seconds", {
    description: "From the VAD's barge-in decision to the playback flush",
    unit: "s",
    advice,
  });
  const wait = meter.createHistogram("tom_stt_queue_wait_seconds", {
    description: "Time an utterance waited for the shared STT engine",
    unit: "s",
    advice,
  });
  const bargeOnset = meter.createHistogram("tom_barge_in_onset_seconds", {
    description: "From the caller's speech onset to the playback flush of a barge-in",
    unit: "s",
    advice,
  });
  const speculative = meter.createCounter("tom_speculative_requests_total", {
    description:
      "Engine requests started before the turn was confirmed, by engine and outcome (used, wasted)",
  });
  const bargeIns = meter.createCounter("tom_barge_ins_total", { description: "Caller interruptions" });
  const errors = meter.createCounter("tom_engine_errors_total", { description: "Engine failures in calls" });
  const turns = meter.createCounter("tom_turns_total", { description: "Turns answered by TOM" });
  const transfers = meter.createCounter("tom_transfers_total", {
    description: "Calls handed to a person, by reason and outcome",
  });
  const emergencies = meter.createCounter("tom_emergencies_total", {
    description: "Red flags in callers' words (emergency advice given), by flag",
  });
  return {
    stage: (s, v) => stage.record(Math.max(0, v), { stage: s }),
    handover: (k, v) => handover.record(Math.max(0, v), { handover: k }),
    bargeIn: (v) => {
      barge.record(Math.max(0, v));
      bargeIns.add(1);
    },
    queueWait: (v) => wait.record(Math.max(0, v)),
    engineError: (e) => errors.add(1, { engine: e.engine, kind: e.kind }),
    turn: (outcome) => turns.add(1, { outcome }),
    transfer: (reason, outcome) => transfers.add(1, { reason, outcome }),
    emergency: (flag) => emergencies.add(1, { flag }),
    bargeInOnset: (v) => bargeOnset.record(Math.max(0, v)),
    speculation: (engine, outcome) => speculative.add(1, { engine, outcome }),
  };
}
