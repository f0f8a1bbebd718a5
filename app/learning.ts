/**
 * The learning loop's appliance side: policy variants synced into the store at start, the bandit, the
 * post-call analysis worker on a timer (never inside a call), and the learning metrics for `/metrics`.
 * The per-call hooks (choosing a variant at call start, the rating dialogue and feedback at the end) live
 * in the pipeline.
 *
 * @module
 */
import type { Config } from "../infra/mod.ts";
import type { Logger } from "../infra/mod.ts";
import {
  callConsent,
  enqueueAnalysis,
  getAccount,
  listAccounts,
  listVariants,
  recordReward,
  setCallPolicy,
  type Store,
} from "../store/mod.ts";
import type { CallLearning, CallSummary, LearningCall } from "../pipeline/mod.ts";
import { readTranscript, type TranscriptKeyring } from "../store/crypto/mod.ts";
import {
  AnalysisWorker,
  applyVariant,
  type CallRatingDialogue,
  chooseCallPolicy,
  createJsonChat,
  createRatingDialogue,
  DEFAULT_VARIANTS,
  type FeedbackEvent,
  loadVariantsFile,
  PolicyBandit,
  recordCallFeedback,
  refreshBlacklistGauge,
  RlMetrics,
  syncVariants,
  type VariantsFile,
} from "../rl/mod.ts";

/** The running learning loop. */
export interface Learning {
  variants: VariantsFile;
  bandit: PolicyBandit;
  metrics: RlMetrics;
  /** Stop the analysis timer. */
  stop(): Promise<void>;
}

/** The variants file in force: `TOM_RL_VARIANTS_FILE`, else the shipped one. */
export async function variantsOf(config: Config): Promise<VariantsFile> {
  return config.rl.variantsFile ? await loadVariantsFile(config.rl.variantsFile) : DEFAULT_VARIANTS;
}

/** Sync the variants, build the bandit and start the analysis worker. */
export async function startLearning(
  config: Config,
  deps: { store: Store; log: Logger; keyring: TranscriptKeyring },
): Promise<Learning> {
  const log = deps.log.child({ component: "rl" });
  const variants = await variantsOf(config);
  const synced = syncVariants(deps.store, variants);
  if (synced.length > 0) log.info("policy variants synced", { variants: synced });
  const metrics = new RlMetrics();
  refreshBlacklistGauge(deps.store, metrics);
  const bandit = new PolicyBandit(deps.store, { baseVariant: variants.baseVariant, log, metrics });

  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> | undefined;
  const ac = new AbortController();
  if (config.rl.analysis && config.llm.kind !== "none") {
    const worker = new AnalysisWorker(deps.store, {
      chat: createJsonChat({ kind: config.llm.kind, url: config.llm.url, model: config.llm.modelName }),
      loadTranscript: async (accountId, callId) =>
        (await readTranscript(deps.store, deps.keyring, accountId, callId)).map((t) => ({
          speaker: t.speaker,
          text: t.text,
        })),
      log,
    });
    const loop = () => {
      timer = setTimeout(() => {
        running = worker.tick(listAccounts(deps.store).map((a) => a.id), ac.signal)
          .catch((e) => log.warn("analysis tick failed", { error: e }))
          .finally(() => !ac.signal.aborted && loop());
      }, config.rl.analysisIntervalSeconds * 1000);
      Deno.unrefTimer(timer);
    };
    loop();
  }
  return {
    variants,
    bandit,
    metrics,
    async stop() {
      ac.abort();
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * The reward signals of a finished call, from what the pipeline saw. Resolution is judged by how the call
 * ended: the caller said goodbye -> resolved (half when a turn failed on the way), TOM had to offer a
 * callback or the time ran out -> not resolved; silence or a hang-up mid-conversation -> unknown
 * (missing, listed as such). A callback offer is the hand-over to the practice's staff.
 */
export function rewardSignals(summary: CallSummary): FeedbackEvent["signals"] {
  const resolution = summary.ending === "farewell"
    ? (summary.failedTurns === 0 ? 1 : 0.5)
    : summary.ending === "callback" || summary.ending === "max_duration"
    ? 0
    : null;
  return {
    resolution,
    bargeIns: summary.bargeIns,
    repeats: summary.repeats,
    handover: summary.ending === "callback",
    durationSec: Math.min(86_400, summary.durationMs / 1000),
  };
}

/** The feedback event of a finished call (no personal data: the call id, the rating and counts). */
export function feedbackEvent(
  summary: CallSummary,
  dialogue: CallRatingDialogue | undefined,
): FeedbackEvent {
  const st = dialogue?.state;
  const result = st?.result ?? null;
  return {
    callId: summary.callId,
    rating: result?.rating ?? null,
    ratingValue: result?.value ?? null,
    // Asked and answered unclearly: voice/dtmf with no rating; asked but silent or never asked: none.
    source: st && summary.ratingAsked ? st.source : "none",
    signals: rewardSignals(summary),
  };
}

/**
 * The learning loop's per-call hooks for the pipeline: the bandit chooses the call's policy variant
 * (recorded on the call), the caller is asked for a rating when they say goodbye, and after the call the
 * feedback event is stored, the reward computed (kept with its components) and given to the bandit,
 * and the analysis queued (only with transcript consent: without a transcript there is nothing to read).
 */
export function callLearning(
  config: Config,
  learning: Learning,
  deps: { store: Store; log: Logger },
): CallLearning {
  const { store } = deps;
  return {
    greetings() {
      const out: string[] = [];
      for (const v of listVariants(store, { activeOnly: true })) {
        try {
          out.push(applyVariant(v).greeting);
        } catch { /* a variant with stale slots is never chosen either */ }
      }
      return out;
    },
    begin(callId, owner): LearningCall {
      const context = getAccount(store, owner.accountId)?.kind ?? "clinical";
      const chosen = chooseCallPolicy(store, learning.bandit, context);
      setCallPolicy(store, owner.accountId, callId, chosen?.variantId ?? null, chosen ? context : null);
      let dialogue: CallRatingDialogue | undefined;
      return {
        ...(chosen
          ? {
            policy: {
              variantId: chosen.variantId,
              policy: chosen.policy,
              greeting: chosen.greeting,
              pipeline: chosen.pipeline,
            },
          }
          : {}),
        ...(config.rl.askRating ? { rating: () => (dialogue = createRatingDialogue()) } : {}),
        end(summary) {
          const log = deps.log.child({ call_id: callId, component: "rl" });
          const event = feedbackEvent(summary, dialogue);
          const out = recordCallFeedback(store, owner.accountId, event, {
            bandit: learning.bandit,
            metrics: learning.metrics,
          });
          const { call } = out;
          recordReward(store, owner.accountId, {
            callId,
            variantId: call.policyVariantId,
            context: call.banditContext,
            reward: out.reward.reward,
            components: out.reward.components,
            missing: out.reward.missing,
            rating: event.ratingValue ?? event.rating,
            source: event.source,
            applied: out.bandit !== undefined,
          });
          log.info("call feedback recorded", {
            variant: call.policyVariantId ?? "-",
            reward: out.reward.reward,
            rated: event.rating !== null,
            source: event.source,
            missing: out.reward.missing.join(",") || "-",
          });
          if (config.rl.analysis && callConsent(store, owner.accountId, callId)?.transcript) {
            enqueueAnalysis(store, owner.accountId, callId);
          }
        },
      };
    },
  };
}
