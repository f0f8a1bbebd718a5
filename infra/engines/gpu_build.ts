/**
 * Which backend whisper.cpp and llama.cpp are compiled for: CUDA for the NVIDIA GPU's architecture when nvcc
 * is there, else Vulkan when its headers and glslc are there, else the CPU (with a warning `tom doctor`
 * repeats). {@linkcode chooseBackend} is a pure function of the detected {@linkcode BuildFacts}; each built
 * binary carries a stamp (`<binary>.backend`: `cpu`, `vulkan` or `cuda-89`) so a binary built for another
 * backend is rebuilt. A binary without a stamp was built before stamps existed: CPU.
 *
 * @module
 */
import { filePresent, findBinary } from "./files.ts";

/** One NVIDIA GPU as provisioning sees it. */
export interface BuildGpu {
  name: string;
  /** Compute capability as nvidia-smi prints it (`8.9`). */
  computeCap: string;
  memoryMiB: number;
}

/** What the build choice depends on. */
export interface BuildFacts {
  /** The first NVIDIA GPU (nvidia-smi), or null. */
  gpu: BuildGpu | null;
  /** Path of nvcc, or null. */
  nvcc: string | null;
  /** `vulkan/vulkan.h` (libvulkan-dev) is installed. */
  vulkanHeaders: boolean;
  /** Path of glslc (the shader compiler Vulkan builds need), or null. */
  glslc: string | null;
}

/** A backend to build for. */
export type Backend = "cuda" | "vulkan" | "cpu";

/** The build decided from the facts. */
export interface BackendChoice {
  backend: Backend;
  /** The stamp written beside each binary (`cpu`, `vulkan`, `cuda-89`). */
  stamp: string;
  /** Extra cmake definitions (none for the CPU: the build stays exactly as it always was). */
  defines: string[];
  /** Why, in one line (provisioning prints it). */
  reason: string;
  /** Set when the engines end up slower than the box allows (provisioning and `tom doctor` print it). */
  warning?: string;
}

/** How to get a CUDA compiler on Debian (printed when a GPU is there but nvcc is not). */
export const NVCC_HINT =
  "install a CUDA compiler: apt-get install nvidia-cuda-toolkit (Debian non-free), or " +
  "cuda-toolkit from NVIDIA's Debian repository (https://developer.nvidia.com/cuda-downloads), then run " +
  "`deno task engines` again";

/** `8.9` -> `89` (CMAKE_CUDA_ARCHITECTURES); undefined when it is not a compute capability. */
export function cudaArch(computeCap: string): string | undefined {
  const m = /^(\d{1,2})\.(\d)$/.exec(computeCap.trim());
  return m ? `${m[1]}${m[2]}` : undefined;
}

/** Choose the backend for the detected facts. */
export function chooseBackend(f: BuildFacts): BackendChoice {
  const arch = f.gpu ? cudaArch(f.gpu.computeCap) : undefined;
  if (f.gpu && f.nvcc && arch) {
    return {
      backend: "cuda",
      stamp: `cuda-${arch}`,
      defines: ["-DGGML_CUDA=ON", `-DCMAKE_CUDA_ARCHITECTURES=${arch}`, `-DCMAKE_CUDA_COMPILER=${f.nvcc}`],
      reason:
        `NVIDIA ${f.gpu.name} (compute capability ${f.gpu.computeCap}) and ${f.nvcc}: CUDA for sm_${arch}`,
    };
  }
  if (f.gpu && f.vulkanHeaders && f.glslc) {
    return {
      backend: "vulkan",
      stamp: "vulkan",
      defines: ["-DGGML_VULKAN=ON"],
      reason: `NVIDIA ${f.gpu.name} without nvcc, Vulkan headers and glslc present: Vulkan`,
      warning: `engines built for Vulkan, not CUDA (slower on NVIDIA): ${NVCC_HINT}`,
    };
  }
  if (f.gpu) {
    return {
      backend: "cpu",
      stamp: "cpu",
      defines: [],
      reason: `NVIDIA ${f.gpu.name} found, but no CUDA compiler and no Vulkan build tools: CPU`,
      warning: `engines built for the CPU although an NVIDIA GPU (${f.gpu.name}) is present; ${NVCC_HINT} ` +
        "(or apt-get install libvulkan-dev glslc for a Vulkan build)",
    };
  }
  return {
    backend: "cpu",
    stamp: "cpu",
    defines: [],
    reason: f.nvcc ? "nvcc found but no NVIDIA GPU: CPU" : "no NVIDIA GPU: CPU",
    warning: "no NVIDIA GPU found: engines built for the CPU (enough for the cpu-dev profile; the realtime " +
      "and single-agent profiles need an NVIDIA GPU)",
  };
}

/** Parse `nvidia-smi --query-gpu=name,compute_cap,memory.total --format=csv,noheader,nounits`. */
export function parseGpuBuildQuery(text: string): BuildGpu[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").flatMap((line) => {
    const parts = line.split(",").map((p) => p.trim());
    const memoryMiB = Number(parts.at(-1));
    const computeCap = parts.at(-2) ?? "";
    if (parts.length < 3 || !Number.isFinite(memoryMiB) || !cudaArch(computeCap)) return [];
    return [{ name: parts.slice(0, -2).join(","), computeCap, memoryMiB }];
  });
}

async function output(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const o = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "null" }).output();
    return o.success ? new TextDecoder().decode(o.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/** Where Debian's and NVIDIA's packages put nvcc when it is not on PATH. */
const NVCC_PLACES = ["/usr/local/cuda/bin/nvcc", "/usr/bin/nvcc"];

/** Detect the facts on this machine (nvidia-smi, nvcc, vulkan.h, glslc). */
export async function detectBuildFacts(): Promise<BuildFacts> {
  const smi = await findBinary("nvidia-smi");
  const query = smi
    ? await output(smi, ["--query-gpu=name,compute_cap,memory.total", "--format=csv,noheader,nounits"])
    : undefined;
  let nvcc = (await findBinary("nvcc")) ?? null;
  for (const p of NVCC_PLACES) if (!nvcc && (await filePresent(p))) nvcc = p;
  return {
    gpu: query ? parseGpuBuildQuery(query)[0] ?? null : null,
    nvcc,
    vulkanHeaders: await filePresent("/usr/include/vulkan/vulkan.h"),
    glslc: (await findBinary("glslc")) ?? null,
  };
}

/** The stamp file of a binary. */
export function backendStampFile(binary: string): string {
  return `${binary}.backend`;
}

/**
 * The backend a binary was built for: its stamp; `cpu` for a binary without one (built before stamps
 * existed, always for the CPU); undefined when the binary is missing.
 */
export async function builtBackend(binary: string): Promise<string | undefined> {
  if (!(await filePresent(binary))) return undefined;
  const stamp = await Deno.readTextFile(backendStampFile(binary)).catch(() => "");
  return stamp.trim() || "cpu";
}

/** Record what a binary was built for. */
export async function writeBackendStamp(binary: string, stamp: string): Promise<void> {
  await Deno.writeTextFile(backendStampFile(binary), stamp + "\n");
}

/** The warning `tom doctor` repeats for the engines' build (none when they use the GPU that is there). */
export function buildWarning(
  built: string | undefined,
  gpuPresent: boolean,
  profile: string,
): string | undefined {
  if (built === undefined || built.startsWith("cuda")) return undefined;
  if (built === "vulkan") return `engines built for Vulkan, not CUDA (slower on NVIDIA): ${NVCC_HINT}`;
  if (gpuPresent) {
    return `engines built for the CPU although an NVIDIA GPU is present; ${NVCC_HINT}`;
  }
  return profile === "cpu-dev"
    ? undefined
    : `engines built for the CPU and no NVIDIA GPU found: the ${profile} ` +
      "profile needs an NVIDIA GPU and a CUDA build (README: clinic section)";
}
