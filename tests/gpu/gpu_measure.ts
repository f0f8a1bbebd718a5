/**
 * The measuring half of the GPU check (issue 17, item 6), run by tests/gpu/gpu_check.sh after the CUDA
 * build with the engines and models it made (TOM_STT_BIN/TOM_STT_MODEL/TOM_LLM_BIN/TOM_LLM_MODEL in the
 * environment; on a CPU box the provisioned engines stand in). Everything is measured through TOM's own
 * pieces, never a hand-made request:
 * 1. the engines under TOM's Supervisor, asked through the project's adapters: STT (the STT pool adapter)
 *    for a 3 s and a 10 s German utterance spoken by espeak-ng, LLM first token and tokens/s with the real
 *    system prompt (policy + a full practice's facts, pipeline/prompt.ts, practice_facts.ts) and the call
 *    tools, TTS first audio (the configured engine, Piper or espeak-ng);
 * 2. a real `tom serve` (the served process under its egress policy, managing the same engines), then
 *    `tom probe` voice-to-voice for 1 call and for `--calls` concurrent calls.
 * Writes a JSON summary (`--out`); figures are printed and written, never judged here (the probe's budget
 * verdicts are recorded as they come).
 *
 *   deno run -A tests/gpu/gpu_measure.ts --out FILE [--gpu TEXT] [--build-seconds N] [--calls 20]
 *     [--turns 3] [--repeat 3] [--budget SECONDS] [--answer-timeout MS]
 *
 * `--answer-timeout` (default 15 s) bounds the wait for one answer: the synthetic models babble until
 * their token limit, so a turn's end is not waited for beyond it (the probe marks such a turn "still
 * speaking"; its voice-to-voice figure, the first answer sample, is kept).
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Config, loadConfig } from "../../infra/config.ts";
import { engineSpecs } from "../../infra/engines/specs.ts";
import { autoSizeEnginePools } from "../../infra/engines/pool.ts";
import { resolveGpuLayers } from "../../infra/engines/gpu_layers.ts";
import { silentLogger } from "../../infra/log.ts";
import { Supervisor } from "../../infra/supervisor.ts";
import { createLlm } from "../../pipeline/engines/llm.ts";
import { createStt } from "../../pipeline/engines/stt.ts";
import { createEspeakTts, createTts } from "../../pipeline/engines/tts.ts";
import type { LlmEngine, SttEngine, TtsEngine } from "../../pipeline/engines/types.ts";
import { synthesizeAll } from "../../pipeline/phrases.ts";
import { buildMessages, buildSystemPrompt, DEFAULT_POLICY } from "../../pipeline/prompt.ts";
import { practiceContext } from "../../pipeline/answerer.ts";
import { CALL_TOOLS } from "../../pipeline/tools.ts";
import { serveCommand } from "../../app/launch.ts";
import { probeMain, type ProbeReport } from "../../app/commands/probe.ts";
import { fullPractice } from "../pipeline/_practice.ts";

/** German caller utterances of about 3 s and 10 s (espeak-ng's German voice at its default rate). */
export const UTTERANCES = {
  short: "Guten Tag, ich hätte gern nächste Woche einen Termin.",
  long: "Guten Tag, hier spricht Maria Schneider. Ich habe seit drei Tagen starken Husten und Fieber " +
    "und hätte gern nächste Woche einen Termin am Vormittag, am liebsten bei Frau Doktor Weber.",
} as const;

/** The summary's shape (what tests/gpu/gpu_check_test.ts checks). */
export interface GpuSummary {
  gpu: string;
  buildSeconds: number | null;
  profile: string;
  engines: {
    stt: string;
    sttModel: string;
    llm: string;
    llmModel: string;
    tts: string;
    sttPool: number;
    llmParallel: number;
    /** llama-server's `-ngl` as `tom serve` chooses it (infra/engines/gpu_layers.ts), and why. */
    llmGpuLayers: string;
    llmGpuLayersWhy: string;
  };
  stt: Record<"short" | "long", { audioMs: number; medianMs: number; runsMs: number[]; text: string }>;
  llm: {
    systemPromptChars: number;
    promptTokens: number | null;
    firstTokenMs: number;
    tokensPerSecond: number;
    tokens: number;
    runs: { firstTokenMs: number; tokens: number; tokensPerSecond: number }[];
  };
  tts: { engine: string; firstAudioColdMs: number; firstAudioMs: number; runsMs: number[] };
  probe: Record<"single" | "concurrent", ProbeFigures | { error: string }>;
  wallSeconds: number;
}

/** One probe run, condensed. */
export interface ProbeFigures {
  calls: number;
  turnsPerCall: number;
  answered: number;
  unanswered: number;
  errors: string[];
  voiceToVoice: { n: number; p50: number; p95: number };
  stages: Record<string, { n: number; p50: number; p95: number }>;
  budgets: ProbeReport["budgets"];
  wallMs: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor((s.length - 1) / 2)];
};
const ms = (t0: number) => Math.round(performance.now() - t0);
const say = (m: string) => console.error(`gpu_measure: ${m}`);

/** The environment every part uses: the caller's TOM_* settings, fresh data, free ports, a fixed secret. */
function measureEnv(dataDir: string): Record<string, string> {
  const free = () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    return String(port);
  };
  const own = Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([k]) => k.startsWith("TOM_")));
  return {
    ...own,
    TOM_DATA_DIR: dataDir,
    TOM_HTTP_HOST: "127.0.0.1",
    TOM_HTTP_PORT: free(),
    TOM_AUDIOSOCKET_PORT: free(),
    TOM_STT_URL: `http://127.0.0.1:${free()}`,
    TOM_LLM_URL: `http://127.0.0.1:${free()}`,
    TOM_JWT_SECRET: "gpu-check-secret-of-at-least-32-bytes!",
  };
}

async function measureStt(stt: SttEngine, voice: TtsEngine, repeat: number): Promise<GpuSummary["stt"]> {
  const out = {} as GpuSummary["stt"];
  for (const [k, text] of Object.entries(UTTERANCES) as ["short" | "long", string][]) {
    const pcm = await synthesizeAll(voice, text, new AbortController().signal, 30_000);
    if (!pcm) throw new Error("espeak-ng could not speak the test utterance");
    const runsMs: number[] = [];
    let heard = "";
    for (let i = 0; i <= repeat; i++) {
      const t0 = performance.now();
      for await (const f of stt.transcribe(pcm, { signal: new AbortController().signal, language: "de" })) {
        if (f.type === "error") throw new Error(`STT failed: ${f.error.message}`);
        if (f.type === "final") heard = f.text;
      }
      if (i > 0) runsMs.push(ms(t0)); // the first run warms the engine up
    }
    out[k] = {
      audioMs: Math.round(pcm.length / 16),
      medianMs: median(runsMs),
      runsMs,
      text: heard.slice(0, 200),
    };
    say(`STT ${(pcm.length / 16000).toFixed(1)} s audio: median ${out[k].medianMs} ms`);
  }
  return out;
}

async function measureLlm(llm: LlmEngine, config: Config, repeat: number): Promise<GpuSummary["llm"]> {
  const now = new Date();
  const system = buildSystemPrompt(DEFAULT_POLICY, undefined, practiceContext(fullPractice(), now));
  const callers = ["Guten Tag, ich hätte gern einen Termin nächste Woche.", "Wann haben Sie heute geöffnet?"];
  let promptTokens: number | null = null;
  try {
    const r = await fetch(`${config.llm.url}/tokenize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ content: system }),
    });
    promptTokens = r.ok ? ((await r.json()) as { tokens: unknown[] }).tokens.length : null;
  } catch { /* not a llama-server: no count */ }
  const runs: GpuSummary["llm"]["runs"] = [];
  for (let i = 0; i <= repeat; i++) {
    const messages = buildMessages(system, [], callers[i % callers.length]);
    const t0 = performance.now();
    let first = 0, last = 0, tokens = 0;
    for await (
      const f of llm.chat(messages, {
        signal: new AbortController().signal,
        maxTokens: 96,
        temperature: 0.7,
        tools: CALL_TOOLS,
      })
    ) {
      if (f.type === "error") throw new Error(`LLM failed: ${f.error.message}`);
      if (f.type === "token" || f.type === "tool_call") {
        if (first === 0) first = performance.now();
        last = performance.now();
        tokens++;
      }
      if (f.type === "done" && f.tokens > 0) tokens = f.tokens;
    }
    if (i === 0) continue; // warm-up (first prompt evaluation fills the prompt cache)
    const span = (last - first) / 1000;
    runs.push({
      firstTokenMs: first === 0 ? -1 : Math.round(first - t0),
      tokens,
      tokensPerSecond: span > 0 ? Math.round(((tokens - 1) / span) * 10) / 10 : 0,
    });
  }
  const result = {
    systemPromptChars: system.length,
    promptTokens,
    firstTokenMs: median(runs.map((r) => r.firstTokenMs)),
    tokensPerSecond: median(runs.map((r) => r.tokensPerSecond)),
    tokens: median(runs.map((r) => r.tokens)),
    runs,
  };
  say(
    `LLM first token ${result.firstTokenMs} ms, ${result.tokensPerSecond} tokens/s (${promptTokens} prompt tokens)`,
  );
  return result;
}

async function measureTts(tts: TtsEngine, repeat: number): Promise<GpuSummary["tts"]> {
  const runsMs: number[] = [];
  const texts = [
    "Gern, am Montag um neun Uhr hätte Frau Doktor Weber einen Termin frei.",
    "Wann passt es Ihnen?",
  ];
  for (let i = 0; i <= repeat; i++) {
    const ac = new AbortController();
    const t0 = performance.now();
    let at = -1;
    for await (const f of tts.synthesize(texts[i % texts.length], { signal: ac.signal })) {
      if (f.type === "error") throw new Error(`TTS failed: ${f.error.message}`);
      if (f.type === "audio" && at < 0) at = ms(t0);
    }
    runsMs.push(at);
  }
  const warm = runsMs.slice(1);
  say(`TTS (${tts.name}) first audio ${median(warm)} ms (cold ${runsMs[0]} ms)`);
  return { engine: tts.name, firstAudioColdMs: runsMs[0], firstAudioMs: median(warm), runsMs: warm };
}

/** Part 1: the engines under the Supervisor, through the adapters. */
async function measureEngines(config: Config, repeat: number) {
  const specs = engineSpecs(config).filter((s) => s.name === "stt" || s.name === "llm");
  const supervisor = new Supervisor(specs, { log: silentLogger });
  const t0 = performance.now();
  await supervisor.start();
  say(`engines up after ${ms(t0)} ms (${specs.length} processes)`);
  const stt = createStt(config);
  const llm = createLlm(config);
  const tts = await createTts(config.tts);
  const voice = createEspeakTts({ bin: "espeak-ng", voice: "de" });
  try {
    if (!stt || !llm || !tts) throw new Error("stt, llm and tts must all be configured (none is)");
    return {
      sttPool: specs.filter((s) => s.name === "stt").length,
      ttsName: tts.name,
      stt: await measureStt(stt, voice, repeat),
      llm: await measureLlm(llm, config, repeat),
      tts: await measureTts(tts, repeat),
    };
  } finally {
    await tts?.close?.();
    await voice.close?.();
    await supervisor.stop();
  }
}

function condense(r: ProbeReport): ProbeFigures {
  const pick = (s: { n: number; p50: number; p95: number }) => ({ n: s.n, p50: s.p50, p95: s.p95 });
  const { voice_to_voice_wire: v2v, ...stages } = r.summaries;
  return {
    calls: r.calls,
    turnsPerCall: r.turnsPerCall,
    answered: r.answered,
    unanswered: r.unanswered,
    errors: r.errors.slice(0, 10),
    voiceToVoice: pick(v2v ?? { n: 0, p50: 0, p95: 0 }),
    stages: Object.fromEntries(Object.entries(stages).map(([k, s]) => [k, pick(s)])),
    budgets: r.budgets,
    wallMs: r.wallMs,
  };
}

/** Part 2: a real `tom serve` on the same engines, and `tom probe` against it. */
async function measureServed(
  config: Config,
  env: Record<string, string>,
  o: { calls: number; turns: number; answerTimeoutMs: number; deadline: number },
): Promise<GpuSummary["probe"]> {
  const [bin, ...args] = serveCommand(config, ["serve"]);
  const keep = ["PATH", "HOME", "TMPDIR", "LANG", "DENO_DIR", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH"];
  const child = new Deno.Command(bin, {
    args,
    env: {
      ...Object.fromEntries(keep.flatMap((k) => Deno.env.get(k) ? [[k, Deno.env.get(k) as string]] : [])),
      ...env,
    },
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(chunk) {
        tail.push(...chunk.split("\n").filter(Boolean));
        tail.splice(0, Math.max(0, tail.length - 20));
      },
    }),
  ).catch(() => {});
  const base = `http://127.0.0.1:${config.http.port}`;
  const t0 = performance.now();
  try {
    for (;;) {
      const r = await fetch(`${base}/readyz`).catch(() => undefined);
      const ok = r?.status === 200;
      await r?.body?.cancel();
      if (ok) break;
      if (Date.now() > o.deadline) throw new Error(`tom serve not ready in time:\n${tail.join("\n")}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    say(`tom serve ready after ${ms(t0)} ms`);
    const dir = await Deno.makeTempDir({ prefix: "tom-gpu-probe-" });
    const run = async (calls: number, turns: number): Promise<ProbeFigures | { error: string }> => {
      const out = join(dir, `probe-${calls}.json`);
      const left = Math.max(5_000, o.deadline - Date.now());
      try {
        await probeMain(config, {
          url: base,
          calls: String(calls),
          turns: String(turns),
          out,
          answerTimeout: String(Math.min(o.answerTimeoutMs, left)),
          json: false,
        });
        const figures = condense(JSON.parse(await Deno.readTextFile(out)) as ProbeReport);
        say(
          `probe ${calls} call(s): voice-to-voice p50 ${figures.voiceToVoice.p50} ms p95 ${figures.voiceToVoice.p95} ms`,
        );
        return figures;
      } catch (e) {
        return { error: e instanceof Error ? e.message : String(e) };
      }
    };
    const single = await run(1, o.turns);
    const concurrent = await run(o.calls, 1);
    await Deno.remove(dir, { recursive: true });
    return { single, concurrent };
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const stop = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 15_000);
    await child.status;
    clearTimeout(stop);
    await stderr;
  }
}

/** Run both parts and write the summary; returns it. */
export async function gpuMeasure(argv: string[]): Promise<GpuSummary> {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      out: { type: "string" },
      gpu: { type: "string", default: "none" },
      "build-seconds": { type: "string" },
      calls: { type: "string", default: "20" },
      turns: { type: "string", default: "3" },
      repeat: { type: "string", default: "3" },
      budget: { type: "string", default: "540" },
      "answer-timeout": { type: "string", default: "15000" },
    },
  });
  const started = performance.now();
  const deadline = Date.now() + Number(a.budget) * 1000;
  const dataDir = await Deno.makeTempDir({ prefix: "tom-gpu-measure-" });
  try {
    const env = measureEnv(dataDir);
    // Sized and placed as `tom serve` does at start (app/serve.ts): the pool, the slots, the GPU layers.
    const { config: sized } = await autoSizeEnginePools(loadConfig({ env }));
    const { config, choice } = await resolveGpuLayers(sized);
    const engines = await measureEngines(config, Number(a.repeat));
    const probe = await measureServed(config, env, {
      calls: Number(a.calls),
      turns: Number(a.turns),
      answerTimeoutMs: Number(a["answer-timeout"]),
      deadline,
    });
    const summary: GpuSummary = {
      gpu: a.gpu as string,
      buildSeconds: a["build-seconds"] === undefined ? null : Number(a["build-seconds"]),
      profile: config.profile,
      engines: {
        stt: config.stt.bin,
        sttModel: config.stt.model,
        llm: config.llm.bin,
        llmModel: config.llm.model,
        tts: engines.ttsName,
        sttPool: engines.sttPool,
        llmParallel: config.llm.parallel,
        llmGpuLayers: config.llm.gpuLayers ?? "auto",
        llmGpuLayersWhy: choice?.why ?? "as configured",
      },
      stt: engines.stt,
      llm: engines.llm,
      tts: engines.tts,
      probe,
      wallSeconds: Math.round((performance.now() - started) / 100) / 10,
    };
    const text = JSON.stringify(summary, null, 2) + "\n";
    if (a.out) await Deno.writeTextFile(a.out, text);
    else console.log(text);
    return summary;
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  try {
    await gpuMeasure(Deno.args);
  } catch (e) {
    say(e instanceof Error ? e.message : String(e));
    Deno.exit(1);
  }
}
