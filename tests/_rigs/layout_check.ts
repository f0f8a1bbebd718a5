/**
 * The layout check: reads the real import graph (`deno info --json`) of every product file and fails on any
 * import that breaks the dependency rule of DESIGN.md ("Layout"):
 *
 * - direction: `main.ts -> app/ -> routes/ -> islands/, ui/ -> rl/ -> pipeline/ -> gateway/ -> store/ ->
 *   infra/`; a folder imports only folders below it (ui/ never imports islands/; islands/ only ui/);
 * - faces: another top-level folder is imported only through a `mod.ts`, and a `mod.ts` only re-exports;
 *   a file never imports the `mod.ts` of its own folder (or of a folder above it in the same wing);
 *   a private `_file.ts` is imported only from its own folder;
 * - app/ is imported by nothing but main.ts;
 * - no import cycle between files (tests included);
 * - no product file is reachable only from tests (test-only code lives under tests/);
 * - no SQL outside store/ (a statement keyword in code, or a `.prepare(` call, in another product folder);
 * - names: no two product files share a base name with different meanings (mod.ts and the route files of
 *   routes/, named by their URL, are exempt; a name that means the same thing in each place is listed in
 *   {@linkcode SAME_MEANING} with the reason).
 *
 * Usage: `deno run -A tests/_rigs/layout_check.ts [ROOT] [--json]` (exit 1 and one line per violation,
 * naming the file and the import). The library face `checkLayout` is what tests/layout_test.ts drives.
 *
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

/** The folders of the rule, bottom (0) to top. */
export const RANK: Readonly<Record<string, number>> = {
  infra: 0,
  store: 1,
  gateway: 2,
  pipeline: 3,
  rl: 4,
  ui: 5,
  islands: 6,
  routes: 7,
  app: 8,
  "main.ts": 9,
};

/** Kinds of violation, for counting. */
export type ViolationKind =
  | "direction"
  | "face"
  | "private"
  | "app"
  | "mod-only-reexports"
  | "cycle"
  | "test-only"
  | "sql"
  | "name";

/** One broken rule: the importing file, the imported file (when there is one) and why. */
export interface Violation {
  kind: ViolationKind;
  file: string;
  imports?: string;
  why: string;
}

/** The import graph between the repository's own files (paths relative to the root). */
export type Graph = Map<string, Set<string>>;

/** Top-level folder of a repository path (`main.ts` for the command line), or null for tests and others. */
export function folderOf(path: string): string | null {
  if (path === "main.ts") return "main.ts";
  const top = path.split("/")[0];
  return top in RANK && path.includes("/") ? top : null;
}

/** Product files: every .ts/.tsx file in a folder of the rule, and main.ts. */
export function isProduct(path: string): boolean {
  return folderOf(path) !== null;
}

function base(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The folder of a path, with a trailing slash (`""` at the root). */
function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/") + 1);
}

/** Check the direction, face, private and app rules of one import. */
export function checkImport(from: string, to: string): Violation[] {
  const a = folderOf(from);
  const b = folderOf(to);
  if (a !== null && a === b && base(to) === "mod.ts" && from !== to && dirOf(from).startsWith(dirOf(to))) {
    return [{
      kind: "face",
      file: from,
      imports: to,
      why: "a file never imports the face of its own folder: import the file that defines it",
    }];
  }
  if (a === null || b === null || a === b) {
    if (a !== null && b === null && !to.startsWith("tests/")) return [];
    if (a !== null && to.startsWith("tests/")) {
      return [{ kind: "direction", file: from, imports: to, why: "product code imports test code" }];
    }
    return [];
  }
  const out: Violation[] = [];
  if (b === "app" && a !== "main.ts") {
    out.push({ kind: "app", file: from, imports: to, why: "nothing but main.ts imports app/" });
  } else if (a === "islands" && !to.startsWith("ui/client/")) {
    out.push({
      kind: "direction",
      file: from,
      imports: to,
      why: "islands/ imports only ui/client/ (browser code)",
    });
  } else if (RANK[a] <= RANK[b]) {
    out.push({
      kind: "direction",
      file: from,
      imports: to,
      why: `${a} is below ${b}: imports run top to bottom`,
    });
  }
  // main.ts loads each subcommand lazily from app/commands/ (a small command does not load the appliance),
  // so app/ has no face for main.ts; every other folder is entered through a mod.ts.
  if (base(to) !== "mod.ts" && b !== "main.ts" && !(a === "main.ts" && b === "app")) {
    out.push({
      kind: "face",
      file: from,
      imports: to,
      why: `another folder is imported only through a mod.ts`,
    });
  }
  if (base(to).startsWith("_")) {
    out.push({
      kind: "private",
      file: from,
      imports: to,
      why: "a private _file is imported only in its folder",
    });
  }
  return out;
}

/** A `mod.ts` that does more than re-export. */
export function checkModOnlyReexports(path: string, text: string): Violation[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const statements = code.split(";").map((s) => s.trim()).filter((s) => s !== "");
  const bad = statements.filter((s) =>
    !/^export\s+(type\s+)?(\*|\{[\s\S]*\}|\*\s+as\s+\w+)\s+from\s+["'][^"']+["']$/.test(s)
  );
  return bad.length === 0 ? [] : [{
    kind: "mod-only-reexports",
    file: path,
    why: `a mod.ts only re-exports; found: ${bad[0].replace(/\s+/g, " ").slice(0, 80)}`,
  }];
}

const SQL =
  /\b(SELECT\s+[\w*(]|INSERT\s+(INTO|OR)\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(TABLE|INDEX)\b|ALTER\s+TABLE\b|DROP\s+TABLE\b)|\.prepare\(/;

/** SQL in a product file outside store/: one violation per line (comments are skipped). */
export function checkSql(path: string, text: string): Violation[] {
  if (!isProduct(path) || folderOf(path) === "store") return [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " "));
  return code.split("\n").flatMap((line, i) =>
    /^\s*\/\//.test(line) || !SQL.test(line) ? [] : [{
      kind: "sql" as const,
      file: `${path}:${i + 1}`,
      why: `SQL belongs in store/: ${line.trim().slice(0, 80)}`,
    }]
  );
}

/**
 * Base names that product files share on purpose, because the name means the same thing in each place:
 * the files that may carry it, and why. A file not listed here that takes one of these names is reported.
 */
export const SAME_MEANING: Readonly<Record<string, { files: readonly string[]; why: string }>> = {
  backup: {
    files: ["app/commands/backup.ts", "store/backup.ts"],
    why: "`tom backup` (a subcommand is named by its command) runs the store's database backup",
  },
  doctor: {
    files: ["app/commands/doctor.ts", "infra/doctor.ts"],
    why: "`tom doctor` (a subcommand is named by its command) prints infra's doctor report",
  },
  token: {
    files: ["app/commands/token.ts", "gateway/auth/token.ts"],
    why: "`tom token` (a subcommand is named by its command) mints the gateway's call token",
  },
  bandit: {
    files: ["rl/bandit.ts", "store/bandit.ts"],
    why: "store/ names a module by the aggregate it keeps: the rows of the policy bandit in rl/",
  },
  feedback: {
    files: ["rl/feedback.ts", "store/feedback.ts"],
    why: "store/ names a module by the aggregate it keeps: the caller feedback that rl/ collects",
  },
  api_tokens: {
    files: ["store/api_tokens.ts", "ui/data/api_tokens.ts"],
    why: "store/ names a module by the aggregate it keeps: the /api tokens that ui/ issues and checks",
  },
  sessions: {
    files: ["store/sessions.ts", "ui/auth/sessions.ts"],
    why: "store/ names a module by the aggregate it keeps: the admin UI's login sessions",
  },
  settings: {
    files: ["store/settings.ts", "ui/data/settings.ts"],
    why: "store/ names a module by the aggregate it keeps: the per-account settings that ui/ bounds",
  },
  schedules: {
    files: ["app/schedules.ts", "store/schedules.ts", "ui/data/schedules.ts"],
    why: "the scheduled companion calls: their rows (store/), their form and due check (ui/), their wiring",
  },
  metrics: {
    files: ["pipeline/metrics.ts", "rl/metrics.ts"],
    why: "each wing's own Prometheus instruments (the turn and stage metrics; the learning loop's tom_rl_*)",
  },
  provision: {
    files: ["infra/asterisk/provision.ts", "infra/engines/provision.ts"],
    why: "the same idempotent provisioning steps (progress, log, error naming the step), one per subject",
  },
  stream: {
    files: ["gateway/browser/stream.ts", "gateway/twilio/stream.ts"],
    why: "each peer folder's media stream socket (the same role, one per peer)",
  },
  types: {
    files: ["pipeline/engines/types.ts", "store/types.ts", "ui/types.ts"],
    why: "the shared type vocabulary of its folder, like mod.ts is its face",
  },
};

/**
 * Product files that share a base name (`x.ts`, `x.tsx`) with different meanings: one violation per name.
 * mod.ts (every folder's face) and routes/ (route files are named by their URL) are exempt, and so are
 * the files `same` ({@linkcode SAME_MEANING}) lists for their name; a file listed there that is gone is
 * reported too, so the list stays true.
 */
export function checkNames(
  files: string[],
  same: Readonly<Record<string, { files: readonly string[] }>> = SAME_MEANING,
): Violation[] {
  const byName = new Map<string, string[]>();
  for (const f of files) {
    if (!isProduct(f) || folderOf(f) === "routes" || base(f) === "mod.ts") continue;
    const name = base(f).replace(/\.tsx?$/, "");
    byName.set(name, [...(byName.get(name) ?? []), f]);
  }
  const out: Violation[] = [];
  for (const [name, { files: listed }] of Object.entries(same)) {
    for (const f of listed.filter((f) => !files.includes(f))) {
      out.push({
        kind: "name",
        file: f,
        why: `SAME_MEANING lists it for "${name}", but there is no such file`,
      });
    }
  }
  for (const [name, paths] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    if (paths.length < 2) continue;
    const allowed = Object.hasOwn(same, name) ? same[name].files : [];
    if (paths.every((p) => allowed.includes(p))) continue;
    const sorted = [...paths].sort();
    out.push({
      kind: "name",
      file: sorted[0],
      why: `the base name "${name}" is also ${sorted.slice(1).join(", ")}: one name, one meaning ` +
        `(rename one, or list the name in SAME_MEANING with why it means the same)`,
    });
  }
  return out;
}

/** Every import cycle between files (strongly connected components of more than one file, or a self-import). */
export function findCycles(graph: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || graph.get(v)?.has(v)) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/** Files reachable from the entry points. */
export function reachable(graph: Graph, entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length > 0) {
    const f = todo.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const g of graph.get(f) ?? []) todo.push(g);
  }
  return seen;
}

/**
 * The entry points of the product: main.ts, the scripts deno.json's tasks run, the islands and the browser
 * code in ui/client/ (hydration, worklets: bundled by ui/islands_build.ts from their paths, not imported).
 */
export function entryPoints(root: string, files: string[]): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(join(root, "deno.json"))).tasks as Record<string, string>;
  const fromTasks = Object.values(tasks).flatMap((t) =>
    [...t.matchAll(/([\w/.-]+\.tsx?)\b/g)].map((m) => m[1])
  );
  return [
    "main.ts",
    ...fromTasks.filter((f) => isProduct(f)),
    ...files.filter((f) => /^islands\/[^/]+\.tsx$/.test(f) || f.startsWith("ui/client/")),
  ].filter((f) => files.includes(f));
}

/** Every .ts/.tsx file of the repository (tracked or not, but not ignored build output). */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of Deno.readDirSync(join(root, dir))) {
      const p = dir === "" ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory) {
        if (e.name.startsWith(".") || e.name === "node_modules" || p === "tests/artifacts" || p === "data") {
          continue;
        }
        walk(p);
      } else if (e.isFile && /\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
    }
  };
  walk("");
  return out.sort();
}

/** The import graph of the given files, from `deno info --json` over one generated root. */
export async function importGraph(root: string, files: string[]): Promise<Graph> {
  const tmp = await Deno.makeTempDir({ prefix: "tom-layout-" });
  try {
    const all = join(tmp, "all.ts");
    await Deno.writeTextFile(
      all,
      files.map((f) => `import ${JSON.stringify("file://" + join(root, f))};`).join("\n") + "\n",
    );
    const res = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", join(root, "deno.json"), all],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!res.success) {
      throw new Error(
        `Cannot read the import graph: deno info exited ${res.code}\n${new TextDecoder().decode(res.stderr)}`,
      );
    }
    const info = JSON.parse(new TextDecoder().decode(res.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
      }[];
    };
    const rel = (spec: string): string | null => {
      if (!spec.startsWith("file://")) return null;
      const p = relative(root, fromFileUrl(spec));
      return p.startsWith("..") ? null : p;
    };
    const graph: Graph = new Map();
    for (const m of info.modules) {
      const from = rel(m.specifier);
      if (from === null || from.startsWith("..")) continue;
      const deps = new Set<string>();
      for (const d of m.dependencies ?? []) {
        for (const s of [d.code?.specifier, d.type?.specifier]) {
          const to = s === undefined ? null : rel(s);
          if (to !== null && /\.tsx?$/.test(to)) deps.add(to);
        }
      }
      graph.set(from, deps);
    }
    return graph;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Check the whole tree at `root`. */
export async function checkLayout(root: string): Promise<Violation[]> {
  const files = sourceFiles(root);
  const graph = await importGraph(root, files);
  const out: Violation[] = [];
  for (const [from, deps] of graph) {
    for (const to of deps) out.push(...checkImport(from, to));
    if (base(from) === "mod.ts" && isProduct(from)) {
      out.push(...checkModOnlyReexports(from, await Deno.readTextFile(join(root, from))));
    }
  }
  for (const f of files) out.push(...checkSql(f, await Deno.readTextFile(join(root, f))));
  out.push(...checkNames(files));
  for (const cycle of findCycles(graph)) {
    out.push({ kind: "cycle", file: cycle[0], why: `import cycle: ${cycle.join(" <-> ")}` });
  }
  const live = reachable(graph, entryPoints(root, files));
  for (const f of files) {
    if (isProduct(f) && !live.has(f)) {
      out.push({
        kind: "test-only",
        file: f,
        why: "no product entry point reaches it: move it under tests/",
      });
    }
  }
  return out;
}

/** One line per violation. */
export function formatViolation(v: Violation): string {
  return `${v.kind}: ${v.file}${v.imports === undefined ? "" : ` imports ${v.imports}`}: ${v.why}`;
}

if (import.meta.main) {
  const args = Deno.args.filter((a) => !a.startsWith("--"));
  const root = resolve(args[0] ?? join(dirname(fromFileUrl(import.meta.url)), "..", ".."));
  const violations = await checkLayout(root);
  if (Deno.args.includes("--json")) {
    console.log(JSON.stringify(violations, null, 2));
  } else {
    for (const v of violations) console.log(formatViolation(v));
    const counts: Record<string, number> = {};
    for (const v of violations) counts[v.kind] = (counts[v.kind] ?? 0) + 1;
    console.log(
      violations.length === 0
        ? "layout: the dependency rule holds"
        : `layout: ${violations.length} violations ${JSON.stringify(counts)}`,
    );
  }
  Deno.exit(violations.length === 0 ? 0 : 1);
}
