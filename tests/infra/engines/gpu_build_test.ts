/**
 * The engine build's backend: CUDA / Vulkan / CPU chosen from faked tool availability, the stamp beside
 * each binary, and a rebuild (through the real provisioning step and cmake) when the choice changes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  backendStampFile,
  type BuildFacts,
  buildWarning,
  builtBackend,
  chooseBackend,
  parseGpuBuildQuery,
} from "../../../infra/engines/gpu_build.ts";
import { type ProgressEvent, provisionEngines } from "../../../infra/engines/provision.ts";

const L4 = { name: "NVIDIA L4", computeCap: "8.9", memoryMiB: 23034 };
const none: BuildFacts = { gpu: null, nvcc: null, vulkanHeaders: false, glslc: null };

Deno.test("a GPU with nvcc builds CUDA for exactly that GPU's architecture", () => {
  const c = chooseBackend({ ...none, gpu: L4, nvcc: "/usr/local/cuda/bin/nvcc" });
  assert.equal(c.backend, "cuda");
  assert.equal(c.stamp, "cuda-89");
  assert.ok(c.defines.includes("-DGGML_CUDA=ON"));
  assert.ok(c.defines.includes("-DCMAKE_CUDA_ARCHITECTURES=89"));
  assert.equal(c.warning, undefined);
});

Deno.test("a GPU without nvcc but with Vulkan headers and glslc builds Vulkan and says how to get nvcc", () => {
  const c = chooseBackend({ ...none, gpu: L4, vulkanHeaders: true, glslc: "/usr/bin/glslc" });
  assert.equal(c.backend, "vulkan");
  assert.deepEqual(c.defines, ["-DGGML_VULKAN=ON"]);
  assert.match(c.warning ?? "", /apt-get install nvidia-cuda-toolkit/);
  // Headers without glslc are not enough.
  assert.equal(chooseBackend({ ...none, gpu: L4, vulkanHeaders: true }).backend, "cpu");
});

Deno.test("nothing at all: CPU with a warning, and the CPU build gets no extra cmake definitions", () => {
  const c = chooseBackend(none);
  assert.equal(c.backend, "cpu");
  assert.deepEqual(c.defines, []);
  assert.match(c.warning ?? "", /no NVIDIA GPU/);
});

Deno.test("nvcc without a GPU stays CPU; a GPU without any compiler is CPU with the nvcc hint", () => {
  assert.equal(chooseBackend({ ...none, nvcc: "/usr/bin/nvcc" }).backend, "cpu");
  const c = chooseBackend({ ...none, gpu: L4 });
  assert.equal(c.backend, "cpu");
  assert.match(c.warning ?? "", /NVIDIA GPU \(NVIDIA L4\) is present; install a CUDA compiler/);
});

Deno.test("nvidia-smi's name, compute capability and memory are read", () => {
  const out = "NVIDIA GeForce RTX 4090, 8.9, 24564\nNVIDIA H100 80GB HBM3, 9.0, 81559\nbroken line\n";
  assert.deepEqual(parseGpuBuildQuery(out), [
    { name: "NVIDIA GeForce RTX 4090", computeCap: "8.9", memoryMiB: 24564 },
    { name: "NVIDIA H100 80GB HBM3", computeCap: "9.0", memoryMiB: 81559 },
  ]);
  assert.equal(chooseBackend({ ...none, gpu: parseGpuBuildQuery(out)[1], nvcc: "nvcc" }).stamp, "cuda-90");
});

Deno.test("doctor's warning: none for CUDA, the nvcc hint for a CPU build on a GPU box, quiet on cpu-dev", () => {
  assert.equal(buildWarning("cuda-89", true, "realtime"), undefined);
  assert.match(buildWarning("cpu", true, "cpu-dev") ?? "", /nvidia-cuda-toolkit/);
  assert.equal(buildWarning("cpu", false, "cpu-dev"), undefined);
  assert.match(buildWarning("cpu", false, "realtime") ?? "", /realtime profile needs an NVIDIA GPU/);
});

/** A llama.cpp stand-in: a cmake project whose `llama-server` target writes the definitions it got. */
async function fakeLlamaTree(dir: string): Promise<void> {
  const src = join(dir, "src", "llama.cpp");
  await Deno.mkdir(src, { recursive: true });
  await Deno.writeTextFile(
    join(src, "CMakeLists.txt"),
    `cmake_minimum_required(VERSION 3.10)
project(fake NONE)
if(NOT DEFINED GGML_CUDA)
  set(GGML_CUDA OFF)
endif()
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES none)
endif()
add_custom_target(llama-server ALL
  COMMAND \${CMAKE_COMMAND} -E make_directory \${CMAKE_BINARY_DIR}/bin
  COMMAND \${CMAKE_COMMAND} -E echo "cuda=\${GGML_CUDA} arch=\${CMAKE_CUDA_ARCHITECTURES}" > \${CMAKE_BINARY_DIR}/bin/llama-server)
`,
  );
}

Deno.test("an unstamped CPU binary is kept on a CPU box and rebuilt with CUDA when nvcc appears", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await fakeLlamaTree(dir);
    const bin = join(dir, "bin", "llama-server");
    await Deno.mkdir(join(dir, "bin"), { recursive: true });
    await Deno.writeTextFile(bin, "built for the CPU before stamps existed");
    assert.equal(await builtBackend(bin), "cpu", "no stamp counts as the CPU build that exists");

    const events: ProgressEvent[] = [];
    await provisionEngines({ dir, only: ["llama.cpp"], buildFacts: none, onProgress: (e) => events.push(e) });
    assert.deepEqual(events.map((e) => e.kind), ["skip"], "the CPU build is not touched");
    assert.equal(await Deno.readTextFile(bin), "built for the CPU before stamps existed");

    const cuda: BuildFacts = { ...none, gpu: L4, nvcc: "/opt/fake/nvcc" };
    const started = performance.now();
    await provisionEngines({ dir, only: ["llama.cpp"], buildFacts: cuda, jobs: 1 });
    console.log(`fake CUDA rebuild through cmake: ${(performance.now() - started).toFixed(0)} ms`);
    assert.match(await Deno.readTextFile(bin), /cuda=ON arch=89/);
    assert.equal((await Deno.readTextFile(backendStampFile(bin))).trim(), "cuda-89");

    const again: ProgressEvent[] = [];
    await provisionEngines({ dir, only: ["llama.cpp"], buildFacts: cuda, onProgress: (e) => again.push(e) });
    assert.deepEqual(again.map((e) => e.kind === "skip" && e.reason), ["llama-server built (cuda-89)"]);

    // The GPU is gone (or nvcc removed): back to the CPU build, in the CPU's own build directory.
    await provisionEngines({ dir, only: ["llama.cpp"], buildFacts: none, jobs: 1 });
    assert.match(await Deno.readTextFile(bin), /cuda=OFF arch=none/);
    assert.equal(await builtBackend(bin), "cpu");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
