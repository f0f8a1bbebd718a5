/**
 * The pipeline's answering stage for the gateway: {@linkcode pipelineAnswerer} builds one
 * {@linkcode PipelineCall} per call from the engines, the store and the learning loop, with the system
 * prompt (policy and the practice's facts, then the moment's lines and the caller's memory, only with
 * consent), the greeting filled with the practice's names (AI disclosure), transcripts (encrypted, only
 * with consent) and per-turn metrics.
 *
 * @module
 */
import type { Meter, Tracer } from "@opentelemetry/api";
import { type Answerer, callIdentity, type TransferCaller, type TransferTo } from "../gateway/mod.ts";
import type { Config } from "../infra/mod.ts";
import type { TranscriptKeyring } from "../store/crypto/mod.ts";
import { createRequest, storeTranscriptTurn } from "../store/crypto/mod.ts";
import type { Logger } from "../infra/mod.ts";
import {
  appendAudit,
  birthDateMatches,
  type CallIdentity,
  getCallerCheck,
  getMemory,
  getPerson,
  getPractice,
  identityData,
  identityTrusted,
  type Person,
  pinMatches,
  type Practice,
  recordTurnMetrics,
  type RequestKind,
  type RequestUrgency,
  setCallIdentity,
  type Store,
} from "../store/mod.ts";
import {
  type CallDeps,
  type CallSummary,
  type FinishedTurn,
  PipelineCall,
  type RatingDialogue,
} from "./call_pipeline.ts";
import { type PipelineOptions, resolvePipelineOptions } from "./defaults.ts";
import { vadNegThresholdFor } from "./config_options.ts";
import type { LlmEngine, SttEngine, TtsEngine, Vad } from "./engines/types.ts";
import { createPipelineMetrics, type PipelineMetrics } from "./metrics.ts";
import { PhraseCache } from "./phrases.ts";
import { buildSystemPrompt, type CallerContext, DEFAULT_POLICY, type PracticeContext } from "./prompt.ts";
import { fillNames, greetingNames } from "./disclosure.ts";
import { momentFacts, openingState, practiceFacts } from "./practice_facts.ts";
import { GREETING_TEMPLATE, PHRASES } from "./texts.ts";
import { type NoteRequest, toNewRequest } from "./tools.ts";
import { normalizeGermanNumber } from "./phone_de.ts";
import { spokenDigits } from "./callback_number.ts";
import type { JsonChat } from "./engines/json_llm.ts";
import { findMissedRequests, NO_NUMBER_PREFIX } from "./analysis/missed_requests.ts";
import { FairQueue } from "./engines/queue.ts";

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
  /** Said instead of the default greeting: a template with `{assistant}` and `{practice}`. */
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
  /** Every greeting template the variants may say, synthesized (filled per practice) ahead of the calls. */
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
  /** The clock for the practice's "open now" lines (tests). */
  now?: () => Date;
  /**
   * A request was stored (during the call or by the after-call pass): tell the staff (live badge, mail).
   * Only id, kind and urgency: no personal data. Errors are logged.
   */
  onRequest?: (accountId: string, r: { id: string; kind: RequestKind; urgency: RequestUrgency }) => void;
  /**
   * The constrained-JSON model for the after-call pass that notes what the call did not (needs the store
   * and the keyring too). Without it no pass runs.
   */
  afterCall?: JsonChat;
}

/** Calls whose after-call pass may wait for the one before (their words wait in memory meanwhile). */
export const AFTER_CALL_WAITING = 200;

/**
 * Whether the caller said the number's digits (national form, without the leading 0 or +49) in the
 * call: a number the model reports but nobody said is not a callback number.
 */
export function numberSaid(e164: string, callerTexts: readonly string[]): boolean {
  const national = e164.startsWith("+49") ? e164.slice(3) : e164.replace(/^\+/, "");
  const heard = callerTexts.map((t) => spokenDigits(t) ?? "").join("");
  return national.length > 0 && heard.includes(national);
}

/**
 * The person the call belongs to, read once per call (its sealed name and number are opened here): scoped to
 * the call's account; undefined without a person or when it cannot be read (the call goes on without it).
 */
export function callerPerson(store: Store | undefined, owner: CallOwner): Person | undefined {
  if (!store || !owner.personId) return undefined;
  try {
    return getPerson(store, owner.accountId, owner.personId);
  } catch {
    return undefined; // a damaged row: no name in the notice, no context in the prompt
  }
}

/**
 * Who is calling, for the staff who take a transfer: the number the network gave (E.164) and the name of
 * the person the call belongs to ({@linkcode callerPerson}), with the call's identity level (the session's,
 * gateway callIdentity: a name found by the number alone is `number_match`, caller ID is not proof; a call
 * TOM placed is `placed`).
 */
export function callerForStaff(
  person: Person | undefined,
  callerId: string | null,
  level: CallIdentity,
): TransferCaller {
  const name = person?.displayName;
  const identity = name ? level : callerId ? "number_match" : "unknown";
  return { ...(callerId ? { number: callerId } : {}), ...(name ? { name } : {}), identity };
}

/**
 * The caller's context for the prompt, only when the person ({@linkcode callerPerson}) consented: name and
 * memory for a proven caller (`placed`, `verified`); for a caller ID match alone at most the first name,
 * marked unconfirmed, and nothing else (no memory, no health notes: caller ID can be spoofed).
 */
export function callerContext(
  store: Store,
  person: Person | undefined,
  identity: CallIdentity = "number_match",
): CallerContext | undefined {
  if (!person || identity === "unknown") return undefined;
  if (!person.consentTranscript) return undefined;
  if (!identityTrusted(identity)) {
    return { displayName: person.displayName.trim().split(/\s+/)[0], unconfirmed: true };
  }
  const memory = getMemory(store, person.accountId, person.id);
  return { displayName: person.displayName, kind: person.kind, memory: memory?.memory };
}

/**
 * The identity check this call asks for, or undefined: only a caller ID match, in a practice that chose a
 * check, for a person with the value stored (without one the call stays a number match). Every attempt
 * is audited without the digits; `verified` raises the call's identity in the store.
 */
function checkFor(
  store: Store,
  keyring: TranscriptKeyring,
  owner: CallOwner & { personId: string },
  callId: string,
  verified: () => void,
): CallDeps["identityCheck"] {
  const { method, maxAttempts } = getCallerCheck(store, owner.accountId);
  const has = identityData(store, owner.accountId, owner.personId);
  if (method === "none" || (method === "birth_date" ? !has.birthDate : !has.pin)) return undefined;
  const { accountId, personId } = owner;
  return {
    method,
    maxAttempts,
    matches: (entry) =>
      method === "birth_date"
        ? birthDateMatches(store, keyring, accountId, personId, entry)
        : pinMatches(store, accountId, personId, entry),
    attempted: (a) =>
      appendAudit(store, accountId, {
        actorUserId: null,
        action: "call.identity_check",
        subjectType: "call",
        subjectId: callId,
        detail: { method, attempt: a.attempt, ok: a.ok, via: a.via, person_id: personId },
      }),
    verified: () => {
      setCallIdentity(store, accountId, callId, "verified");
      verified();
    },
  };
}

/**
 * Where a transfer goes at `now`: the practice's reception while it is open, its other target outside the
 * hours; null when that target is "no transfer" (then TOM notes a callback instead) or there is no practice.
 */
export function transferTargetAt(practice: Practice | undefined, now: Date): TransferTo | null {
  if (!practice) return null;
  const t = openingState(practice, now).open ? practice.transfer.duringHours : practice.transfer.afterHours;
  return t.kind === "none" || t.target === "" ? null : { kind: t.kind, target: t.target };
}

/** The practice's part of the prompt at `now`; without a practice only the neutral names. */
export function practiceContext(practice: Practice | undefined, now: Date): PracticeContext {
  if (!practice) return { names: greetingNames() };
  return {
    names: greetingNames(practice),
    facts: practiceFacts(practice, now),
    moment: momentFacts(practice, now),
  };
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
  const now = deps.now ?? (() => new Date());
  const templates = () => [GREETING_TEMPLATE, ...(deps.learning?.greetings?.() ?? [])];
  if (!deps.phrases) {
    phrases.warm()
      .then(() => phrases.warmTexts(templates().map((t) => fillNames(t))))
      .catch((e) => deps.log.warn("could not synthesize the phrases", { error: e }));
  }
  // Greetings filled with an account's names are synthesized after its first call (names change rarely).
  const warmedNames = new Map<string, string>();
  const warmFor = (accountId: string, names: ReturnType<typeof greetingNames>) => {
    const key = `${names.assistant}\n${names.practice}`;
    if (warmedNames.get(accountId) === key) return;
    warmedNames.set(accountId, key);
    phrases.warmTexts(templates().map((t) => fillNames(t, names)))
      .catch((e) => deps.log.warn("could not synthesize the practice's greetings", { error: e }));
  };
  const { store, keyring } = deps;
  // One after-call pass at a time (the LLM serves the live calls too), fair across accounts; the words
  // of at most AFTER_CALL_WAITING calls wait in memory, a call beyond is logged and skipped.
  const afterCallQueue = new FairQueue({ concurrency: 1, maxWaiting: AFTER_CALL_WAITING });
  /** Store one request of a call (sealed), audit it and tell the staff. */
  const noteFor = (
    ctx: { callId: string; log: { warn(m: string, f?: Record<string, unknown>): void } },
    owner: CallOwner,
  ) =>
  async (note: NoteRequest, source: "call" | "after_call"): Promise<string> => {
    if (!store || !keyring) throw new Error("requests cannot be stored without the store and its keyring");
    const r = await createRequest(store, keyring, owner.accountId, {
      ...toNewRequest(ctx.callId, note),
      source,
    });
    try {
      appendAudit(store, owner.accountId, {
        actorUserId: null,
        action: "request.create",
        subjectType: "request",
        subjectId: r.id,
        detail: { kind: r.kind, urgency: r.urgency, source, call_id: ctx.callId },
      });
    } catch (e) {
      ctx.log.warn("could not audit a new request", { error: e });
    }
    try {
      deps.onRequest?.(owner.accountId, { id: r.id, kind: r.kind, urgency: r.urgency });
    } catch (e) {
      ctx.log.warn("could not announce a new request", { error: e });
    }
    return r.id;
  };
  return (ctx) => {
    // The session decided whose call it is when it opened it; the pipeline carries that on.
    const owner: CallOwner = { accountId: ctx.accountId, personId: ctx.personId };
    const rawCaller = ctx.callerId ? normalizeGermanNumber(ctx.callerId) : null;
    const callerId = rawCaller?.ok ? rawCaller.e164 : null;
    const note = store && keyring ? noteFor(ctx, owner) : undefined;
    let practice: Practice | undefined;
    try {
      practice = store ? getPractice(store, owner.accountId) : undefined;
    } catch (e) {
      ctx.log.warn("could not read the practice; answering without its facts", { error: e });
    }
    // Once per call: the stable facts and this call's moment (a changing line per turn would spoil the
    // LLM server's cache of the conversation so far).
    let practiceCtx: PracticeContext = { names: greetingNames(practice) };
    try {
      practiceCtx = practiceContext(practice, now());
    } catch (e) {
      ctx.log.warn("could not compute the practice's facts; answering without them", { error: e });
    }
    if (practice) warmFor(owner.accountId, practiceCtx.names ?? greetingNames());
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
    // How far the caller is proven: the session's level, raised to "verified" by the identity check.
    let identity: CallIdentity = ctx.identity ?? callIdentity(ctx.direction, owner.personId);
    const person = callerPerson(store, owner);
    const caller = callerForStaff(person, callerId, identity);
    let identityCheck: CallDeps["identityCheck"];
    if (identity === "number_match" && store && keyring && owner.personId) {
      try {
        identityCheck = checkFor(store, keyring, { ...owner, personId: owner.personId }, ctx.callId, () => {
          identity = "verified";
          caller.identity = "verified";
        });
      } catch (e) {
        ctx.log.warn("could not prepare the identity check; the call stays a number match", { error: e });
      }
    }
    const systemPrompt = () => {
      const policy = learned.policy?.policy ?? DEFAULT_POLICY;
      return buildSystemPrompt(
        policy,
        store ? callerContext(store, person, identity) : undefined,
        practiceCtx,
      );
    };
    const onEnd = async (summary: CallSummary) => {
      try {
        await deps.onCallEnd?.(summary, owner);
      } catch (e) {
        ctx.log.warn("could not log the call's usage", { error: e });
      }
      try {
        await learned.end?.(summary);
      } finally {
        // Last: it may wait for the passes of other calls; the learning loop must not.
        if (note && deps.afterCall) {
          let lease;
          try {
            lease = await afterCallQueue.acquire(owner.accountId, new AbortController().signal);
          } catch (e) {
            ctx.log.warn("after-call request pass skipped: too many calls waiting for it", { error: e });
          }
          if (lease) {
            try {
              await afterCallPass(deps.afterCall, summary, callerId, note, ctx.log);
            } finally {
              lease.release();
            }
          }
        }
      }
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
    const greeting = fillNames(learned.policy?.greeting ?? GREETING_TEMPLATE, practiceCtx.names);
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
      greeting: greeting === PHRASES.greeting ? undefined : greeting,
      rating: learned.rating,
      onEnd,
      ...(note ? { requests: { note: (n: NoteRequest) => note(n, "call") } } : {}),
      callerId,
      caller,
      ...(identityCheck ? { identityCheck } : {}),
      transferTarget: () => transferTargetAt(practice, now()),
    });
  };
}

/**
 * After the call: note what the caller asked for and the call did not note (for every caller, known or
 * not). The call's words live only in `summary` (memory) and are dropped with it.
 */
async function afterCallPass(
  chat: JsonChat,
  summary: CallSummary,
  callerId: string | null,
  note: (n: NoteRequest, source: "after_call") => Promise<string>,
  log: Logger,
): Promise<void> {
  if (!summary.words.some((w) => w.speaker === "caller" && w.text.trim() !== "")) return;
  const found = await findMissedRequests(chat, summary.words, summary.noted, { callerId });
  if (found.error) log.warn("after-call request pass failed", { reason: found.error });
  const callerTexts = summary.words.filter((w) => w.speaker === "caller").map((w) => w.text);
  let stored = 0;
  for (const n of found.notes) {
    // A number the model reports must be one the caller said (or the caller ID it was given).
    const unheard = n.callbackNumber !== null && n.callbackNumber !== callerId &&
      !numberSaid(n.callbackNumber, callerTexts);
    const checked: NoteRequest = unheard
      ? {
        ...n,
        kind: n.kind === "callback" ? "message" : n.kind,
        callbackNumber: null,
        summary: `${NO_NUMBER_PREFIX}${n.summary}`.slice(0, 300),
      }
      : n;
    try {
      await note(checked, "after_call");
      stored++;
    } catch (e) {
      log.warn("could not store a request of the after-call pass", { error: e });
    }
  }
  log.info("after-call request pass", {
    noted_in_call: summary.noted.length,
    found: found.notes.length,
    stored,
    dropped: found.dropped.length,
    skipped: found.skipped,
  });
}
