/**
 * `deno task compile` for real: app/compile.ts runs `deno compile` with `DENORT_BIN` pointed at this
 * deno (the runtime base cannot be downloaded here, so the result only opens a REPL), and the test reads
 * what the output file carries: the compile metadata (the permission flags baked in) and the embedded file
 * system (every file with its bytes), parsed from the binary itself, plus the printed payload total.
 *
 * Then it runs the application from nothing but those bytes: the embedded sources and npm package files
 * are extracted into a fresh tree and a fresh DENO_DIR, and a probe run with `--cached-only` imports every
 * command module of main.ts, loads the onnxruntime wasm the way silero.ts does and runs Silero on it (with
 * the provisioned model), runs WebRTC VAD and the speex resampler, and loads the prebuilt UI islands. A
 * file left out of the binary that the application needs makes the probe fail.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { dirname, join } from "node:path";
import { type DenoInfo, npmExcludes, reachablePackages } from "../../app/compile.ts";
import { loadConfig } from "../../infra/config.ts";
import { servePermissionFlags } from "../../infra/permissions.ts";
import { ortWasmBytes } from "../../pipeline/engines/silero.ts";
import { ENGINES } from "../_engines.ts";
import { cleanEnv, ROOT } from "../_helpers.ts";

/** The embedded payload may grow to this before the test asks why (measured: 25.0 MB, was 185.2 MB). */
const BUDGET_MB = 40;
const NPM_DIR = ".deno_compile_node_modules/localhost/";

type VfsEntry =
  | { Dir: { n: string; e: VfsEntry[] } }
  | { File: { n: string; o: [number, number] } }
  | { Symlink: { n: string } };

interface Payload {
  metadata: {
    permissions: Record<string, unknown>;
    entrypoint_key: string;
    workspace_resolver: { import_map: { json: string } };
  };
  /** Path (relative to the embedded root) -> bytes. */
  files: Map<string, Uint8Array<ArrayBuffer>>;
  symlinks: string[];
}

function u64(bytes: Uint8Array, at: number): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0, true));
}

/** The compile metadata and the embedded files of a binary `deno compile` wrote (Deno 2.9 layout). */
function readPayload(bin: Uint8Array<ArrayBuffer>): Payload {
  const buf = Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength);
  const marker = buf.indexOf("d3n0l4ndd3n0l4nd");
  assert.ok(marker > 0, "no deno compile payload in the output");
  let at = marker + 16;
  const metaLen = u64(bin, at);
  const metadata = JSON.parse(buf.toString("utf8", at + 8, at + 8 + metaLen));
  at += 8 + metaLen;
  at += 8 + u64(bin, at); // the npm snapshot
  const vfsAt = buf.indexOf('[{"', at); // after the (here empty) remote modules section
  assert.ok(vfsAt > at && vfsAt - at < 64, "cannot find the embedded file system's index");
  const vfsLen = u64(bin, vfsAt - 8);
  const root = JSON.parse(buf.toString("utf8", vfsAt, vfsAt + vfsLen)) as VfsEntry[];
  const dataLen = u64(bin, vfsAt + vfsLen);
  const data = bin.subarray(vfsAt + vfsLen + 8, vfsAt + vfsLen + 8 + dataLen);
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  const symlinks: string[] = [];
  const walk = (entries: VfsEntry[], prefix: string) => {
    for (const e of entries) {
      if ("Dir" in e) walk(e.Dir.e, `${prefix}${e.Dir.n}/`);
      else if ("File" in e) {
        const [off, len] = e.File.o;
        assert.ok(off + len <= data.length, `embedded ${prefix}${e.File.n} lies outside the data`);
        files.set(prefix + e.File.n, data.subarray(off, off + len));
      } else symlinks.push(prefix + e.Symlink.n);
    }
  };
  walk(root, "");
  return { metadata, files, symlinks };
}

/** `--allow-x=a,b` -> { allow_x: [a, b] }, `--allow-x` -> { allow_x: [] } (Deno's metadata form). */
function flagsToPermissions(flags: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of flags) {
    const m = /^--(allow-[a-z]+)(?:=(.*))?$/.exec(f);
    if (m) out[m[1].replace("-", "_")] = m[2] === undefined ? [] : m[2].split(",");
  }
  return out;
}

const MB = { B: 1e-6, KB: 1e-3, MB: 1, GB: 1e3 } as const;

Deno.test("deno task compile embeds only what tom reads, with the egress policy baked in", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "tom-compile-" });
  try {
    const env = cleanEnv({
      DENORT_BIN: Deno.execPath(),
      TOM_EGRESS_ALLOW_HOSTS: "updates.example.org:443",
      TOM_DATA_DIR: join(tmp, "data"),
    });
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "app/compile.ts", "--output", join(tmp, "tom")],
      cwd: ROOT,
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const printed = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, printed);
    const payload = readPayload(await Deno.readFile(join(tmp, "tom")));
    const { files } = payload;
    const npm = [...files.keys()].filter((p) => p.startsWith(NPM_DIR)).map((p) => p.slice(NPM_DIR.length));
    const packages = new Set(npm.map((p) => p.split("/").slice(0, p.startsWith("@") ? 2 : 1).join("/")));

    await t.step("the payload is under the budget", () => {
      const m = /Files: ([\d.]+)(B|KB|MB|GB)/.exec(printed);
      assert.ok(m, `no "Files:" total in the output:\n${printed.slice(-2000)}`);
      const total = Number(m[1]) * MB[m[2] as keyof typeof MB];
      console.log(`embedded: ${total.toFixed(2)} MB in ${files.size} files, ${packages.size} npm packages`);
      assert.ok(total < BUDGET_MB, `embedded ${total} MB, budget ${BUDGET_MB} MB`);
      let sum = 0;
      for (const b of files.values()) sum += b.length;
      assert.ok(sum / 1e6 < BUDGET_MB, `the embedded files hold ${sum} bytes`);
    });

    await t.step("test-only and unread npm packages are left out", () => {
      for (const p of ["playwright-core", "axe-core", "protobufjs", "onnxruntime-common", "@types/node"]) {
        assert.ok(!packages.has(p), `${p} is embedded`);
      }
      for (const p of ["hono", "zod", "preact", "onnxruntime-web", "@echogarden/fvad-wasm"]) {
        assert.ok(packages.has(p), `${p} is missing from ${[...packages].join(", ")}`);
      }
      const unread = npm.filter((p) => /\.(map|[cm]?tsx?)$/.test(p));
      assert.deepEqual(unread, [], "source maps, declarations or TS sources of npm packages are embedded");
    });

    await t.step("exactly one onnxruntime wasm, the one silero.ts loads, and it is valid", async () => {
      const wasm = [...files.keys()].filter((p) => p.endsWith(".wasm"));
      const ort = wasm.filter((p) => p.includes("onnxruntime-web/"));
      assert.deepEqual(ort.map((p) => p.replace(/^.*\/dist\//, "")), ["ort-wasm-simd-threaded.wasm"]);
      const embedded = files.get(ort[0]) as Uint8Array<ArrayBuffer>;
      assert.deepEqual(embedded, await ortWasmBytes());
      assert.ok(WebAssembly.validate(embedded));
      const fvad = wasm.find((p) => p.endsWith("fvad-wasm/0.2.0/fvad.wasm"));
      assert.ok(fvad, `no fvad.wasm among ${wasm.join(", ")}`);
      assert.ok(WebAssembly.validate(files.get(fvad) as Uint8Array<ArrayBuffer>));
    });

    await t.step("the UI bundles, policy variants and migrations are embedded", async () => {
      const manifest = JSON.parse(new TextDecoder().decode(files.get(".cache/ui-dist/manifest.json")));
      const sizes = Object.entries(manifest.sizes as Record<string, number>);
      assert.ok(sizes.length > 0 && Object.keys(manifest.entries).length > 0);
      for (const [f, size] of sizes) assert.equal(files.get(`.cache/ui-dist/${f}`)?.length, size, f);
      assert.deepEqual(
        files.get("rl/variants.json"),
        await Deno.readFile(join(ROOT, "rl", "variants.json")),
      );
      assert.ok(files.has("store/schema_v1.ts") && files.has("store/migrations.ts"));
      // The Silero model travels inside the binary (no engines directory needed for the VAD).
      assert.deepEqual(
        files.get(".cache/embedded/silero_vad_16k_op15.onnx"),
        await Deno.readFile(ENGINES.sileroModel),
      );
      assert.equal(payload.metadata.entrypoint_key, "main.ts");
    });

    await t.step("the egress policy's permission flags are baked in", () => {
      const expected = servePermissionFlags(loadConfig({ env }));
      const baked = payload.metadata.permissions;
      assert.ok((baked.allow_net as string[]).includes("updates.example.org:443"));
      assert.ok((baked.allow_write as string[]).includes(join(tmp, "data")));
      assert.ok(expected.includes("--no-prompt"));
      assert.equal(baked.prompt, false);
      for (const [key, value] of Object.entries(flagsToPermissions(expected))) {
        assert.deepEqual(baked[key], value, key);
      }
      for (const key of ["allow_ffi", "deny_net", "deny_read", "deny_write"]) {
        assert.equal(baked[key], null, key);
      }
    });

    await t.step("the application runs from only the embedded files", async () => {
      const src = join(tmp, "sim", "src");
      const denoDir = join(tmp, "sim", "deno");
      const registry = join(denoDir, "npm", "registry.npmjs.org");
      for (const [path, bytes] of files) {
        const dest = path.startsWith(NPM_DIR) ? join(registry, path.slice(NPM_DIR.length)) : join(src, path);
        await Deno.mkdir(dirname(dest), { recursive: true });
        await Deno.writeFile(dest, bytes);
      }
      // The packages main.ts's npm graph names that were left out get their package.json only, so that
      // Deno sees them installed and any file of theirs the application loaded would be missing. Deno
      // resolves them from the lock file below: no registry metadata (registry.json) is needed, and none is
      // read from this machine's cache, which keeps it only for what it once resolved without a lock file.
      const info = await denoInfo();
      for (const id of reachablePackages(info)) {
        const { name, version, localPath } = info.npmPackages[id];
        await Deno.mkdir(join(registry, name, version), { recursive: true });
        if (!packages.has(name)) {
          assert.ok(localPath, `deno info gives no local path of ${id}`);
          await Deno.copyFile(join(localPath, "package.json"), join(registry, name, version, "package.json"));
        }
      }
      // The import map the binary carries, and the lock file's resolution of just those packages (the
      // repository's also names test-only packages, which Deno would want installed).
      const importMap = JSON.parse(payload.metadata.workspace_resolver.import_map.json);
      const lock = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.lock")));
      const keep = reachablePackages(info);
      lock.npm = Object.fromEntries(Object.entries(lock.npm).filter(([id]) => keep.has(id)));
      lock.specifiers = Object.fromEntries(
        Object.entries(lock.specifiers as Record<string, string>).filter(([spec, v]) =>
          keep.has(`${spec.slice(4, spec.lastIndexOf("@"))}@${v}`)
        ),
      );
      delete lock.workspace;
      await Deno.writeTextFile(join(src, "deno.lock"), JSON.stringify(lock));
      await Deno.writeTextFile(
        join(src, "deno.json"),
        JSON.stringify({ imports: importMap.imports, nodeModulesDir: "none" }),
      );
      const main = new TextDecoder().decode(files.get("main.ts"));
      const commands = [...main.matchAll(/await import\("(\.\/[^"]+)"\)/g)].map((m) => m[1]);
      assert.ok(commands.includes("./app/serve.ts"), "main.ts no longer imports ./app/serve.ts");
      await Deno.writeTextFile(join(src, "_probe.ts"), probeSource(commands));
      // A model path that does not exist: Silero must load the copy embedded in the binary.
      const model = join(tmp, "no-engines-dir", "silero_vad_16k_op15.onnx");
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-check", "--cached-only", "-A", "_probe.ts", model],
        cwd: src,
        env: cleanEnv({ DENO_DIR: denoDir }),
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, stderr);
      const r = JSON.parse(new TextDecoder().decode(run.stdout));
      assert.deepEqual(r.imported, commands);
      assert.ok(r.ortWasm.path.startsWith(registry), `the wasm came from ${r.ortWasm.path}`);
      assert.equal(r.ortWasm.bytes, (await ortWasmBytes()).length);
      assert.ok(r.silero >= 0 && r.silero < 0.5, `Silero (embedded model) on silence: ${r.silero}`);
      assert.equal(r.webrtc, 0, "WebRTC VAD on silence");
      assert.equal(r.resampled, 1600, "800 samples resampled 8 -> 16 kHz, less the filter delay");
      assert.equal(r.islandsError, null);
      assert.ok(r.islands > 0);
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

async function denoInfo(): Promise<DenoInfo> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.ok(out.success, "deno info main.ts failed");
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** A script, run in the extracted tree, that does what `tom serve` does first with each embedded asset. */
function probeSource(commands: string[]): string {
  return `
import { join } from "node:path";
import { createWebrtcVad, openVad, ortWasmBytes } from "./pipeline/engines/vad.ts";
import { createResampler, loadResampler } from "./gateway/audio/mod.ts";
import { IslandAssets } from "./ui/assets.ts";
import { defaultRoot } from "./ui/islands_build.ts";
import { silentLogger } from "./infra/log.ts";
import "./main.ts";

const imported = [];
for (const m of ${JSON.stringify(commands)}) {
  await import(m);
  imported.push(m);
}
const bytes = await ortWasmBytes();
let silero = null;
if (Deno.args[0]) {
  // As tom serve does (embedded model allowed, no bytes passed), but without the WebRTC fallback.
  const vad = await openVad({ model: Deno.args[0] }, { embeddedModel: true });
  silero = await (await vad.createVad()).process(new Float32Array(512));
  await vad.dispose();
}
const webrtc = await (await createWebrtcVad()).process(new Float32Array(320));
await loadResampler();
const up = createResampler(8000, 16000);
const resampled = up.process(new Int16Array(800)).length + up.flush().length - up.latencySamples;
const assets = new IslandAssets({
  root: defaultRoot(),
  cacheDir: await Deno.makeTempDir(),
  log: silentLogger,
  build: () => Promise.reject(new Error("a compiled binary cannot bundle")),
  prebuiltDir: join(defaultRoot(), ".cache", "ui-dist"),
});
await assets.ready();
console.log(JSON.stringify({
  imported,
  ortWasm: { path: new URL(import.meta.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm")).pathname, bytes: bytes.length },
  silero,
  webrtc,
  resampled,
  islands: Object.keys(assets.manifest?.entries ?? {}).length,
  islandsError: assets.error ?? null,
}));
Deno.exit(0);
`;
}

Deno.test("the compile plan refuses a package graph it cannot vouch for", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tom-compile-plan-" });
  try {
    await Deno.writeTextFile(join(tmp, "package.json"), "{}");
    const pkg = { name: "onnxruntime-web", version: "9.9.9", dependencies: ["long@5.3.2"], localPath: tmp };
    const info: DenoInfo = {
      modules: [{ kind: "npm", npmPackage: "onnxruntime-web@9.9.9" }],
      npmPackages: { "onnxruntime-web@9.9.9": pkg },
    };
    assert.throws(() => reachablePackages(info), /names npm package long@5\.3\.2 but lists no such/);
    info.npmPackages["long@5.3.2"] = { name: "long", version: "5.3.2", dependencies: [], localPath: tmp };
    assert.deepEqual([...reachablePackages(info, ["onnxruntime-web"])], ["onnxruntime-web@9.9.9"]);
    assert.throws(
      () => npmExcludes(info),
      /onnxruntime-web 9\.9\.9 has no dist\/ort\.wasm\.bundle\.min\.mjs/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
