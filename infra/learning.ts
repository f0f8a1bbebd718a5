/**
 * The learning loop's appliance side: policy variants synced into the store at start, the bandit, the
 * post-call analysis worker on a timer (never inside a call), and the learning metrics for `/metrics`.
 * The per-call hooks (choosing a variant at call start, the rating dialogue and feedback at the end) live
 * in the pipeline.
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import { listAccounts, listVariants, type Store } from "../store/mod.ts";
import { readTranscript, type TranscriptKeyring } from "./crypto/mod.ts";
import {
  AnalysisWorker,
  createJsonChat,
  DEFAULT_VARIANTS,
  loadVariantsFile,
  PolicyBandit,
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
  metrics.setBlacklisted(listVariants(deps.store).filter((v) => v.blacklisted).map((v) => v.id));
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
