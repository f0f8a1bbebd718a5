/**
 * Capacity benchmark (issue 16, items 4-5): how many concurrent calls one box answers within budget.
 * Against a gateway with the real engines (whisper-server pool and llama-server on synthetic models,
 * espeak-ng, Silero), `tom probe` places 1 call, then C calls arriving spread over the stagger time
 * (like a real line), each speaking T turns, for two setups in the same run:
 * - baseline: today's single whisper-server (`TOM_STT_POOL_SIZE=1`, 2 threads, one LLM slot);
 * - pool: `--pool N` whisper-servers of `--threads` threads each, `--parallel` LLM slots (default 1: on
 *   a CPU, slots only share out the same cores; a GPU box gives each pool member a slot).
 * It prints p50/p95 of voice-to-voice, STT, the STT queue wait and the LLM's first token, and the ratio
 * of C calls' p95 voice-to-voice to one call's (DESIGN.md: at most 3x on this CPU box).
 * `--search` then finds the largest C (1, 2, 4, ... then halving the gap) whose p95 voice-to-voice stays
 * within `--budget-p95` (default: 3x one call's p95 of the pool setup): the value for `TOM_MAX_CALLS`.
 *
 * Answers are cut to `--max-tokens` (default 12) so the run stays within minutes; each setup starts with
 * one uncounted warm-up call.
 *
 * Usage: deno run -A tests/bench/capacity_bench.ts [--calls 20] [--stagger 10000] [--turns 3]
 *   [--pool 2] [--threads 1] [--parallel 1] [--search] [--max-search 32] [--budget-p95 MS]
 *   [--max-tokens 12]
 *   [--json FILE]
 */
import { ENGINES_MISSING, startEngines } from "../e2e/pipeline_engines.ts";
import { pipelineAnswerer } from "../../pipeline/mod.ts";
import { silentLogger } from "../../infra/log.ts";
import { startGateway } from "../gateway/server_harness.ts";
import { probeMain, type ProbeReport } from "../../app/commands/probe.ts";
import type { Summary } from "../../app/probe/percentiles.ts";
import { freePort } from "../infra/fixtures/engines.ts";

const args = Deno.args;
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const CALLS = arg("calls", 20);
const STAGGER = arg("stagger", 10_000);
const TURNS = arg("turns", 3);
const POOL = arg("pool", 2);
const THREADS = arg("threads", 1);
const PARALLEL = arg("parallel", 1);
const MAX_SEARCH = arg("max-search", 32);
const MAX_TOKENS = arg("max-tokens", 12);
const BUDGET = arg("budget-p95", 0);
const jsonAt = args.indexOf("--json");
const JSON_OUT = jsonAt >= 0 ? args[jsonAt + 1] : undefined;

/** One probe run's figures. */
interface Run {
  setup: string;
  calls: number;
  stagger: number;
  wallMs: number;
  v2v: Summary;
  stt?: Summary;
  queue?: Summary;
  llm?: Summary;
  unanswered: number;
  errors: number;
}

/** Run `f` without its console output (the probe prints its own table; the bench prints one row). */
async function quiet<T>(f: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await f();
  } finally {
    console.log = log;
  }
}

/** Start the engines with `env`, then probe each `[calls, stagger]` in turn. */
async function measure(setup: string, env: Record<string, string>, runs: [number, number][]): Promise<Run[]> {
  const engines = await startEngines(
    { TOM_STT_POOL_PORT: String(freePort()), ...env },
    { sttTimeoutMs: 300_000 },
  );
  const answer = pipelineAnswerer({
    stt: engines.stt,
    llm: engines.llm,
    tts: engines.tts,
    vad: () => engines.vad.createVad(),
    log: silentLogger,
    config: engines.config,
    options: {
      sttTimeoutMs: 300_000,
      llmFirstTokenTimeoutMs: 60_000,
      llmTokenGapMs: 60_000,
      ttsTimeoutMs: 60_000,
      // Short answers (the synthetic model babbles to its token limit, spoken at real time): the probe
      // waits for each answer to end before the next utterance, so this keeps the bench within minutes.
      maxTokens: MAX_TOKENS,
    },
  });
  const h = await startGateway({ answer });
  const out: Run[] = [];
  try {
    // A warm-up call (first inferences are slow: caches, page faults), not counted.
    await quiet(() => probeMain(h.config, { url: h.http, turns: "1", answerTimeout: "120000" }));
    for (const [calls, stagger] of runs) {
      const file = await Deno.makeTempFile({ suffix: ".json" });
      await quiet(() =>
        probeMain(h.config, {
          url: h.http,
          calls: String(calls),
          stagger: String(stagger),
          turns: String(TURNS),
          out: file,
          answerTimeout: "120000",
          budgetP50: "600000",
          budgetP95: "600000",
        })
      );
      const rep = JSON.parse(await Deno.readTextFile(file)) as ProbeReport;
      await Deno.remove(file);
      const s = rep.summaries;
      const run: Run = {
        setup,
        calls,
        stagger,
        wallMs: rep.wallMs,
        v2v: s.voice_to_voice_wire,
        stt: s.stt,
        queue: s.stt_queue_wait,
        llm: s.llm_first_token,
        unanswered: rep.unanswered,
        errors: rep.errors.length,
      };
      out.push(run);
      print(run, out[0].v2v.p95);
    }
  } finally {
    await h.close();
    await engines.close();
  }
  return out;
}

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "-" : String(Math.round(v)));
let headed = false;
function print(r: Run, oneCallP95: number): void {
  if (!headed) {
    console.log(
      "setup".padEnd(26) + "calls".padStart(6) + "v2v p50".padStart(9) + "v2v p95".padStart(9) +
        "x1call".padStart(8) + "stt p95".padStart(9) + "queue p50".padStart(10) + "queue p95".padStart(10) +
        "llm1 p95".padStart(9) + "unans".padStart(6) + "wall s".padStart(8),
    );
    headed = true;
  }
  console.log(
    r.setup.padEnd(26) + String(r.calls).padStart(6) + fmt(r.v2v?.p50).padStart(9) +
      fmt(r.v2v?.p95).padStart(9) +
      (r.v2v?.p95 / oneCallP95).toFixed(2).padStart(8) + fmt(r.stt?.p95).padStart(9) +
      fmt(r.queue?.p50).padStart(10) + fmt(r.queue?.p95).padStart(10) + fmt(r.llm?.p95).padStart(9) +
      String(r.unanswered).padStart(6) + (r.wallMs / 1000).toFixed(0).padStart(8),
  );
}

if (ENGINES_MISSING) {
  console.log(`capacity bench skipped: ${ENGINES_MISSING}`);
  Deno.exit(0);
}
console.log(
  `capacity: ${CALLS} calls arriving over ${STAGGER} ms, ${TURNS} turns each; ` +
    `${navigator.hardwareConcurrency} cores`,
);
const t0 = performance.now();
const baseline = await measure("single whisper-server", {
  TOM_STT_POOL_SIZE: "1",
  TOM_STT_THREADS: "2",
  TOM_LLM_PARALLEL: "1",
}, [[1, 0], [CALLS, STAGGER]]);
const poolEnv = {
  TOM_STT_POOL_SIZE: String(POOL),
  TOM_STT_THREADS: String(THREADS),
  TOM_LLM_PARALLEL: String(PARALLEL),
};
const poolSetup = `pool ${POOL}x${THREADS}t, ${PARALLEL} slot(s)`;
const pooled = await measure(poolSetup, poolEnv, [[1, 0], [CALLS, STAGGER]]);
const ratio = (rs: Run[]) => rs[1].v2v.p95 / rs[0].v2v.p95;
const verdict = ratio(pooled) <= 3;
console.log(
  `${CALLS} calls' p95 voice-to-voice / one call's: baseline ${ratio(baseline).toFixed(2)}x, ` +
    `pool ${ratio(pooled).toFixed(2)}x (target <= 3x: ${verdict ? "met" : "MISSED"})`,
);

let capacity: { budgetMs: number; maxCalls: number; runs: Run[] } | undefined;
if (args.includes("--search")) {
  const budgetMs = BUDGET > 0 ? BUDGET : 3 * pooled[0].v2v.p95;
  // Calls arrive 500 ms apart (20 calls over 10 s), as in the comparison above.
  const runOne = async (c: number) => (await measure(poolSetup, poolEnv, [[c, 500 * (c - 1)]]))[0];
  const runs: Run[] = [];
  const fits = (r: Run) => r.v2v.p95 <= budgetMs && r.unanswered === 0 && r.errors === 0;
  let good = 0;
  let bad = MAX_SEARCH + 1;
  for (let c = 1; c <= MAX_SEARCH; c *= 2) {
    const r = await runOne(c);
    runs.push(r);
    if (fits(r)) good = c;
    else {
      bad = c;
      break;
    }
  }
  while (bad - good > Math.max(1, Math.round(good / 4)) && bad <= MAX_SEARCH) {
    const c = Math.floor((good + bad) / 2);
    const r = await runOne(c);
    runs.push(r);
    if (fits(r)) good = c;
    else bad = c;
  }
  capacity = { budgetMs, maxCalls: good, runs };
  console.log(
    good > 0
      ? `capacity: largest C with p95 voice-to-voice <= ${Math.round(budgetMs)} ms: ${good} ` +
        `-> set TOM_MAX_CALLS=${good} (TOM_STT_POOL_SIZE=${POOL} TOM_STT_THREADS=${THREADS})`
      : `capacity: not even 1 call kept p95 voice-to-voice <= ${Math.round(budgetMs)} ms in this run ` +
        `(box busy or too small; TOM_MAX_CALLS=0 would mean no limit, so do not set it from this run)`,
  );
}
console.log(`bench wall time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (JSON_OUT) {
  await Deno.writeTextFile(
    JSON_OUT,
    JSON.stringify({ calls: CALLS, stagger: STAGGER, turns: TURNS, baseline, pooled, capacity }, null, 2) +
      "\n",
  );
}
Deno.exit(verdict ? 0 : 1);
