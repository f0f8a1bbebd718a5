/**
 * tests/gpu/gpu_check.sh where no GPU is: it fails at once saying why, refuses unknown arguments, and its
 * synthetic-model generation (small shapes, on the CPU) writes a whisper model and a GGUF. Its measuring
 * half (gpu_measure.ts) runs end to end on the CPU with the provisioned engines standing in for the CUDA
 * build: 2 concurrent calls instead of 20, one repeat, short answer waits.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ENGINES, skipWithoutEngines } from "../_engines.ts";
import type { GpuSummary, ProbeFigures } from "./gpu_measure.ts";

const SCRIPT = join(import.meta.dirname ?? ".", "gpu_check.sh");
const run = async (args: string[]) => {
  const o = await new Deno.Command(SCRIPT, { args, stdout: "piped", stderr: "piped" }).output();
  return { code: o.code, err: new TextDecoder().decode(o.stderr) };
};

Deno.test({
  name: "without an NVIDIA GPU the check stops at once and says so",
  ignore: skipWithoutEngines,
  async fn() {
    const hasGpu = await new Deno.Command("sh", { args: ["-c", "command -v nvidia-smi"] }).output();
    if (hasGpu.success) return; // a GPU box runs the real check instead
    const started = performance.now();
    const r = await run(["--src", join(ENGINES.dir, "src")]);
    console.log(`failed after ${(performance.now() - started).toFixed(0)} ms`);
    assert.equal(r.code, 4);
    assert.match(r.err, /no NVIDIA GPU: nvidia-smi not found/);
  },
});

Deno.test("an unknown argument or a bad budget is refused with exit code 2", async () => {
  assert.equal((await run(["--bogus"])).code, 2);
  const r = await run(["--budget", "ten"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--budget must be a number/);
});

Deno.test({
  name: "the synthetic models with small shapes are generated on the CPU",
  ignore: skipWithoutEngines,
  async fn() {
    const work = await Deno.makeTempDir();
    try {
      const out = join(work, "summary.json");
      const r = await run([
        "--small",
        "--models-only",
        "--work",
        work,
        "--out",
        out,
        "--src",
        join(ENGINES.dir, "src"),
      ]);
      assert.equal(r.code, 0, r.err);
      const summary = JSON.parse(await Deno.readTextFile(out));
      assert.deepEqual(summary.shapes, { whisper: "64,2,1,1,80", llm: "64,2,4,4,128" });
      const gguf = await Deno.readFile(summary.models.llm);
      assert.equal(new TextDecoder().decode(gguf.subarray(0, 4)), "GGUF");
      const ggml = await Deno.readFile(summary.models.whisper);
      assert.equal(new DataView(ggml.buffer).getUint32(0, true), 0x67676d6c);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test({
  name: "the measuring half runs on the CPU engines and writes every figure of the summary",
  ignore: skipWithoutEngines,
  async fn() {
    const work = await Deno.makeTempDir();
    try {
      const out = join(work, "summary.json");
      const started = performance.now();
      const o = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          join(import.meta.dirname ?? ".", "gpu_measure.ts"),
          ...["--out", out, "--gpu", "none (CPU stand-in)", "--calls", "2", "--turns", "2"],
          ...["--repeat", "1", "--answer-timeout", "5000", "--budget", "100"],
        ],
        env: {
          TOM_ENGINES_DIR: ENGINES.dir,
          TOM_STT_BIN: ENGINES.whisperServer,
          TOM_STT_MODEL: ENGINES.whisperModel,
          TOM_LLM_BIN: ENGINES.llamaServer,
          TOM_LLM_MODEL: ENGINES.llamaModel,
          TOM_PROFILE: "realtime",
          TOM_STT_POOL_SIZE: "1",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(o.stderr);
      console.log(`gpu_measure on the CPU: ${((performance.now() - started) / 1000).toFixed(1)} s`);
      console.log(err.split("\n").filter((l) => l.startsWith("gpu_measure:")).join("\n"));
      assert.equal(o.code, 0, err.slice(-3000));
      const s = JSON.parse(await Deno.readTextFile(out)) as GpuSummary;
      assert.equal(s.gpu, "none (CPU stand-in)");
      assert.equal(s.profile, "realtime");
      assert.equal(s.engines.sttPool, 1);
      assert.equal(s.engines.llmGpuLayers, "all", "no GPU seen: every layer (a CPU build ignores it)");
      for (const k of ["short", "long"] as const) {
        assert.ok(s.stt[k].medianMs > 0 && s.stt[k].runsMs.length === 1, k);
      }
      assert.ok(s.stt.long.audioMs > 2 * s.stt.short.audioMs, "the long utterance is the longer one");
      assert.ok(s.llm.firstTokenMs > 0 && s.llm.tokensPerSecond > 0 && s.llm.tokens > 0);
      assert.ok(s.llm.systemPromptChars > 2000, "the real system prompt with a full practice");
      assert.ok(s.tts.firstAudioMs > 0);
      const single = s.probe.single as ProbeFigures;
      const many = s.probe.concurrent as ProbeFigures;
      assert.equal(single.calls, 1);
      assert.equal(many.calls, 2);
      assert.deepEqual([...single.errors, ...many.errors], []);
      assert.equal(single.voiceToVoice.n, 2, "1 call x 2 turns answered");
      assert.equal(many.voiceToVoice.n, 2, "2 calls x 1 turn answered");
      assert.ok(many.voiceToVoice.p50 > 0 && many.voiceToVoice.p95 >= many.voiceToVoice.p50);
      assert.ok(s.wallSeconds > 0);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
