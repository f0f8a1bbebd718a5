/**
 * The pipeline's answering stage for the gateway: {@linkcode pipelineAnswerer} builds one
 * {@linkcode PipelineCall} per call from the engines, the store and the learning loop, with the system
 * prompt (policy + the caller's memory, only with consent), transcripts (encrypted, only with consent) and
 * per-turn metrics.
 *
 * @module
 */
import type { Meter, Tracer } from "@opentelemetry/api";
import type { Answerer } from "../gateway/mod.ts";
import type { Config } from "../infra/mod.ts";
import type { TranscriptKeyring } from "../store/crypto/mod.ts";
import { storeTranscriptTurn } from "../store/crypto/mod.ts";
import type { Logger } from "../infra/mod.ts";
import { getMemory, getPerson, recordTurnMetrics, type Store } from "../store/mod.ts";
import { type CallSummary, type FinishedTurn, PipelineCall, type RatingDialogue } from "./call_pipeline.ts";
import { type PipelineOptions, resolvePipelineOptions } from "./defaults.ts";
import { vadNegThresholdFor } from "./config_options.ts";
import type { LlmEngine, SttEngine, TtsEngine, Vad } from "./engines/types.ts";
import { createPipelineMetrics, type PipelineMetrics } from "./metrics.ts";
import { PhraseCache } from "./phrases.ts";
import { buildSystemPrompt, type CallerContext, DEFAULT_POLICY } from "./prompt.ts";

/** Who a call belongs to, as the gateway's session decided when it opened the call (its CallContext). */
export interface CallOwner {
  accountId: string;
  personId: string | null;
}

/** The policy a call runs under (a policy variant chosen by the learning loop). */
export interface CallPolicyChoice {
  variantId: string;
  /** The policy part of the system prompt (in place of {@linkcode DEFAULT_POLICY}). */
  policy: string;
  /** Said instead of the default greeting. */
  greeting: string;
  /** Pipeline parameters the variant sets (barge-in sensitivity: VAD and turn thresholds). */
  pipeline: Partial<PipelineOptions>;
}

/** The learning loop's side of one call. */
export interface LearningCall {
  /** The call's policy; undefined: the defaults. */
  policy?: CallPolicyChoice;
  /** The end-of-call rating dialogue; undefined: no rating is asked. */
  rating?: () => RatingDialogue;
  /** After the call (feedback, reward, analysis). Never delays the call; errors are logged. */
  end?(summary: CallSummary): void | Promise<void>;
}

/** The learning loop, as the pipeline sees it (implemented in app/learning.ts with rl/). */
export interface CallLearning {
  /** A call starts: choose its policy and record it. Called once per call, before the greeting. */
  begin(callId: string, owner: CallOwner): LearningCall;
  /** Every greeting the variants may say, synthesized ahead of the calls. */
  greetings?(): string[];
}

/** What {@linkcode pipelineAnswerer} needs. */
export interface PipelineAnswererDeps {
  stt: SttEngine;
  llm: LlmEngine;
  tts: TtsEngine;
  /** A fresh VAD per call (Silero keeps state per stream). */
  vad: () => Vad | Promise<Vad>;
  log: Logger;
  /** Metrics go here (the Prometheus-exported meter). */
  meter?: Meter;
  /** One span per turn (`tom.turn`). */
  tracer?: Tracer;
  /** Options from the configuration (`vad.threshold`, `stt.language`); `options` override them. */
  config?: Pick<Config, "vad" | "stt">;
  options?: Partial<PipelineOptions>;
  /** Memory, turn metrics and transcripts. Without it TOM answers without memory and stores nothing. */
  store?: Store;
  /** Encrypts transcripts; without it no transcript is stored. */
  keyring?: TranscriptKeyring;
  /** The learning loop: policy per call, rating question, feedback (default: none, DEFAULT_POLICY). */
  learning?: CallLearning;
  /** After every call, with what it used (the usage log). Errors are logged. */
  onCallEnd?: (summary: CallSummary, owner: CallOwner) => void | Promise<void>;
  /** Share one phrase cache between answerers (default: a new one, warmed in the background). */
  phrases?: PhraseCache;
}

/** The caller's context for the prompt: name and memory, only when the person consented. */
export function callerContext(store: Store, owner: CallOwner): CallerContext | undefined {
  if (!owner.personId) return undefined;
  const person = getPerson(store, owner.accountId, owner.personId);
  if (!person || !person.consentTranscript) return undefined;
  const memory = getMemory(store, owner.accountId, owner.personId);
  return { displayName: person.displayName, kind: person.kind, memory: memory?.memory };
}

/**
 * Create the pipeline's answering stage.
 *
 * @param deps engines, VAD factory, logger and (optionally) meter, store, keyring, policy
 * @returns an {@linkcode Answerer} for the gateway
 * @throws {RangeError} when an option is out of range
 */
export function pipelineAnswerer(deps: PipelineAnswererDeps): Answerer {
  const options = resolvePipelineOptions({
    ...(deps.config ? { vadThreshold: deps.config.vad.threshold, language: deps.config.stt.language } : {}),
    ...(deps.config ? { vadNegThreshold: vadNegThresholdFor(deps.config.vad.threshold) } : {}),
    ...deps.options,
  });
  const metrics: PipelineMetrics | undefined = deps.meter ? createPipelineMetrics(deps.meter) : undefined;
  const phrases = deps.phrases ?? new PhraseCache(deps.tts);
  if (!deps.phrases) {
    phrases.warm()
      .then(() => phrases.warmTexts(deps.learning?.greetings?.() ?? []))
      .catch((e) => deps.log.warn("could not synthesize the phrases", { error: e }));
  }
  const { store, keyring } = deps;
  return (ctx) => {
    // The session decided whose call it is when it opened it; the pipeline carries that on.
    const owner: CallOwner = { accountId: ctx.accountId, personId: ctx.personId };
    let learned: LearningCall = {};
    if (deps.learning) {
      try {
        learned = deps.learning.begin(ctx.callId, owner);
      } catch (e) {
        ctx.log.warn("could not choose the call's policy; using the defaults", { error: e });
      }
    }
    let callOptions = options;
    if (learned.policy) {
      try {
        callOptions = resolvePipelineOptions({ ...options, ...learned.policy.pipeline });
      } catch (e) {
        ctx.log.warn("policy variant has unusable pipeline parameters", { error: e });
      }
    }
    const systemPrompt = () => {
      const policy = learned.policy?.policy ?? DEFAULT_POLICY;
      return buildSystemPrompt(policy, store ? callerContext(store, owner) : undefined);
    };
    const onEnd = async (summary: CallSummary) => {
      try {
        await deps.onCallEnd?.(summary, owner);
      } catch (e) {
        ctx.log.warn("could not log the call's usage", { error: e });
      }
      await learned.end?.(summary);
    };
    const onTurn = async (t: FinishedTurn) => {
      if (!store) return;
      const l = t.latencies;
      const n = (k: string) => (l[k] === undefined ? null : l[k]);
      try {
        recordTurnMetrics(store, owner.accountId, ctx.callId, {
          turnIndex: t.turn,
          vadMs: n("vad_end"),
          sttMs: n("stt"),
          llmFirstTokenMs: n("llm_first_token"),
          ttsFirstAudioMs: n("tts_first_audio"),
          totalMs: n("first_audio_out"),
          bargeIn: t.interrupted,
        });
      } catch (e) {
        ctx.log.warn("could not record turn metrics", { error: e });
      }
      if (!keyring) return;
      const base = { callId: ctx.callId };
      await storeTranscriptTurn(store, keyring, owner.accountId, {
        ...base,
        turnIndex: (t.turn - 1) * 2,
        speaker: "caller",
        text: t.callerText,
      });
      if (t.assistantText !== "") {
        await storeTranscriptTurn(store, keyring, owner.accountId, {
          ...base,
          turnIndex: (t.turn - 1) * 2 + 1,
          speaker: "assistant",
          text: t.assistantText,
          interrupted: t.interrupted,
        });
      }
    };
    return new PipelineCall(ctx, {
      stt: deps.stt,
      llm: deps.llm,
      tts: deps.tts,
      vad: deps.vad,
      phrases,
      options: callOptions,
      metrics,
      tracer: deps.tracer,
      systemPrompt,
      onTurn,
      greeting: learned.policy?.greeting,
      rating: learned.rating,
      onEnd,
    });
  };
}
