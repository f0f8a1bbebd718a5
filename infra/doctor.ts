/**
 * `tom doctor`: what this box has (CPU, RAM, disk, GPU), whether every configured engine works, and
 * which hardware gates pass. The configured profile's gate decides the exit code.
 *
 * Engines are checked where they are: an engine whose port answers is checked as it runs (for example
 * under `tom serve`). A managed engine (whisper-server, llama-server) that is not running is started
 * briefly by a {@linkcode Supervisor}, checked and stopped again, so the check proves that the binary
 * and the model really start; `startManaged: false` only looks for the binary and the model instead.
 * Unmanaged engines (Ollama, an OpenAI-compatible server) are never started. Nothing secret is reported:
 * no configuration values besides paths, and URLs without credentials.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { type Logger, silentLogger } from "./log.ts";
import { type EngineKind, type EngineName, type EngineSpec, engineSpecs } from "./engines/specs.ts";
import { checkEngine } from "./engines/health.ts";
import {
  type CpuFacts,
  type DiskFacts,
  type GpuFacts,
  type HardwareProbes,
  type RamFacts,
  systemProbes,
} from "./engines/hardware.ts";
import { Supervisor } from "./supervisor.ts";
import { sizeEnginePools } from "./engines/pool.ts";
import { demoModelRoles, realModelsHint } from "./engines/model_selection.ts";
import { buildWarning, builtBackend } from "./engines/gpu_build.ts";
import { chooseGpuLayers, gpuLayerFacts } from "./engines/gpu_layers.ts";
import {
  describeLlama,
  describeWhisper,
  parseLlamaLog,
  parseWhisperLog,
  type VramBudget,
  vramBudget,
} from "./engines/gpu_offload.ts";
import { catalogueVramMiB } from "./engines/models_catalog.ts";
import { join } from "node:path";

/** One engine as the doctor saw it. */
export interface DoctorEngine {
  name: EngineName;
  kind: EngineKind;
  managed: boolean;
  url?: string;
  binaryFound?: boolean;
  modelPresent?: boolean;
  healthy: boolean;
  reason?: string;
  detail?: string;
  /** Works, but not as configured (Piper cannot speak: espeak-ng does). */
  degraded?: string;
  latencyMs: number;
  /**
   * How it was checked: `running` (its port answered), `started-by-doctor` (a managed engine started
   * briefly), `not-running` (nothing answered and the doctor did not start it), `local` (a CLI or a file).
   */
  checked: "running" | "started-by-doctor" | "not-running" | "local";
}

/** The hardware gates. */
export type GateName = "realtime-ready" | "single-agent-ready" | "cpu-dev";

/** One gate's verdict. */
export interface GateResult {
  name: GateName;
  pass: boolean;
  /** Why it fails (empty when it passes). */
  reasons: string[];
}

/** Everything `tom doctor` found. */
export interface DoctorReport {
  /** ISO time of the run. */
  time: string;
  profile: Config["profile"];
  /** The gate of the configured profile. */
  gate: GateName;
  /** True when that gate passes. */
  ok: boolean;
  cpu: CpuFacts;
  ram: RamFacts;
  disk: DiskFacts | null;
  gpu: GpuFacts;
  engines: DoctorEngine[];
  gates: GateResult[];
  warnings: string[];
  /** How many calls at once: the STT pool and LLM slots TOM will start, and the admission limit. */
  capacity?: { sttPool: number; llmParallel: number; why: string; maxCalls: number };
  /** What the engines were built for (`cpu`, `vulkan`, `cuda-89`; stamps beside the binaries). */
  builtFor?: { stt?: string; llm?: string };
  /** Where each model runs, from the engines' own logs (absent: no log yet). */
  placement?: string[];
  /** Whether the catalogue's VRAM needs of every loaded model fit the GPU (absent: no GPU). */
  vramBudget?: VramBudget;
}

/**
 * Gate requirements, nominal sizes in GiB. Firmware and kernel keep part of each: a "32 GB" box reports
 * about 31.3 GiB MemTotal and a "16 GB" T4 reports 15 GiB, so a value within {@linkcode NOMINAL_TOLERANCE}
 * of the nominal size passes.
 */
export const GATE_REQUIREMENTS: Readonly<Record<GateName, { vramGiB: number; ramGiB: number }>> = {
  /** STT + LLM + TTS on one GPU for several concurrent calls. */
  "realtime-ready": { vramGiB: 12, ramGiB: 32 },
  /** One agent at a time with a small LLM. */
  "single-agent-ready": { vramGiB: 8, ramGiB: 16 },
  /** Development on CPU with tiny models. */
  "cpu-dev": { vramGiB: 0, ramGiB: 0 },
};
/** Share of a nominal size that counts as having it (see {@linkcode GATE_REQUIREMENTS}). */
export const NOMINAL_TOLERANCE = 0.94;
/** Below this much free disk in dataDir the doctor warns (database, recordings, logs). */
export const MIN_FREE_DISK_BYTES = 5 * 1024 ** 3;

const PROFILE_GATE: Record<Config["profile"], GateName> = {
  "realtime": "realtime-ready",
  "single-agent": "single-agent-ready",
  "cpu-dev": "cpu-dev",
};
const GIB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

/** Judge every gate from the facts. */
export function evaluateGates(
  facts: { ram: RamFacts; gpu: GpuFacts; engines: DoctorEngine[] },
): GateResult[] {
  const vram = Math.max(0, ...facts.gpu.devices.map((d) => d.memoryTotalBytes));
  const best = facts.gpu.devices.find((d) => d.memoryTotalBytes === vram);
  const broken = facts.engines.filter((e) => !e.healthy)
    .map((e) => `engine ${e.name} (${e.kind}) not healthy: ${e.reason?.split("\n")[0] ?? "unknown"}`);
  return (Object.keys(GATE_REQUIREMENTS) as GateName[]).map((name) => {
    const req = GATE_REQUIREMENTS[name];
    const reasons: string[] = [];
    if (req.vramGiB > 0 && vram < req.vramGiB * GIB * NOMINAL_TOLERANCE) {
      reasons.push(
        best
          ? `GPU ${best.name} has ${gib(vram)} VRAM, needs ${req.vramGiB} GB`
          : `no NVIDIA GPU found, needs one with ${req.vramGiB} GB VRAM`,
      );
    }
    if (req.ramGiB > 0 && facts.ram.totalBytes < req.ramGiB * GIB * NOMINAL_TOLERANCE) {
      reasons.push(`RAM is ${gib(facts.ram.totalBytes)}, needs ${req.ramGiB} GB`);
    }
    reasons.push(...broken);
    return { name, pass: reasons.length === 0, reasons };
  });
}

/** Options of {@linkcode runDoctor}. */
export interface DoctorOptions {
  /** Replace hardware probes (tests). */
  probes?: Partial<HardwareProbes>;
  /** Replace the engine checks (tests). */
  checkEngines?: (specs: EngineSpec[]) => Promise<DoctorEngine[]>;
  /** Start managed engines that are not running, briefly (default true). */
  startManaged?: boolean;
  /** Log of the temporary supervisor (default silent). */
  log?: Logger;
  /** How long a briefly started engine may take to become healthy (default 120 s). */
  startTimeoutMs?: number;
}

async function checkOne(spec: EngineSpec, opts: DoctorOptions): Promise<DoctorEngine> {
  let h = await checkEngine(spec);
  let checked: DoctorEngine["checked"] = !spec.url
    ? "local"
    : h.reachable === false
    ? "not-running"
    : "running";
  const startable = spec.managed && !h.ok && h.reachable === false && h.binaryFound && h.modelPresent;
  if (startable && opts.startManaged !== false) {
    const sup = new Supervisor([spec], {
      log: opts.log ?? silentLogger,
      startTimeoutMs: opts.startTimeoutMs,
    });
    checked = "started-by-doctor";
    try {
      await sup.start();
      h = await checkEngine(spec);
    } catch (e) {
      h = { ...h, ok: false, reason: e instanceof Error ? e.message : String(e) };
    } finally {
      await sup.stop();
    }
  }
  const out: DoctorEngine = {
    name: h.name,
    kind: h.kind,
    managed: h.managed,
    healthy: h.ok,
    latencyMs: h.latencyMs,
    checked,
  };
  for (const k of ["url", "binaryFound", "modelPresent", "reason", "detail", "degraded"] as const) {
    if (h[k] !== undefined) Object.assign(out, { [k]: h[k] });
  }
  return out;
}

/**
 * Examine the box and the engines.
 *
 * @param config The loaded configuration.
 * @returns The report; `ok` is the verdict of the configured profile's gate.
 */
export async function runDoctor(config: Config, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const probes: HardwareProbes = { ...systemProbes, ...opts.probes };
  let specs: EngineSpec[] = [];
  let specError: string | undefined;
  try {
    specs = engineSpecs(config);
  } catch (e) {
    specError = e instanceof Error ? e.message : String(e);
  }
  const engineCheck = opts.checkEngines ??
    ((s: EngineSpec[]) => Promise.all(s.map((x) => checkOne(x, opts))));
  const [cpu, ram, disk, gpu, engines] = await Promise.all([
    probes.cpu(),
    probes.ram(),
    probes.disk(config.dataDir),
    probes.gpu(),
    engineCheck(specs),
  ]);
  const gates = evaluateGates({ ram, gpu, engines });
  const warnings: string[] = [];
  if (specError) warnings.push(specError);
  const demo = demoModelRoles(config);
  if (demo.length > 0) {
    warnings.push(
      `synthetic demo models active (${demo.join(", ")}): TOM does not really understand or speak yet; ` +
        realModelsHint(config.profile),
    );
  }
  for (const e of engines) if (e.degraded) warnings.push(`degraded ${e.name}: ${e.degraded}`);
  if (disk && disk.freeBytes < MIN_FREE_DISK_BYTES) {
    warnings.push(`only ${gib(disk.freeBytes)} free on the disk of ${disk.path}`);
  }
  if (ram.totalBytes === 0) warnings.push("memory could not be read (tom doctor needs --allow-sys)");
  else if (ram.availableBytes < 1 * GIB) warnings.push(`only ${gib(ram.availableBytes)} of memory available`);
  if (!disk) {
    warnings.push(`disk space of ${config.dataDir} could not be read (statfs failed or not permitted)`);
  }
  const gpuFacts = await gpuReport(config, gpu, capacityOf(config, cpu, gpu)?.sttPool ?? 1);
  for (const w of gpuFacts.warnings) warnings.push(w);
  const gate = PROFILE_GATE[config.profile];
  const gateOk = gates.find((g) => g.name === gate)?.pass ?? false;
  return {
    time: new Date().toISOString(),
    profile: config.profile,
    gate,
    ok: gateOk && specError === undefined,
    cpu,
    ram,
    disk,
    gpu,
    engines,
    gates,
    warnings,
    capacity: capacityOf(config, cpu, gpu),
    builtFor: gpuFacts.builtFor,
    ...(gpuFacts.placement.length > 0 ? { placement: gpuFacts.placement } : {}),
    ...(gpuFacts.budget ? { vramBudget: gpuFacts.budget } : {}),
  };
}

async function logTail(path: string): Promise<string | undefined> {
  try {
    using f = await Deno.open(path, { read: true });
    const size = (await f.stat()).size;
    await f.seek(Math.max(0, size - 256 * 1024), Deno.SeekMode.Start);
    const buf = new Uint8Array(Math.min(size, 256 * 1024));
    let off = 0;
    while (off < buf.length) {
      const n = await f.read(buf.subarray(off));
      if (n === null) break;
      off += n;
    }
    return new TextDecoder().decode(buf.subarray(0, off));
  } catch {
    return undefined;
  }
}

/** The engines' build, where their models run (their logs) and the VRAM budget (catalogue vs GPU). */
async function gpuReport(config: Config, gpu: GpuFacts, sttPool: number) {
  const builtFor = {
    stt: config.stt.kind === "whisper-server" ? await builtBackend(config.stt.bin) : undefined,
    llm: config.llm.kind === "llama-server" ? await builtBackend(config.llm.bin) : undefined,
  };
  const warnings = [
    ...new Set([builtFor.stt, builtFor.llm].map((b) => buildWarning(b, gpu.present, config.profile))),
  ].filter((w): w is string => w !== undefined);
  const placement: string[] = [];
  const logs = join(config.dataDir, "logs");
  const sttLog = config.stt.kind === "whisper-server" ? await logTail(join(logs, "stt.log")) : undefined;
  if (sttLog) placement.push(describeWhisper(parseWhisperLog(sttLog)));
  const llmLog = config.llm.kind === "llama-server" ? await logTail(join(logs, "llm.log")) : undefined;
  if (llmLog) placement.push(describeLlama(parseLlamaLog(llmLog)));
  const device = gpu.devices[0];
  let budget: VramBudget | undefined;
  if (device) {
    const need = catalogueVramMiB(config.models.catalog);
    budget = vramBudget(
      {
        sttMiB: config.stt.kind === "whisper-server" ? need(config.stt.model) : 0,
        llmMiB: config.llm.kind === "llama-server" ? need(config.llm.model) : 0,
      },
      sttPool,
      Math.round(device.memoryTotalBytes / 1024 ** 2),
    );
    if (!budget.holds) warnings.push(`VRAM budget does not hold with every model loaded: ${budget.detail}`);
    // What `tom serve` chooses for `-ngl auto` (the whole GPU: TOM's own models may be loaded now).
    if (config.llm.kind === "llama-server") {
      const layers = chooseGpuLayers(
        await gpuLayerFacts({ ...config, stt: { ...config.stt, poolSize: sttPool } }, budget.haveMiB),
      );
      if (layers.warning) warnings.push(layers.warning);
    }
  }
  return { builtFor, warnings, placement, budget };
}

/** The pool sizes `tom serve` will choose on this box (infra/engines/pool.ts) and `TOM_MAX_CALLS`. */
function capacityOf(config: Config, cpu: CpuFacts, gpu: GpuFacts): DoctorReport["capacity"] {
  const d = gpu.present ? gpu.devices[0] : undefined;
  let sttModelBytes = 0;
  try {
    sttModelBytes = config.stt.model ? Deno.statSync(config.stt.model).size : 0;
  } catch {
    sttModelBytes = 0;
  }
  const s = sizeEnginePools(config, {
    cores: cpu.cores || 1,
    gpuFreeBytes: d ? Math.max(0, d.memoryTotalBytes - d.memoryUsedBytes) : undefined,
    sttModelBytes,
  });
  return { ...s, maxCalls: config.maxCalls };
}

const mark = (ok: boolean) => (ok ? "✓" : "✗");

/** The report as text for a person. */
export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  lines.push(`TOM doctor: profile ${r.profile} (gate ${r.gate}): ${r.ok ? "✓ READY" : "✗ NOT READY"}`, "");
  lines.push("Hardware");
  lines.push(`  ✓ CPU   ${r.cpu.model}, ${r.cpu.cores} cores`);
  lines.push(`  ✓ RAM   ${gib(r.ram.totalBytes)} total, ${gib(r.ram.availableBytes)} available`);
  lines.push(
    r.disk
      ? `  ${mark(r.disk.freeBytes >= MIN_FREE_DISK_BYTES)} Disk  ${gib(r.disk.freeBytes)} free of ${
        gib(r.disk.totalBytes)
      } (${r.disk.path})`
      : "  ✗ Disk  could not be read",
  );
  if (r.gpu.devices.length === 0) lines.push(`  - GPU   none${r.gpu.note ? ` (${r.gpu.note})` : ""}`);
  for (const d of r.gpu.devices) {
    lines.push(`  ✓ GPU   ${d.name}, ${gib(d.memoryTotalBytes)} VRAM (${gib(d.memoryUsedBytes)} used)`);
  }
  lines.push("", "Engines");
  if (r.engines.length === 0) lines.push("  (none configured)");
  for (const e of r.engines) {
    const where = e.url ? ` ${e.url}` : "";
    const how = e.checked === "started-by-doctor" ? ", started briefly by doctor" : "";
    lines.push(
      `  ${mark(e.healthy)} ${e.name.padEnd(4)}${e.kind.padEnd(15)}${where} (${e.latencyMs} ms${how})`,
    );
    if (e.detail) lines.push(`        ${e.detail}`);
    if (e.binaryFound !== undefined) lines.push(`        ${mark(e.binaryFound)} binary found`);
    if (e.modelPresent !== undefined) lines.push(`        ${mark(e.modelPresent)} model present`);
    if (e.reason) lines.push(...e.reason.split("\n").map((l) => `        ${l}`));
  }
  lines.push("", "Gates");
  for (const g of r.gates) {
    const mine = g.name === r.gate ? " (configured profile)" : "";
    lines.push(`  ${mark(g.pass)} ${g.name}${mine}`);
    for (const reason of g.reasons) lines.push(`      - ${reason}`);
  }
  if (r.capacity) {
    const c = r.capacity;
    lines.push("", "Capacity");
    lines.push(`  STT pool ${c.sttPool} whisper-server(s), LLM ${c.llmParallel} slot(s) (${c.why})`);
    lines.push(
      `  TOM_MAX_CALLS ${c.maxCalls === 0 ? "0 (no limit: one call too many slows every call)" : c.maxCalls}`,
    );
    lines.push(
      "  set it to the largest number of calls whose p95 voice-to-voice stays within budget:",
      "  deno run -A tests/bench/capacity_bench.ts --pool N --search (or `tom probe --calls C --stagger MS`)",
    );
  }
  if (r.builtFor || r.placement || r.vramBudget) {
    lines.push("", "GPU");
    const b = r.builtFor;
    if (b) lines.push(`  engines built for: stt ${b.stt ?? "-"}, llm ${b.llm ?? "-"}`);
    for (const p of r.placement ?? []) lines.push(`  ${p}`);
    if (r.vramBudget) lines.push(`  ${mark(r.vramBudget.holds)} VRAM budget: ${r.vramBudget.detail}`);
  }
  if (r.warnings.length > 0) {
    lines.push("", "Warnings");
    for (const w of r.warnings) lines.push(`  ! ${w}`);
  }
  return lines.join("\n");
}

/**
 * The `tom doctor [--json]` command: print the report and return the exit code.
 *
 * @returns 0 when the configured profile's gate passes, else 1.
 */
export async function doctorMain(config: Config, opts: { json: boolean } & DoctorOptions): Promise<number> {
  const report = await runDoctor(config, opts);
  console.log(opts.json ? JSON.stringify(report, null, 2) : formatDoctor(report));
  return report.ok ? 0 : 1;
}
