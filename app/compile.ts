/**
 * `deno task compile`: build the single `tom` executable with the egress policy's permission flags baked
 * in (from the configuration at build time: set `TOM_EGRESS_*`, `TOM_STT_URL`, `TOM_LLM_URL` before
 * compiling). Honours `DENORT_BIN` (Deno reads it itself) for machines that cannot download the runtime.
 *
 * What is embedded, and why it is enough:
 * - the module graph of main.ts (TS sources, migrations in store/schema_*.ts, rl/variants.json as a JSON
 *   import) and the admin UI's prebuilt island bundles (`.cache/ui-dist`, read by ui/assets.ts);
 * - only the npm packages main.ts reaches (`--exclude-unused-npm`: no playwright-core or axe-core), less
 *   what no runtime reads: source maps, type declarations, TypeScript sources, READMEs and changelogs;
 * - of onnxruntime-web only the self-contained `./wasm` bundle and the one wasm it runs
 *   (`ort-wasm-simd-threaded.wasm`, read as bytes into `ort.env.wasm.wasmBinary` by
 *   pipeline/engines/silero.ts); the packages only it depends on (protobufjs, long, ...) are left out,
 *   because the bundle inlines what it needs.
 * The .onnx model and the engines are not embedded: they are read from the engines directory.
 *
 * Usage: compile.ts [--output FILE] [--target TRIPLE]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join, relative } from "node:path";
import { loadConfig } from "../infra/mod.ts";
import { SILERO_MODEL_FILE } from "../pipeline/mod.ts";
import { servePermissionFlags } from "../infra/mod.ts";

/** One npm package of `deno info --json` (`npmPackages`). */
export interface NpmPackage {
  name: string;
  version: string;
  dependencies: string[];
  localPath?: string;
}

/** The parts of `deno info --json` this file reads. */
export interface DenoInfo {
  modules: { kind?: string; npmPackage?: string }[];
  npmPackages: Record<string, NpmPackage>;
}

/** The onnxruntime-web files the binary reads; the rest of the package (138 MB) is left out. */
export const ORT_KEEP: readonly string[] = [
  "package.json", // names the licence (MIT); the package ships no LICENSE file
  "dist/ort.wasm.bundle.min.mjs", // what `onnxruntime-web/wasm` resolves to (the "import" condition)
  "dist/ort-wasm-simd-threaded.wasm", // the one wasm silero.ts loads (no JSEP, JSPI or asyncify)
];

/**
 * Files of npm packages no runtime reads: source maps, type declarations and TypeScript sources (Deno
 * loads a package's JavaScript; zod's 3 MB of `src/*.ts` are only named by its own `@zod/source`
 * condition), docs (licences stay).
 */
const UNREAD = /\.(map|[cm]?tsx?)$|^(?!licen[cs]e|copying|notice).*\.(md|markdown)$/i;

/** The npm packages main.ts can load: those its modules name, and their dependencies. */
export function reachablePackages(info: DenoInfo, skipDepsOf: readonly string[] = []): Set<string> {
  const seen = new Set<string>();
  const todo = info.modules.flatMap((m) => m.kind === "npm" && m.npmPackage ? [m.npmPackage] : []);
  while (todo.length > 0) {
    const id = todo.pop() as string;
    if (seen.has(id)) continue;
    const pkg = info.npmPackages[id];
    if (!pkg) throw new Error(`Cannot plan the compile: deno info names npm package ${id} but lists no such`);
    seen.add(id);
    if (!skipDepsOf.includes(pkg.name)) todo.push(...pkg.dependencies);
  }
  return seen;
}

/** Paths under `dir` that match `drop`, as whole folders where every file in them matches. */
function unreadFiles(dir: string, drop: (rel: string, name: string) => boolean, base = dir): string[] {
  const out: string[] = [];
  let all = true;
  for (const e of Deno.readDirSync(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) {
      const sub = unreadFiles(path, drop, base);
      if (sub.length === 1 && sub[0] === path) out.push(path);
      else {
        all = false;
        out.push(...sub);
      }
    } else if (drop(relative(base, path), e.name)) out.push(path);
    else all = false;
  }
  return all && dir !== base ? [dir] : out;
}

/**
 * The `--exclude` paths that keep only what the binary reads of the npm packages main.ts reaches.
 *
 * @param info `deno info --json main.ts`
 * @returns absolute paths in Deno's npm cache
 * @throws {Error} when a file of {@linkcode ORT_KEEP} is missing or a package has no local path
 */
export function npmExcludes(info: DenoInfo): string[] {
  const all = reachablePackages(info);
  const needed = reachablePackages(info, ["onnxruntime-web"]);
  const out: string[] = [];
  for (const id of [...all].sort()) {
    const pkg = info.npmPackages[id];
    if (!pkg.localPath) throw new Error(`Cannot plan the compile: npm package ${id} is not in the cache`);
    if (!needed.has(id)) {
      out.push(pkg.localPath); // only onnxruntime-web depends on it, and its bundle inlines what it needs
    } else if (pkg.name === "onnxruntime-web") {
      for (const keep of ORT_KEEP) {
        try {
          Deno.statSync(join(pkg.localPath, keep));
        } catch {
          throw new Error(`Cannot plan the compile: onnxruntime-web ${pkg.version} has no ${keep}`);
        }
      }
      out.push(...unreadFiles(pkg.localPath, (rel) => !ORT_KEEP.includes(rel.replaceAll("\\", "/"))));
    } else {
      out.push(...unreadFiles(pkg.localPath, (_rel, name) => UNREAD.test(name)));
    }
  }
  return out;
}

/** Files copied into the repository before the compile and embedded (the Silero VAD model). */
export const EMBEDDED_DIR = ".cache/embedded";

/**
 * Copy the Silero VAD model (config `vad.model`, provisioned by `deno task engines`) to
 * {@linkcode EMBEDDED_DIR}, so the binary carries it and needs no engines directory for its VAD.
 *
 * @throws {Error} naming the command to run when the model is missing
 */
export function stageEmbeddedFiles(root: string, vadModel: string): string {
  const dir = join(root, EMBEDDED_DIR);
  Deno.mkdirSync(dir, { recursive: true });
  const target = join(dir, SILERO_MODEL_FILE);
  try {
    Deno.copyFileSync(vadModel, target);
  } catch (e) {
    throw new Error(
      `Cannot embed the VAD model ${vadModel}: ${(e as Error).message} (run: deno task engines)`,
    );
  }
  return target;
}

/** Options of {@linkcode compileArgs}. */
export interface CompileOptions {
  output: string;
  target?: string;
  /** `--allow-*` flags baked into the binary. */
  permissions: string[];
  /** From {@linkcode npmExcludes}. */
  excludes: string[];
}

/** The `deno compile` arguments (run in the repository root). */
export function compileArgs(opts: CompileOptions): string[] {
  return [
    "compile",
    ...opts.permissions,
    "--exclude-unused-npm",
    "--include",
    ".cache/ui-dist",
    "--include",
    EMBEDDED_DIR,
    // Provisioning from the binary builds the engine guard from its C source (infra/engines/provision.ts).
    "--include",
    "infra/engines/engine_guard.c",
    ...opts.excludes.flatMap((p) => ["--exclude", p]),
    "--output",
    opts.output,
    ...(opts.target ? ["--target", opts.target] : []),
    "main.ts",
  ];
}

async function denoInfo(root: string): Promise<DenoInfo> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("Cannot plan the compile: deno info main.ts failed");
  return JSON.parse(new TextDecoder().decode(out.stdout)) as DenoInfo;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { output: { type: "string", default: "tom" }, target: { type: "string" } },
  });
  const config = loadConfig();
  const root = join(import.meta.dirname ?? ".", "..");
  // The admin UI's island bundles are built now and embedded: the binary cannot run `deno bundle`. The
  // folder is emptied first, so that no chunk of an earlier build is embedded with them.
  try {
    Deno.removeSync(join(root, ".cache", "ui-dist"), { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const islands = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "ui/islands_build.ts", "--out", ".cache/ui-dist"],
    cwd: root,
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!islands.success) {
    console.error("tom compile: bundling the admin UI's islands failed");
    Deno.exit(1);
  }
  try {
    stageEmbeddedFiles(root, config.vad.model);
  } catch (e) {
    console.error(`tom compile: ${(e as Error).message}`);
    Deno.exit(1);
  }
  const excludes = npmExcludes(await denoInfo(root));
  const args = compileArgs({
    output: values.output,
    target: values.target,
    permissions: servePermissionFlags(config),
    excludes,
  });
  const shown = args.filter((a, i) => a !== "--exclude" && args[i - 1] !== "--exclude");
  console.error(
    `tom compile: deno ${shown.join(" ")} (and ${excludes.length} --exclude of unread npm files)`,
  );
  if (Deno.env.get("DENORT_BIN")) {
    console.error(`tom compile: runtime base from DENORT_BIN=${Deno.env.get("DENORT_BIN")}`);
  }
  const status = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  })
    .spawn().status;
  Deno.exit(status.code);
}
