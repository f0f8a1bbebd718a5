/**
 * llama-server's GPU layers (`-ngl`) when `llm.gpuLayers` is `auto` on a GPU profile: every layer when the
 * LLM fits the GPU's free memory next to the STT pool, else as many layers as fit (the model's layer count
 * from its GGUF header, `<arch>.block_count`), else none, with a warning `tom doctor` repeats.
 * `chooseGpuLayers` is pure; `resolveGpuLayers` reads the box (nvidia-smi, the catalogue, the GGUF) once at
 * start. cpu-dev keeps llama.cpp's own default (no `-ngl`), as it always was.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { type GpuFacts, systemProbes } from "./hardware.ts";
import { catalogueVramMiB } from "./models_catalog.ts";

const MIB = 1024 * 1024;
/** Kept free beyond the models' catalogue needs: the KV cache and compute buffers grow with slots. */
export const GPU_HEADROOM = 0.1;

/** What the choice looks at. */
export interface GpuLayerFacts {
  /** `llm.gpuLayers`: `auto`, `all` or a number. */
  configured: string;
  profile: string;
  /** The GPU memory TOM's engines may take, MiB (undefined: no GPU seen). */
  gpuFreeMiB?: number;
  /** The LLM's VRAM need (catalogue, else the model file's size), MiB. */
  llmMiB: number;
  /** One STT pool member's VRAM need, MiB, and how many members run. */
  sttMiB: number;
  sttPool: number;
  /** The LLM's layer count (GGUF `<arch>.block_count`; undefined: unknown). */
  layers?: number;
}

/** The choice: the `-ngl` value (undefined: llama.cpp's default), why, and a warning when not all fit. */
export interface GpuLayerChoice {
  layers: "all" | number | undefined;
  why: string;
  warning?: string;
}

/**
 * Choose llama-server's GPU layers.
 *
 * @param f the configuration and the box's facts
 */
export function chooseGpuLayers(f: GpuLayerFacts): GpuLayerChoice {
  if (f.configured !== "auto") {
    const n = Number(f.configured);
    return { layers: f.configured === "all" ? "all" : n, why: `llm.gpuLayers=${f.configured} (set)` };
  }
  if (f.profile === "cpu-dev") return { layers: undefined, why: "cpu-dev profile: llama.cpp's default" };
  if (f.gpuFreeMiB === undefined) {
    return { layers: "all", why: "no GPU seen: every layer (a CPU build ignores it)" };
  }
  const stt = f.sttMiB * Math.max(1, f.sttPool);
  const room = Math.floor(f.gpuFreeMiB / (1 + GPU_HEADROOM)) - stt;
  const sums = `LLM ${f.llmMiB} MiB, ${Math.max(1, f.sttPool)} x STT ${f.sttMiB} MiB, ` +
    `${f.gpuFreeMiB} MiB free less ${GPU_HEADROOM * 100} %`;
  if (f.llmMiB <= room) return { layers: "all", why: `every layer fits (${sums})` };
  const fit = f.layers !== undefined && f.llmMiB > 0
    ? Math.floor((f.layers * Math.max(0, room)) / f.llmMiB)
    : 0;
  if (fit > 0) {
    return {
      layers: fit,
      why: `${fit} of ${f.layers} layers fit (${sums})`,
      warning:
        `LLM runs partly on the CPU: ${fit} of ${f.layers} layers on the GPU (${sums}); answers come ` +
        "slower. A smaller model, fewer STT pool members or a GPU with more memory helps.",
    };
  }
  return {
    layers: 0,
    why: `no layer fits (${sums})`,
    warning: `LLM runs on the CPU: no layer fits the GPU (${sums}${
      f.layers === undefined ? "; layer count unknown" : ""
    }); answers come much slower.`,
  };
}

/** GGUF metadata value types (gguf.h `gguf_type`) and their sizes; 8 string, 9 array. */
const SCALAR_BYTES: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

/**
 * The layer count a GGUF file declares (`<general.architecture>.block_count`), read from its header
 * (the first MiBs only); undefined when the file is not GGUF or the key is not found there.
 */
export async function ggufBlockCount(path: string, readBytes = 8 * MIB): Promise<number | undefined> {
  let buf: Uint8Array;
  try {
    using file = await Deno.open(path);
    buf = new Uint8Array(readBytes);
    let n = 0;
    while (n < buf.length) {
      const got = await file.read(buf.subarray(n));
      if (got === null) break;
      n += got;
    }
    buf = buf.subarray(0, n);
  } catch {
    return undefined;
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const text = new TextDecoder();
  if (buf.length < 24 || text.decode(buf.subarray(0, 4)) !== "GGUF") return undefined;
  let o = 24; // magic, version u32, tensor count u64, kv count u64
  const kvCount = Number(dv.getBigUint64(16, true));
  const str = () => {
    const len = Number(dv.getBigUint64(o, true));
    const s = text.decode(buf.subarray(o + 8, o + 8 + len));
    o += 8 + len;
    return s;
  };
  const skip = (type: number) => {
    if (type === 8) return void str();
    if (type === 9) {
      const inner = dv.getUint32(o, true);
      const count = Number(dv.getBigUint64(o + 4, true));
      o += 12;
      if (inner !== 8 && inner !== 9) o += count * SCALAR_BYTES[inner];
      else for (let i = 0; i < count; i++) skip(inner);
      return;
    }
    const size = SCALAR_BYTES[type];
    if (size === undefined) throw new RangeError(`GGUF value type ${type}`);
    o += size;
  };
  let arch: string | undefined;
  try {
    for (let i = 0; i < kvCount; i++) {
      const key = str();
      const type = dv.getUint32(o, true);
      o += 4;
      if (key === "general.architecture" && type === 8) {
        arch = str();
        continue;
      }
      if (arch && key === `${arch}.block_count` && (type === 4 || type === 5)) return dv.getUint32(o, true);
      skip(type);
    }
  } catch { /* the header runs past what was read, or is malformed */ }
  return undefined;
}

async function fileMiB(path: string): Promise<number> {
  try {
    return Math.round((await Deno.stat(path)).size / MIB);
  } catch {
    return 0;
  }
}

/**
 * The facts for {@linkcode chooseGpuLayers} from this box: the catalogue's VRAM need of the configured
 * models (the LLM's file size when it has no entry), the GGUF's layer count, and `gpuMiB` (free now at
 * start; `tom doctor` passes the total, TOM's own models being loaded then).
 */
export async function gpuLayerFacts(
  config: Pick<Config, "profile" | "stt" | "llm" | "models">,
  gpuMiB: number | undefined,
): Promise<GpuLayerFacts> {
  const need = catalogueVramMiB(config.models.catalog);
  const llmMiB = need(config.llm.model) || await fileMiB(config.llm.model);
  return {
    configured: config.llm.gpuLayers ?? "auto",
    profile: config.profile,
    gpuFreeMiB: gpuMiB,
    llmMiB,
    sttMiB: config.stt.kind === "whisper-server" ? need(config.stt.model) : 0,
    sttPool: config.stt.poolSize,
    layers: await ggufBlockCount(config.llm.model),
  };
}

/**
 * The configuration with `llm.gpuLayers` decided for a managed llama-server (`auto` replaced by `all` or a
 * number), read from this box once at start; other configurations come back unchanged.
 *
 * @param config a loaded configuration with its pools sized (infra/engines/pool.ts)
 * @param probes the GPU probe (tests pass a fake)
 */
export async function resolveGpuLayers(
  config: Config,
  probes: { gpu(): Promise<GpuFacts> } = systemProbes,
): Promise<{ config: Config; choice?: GpuLayerChoice }> {
  const auto = (config.llm.gpuLayers ?? "auto") === "auto";
  if (!auto || config.profile === "cpu-dev" || !config.manageEngines || config.llm.kind !== "llama-server") {
    return { config };
  }
  const gpu = await probes.gpu();
  const d = gpu.present ? gpu.devices[0] : undefined;
  const free = d ? Math.round(Math.max(0, d.memoryTotalBytes - d.memoryUsedBytes) / MIB) : undefined;
  const choice = chooseGpuLayers(await gpuLayerFacts(config, free));
  const layers = choice.layers === undefined ? "auto" : String(choice.layers);
  return { config: { ...config, llm: { ...config.llm, gpuLayers: layers } }, choice };
}
