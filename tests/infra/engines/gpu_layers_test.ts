/**
 * llama-server's GPU layers from the GPU's memory: every layer when the LLM fits next to the STT pool,
 * a proportional share when it does not, none (with a warning for `tom doctor`) when nothing fits; the
 * layer count read from a GGUF header.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  chooseGpuLayers,
  ggufBlockCount,
  type GpuLayerFacts,
  resolveGpuLayers,
} from "../../../infra/engines/gpu_layers.ts";
import { engineSpecs } from "../../../infra/engines/specs.ts";
import { PATHS, testConfig } from "../fixtures/engines.ts";

// Qwen3-8B Q4_K_M (the catalogue's 5700 MiB, 36 layers) and whisper large-v3-turbo q5_0 (900 MiB per pool
// member).
const qwen: GpuLayerFacts = {
  configured: "auto",
  profile: "realtime",
  llmMiB: 5700,
  sttMiB: 900,
  sttPool: 2,
  layers: 36,
};

Deno.test("a 24 GB GPU holds the whole LLM next to two whisper-servers: every layer", () => {
  const c = chooseGpuLayers({ ...qwen, gpuFreeMiB: 24_000 });
  assert.equal(c.layers, "all");
  assert.equal(c.warning, undefined);
  assert.match(c.why, /every layer fits/);
});

Deno.test("an 8 GB GPU with four whisper-servers: a proportional share of the layers, and a warning", () => {
  // 8000 / 1.1 = 7272 MiB, less 4 x 900 = 3672 MiB for the LLM: 36 * 3672 / 5700 = 23 layers.
  const c = chooseGpuLayers({ ...qwen, sttPool: 4, gpuFreeMiB: 8_000 });
  assert.equal(c.layers, 23);
  assert.match(c.warning ?? "", /23 of 36 layers on the GPU/);
});

Deno.test("a GPU the STT pool fills: no layer, the LLM on the CPU, said as a warning", () => {
  const c = chooseGpuLayers({ ...qwen, sttPool: 4, gpuFreeMiB: 3_000 });
  assert.equal(c.layers, 0);
  assert.match(c.warning ?? "", /LLM runs on the CPU/);
  // Without the layer count no share can be computed: none rather than a guess.
  const unknown = chooseGpuLayers({ ...qwen, layers: undefined, gpuFreeMiB: 6_000 });
  assert.equal(unknown.layers, 0);
  assert.match(unknown.warning ?? "", /layer count unknown/);
});

Deno.test("set values, cpu-dev and a box without a GPU keep today's behaviour", () => {
  assert.equal(chooseGpuLayers({ ...qwen, configured: "12", gpuFreeMiB: 1_000 }).layers, 12);
  assert.equal(chooseGpuLayers({ ...qwen, configured: "all", gpuFreeMiB: 1_000 }).layers, "all");
  assert.equal(chooseGpuLayers({ ...qwen, profile: "cpu-dev", gpuFreeMiB: 24_000 }).layers, undefined);
  assert.equal(chooseGpuLayers({ ...qwen, gpuFreeMiB: undefined }).layers, "all");
});

/** A GGUF header with the given key/value pairs (strings, u32 values and a string array). */
function gguf(kvs: [string, string | number | string[]][]): Uint8Array {
  const parts: number[] = [];
  const u32 = (n: number) => parts.push(n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255);
  const u64 = (n: number) => (u32(n), u32(0));
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    u64(b.length);
    parts.push(...b);
  };
  parts.push(..."GGUF".split("").map((c) => c.charCodeAt(0)));
  u32(3);
  u64(0);
  u64(kvs.length);
  for (const [k, v] of kvs) {
    str(k);
    if (typeof v === "string") (u32(8), str(v));
    else if (typeof v === "number") (u32(4), u32(v));
    else (u32(9), u32(8), u64(v.length), v.forEach(str));
  }
  return new Uint8Array(parts);
}

Deno.test("the layer count comes from the GGUF header's <arch>.block_count", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "m.gguf");
    await Deno.writeFile(
      file,
      gguf([
        ["general.architecture", "qwen2"],
        ["tokenizer.ggml.tokens", ["a", "b", "c"]],
        ["general.alignment", 32],
        ["qwen2.block_count", 28],
      ]),
    );
    assert.equal(await ggufBlockCount(file), 28);
    await Deno.writeFile(file, gguf([["general.architecture", "llama"], ["llama.context_length", 4096]]));
    assert.equal(await ggufBlockCount(file), undefined);
    await Deno.writeTextFile(file, "not a gguf");
    assert.equal(await ggufBlockCount(file), undefined);
    assert.equal(await ggufBlockCount(join(dir, "missing.gguf")), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "the provisioned synthetic GGUF's layer count is read (llama.cpp's own writer)",
  ignore: (() => {
    try {
      return !Deno.statSync(PATHS.llamaModel).isFile;
    } catch {
      return true;
    }
  })(),
  async fn() {
    const n = await ggufBlockCount(PATHS.llamaModel);
    assert.ok(n !== undefined && n >= 1, `block_count ${n}`);
  },
});

Deno.test("tom serve's start: `auto` on a GPU profile becomes the chosen -ngl on llama-server's command line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A 5600 MiB LLM file (no catalogue entry: its size counts) with 28 layers, sparse on disk.
    const model = join(dir, "own-model.gguf");
    await Deno.writeFile(model, gguf([["general.architecture", "qwen2"], ["qwen2.block_count", 28]]));
    await Deno.truncate(model, 5600 * 1024 * 1024);
    const config = testConfig({ TOM_PROFILE: "realtime", TOM_LLM_MODEL: model, TOM_STT_POOL_SIZE: "1" });
    const gpu = (totalMiB: number, usedMiB: number) => ({
      gpu: () =>
        Promise.resolve({
          present: true,
          devices: [{
            name: "Fake GPU",
            memoryTotalBytes: totalMiB * 2 ** 20,
            memoryUsedBytes: usedMiB * 2 ** 20,
          }],
        }),
    });
    const ngl = (c: typeof config) => {
      const args = engineSpecs(c).find((s) => s.name === "llm")?.args ?? [];
      return args[args.indexOf("-ngl") + 1];
    };
    const big = await resolveGpuLayers(config, gpu(24_576, 500));
    assert.equal(ngl(big.config), "all");
    const small = await resolveGpuLayers(config, gpu(4_096, 96));
    assert.equal(ngl(small.config), String(small.choice?.layers));
    assert.ok(
      typeof small.choice?.layers === "number" && small.choice.layers > 0 && small.choice.layers < 28,
    );
    assert.ok(small.choice?.warning);
    // A set value and cpu-dev are left alone.
    const set = await resolveGpuLayers({ ...config, llm: { ...config.llm, gpuLayers: "7" } }, gpu(4_096, 96));
    assert.equal(ngl(set.config), "7");
    const dev = await resolveGpuLayers({ ...config, profile: "cpu-dev" }, gpu(4_096, 96));
    assert.equal(dev.config.llm.gpuLayers, "auto");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
