/**
 * Where each model runs, read from the engines' own output (their logs under `<dataDir>/logs`), and whether
 * the profile's VRAM budget holds with every model loaded (the catalogue's VRAM needs against the GPU's
 * memory). The messages parsed are those llama.cpp (`llama-model.cpp`, `llama.cpp`) and whisper.cpp
 * (`whisper.cpp`) print; llama-server prints them with `-lv 4` (specs.ts passes it whenever it passes
 * `-ngl`). The last start in a log wins.
 *
 * @module
 */

/** What llama-server said about its model. */
export interface LlamaPlacement {
  /** `CUDA0 (NVIDIA L4)` from "using device ...". */
  device?: string;
  /** "offloaded N/M layers to GPU". */
  offloaded?: { layers: number; of: number };
  /** MiB per buffer (model, KV, compute), summed by buffer name (`CUDA0`, `CPU_Mapped`, `CPU`). */
  buffersMiB: Record<string, number>;
}

/** What whisper-server said about its backend. */
export interface WhisperPlacement {
  /** `CUDA0` from "whisper_backend_init_gpu: using CUDA0 backend"; undefined: the CPU. */
  gpuBackend?: string;
  /** "use gpu = 0" (`-ng`) or "no GPU found". */
  cpuOnly: boolean;
  /** MiB per buffer name from "total size = X MB". */
  buffersMiB: Record<string, number>;
}

const lastStart = (text: string, marker: RegExp): string => {
  const starts = [...text.matchAll(marker)];
  const last = starts.at(-1);
  return last ? text.slice(last.index) : text;
};

/** Parse llama-server's output (the last start in it). */
export function parseLlamaLog(text: string): LlamaPlacement {
  const t = lastStart(text, /llama_server: initializing|main: loading model|load_model: loading model/g);
  const out: LlamaPlacement = { buffersMiB: {} };
  const dev = [...t.matchAll(/using device (\S+) \(([^)]*)\)/g)].at(-1);
  if (dev) out.device = `${dev[1]} (${dev[2]})`;
  const off = [...t.matchAll(/offloaded (\d+)\/(\d+) layers to GPU/g)].at(-1);
  if (off) out.offloaded = { layers: Number(off[1]), of: Number(off[2]) };
  for (const m of t.matchAll(/(\S+)\s+(?:model|KV|compute|output)\s+buffer size\s*=\s*([\d.]+) MiB/g)) {
    out.buffersMiB[m[1]] = (out.buffersMiB[m[1]] ?? 0) + Number(m[2]);
  }
  return out;
}

/** Parse whisper-server's output (the last start in it). */
export function parseWhisperLog(text: string): WhisperPlacement {
  const t = lastStart(text, /whisper_init_from_file_with_params_no_state|whisper_init_with_params_no_state/g);
  const gpu = /whisper_backend_init_gpu: using (\S+) backend/.exec(t);
  const out: WhisperPlacement = {
    cpuOnly: !gpu && (/use gpu\s*=\s*0/.test(t) || /whisper_backend_init_gpu: no GPU found/.test(t)),
    buffersMiB: {},
  };
  if (gpu) out.gpuBackend = gpu[1];
  for (const m of t.matchAll(/whisper_model_load:\s+(\S+) total size =\s*([\d.]+) MB/g)) {
    out.buffersMiB[m[1]] = (out.buffersMiB[m[1]] ?? 0) + Number(m[2]) * 1e6 / 2 ** 20;
  }
  return out;
}

const isGpuBuffer = (name: string) => /^(CUDA|Vulkan|ROCm|Metal)/i.test(name);
const gpuMiB = (b: Record<string, number>) =>
  Math.round(Object.entries(b).filter(([k]) => isGpuBuffer(k)).reduce((s, [, v]) => s + v, 0));

/** One line for `tom doctor`: where the LLM runs. */
export function describeLlama(p: LlamaPlacement): string {
  if (!p.offloaded || p.offloaded.layers === 0) {
    return "llm: on the CPU (no layers offloaded to a GPU)";
  }
  const where = p.device ?? "GPU";
  const part = p.offloaded.layers >= p.offloaded.of ? "all" : "PART of the";
  return `llm: ${part} layers on ${where}: ${p.offloaded.layers}/${p.offloaded.of} offloaded, ` +
    `${gpuMiB(p.buffersMiB)} MiB VRAM (model, KV cache, compute)`;
}

/** One line for `tom doctor`: where speech recognition runs. */
export function describeWhisper(p: WhisperPlacement): string {
  if (!p.gpuBackend) return "stt: on the CPU" + (p.cpuOnly ? "" : " (no GPU backend reported)");
  return `stt: on ${p.gpuBackend} (whisper CUDA/Vulkan backend), model ${gpuMiB(p.buffersMiB)} MiB VRAM`;
}

/** The VRAM budget with every model loaded. */
export interface VramBudget {
  needMiB: number;
  haveMiB: number;
  holds: boolean;
  /** How the need adds up, for a person. */
  detail: string;
}

/**
 * Whether the models fit the GPU: the LLM once, the STT model once per pool member, and 10 % headroom.
 *
 * @param needs catalogue VRAM need per role (MiB; 0 for a role without a catalogue entry)
 */
export function vramBudget(
  needs: { sttMiB: number; llmMiB: number },
  sttPool: number,
  gpuTotalMiB: number,
): VramBudget {
  const models = needs.llmMiB + needs.sttMiB * Math.max(1, sttPool);
  const needMiB = Math.round(models * 1.1);
  return {
    needMiB,
    haveMiB: gpuTotalMiB,
    holds: needMiB <= gpuTotalMiB,
    detail: `LLM ${needs.llmMiB} MiB + ${Math.max(1, sttPool)} x STT ${needs.sttMiB} MiB + 10 % = ` +
      `${needMiB} MiB of ${gpuTotalMiB} MiB`,
  };
}
