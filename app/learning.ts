/**
 * The learning loop's appliance side, wiring only: policy variants synced into the store at start, the
 * bandit, the post-call analysis worker on a timer (never inside a call), the learning metrics for
 * `/metrics`, and the per-call hooks the pipeline calls (choosing a variant at call start, the rating
 * dialogue and feedback at the end). The rules that turn a call into reward signals, a feedback event and
 * a reward record are rl/'s (rl/call_signals.ts).
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
import {
  AnalysisWorker,
  type CallLearning,
  type CallRatingDialogue,
  createJsonChat,
  createRatingDialogue,
  type LearningCall,
} from "../pipeline/mod.ts";
import { readTranscript, type TranscriptKeyring } from "../store/crypto/mod.ts";
import {
  applyVariant,
  chooseCallPolicy,
  feedbackEvent,
  PolicyBandit,
  recordCallFeedback,
  refreshBlacklistGauge,
  rewardRecord,
  RlMetrics,
  syncVariants,
  type VariantsFile,
  variantsOf,
} from "../rl/mod.ts";

/** The running learning loop. */
export interface Learning {
  variants: VariantsFile;
  bandit: PolicyBandit;
  metrics: RlMetrics;
  /** Stop the analysis timer. */
  stop(): Promise<void>;
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
          if (summary.emergency !== null) {
            // An emergency says nothing about the conversation policy: no feedback, no reward.
            log.info("call excluded from learning: emergency", { flag: summary.emergency });
            return;
          }
          const event = feedbackEvent(summary, dialogue);
          const out = recordCallFeedback(store, owner.accountId, event, {
            bandit: learning.bandit,
            metrics: learning.metrics,
          });
          const { call } = out;
          recordReward(store, owner.accountId, rewardRecord(out));
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
