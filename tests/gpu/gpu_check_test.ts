/**
 * tests/gpu/gpu_check.sh where no GPU is: it fails at once saying why, refuses unknown arguments, and its
 * synthetic-model generation (small shapes, on the CPU) writes a whisper model and a GGUF.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ENGINES, skipWithoutEngines } from "../_engines.ts";

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
