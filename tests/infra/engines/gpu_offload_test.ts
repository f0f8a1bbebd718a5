/**
 * `tom doctor`'s "where does each model run": the engines' own log lines. The CPU lines are copied from a
 * run of this box's llama-server (`-lv 4`) and whisper-server (`-ng`); the CUDA lines are the same messages
 * as llama.cpp (src/llama.cpp, src/llama-model.cpp) and whisper.cpp (src/whisper.cpp) print them with a CUDA
 * build, filled in for an NVIDIA L4.
 */
import assert from "node:assert/strict";
import {
  describeLlama,
  describeWhisper,
  parseLlamaLog,
  parseWhisperLog,
  vramBudget,
} from "../../../infra/engines/gpu_offload.ts";

const LLAMA_CPU = `0.00.000.466 I srv  llama_server: initializing ...
0.00.220.738 I load_tensors: loading model tensors, this can take a while... (load_mode = mmap)
0.00.222.866 I load_tensors:   CPU_Mapped model buffer size =    15.94 MiB
0.00.223.606 I llama_context:        CPU  output buffer size =     0.49 MiB
0.00.223.715 I llama_kv_cache:        CPU KV buffer size =     8.00 MiB
0.00.230.779 I sched_reserve:        CPU compute buffer size =    17.01 MiB
`;

const LLAMA_CUDA = `0.00.000.401 I srv  llama_server: initializing ...
0.00.102.114 I llama_model_load_from_file_impl: using device CUDA0 (NVIDIA L4) (0000:00:03.0) - 22478 MiB free
0.01.201.003 I load_tensors: offloading output layer to GPU
0.01.201.010 I load_tensors: offloading 28 repeating layers to GPU
0.01.201.012 I load_tensors: offloaded 29/29 layers to GPU
0.01.201.020 I load_tensors:        CUDA0 model buffer size =  4168.09 MiB
0.01.201.021 I load_tensors:   CPU_Mapped model buffer size =   292.36 MiB
0.01.402.511 I llama_kv_cache:      CUDA0 KV buffer size =   448.00 MiB
0.01.420.001 I sched_reserve:      CUDA0 compute buffer size =   304.00 MiB
0.01.420.002 I sched_reserve:  CUDA_Host compute buffer size =    15.01 MiB
`;

const WHISPER_CPU = `whisper_init_with_params_no_state: use gpu    = 0
whisper_model_load:          CPU total size =     7.43 MB
whisper_backend_init_gpu: no GPU found
`;

const WHISPER_CUDA = `whisper_init_with_params_no_state: use gpu    = 1
whisper_backend_init_gpu: device 0: CUDA0 (type: 1)
whisper_backend_init_gpu: found GPU device 0: CUDA0 (type: 1, cnt: 0)
whisper_backend_init_gpu: using CUDA0 backend
whisper_model_load:        CUDA0 total size =   573.40 MB
`;

Deno.test("the doctor says the LLM runs on the CPU when llama-server offloaded nothing", () => {
  const p = parseLlamaLog(LLAMA_CPU);
  assert.equal(p.offloaded, undefined);
  assert.equal(p.buffersMiB["CPU_Mapped"], 15.94);
  assert.equal(describeLlama(p), "llm: on the CPU (no layers offloaded to a GPU)");
});

Deno.test("the doctor says every layer is on the L4 with its VRAM, from the last start in the log", () => {
  const p = parseLlamaLog(LLAMA_CPU + LLAMA_CUDA);
  assert.deepEqual(p.offloaded, { layers: 29, of: 29 });
  assert.equal(p.device, "CUDA0 (NVIDIA L4)");
  assert.equal(
    describeLlama(p),
    "llm: all layers on CUDA0 (NVIDIA L4): 29/29 offloaded, 4935 MiB VRAM (model, KV cache, compute)",
  );
  const partial = parseLlamaLog(LLAMA_CUDA.replace("29/29", "20/29"));
  assert.match(describeLlama(partial), /PART of the layers on CUDA0/);
  // The GPU run came first, the CPU run last: the CPU run counts.
  assert.match(describeLlama(parseLlamaLog(LLAMA_CUDA + LLAMA_CPU)), /on the CPU/);
});

Deno.test("whisper-server's backend: CUDA0 with the model's VRAM, or the CPU", () => {
  assert.equal(describeWhisper(parseWhisperLog(WHISPER_CPU)), "stt: on the CPU");
  const gpu = parseWhisperLog(WHISPER_CUDA);
  assert.equal(gpu.gpuBackend, "CUDA0");
  assert.equal(describeWhisper(gpu), "stt: on CUDA0 (whisper CUDA/Vulkan backend), model 547 MiB VRAM");
});

Deno.test("the VRAM budget: the catalogue's GPU set fits 12 GiB with two STT members, not 8 GiB with four", () => {
  const needs = { sttMiB: 900, llmMiB: 5600 };
  const twelve = vramBudget(needs, 2, 12 * 1024);
  assert.equal(twelve.holds, true, twelve.detail);
  const eight = vramBudget(needs, 4, 8 * 1024);
  assert.equal(eight.holds, false);
  assert.equal(eight.detail, "LLM 5600 MiB + 4 x STT 900 MiB + 10 % = 10120 MiB of 8192 MiB");
});
