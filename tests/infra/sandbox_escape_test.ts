/**
 * The `tom serve` sandbox has no side doors (issue 15, item 4): from inside the sandbox (the real
 * servePermissionFlags, as `deno task start` and the compiled `tom` use them) an attacker who runs code in
 * the served process tries every program it may run to reach an address the egress policy forbids, and a
 * listener there counts the connections.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../infra/config.ts";
import { servedPrograms, servePermissionFlags } from "../../infra/permissions.ts";
import { enginePaths } from "../../infra/engines/catalog.ts";
import { cleanEnv, ROOT } from "../_helpers.ts";

const RIG = new URL("../_rigs/sandbox_escape_probe.ts", import.meta.url).pathname;
/** A local address the policy forbids: Deno grants 127.0.0.1 only, Linux answers on all of 127/8. */
const FORBIDDEN_HOST = "127.0.0.2";

function onPath(cmd: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => {
    try {
      return Deno.statSync(`${d}/${cmd}`).isFile;
    } catch {
      return false;
    }
  });
}

/** A config as a default `tom serve` has it: managed engines, whisper-cli fallback, espeak-ng. */
function serveConfig(dataDir: string) {
  return loadConfig({ env: { TOM_DATA_DIR: dataDir, TOM_MANAGE_ENGINES: "true" } });
}

Deno.test("the served process may not run sox, df, a shell or a downloader (the allow-run list)", () => {
  const run = servePermissionFlags(serveConfig("/tmp/tom-escape-data")).find((f) =>
    f.startsWith("--allow-run=")
  );
  const list = (run ?? "").slice("--allow-run=".length).split(",").filter((p) => p !== "");
  console.log(`allow-run: ${list.join(" ")}`);
  // Before: sox (runs a shell for a "|cmd" input file) and df were on it although no served code runs them.
  assert.ok(onPath("sox"), "sox is installed here, so leaving it out is a choice, not an accident");
  for (const p of ["sox", "df", "sh", "bash", "curl", "deno"]) {
    assert.ok(!list.some((x) => x === p || x.endsWith(`/${p}`)), `${p} must not be runnable by tom serve`);
  }
});

Deno.test("the served process runs the engines only when it manages them", () => {
  const c = loadConfig({ env: { TOM_MANAGE_ENGINES: "false", TOM_TTS_KIND: "none", TOM_STT_KIND: "none" } });
  const list = servedPrograms(c);
  assert.ok(!list.some((p) => /(llama|whisper)-(server|cli)$/.test(p)), list.join(" "));
});

Deno.test("from inside tom serve's sandbox no allowed program reaches a forbidden address", async () => {
  let connections = 0;
  const firstBytes: string[] = [];
  const listener = Deno.listen({ hostname: FORBIDDEN_HOST, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepting = (async () => {
    for await (const conn of listener) {
      connections++;
      const buf = new Uint8Array(200);
      const n = await conn.read(buf).catch(() => null);
      firstBytes.push(new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0]);
      conn.close();
    }
  })();
  const dataDir = await Deno.makeTempDir({ prefix: "tom-escape-" });
  try {
    const config = serveConfig(dataDir);
    const programs = servedPrograms(config);
    const paths = enginePaths(config.enginesDir);
    const engines = [paths.llamaServer, paths.whisperServer].filter((f) => Deno.statSync(f).isFile);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...servePermissionFlags(config), RIG],
      env: cleanEnv({
        ESCAPE_TARGET: `${FORBIDDEN_HOST}:${port}`,
        ESCAPE_PROGRAMS: programs.join(","),
        ESCAPE_ENGINES: engines.join(","),
      }),
      clearEnv: true,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const line = stdout.split("\n").find((l) => l.startsWith("ESCAPE_REPORT "));
    assert.ok(line, `no report from the sandbox; stderr:\n${new TextDecoder().decode(out.stderr)}`);
    const attempts = JSON.parse(line.slice("ESCAPE_REPORT ".length)) as {
      program: string;
      how: string;
      outcome: string;
      detail: string;
    }[];
    // What the attacker sees: every attempt, one line each.
    for (const a of attempts) {
      console.log(`${a.program} [${a.how}]: ${a.outcome} (${a.detail.slice(0, 110)})`);
    }
    // Let a late connection (a child still starting up when the rig moved on) arrive before counting.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(connections, 0, `the forbidden listener was reached: ${firstBytes.join(" | ")}`);
    const by = (p: string, how?: string) =>
      attempts.filter((a) => (a.program === p || a.program.endsWith(`/${p}`)) && (!how || a.how === how));
    assert.equal(by("deno")[0]?.outcome, "refused", "the control: Deno itself may not connect there");
    for (const p of ["sh", "bash", "curl", "sox", "/usr/bin/env"]) {
      assert.ok(
        by(p).length > 0 && by(p).every((a) => a.outcome === "refused"),
        `${p} must be refused by Deno`,
      );
    }
    for (const e of engines) {
      assert.equal(by(e)[0]?.outcome, "refused", `${e} may only be started through tom-engine-guard`);
    }
    for (const p of programs) {
      assert.equal(
        by(p, "LD_PRELOAD")[0]?.outcome,
        "refused",
        `${p} with LD_PRELOAD must be refused by Deno`,
      );
      assert.equal(by(p, "LD_LIBRARY_PATH")[0]?.outcome, "refused", `${p} with LD_LIBRARY_PATH`);
    }
    assert.ok(programs.length > 0 && attempts.length > 10, "the rig tried the allowed programs");
  } finally {
    listener.close();
    await accepting.catch(() => {});
    await Deno.remove(dataDir, { recursive: true });
  }
});
