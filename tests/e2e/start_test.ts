import assert from "node:assert/strict";
import { join } from "node:path";
import { cleanEnv, freePort, ROOT } from "../_helpers.ts";
import { ENGINES, enginesMissing, skipWithoutEngines } from "../_engines.ts";

async function poll(url: string, until: (r: Response) => boolean, deadlineMs: number): Promise<Response> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (until(r)) return r;
      last = `${r.status} ${await r.text()}`;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Gave up on ${url}: ${last}`);
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return !Deno.readTextFileSync(`/proc/${pid}/stat`).split(" ")[2].startsWith("Z");
  } catch {
    return false;
  }
}

function childPids(pid: number): number[] {
  try {
    const kids = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(
      Boolean,
    )
      .map(Number);
    return kids.flatMap((k) => [k, ...childPids(k)]);
  } catch {
    return [];
  }
}

Deno.test({
  name: "the start command serves /healthz, names every engine on /readyz, and stops everything on SIGTERM",
  ignore: skipWithoutEngines,
  async fn() {
    assert.equal(enginesMissing, undefined, enginesMissing ?? "");
    const dataDir = await Deno.makeTempDir();
    const http = freePort();
    const env = cleanEnv({
      TOM_HTTP_PORT: String(http),
      TOM_AUDIOSOCKET_PORT: String(freePort()),
      TOM_STT_URL: `http://127.0.0.1:${freePort()}`,
      TOM_LLM_URL: `http://127.0.0.1:${freePort()}`,
      TOM_DATA_DIR: dataDir,
      TOM_ENGINES_DIR: ENGINES.dir,
    });
    // Exactly what `deno task start` runs.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", join(ROOT, "app/launch.ts"), "serve"],
      env,
      clearEnv: true,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const stdout = new Response(child.stdout).text();
    try {
      const health = await poll(`http://127.0.0.1:${http}/healthz`, (r) => r.status === 200, 60_000);
      assert.equal((await health.json()).status, "ok");
      const ready = await poll(`http://127.0.0.1:${http}/readyz`, (r) => r.status === 200, 60_000);
      const body = await ready.json();
      const names = body.checks.map((c: { name: string }) => c.name).sort();
      assert.deepEqual(names, ["database", "llm", "models", "stt", "tts", "vad"]);
      // No real models can be fetched here: /readyz says the demo models run (ready, but not understanding).
      const models = body.checks.find((c: { name: string }) => c.name === "models");
      assert.deepEqual(models.demo_models, ["stt", "llm"]);
      assert.match(models.note, /Demo-Modelle aktiv/);
      // /readyz asks the engines itself; the tom_engine_up gauge follows the supervisor's next health
      // poll, so on a loaded machine it may still say 0 for a moment.
      const upDeadline = Date.now() + 30_000;
      let metrics = "";
      while (Date.now() < upDeadline) {
        metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
        if (/tom_engine_up\{[^}]*engine="stt"[^}]*\} 1/.test(metrics)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(metrics, /tom_engine_up\{[^}]*engine="stt"[^}]*\} 1/);
      const engines = childPids(child.pid);
      assert.ok(engines.length >= 3, `launcher -> serve -> whisper-server + llama-server, got ${engines}`);
      child.kill("SIGTERM");
      const status = await child.status;
      assert.equal(status.code, 0, await stderr);
      for (const pid of engines) {
        assert.equal(alive(pid), false, `process ${pid} still running after shutdown`);
      }
      const said = (await stderr).split("\n").filter((l) => l.startsWith("tom: Demo-Modelle aktiv"));
      assert.equal(said.length, 1, `the launcher says once that it runs the demo models:\n${await stderr}`);
      const logs = (await stderr).split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      assert.ok(logs.some((l) => l.message === "stopped"), "serve logged its clean stop");
    } finally {
      // After a failure the launcher is killed; its serve process and the engines must not outlive the
      // test (they hold the stderr pipe open and the test would wait for ever).
      for (const pid of [...childPids(child.pid), child.pid]) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* already stopped */ }
      }
      await child.status;
      await stdout;
      await stderr;
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
