/**
 * Facts about the box the engines run on: CPU, memory, disk and NVIDIA GPUs. Each probe is a function
 * so `tom doctor` can be tested with injected facts.
 *
 * @module
 */
import { cpus } from "node:os";
import { statfs } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { findBinary } from "./files.ts";

/** The processor. */
export interface CpuFacts {
  model: string;
  cores: number;
}

/** Main memory, in bytes. */
export interface RamFacts {
  totalBytes: number;
  availableBytes: number;
}

/** The file system holding a path, in bytes. */
export interface DiskFacts {
  path: string;
  totalBytes: number;
  freeBytes: number;
}

/** One NVIDIA GPU, memory in bytes. */
export interface GpuDevice {
  name: string;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
}

/** The GPUs found (`present: false` with no devices when there is no NVIDIA driver). */
export interface GpuFacts {
  present: boolean;
  devices: GpuDevice[];
  /** Why the GPUs could not be read (nvidia-smi missing or failing). */
  note?: string;
}

/** Hardware probes; each may be replaced (tests inject facts). */
export interface HardwareProbes {
  cpu(): Promise<CpuFacts>;
  ram(): Promise<RamFacts>;
  disk(path: string): Promise<DiskFacts | null>;
  gpu(): Promise<GpuFacts>;
}

const MIB = 1024 * 1024;

async function run(cmd: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; out: string }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const o = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: ac.signal,
    })
      .output();
    const text = new TextDecoder().decode(o.success ? o.stdout : o.stderr);
    return { ok: o.success, out: text };
  } catch (e) {
    return { ok: false, out: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

/** CPU facts from `node:os`; without `--allow-sys` only the core count is known. */
function cpu(): Promise<CpuFacts> {
  try {
    const list = cpus();
    return Promise.resolve({ model: list[0]?.model?.trim() || "unknown", cores: list.length });
  } catch {
    return Promise.resolve({
      model: "unknown (needs --allow-sys)",
      cores: navigator.hardwareConcurrency || 0,
    });
  }
}

/** Memory from `Deno.systemMemoryInfo`; zero when system information is not permitted (`--allow-sys`). */
function ram(): Promise<RamFacts> {
  try {
    const m = Deno.systemMemoryInfo();
    return Promise.resolve({ totalBytes: m.total, availableBytes: m.available });
  } catch {
    return Promise.resolve({ totalBytes: 0, availableBytes: 0 });
  }
}

async function existingAncestor(path: string): Promise<string> {
  let p = resolve(path);
  for (;;) {
    try {
      await Deno.stat(p);
      return p;
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

/** Disk space from statfs (in-process: the served process runs no `df`); `bavail` is df's "Available". */
async function disk(path: string): Promise<DiskFacts | null> {
  const at = await existingAncestor(path);
  try {
    const s = await statfs(at);
    return { path: resolve(path), totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
  } catch {
    return null;
  }
}

/** Parse `nvidia-smi --query-gpu=name,memory.total,memory.used --format=csv,noheader,nounits` (MiB). */
export function parseNvidiaSmi(text: string): GpuDevice[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").flatMap((line) => {
    const parts = line.split(",").map((p) => p.trim());
    const used = Number(parts.at(-1));
    const total = Number(parts.at(-2));
    if (parts.length < 3 || !Number.isFinite(total) || !Number.isFinite(used)) return [];
    return [{
      name: parts.slice(0, -2).join(","),
      memoryTotalBytes: total * MIB,
      memoryUsedBytes: used * MIB,
    }];
  });
}

async function gpu(): Promise<GpuFacts> {
  const bin = await findBinary("nvidia-smi");
  if (!bin) return { present: false, devices: [], note: "nvidia-smi not found" };
  const r = await run(
    bin,
    ["--query-gpu=name,memory.total,memory.used", "--format=csv,noheader,nounits"],
    15_000,
  );
  if (!r.ok) {
    return { present: false, devices: [], note: `nvidia-smi failed: ${r.out.trim().split("\n")[0]}` };
  }
  const devices = parseNvidiaSmi(r.out);
  return { present: devices.length > 0, devices };
}

/** The real probes of this machine. */
export const systemProbes: HardwareProbes = { cpu, ram, disk, gpu };
