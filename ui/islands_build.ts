/**
 * Island bundles: every `islands/*.tsx` becomes a browser ES module that hydrates the island's
 * server-rendered HTML, built with `deno bundle` (esbuild: minified, code-split so Preact is one shared
 * chunk) and served under a content-hashed path `/ui/i/<hash>/<file>` with immutable caching.
 *
 * Builds are cached by a hash of their inputs (island and client sources, deno.json, Deno version) in
 * `cacheDir`, so only the first start after a change bundles; `deno task start` needs nothing else.
 * Worklets (`ui/client/*.worklet.ts`) are bundled as separate entries.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join, resolve, toFileUrl } from "./_path.ts";

/** What a finished build holds. */
export interface IslandManifest {
  /** Hash of the inputs (cache key). */
  inputHash: string;
  /** Hash of the outputs (URL path segment). */
  outputHash: string;
  /** Entry name -> output file name. */
  entries: Record<string, string>;
  /** Entry name -> shared chunk files it imports (for modulepreload). */
  imports: Record<string, string[]>;
  /** Output file -> size in bytes. */
  sizes: Record<string, number>;
}

/** Options of {@linkcode buildIslands}. */
export interface BuildOptions {
  /** Repository root (contains deno.json, islands/, ui/client/). */
  root: string;
  /** Where builds are cached. */
  cacheDir: string;
  /** The deno executable (default: this process's, which must be the deno CLI). */
  denoBin?: string;
}

const ROOT_DEFAULT = resolve(import.meta.dirname ?? ".", "..");

/** The repository root this module was loaded from. */
export function defaultRoot(): string {
  return ROOT_DEFAULT;
}

function listEntries(root: string): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  for (const e of Deno.readDirSync(join(root, "islands"))) {
    if (e.isFile && /^[A-Z][A-Za-z0-9]*\.tsx$/.test(e.name)) {
      out.push({ name: e.name.slice(0, -4), path: join(root, "islands", e.name) });
    }
  }
  try {
    for (const e of Deno.readDirSync(join(root, "ui", "client"))) {
      if (e.isFile && e.name.endsWith(".worklet.ts")) {
        out.push({ name: e.name.slice(0, -3).replace(".", "-"), path: join(root, "ui", "client", e.name) });
      }
    }
  } catch { /* no client dir */ }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function sourceFiles(root: string): string[] {
  const files: string[] = [join(root, "deno.json")];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) walk(p);
      else if (/\.(tsx?|js)$/.test(e.name)) files.push(p);
    }
  };
  walk(join(root, "islands"));
  try {
    walk(join(root, "ui", "client"));
  } catch { /* none */ }
  return files.sort();
}

/** Hash of everything a build depends on. */
export function islandInputHash(root: string): string {
  const h = createHash("sha256").update(`deno ${Deno.version.deno}\0`);
  for (const f of sourceFiles(root)) h.update(f.slice(root.length)).update("\0").update(Deno.readFileSync(f));
  return h.digest("hex").slice(0, 20);
}

/** Read a cached build, or undefined. */
export function readCachedBuild(cacheDir: string, inputHash: string): IslandManifest | undefined {
  try {
    const m = JSON.parse(Deno.readTextFileSync(join(cacheDir, inputHash, "manifest.json"))) as IslandManifest;
    return m.inputHash === inputHash ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bundle the islands (or find the cached build of the same inputs).
 *
 * @throws {Error} with deno bundle's output when bundling fails.
 */
export async function buildIslands(opts: BuildOptions): Promise<IslandManifest> {
  const root = opts.root;
  const inputHash = islandInputHash(root);
  const cached = readCachedBuild(opts.cacheDir, inputHash);
  if (cached) return cached;
  const entries = listEntries(root);
  const work = join(opts.cacheDir, `tmp-${crypto.randomUUID().slice(0, 8)}`);
  const src = join(work, "src");
  const out = join(work, "out");
  Deno.mkdirSync(src, { recursive: true });
  const hydrate = toFileUrl(join(root, "ui", "client", "hydrate.ts"));
  const entryFiles = entries.map(({ name, path }) => {
    const file = join(src, `${name}.ts`);
    const body = path.endsWith(".tsx")
      ? `import { hydrateIslands } from ${JSON.stringify(hydrate)};\n` +
        `import C from ${JSON.stringify(toFileUrl(path))};\nhydrateIslands(${JSON.stringify(name)}, C);\n`
      : `import ${JSON.stringify(toFileUrl(path))};\n`;
    Deno.writeTextFileSync(file, body);
    return file;
  });
  try {
    const res = await new Deno.Command(opts.denoBin ?? Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--config",
        join(root, "deno.json"),
        "--platform",
        "browser",
        "--format",
        "esm",
        "--minify",
        "--code-splitting",
        "--outdir",
        out,
        ...entryFiles,
      ],
      cwd: root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (res.code !== 0) {
      throw new Error(
        `Cannot bundle islands: deno bundle exited ${res.code}\n${new TextDecoder().decode(res.stderr)}`,
      );
    }
    const sizes: Record<string, number> = {};
    const h = createHash("sha256");
    const names = [...Deno.readDirSync(out)].filter((e) => e.isFile && e.name.endsWith(".js")).map((e) =>
      e.name
    )
      .sort();
    const imports: Record<string, string[]> = {};
    for (const n of names) {
      const bytes = Deno.readFileSync(join(out, n));
      sizes[n] = bytes.byteLength;
      h.update(n).update("\0").update(bytes);
    }
    for (const { name } of entries) {
      const text = Deno.readTextFileSync(join(out, `${name}.js`));
      imports[name] = [
        ...new Set([...text.matchAll(/from\s*"\.\/(chunk-[A-Za-z0-9_-]+\.js)"/g)].map((m) => m[1])),
      ];
    }
    const manifest: IslandManifest = {
      inputHash,
      outputHash: h.digest("hex").slice(0, 16),
      entries: Object.fromEntries(entries.map(({ name }) => [name, `${name}.js`])),
      imports,
      sizes,
    };
    Deno.writeTextFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2));
    const dest = join(opts.cacheDir, inputHash);
    try {
      Deno.renameSync(out, dest);
    } catch (e) {
      // Another process finished the same build first: use theirs.
      if (!readCachedBuild(opts.cacheDir, inputHash)) throw e;
    }
    return readCachedBuild(opts.cacheDir, inputHash) ?? manifest;
  } finally {
    try {
      Deno.removeSync(work, { recursive: true });
    } catch { /* already gone */ }
  }
}

/**
 * Build from the command line (before `tom serve` starts, or before compiling):
 * `deno run -A ui/islands_build.ts [--cache DIR] [--out DIR]`. `--cache` is the cache the server reads
 * (default `.cache/ui-islands`; the server's is `<dataDir>/cache/ui-islands`); `--out` also copies the
 * build into one fixed folder (for `deno compile --include`).
 */
if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(name);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const cacheDir = resolve(arg("--cache") ?? join(ROOT_DEFAULT, ".cache", "ui-islands"));
  const m = await buildIslands({ root: ROOT_DEFAULT, cacheDir });
  const out = arg("--out");
  if (out) {
    Deno.mkdirSync(out, { recursive: true });
    for (const f of [...Object.keys(m.sizes), "manifest.json"]) {
      Deno.copyFileSync(join(cacheDir, m.inputHash, f), join(out, f));
    }
  }
  console.log(JSON.stringify({ dir: join(cacheDir, m.inputHash), out: out ?? null, ...m }, null, 2));
}
