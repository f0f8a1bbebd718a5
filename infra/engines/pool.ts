/**
 * How many calls one box can transcribe at once: the STT pool (whisper-server processes behind the shared
 * fair queue) and llama-server's parallel slots, sized from the box when the configuration says 0 (auto),
 * and the address of each pool member. `sizeEnginePools` is pure; `autoSizeEnginePools` reads the box
 * (cores, GPU memory, model size) once at start.
 *
 * Measured on the 2-core development box (synthetic tiny model, 6 utterances at once): two 1-thread
 * whisper-servers finish in 0.80 s what one 2-thread server needs 1.17 s for (whisper-server decodes one
 * request at a time, and a 2-thread decode is not twice as fast), so on a CPU the pool has one member per
 * `stt.threads` cores (`TOM_STT_THREADS=1` on a small box: one member per core). On a GPU each member
 * holds its own copy of the model: a quarter of the free GPU memory goes to the pool (the rest is the
 * LLM's), at most 4 members (they share the GPU's compute).
 *
 * @module
 */
import type { Config } from "../config.ts";
import { systemProbes } from "./hardware.ts";

/** Most pool members sized automatically on a CPU box. */
export const MAX_AUTO_CPU_POOL = 8;
/** Most pool members sized automatically on a GPU box. */
export const MAX_AUTO_GPU_POOL = 4;
const MIB = 1024 * 1024;

/** What the automatic sizing looks at. */
export interface PoolFacts {
  /** CPU cores. */
  cores: number;
  /** Free memory of the GPU the engines use, in bytes (absent: no GPU). */
  gpuFreeBytes?: number;
  /** Size of the STT model file, in bytes (0: unknown). */
  sttModelBytes: number;
}

/** The pool sizes chosen, with the reason (for `tom doctor` and the start log). */
export interface PoolSizing {
  sttPool: number;
  llmParallel: number;
  why: string;
}

/**
 * Size the STT pool and the LLM's slots.
 *
 * @param config `stt.poolSize`, `stt.threads`, `llm.parallel` (0: automatic)
 * @param facts the box
 */
export function sizeEnginePools(
  config: { stt: Pick<Config["stt"], "poolSize" | "threads">; llm: Pick<Config["llm"], "parallel"> },
  facts: PoolFacts,
): PoolSizing {
  let sttPool = config.stt.poolSize;
  let why = `stt.poolSize=${sttPool} (set)`;
  if (sttPool === 0) {
    if (facts.gpuFreeBytes !== undefined && facts.gpuFreeBytes > 0) {
      // A member on the GPU: the model, about as much again for its buffers, and 512 MiB of work space.
      const member = 2 * Math.max(facts.sttModelBytes, 75 * MIB) + 512 * MIB;
      sttPool = clamp(Math.floor(facts.gpuFreeBytes / 4 / member), 1, MAX_AUTO_GPU_POOL);
      why = `GPU with ${Math.round(facts.gpuFreeBytes / MIB)} MiB free: a quarter of it at ` +
        `${Math.round(member / MIB)} MiB per whisper-server`;
    } else {
      sttPool = clamp(Math.floor(facts.cores / config.stt.threads), 1, MAX_AUTO_CPU_POOL);
      why = `${facts.cores} CPU cores / stt.threads ${config.stt.threads}`;
    }
  }
  // On a GPU llama-server batches its slots (one per call the STT pool serves at once); on a CPU the slots
  // only share out the same cores and each call's first token comes later (measured on 2 cores, 20
  // calls: p95 first token 3.6 s with 2 slots against 1.4 s with one), so one slot.
  const gpu = facts.gpuFreeBytes !== undefined && facts.gpuFreeBytes > 0;
  const llmParallel = config.llm.parallel > 0 ? config.llm.parallel : gpu ? sttPool : 1;
  return { sttPool, llmParallel, why };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/**
 * The configuration with `stt.poolSize` and `llm.parallel` decided (never 0), read from this box.
 *
 * @param config a loaded configuration (paths resolved)
 * @param probes the hardware probes (tests pass fakes)
 */
export async function autoSizeEnginePools(
  config: Config,
  probes: Pick<typeof systemProbes, "cpu" | "gpu"> = systemProbes,
): Promise<{ config: Config; sizing: PoolSizing }> {
  if (!config.manageEngines && config.stt.poolSize === 0) {
    // Servers TOM does not start: it cannot know how many there are; one unless configured.
    config = { ...config, stt: { ...config.stt, poolSize: 1 } };
  }
  if (config.stt.poolSize > 0 && config.llm.parallel > 0) {
    return { config, sizing: sizeEnginePools(config, { cores: 0, sttModelBytes: 0 }) };
  }
  const [cpu, gpu] = await Promise.all([probes.cpu(), config.stt.poolSize === 0 ? probes.gpu() : null]);
  let sttModelBytes = 0;
  try {
    sttModelBytes = config.stt.model ? (await Deno.stat(config.stt.model)).size : 0;
  } catch {
    sttModelBytes = 0; // not provisioned yet: the minimum member size is assumed
  }
  const device = gpu?.present ? gpu.devices[0] : undefined;
  const sizing = sizeEnginePools(config, {
    cores: cpu.cores || navigator.hardwareConcurrency || 1,
    gpuFreeBytes: device ? Math.max(0, device.memoryTotalBytes - device.memoryUsedBytes) : undefined,
    sttModelBytes,
  });
  return {
    config: {
      ...config,
      stt: { ...config.stt, poolSize: sizing.sttPool },
      llm: { ...config.llm, parallel: sizing.llmParallel },
    },
    sizing,
  };
}

/**
 * The base URL of every STT pool member (without a trailing slash): the first is `stt.url`; member i
 * (from 1) listens on the same host at `stt.poolPort + i - 1`, or with `poolPort` 0 (the default) at
 * `stt.url`'s port + 100 i (below it when that passes 65535), so two TOMs on different STT ports get
 * different pools. `poolSize` 0 counts as 1 here (the pool is sized at start).
 */
export function sttPoolUrls(config: { stt: Pick<Config["stt"], "url" | "poolSize" | "poolPort"> }): string[] {
  const first = new URL(config.stt.url);
  const base = config.stt.url.replace(/\/+$/, "");
  const urls = [base];
  for (let i = 1; i < Math.max(1, config.stt.poolSize); i++) {
    const u = new URL(first.href);
    const p = Number(first.port || (first.protocol === "https:" ? 443 : 80));
    const above = p + 100 * i;
    u.port = String(
      config.stt.poolPort > 0 ? config.stt.poolPort + i - 1 : above <= 65535 ? above : p - 100 * i,
    );
    urls.push(u.href.replace(/\/+$/, ""));
  }
  return urls;
}
