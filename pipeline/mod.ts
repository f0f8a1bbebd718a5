/**
 * The conversation: the answering stage that turns a call's audio into turns (VAD -> STT -> LLM ->
 * sentences -> TTS) with turn-taking, backchannels, barge-in and failure handling; the engine adapters
 * (engines/); the system prompt with the conversation policy and the caller's memory; per-turn traces and
 * Prometheus metrics; the end-of-call rating dialogue (rating/), the callback number dialogue and the
 * after-call analysis with its memory merge (analysis/). It stands on the gateway's call contract and
 * store/; rl/ and app/ import it only through this module.
 *
 * @example
 * ```ts ignore
 * import { openVad, pipelineAnswerer } from "./mod.ts";
 *
 * const vad = await openVad(config.vad, { fallback: true });
 * const answer = pipelineAnswerer({ stt, llm, tts, vad: () => vad.createVad(), config, log, meter, store, keyring });
 * await mountGateway(app, { ...gatewayDeps, answer }); // gateway/mod.ts
 * ```
 *
 * @module
 */
export {
  callerContext,
  type CallLearning,
  type CallOwner,
  type CallPolicyChoice,
  type LearningCall,
  pipelineAnswerer,
  type PipelineAnswererDeps,
} from "./answerer.ts";
export {
  type CallEnding,
  type CallSummary,
  countRepeats,
  type FinishedTurn,
  PipelineCall,
  type RatingDialogue,
} from "./call_pipeline.ts";
export { CallUsage, type UsageStage } from "./usage.ts";
export { energyProbability } from "./energy.ts";
export { DEFAULT_PIPELINE_OPTIONS, type PipelineOptions, resolvePipelineOptions } from "./defaults.ts";
export { pipelineOptionsOf, vadNegThresholdFor } from "./config_options.ts";
export { createPipelineMetrics, type PipelineMetrics, STAGE_BUCKETS } from "./metrics.ts";
export { PhraseCache, synthesizeAll } from "./phrases.ts";
export {
  buildMessages,
  buildSystemPrompt,
  type CallerContext,
  DEFAULT_POLICY,
  type HistoryTurn,
  type PracticeContext,
} from "./prompt.ts";
export {
  DEFAULT_ASSISTANT,
  disclosesAi,
  fillNames,
  type GreetingNames,
  greetingNames,
} from "./disclosure.ts";
export {
  MAX_FACTS_CHARS,
  momentFacts,
  type OpeningState,
  openingState,
  practiceFacts,
  practiceName,
} from "./practice_facts.ts";
export {
  type CallInput,
  type CallState,
  type Effect,
  initialState,
  type Phase,
  RATING_WAIT_MS,
  type RatingEvent,
  transition,
} from "./state.ts";
export {
  BACKCHANNELS,
  GREETING_TEMPLATE,
  isBackchannel,
  isFarewell,
  type PhraseName,
  PHRASES,
} from "./texts.ts";
export { TurnDetector, type TurnEvent } from "./turn_detector.ts";
export { heardText, type QueuedSentence } from "./heard.ts";
export { SentenceSplitter, splitSentences } from "./sentences.ts";
export { createLlm } from "./engines/llm.ts";
export { createStt } from "./engines/stt.ts";
export { createTts, type DegradableTts } from "./engines/tts.ts";
export { openVad } from "./engines/vad.ts";
export { SILERO_MODEL_FILE } from "./engines/silero.ts";
export { createEspeakTts } from "./engines/espeak.ts";
export {
  FEEDBACK_QUESTION,
  FEEDBACK_THANKS,
  type ParsedRating,
  parseDtmfRating,
  parseRating,
} from "./rating/rating.ts";
export {
  ANALYSIS_JSON_SCHEMA,
  ANALYSIS_LIMITS,
  type AnalysisWire,
  AnalysisWireSchema,
  type MemoryUpdate,
  parseAnalysis,
  toAnalysisResult,
} from "./analysis/schema.ts";
export { createJsonChat, type JsonChat, type JsonChatOptions } from "./engines/json_llm.ts";
export {
  analysisMessages,
  AnalysisWorker,
  type AnalysisWorkerOptions,
  analyzeTranscript,
  type TickResult,
  type TranscriptLine,
} from "./analysis/analysis.ts";
export { MEMORY_BOUNDS, mergeMemory, type MergeOptions } from "./analysis/memory_merge.ts";
export {
  findMissedRequests,
  MAX_MISSED_REQUESTS,
  type MissedRequests,
  type MissedRequestsOptions,
  NO_NUMBER_PREFIX,
  UNCONFIRMED_NUMBER_PREFIX,
} from "./analysis/missed_requests.ts";
export {
  type CallRatingDialogue,
  type ClosingInput,
  closingStart,
  type ClosingState,
  type ClosingStep,
  closingStep,
  createRatingDialogue,
  FEEDBACK_GOODBYE,
  FEEDBACK_REASK,
} from "./rating/closing.ts";
export {
  CALL_TOOLS,
  type NoteRequest,
  toNewRequest,
  type ToolName,
  type ToolValidation,
  validateToolCall,
  type ValidToolCall,
} from "./tools.ts";
export { readBack } from "./read_back.ts";
export { normalizeGermanNumber, type NumberResult, spokenNumber } from "./phone_de.ts";
export {
  type NumberDialogue,
  numberDialogue,
  type NumberEvent,
  type NumberStep,
  spokenDigits,
  yesNo,
} from "./callback_number.ts";
export { normalizeForFlags, RED_FLAG_LABELS, type RedFlag, redFlag, type RedFlagHit } from "./red_flags.ts";
