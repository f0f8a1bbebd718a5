import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Supervisor, SupervisorError, type SupervisorEvent } from "../../infra/supervisor.ts";
import { type EngineSpec, EngineSpecError, engineSpecs } from "../../infra/engines/specs.ts";
import { enginePaths } from "../../infra/engines/catalog.ts";
import { silentLogger } from "../../infra/log.ts";
import { spawnEngine } from "../../infra/engines/process.ts";
import { alive, freePort, LLAMA_MISSING, testConfig, waitFor, WHISPER_MISSING } from "./fixtures/engines.ts";

const FAKE_ENGINE = fileURLToPath(new URL("./fixtures/fake_engine.ts", import.meta.url));

function httpSpec(port: number, command: string, args: string[]): EngineSpec {
  const url = `http://127.0.0.1:${port}`;
  return {
    name: "stt",
    kind: "whisper-server",
    managed: true,
    url,
    healthUrl: `${url}/health`,
    bin: command,
    command,
    args,
    host: "127.0.0.1",
    port,
  };
}

function fakeEngine(mode: "flaky" | "stubborn"): EngineSpec {
  const port = freePort();
  return httpSpec(port, Deno.execPath(), ["run", "-A", "--no-config", FAKE_ENGINE, String(port), mode]);
}

function recorder(): {
  events: Array<SupervisorEvent & { t: number }>;
  onEvent: (e: SupervisorEvent) => void;
} {
  const events: Array<SupervisorEvent & { t: number }> = [];
  return { events, onEvent: (e) => events.push({ ...e, t: performance.now() }) };
}

Deno.test("engine specs carry the command line of each managed engine, bound to loopback", () => {
  const config = testConfig({
    TOM_STT_THREADS: "3",
    TOM_LLM_CONTEXT_SIZE: "2048",
    TOM_LLM_MODEL_NAME: "tom-llm",
  });
  const [stt, llm, tts, vad] = engineSpecs(config);
  const sttPort = Number(new URL(config.stt.url).port);
  assert.equal(stt.managed, true);
  // The provisioned servers start through tom-engine-guard, which passes exactly these options on.
  assert.equal(stt.command, enginePaths(config.enginesDir).engineGuard);
  assert.equal(stt.bin, config.stt.bin);
  assert.deepEqual(stt.args, [
    "whisper-server",
    ...["-m", config.stt.model, "--host", "127.0.0.1", "--port", String(sttPort), "-l", "de", "-t", "3"],
  ]);
  assert.equal(stt.healthUrl, `http://127.0.0.1:${sttPort}/health`);
  assert.equal(llm.kind, "llama-server");
  assert.deepEqual(llm.args?.slice(7), ["-t", "2", "-c", "2048", "--alias", "tom-llm", "--jinja"]);
  assert.equal(tts.kind, "espeak-ng");
  assert.equal(tts.managed, false);
  assert.equal(vad.kind, "silero");
  assert.equal(vad.model, config.vad.model);
});

Deno.test("a managed engine on a non-loopback address is refused with the setting to change", () => {
  assert.throws(
    () => engineSpecs(testConfig({ TOM_STT_URL: "http://10.0.0.5:8178" })),
    (e: unknown) =>
      e instanceof EngineSpecError && /stt \(TOM_STT_URL\).*not a loopback address/.test(e.message),
  );
  const remote = engineSpecs(
    testConfig({ TOM_STT_URL: "http://10.0.0.5:8178", TOM_MANAGE_ENGINES: "false" }),
  );
  assert.equal(remote[0].managed, false);
  assert.equal(remote[0].command, undefined);
});

Deno.test("Ollama and OpenAI engines are checked, never started; kind none is left out", () => {
  const ollama = engineSpecs(testConfig({ TOM_LLM_KIND: "ollama", TOM_LLM_URL: "http://127.0.0.1:11434/" }));
  assert.deepEqual(
    { ...ollama[1] },
    {
      name: "llm",
      kind: "ollama",
      managed: false,
      url: "http://127.0.0.1:11434",
      healthUrl: "http://127.0.0.1:11434/api/tags",
      modelName: "tom",
    },
  );
  const openai = engineSpecs(testConfig({ TOM_LLM_KIND: "openai", TOM_LLM_URL: "http://127.0.0.1:8000/v1" }));
  assert.equal(openai[1].healthUrl, "http://127.0.0.1:8000/v1/models");
  const none = engineSpecs(testConfig({ TOM_STT_KIND: "none", TOM_LLM_KIND: "none", TOM_TTS_KIND: "none" }));
  assert.deepEqual(none.map((s) => s.name), ["vad"]);
});

async function killAndWatchRestart(which: "stt" | "llm"): Promise<void> {
  const rec = recorder();
  const specs = engineSpecs(testConfig()).filter((s) => s.name === which);
  const sup = new Supervisor(specs, { log: silentLogger, onEvent: rec.onEvent });
  try {
    await sup.start();
    const [before] = sup.status();
    assert.equal(before.state, "healthy");
    assert.equal(before.restarts, 0);
    const pid = before.pid ?? 0;
    assert.ok(alive(pid));

    const killedAt = performance.now();
    Deno.kill(pid, "SIGKILL");
    await waitFor(
      () => sup.status()[0].restarts === 1 && sup.status()[0].state === "healthy",
      30_000,
      "restart",
    );
    const healthyAt = rec.events.findLast((e) => e.type === "healthy")?.t ?? NaN;
    const after = sup.status()[0];
    assert.notEqual(after.pid, pid);
    assert.ok(after.pid !== null && alive(after.pid));
    assert.equal(after.lastExit?.signal, "SIGKILL");
    assert.deepEqual(rec.events.map((e) => e.type), [
      "started",
      "healthy",
      "exited",
      "restarted",
      "started",
      "healthy",
    ]);
    console.log(`${specs[0].kind}: kill -9 to healthy again in ${(healthyAt - killedAt).toFixed(0)} ms`);

    // A second supervisor must not start a rival engine on the same port.
    const rival = new Supervisor(specs, { log: silentLogger });
    await assert.rejects(
      rival.start(),
      (e: unknown) =>
        e instanceof SupervisorError &&
        e.message.includes(`port ${specs[0].port} is already in use by an engine answering`),
    );

    const pids = [pid, after.pid];
    await sup.stop();
    assert.ok(pids.every((p) => !alive(p)), "an engine process outlived stop()");
    assert.equal(sup.status()[0].state, "stopped");
    assert.equal(sup.status()[0].pid, null);
    await sup.stop(); // idempotent
  } finally {
    await sup.stop();
  }
}

Deno.test({
  name: "whisper-server is started healthy and restarted after kill -9; stop leaves no process",
  ignore: WHISPER_MISSING !== undefined,
  fn: () => killAndWatchRestart("stt"),
});
if (WHISPER_MISSING) console.warn(`Skipping whisper-server supervisor test: ${WHISPER_MISSING}`);

Deno.test({
  name: "llama-server is started healthy and restarted after kill -9; stop leaves no process",
  ignore: LLAMA_MISSING !== undefined,
  fn: () => killAndWatchRestart("llm"),
});
if (LLAMA_MISSING) console.warn(`Skipping llama-server supervisor test: ${LLAMA_MISSING}`);

Deno.test({
  name: "whisper-server and llama-server start together and stop together",
  ignore: WHISPER_MISSING !== undefined || LLAMA_MISSING !== undefined,
  async fn() {
    const sup = new Supervisor(engineSpecs(testConfig()), { log: silentLogger });
    try {
      await sup.start();
      const st = sup.status();
      assert.deepEqual(st.map((s) => [s.name, s.state]), [
        ["stt", "healthy"],
        ["llm", "healthy"],
        ["tts", "healthy"],
        ["vad", "healthy"],
      ]);
      const pids = st.flatMap((s) => (s.pid === null ? [] : [s.pid]));
      assert.equal(pids.length, 2);
      await sup.stop();
      assert.ok(pids.every((p) => !alive(p)));
    } finally {
      await sup.stop();
    }
  },
});

Deno.test("a binary that exits at once is restarted with backoff, then start fails naming it and its output", async () => {
  const rec = recorder();
  const spec = httpSpec(freePort(), "/bin/sh", ["-c", "echo 'error: failed to load model' >&2; exit 3"]);
  const sup = new Supervisor([spec], {
    log: silentLogger,
    onEvent: rec.onEvent,
    backoff: { initialMs: 100 },
  });
  const err = await sup.start().then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof SupervisorError, String(err));
  assert.equal(err.engine, "stt");
  assert.match(
    err.message,
    /Engine stt \(whisper-server\) exited 3 times while starting \(last: exit code 3\)/,
  );
  assert.match(err.message, /error: failed to load model/);
  const starts = rec.events.filter((e) => e.type === "started").map((e) => e.t);
  assert.equal(starts.length, 3);
  assert.ok(starts[1] - starts[0] >= 95 && starts[2] - starts[1] >= 195, `no backoff between ${starts}`);
  assert.deepEqual(
    rec.events.filter((e) => e.type === "restarted").map((e) => e.type === "restarted" && e.delayMs),
    [
      100,
      200,
    ],
  );
  const [st] = sup.status();
  assert.equal(st.state, "stopped");
  assert.equal(st.restarts, 2);
  assert.equal(st.lastExit?.code, 3);
});

Deno.test({
  name: "whisper-server with a corrupt model fails to start with whisper's own error, after backoff restarts",
  ignore: WHISPER_MISSING !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir();
    const model = `${dir}/corrupt.bin`;
    await Deno.writeFile(model, new TextEncoder().encode("not a ggml model".repeat(64)));
    const rec = recorder();
    const specs = engineSpecs(testConfig({ TOM_STT_MODEL: model, TOM_LLM_KIND: "none" }));
    const sup = new Supervisor(specs.filter((s) => s.name === "stt"), {
      log: silentLogger,
      onEvent: rec.onEvent,
    });
    try {
      await assert.rejects(sup.start(), (e: unknown) => {
        assert.ok(e instanceof SupervisorError);
        assert.match(
          e.message,
          /^Engine stt \(whisper-server\) exited 3 times while starting \(last: exit code 3\)/,
        );
        assert.match(e.message, /error: failed to initialize whisper context/);
        return true;
      });
      assert.deepEqual(rec.events.flatMap((e) => (e.type === "restarted" ? [e.delayMs] : [])), [250, 500]);
      assert.equal(sup.status()[0].state, "stopped");
    } finally {
      await sup.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a crash-looping engine backs off up to the maximum instead of spinning", async () => {
  const rec = recorder();
  const spec = httpSpec(freePort(), "/bin/sh", ["-c", "exit 1"]);
  const states: string[] = [];
  const sup = new Supervisor([spec], {
    log: silentLogger,
    onEvent: (e) => {
      rec.onEvent(e);
      states.push(sup.status()[0].state);
    },
    backoff: { initialMs: 50, maxMs: 200 },
    maxStartExits: 1000,
    startTimeoutMs: 1200,
  });
  await assert.rejects(
    sup.start(),
    /Engine stt \(whisper-server\) did not become healthy within 1200 ms: exited/,
  );
  const delays = rec.events.flatMap((e) => (e.type === "restarted" ? [e.delayMs] : []));
  assert.deepEqual(delays.slice(0, 4), [50, 100, 200, 200]);
  assert.ok(delays.length <= 8, `${delays.length} restarts in 1.2 s`);
  assert.ok(states.includes("restarting"));
});

Deno.test("a missing binary or model stops start() before anything is spawned", async () => {
  const port = freePort();
  const noBin = new Supervisor([httpSpec(port, "/nonexistent/whisper-server", [])], { log: silentLogger });
  await assert.rejects(
    noBin.start(),
    /Cannot start engine stt \(whisper-server\): binary not found: \/nonexistent/,
  );
  const noModel = new Supervisor([{ ...httpSpec(port, "/bin/sh", []), model: "/nonexistent/m.bin" }], {
    log: silentLogger,
  });
  await assert.rejects(noModel.start(), /model file missing: \/nonexistent\/m\.bin/);
});

Deno.test("a running engine that keeps failing checks is killed and restarted", async () => {
  const rec = recorder();
  const sup = new Supervisor([fakeEngine("flaky")], {
    log: silentLogger,
    onEvent: rec.onEvent,
    healthIntervalMs: 50,
    backoff: { initialMs: 50 },
  });
  try {
    await sup.start();
    const first = sup.status()[0].pid;
    await waitFor(() => sup.status()[0].restarts === 1, 10_000, "the restart of the unhealthy engine");
    const types = rec.events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 4), ["started", "healthy", "unhealthy", "exited"]);
    assert.ok(first !== null && !alive(first));
  } finally {
    await sup.stop();
  }
});

Deno.test("an engine that ignores SIGTERM is killed after the grace time", async () => {
  const sup = new Supervisor([fakeEngine("stubborn")], { log: silentLogger, stopTimeoutMs: 300 });
  await sup.start();
  const pid = sup.status()[0].pid ?? 0;
  const t0 = performance.now();
  await sup.stop();
  assert.ok(performance.now() - t0 >= 290, "SIGKILL came before the grace time");
  assert.ok(!alive(pid));
  assert.equal(sup.status()[0].lastExit?.signal, "SIGKILL");
});

Deno.test("an unmanaged engine is only checked: it turns unhealthy and healthy again", async () => {
  const rec = recorder();
  let up = true;
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => (up ? Response.json({ status: "ok" }) : new Response("down", { status: 500 })),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  const spec: EngineSpec = {
    name: "llm",
    kind: "llama-server",
    managed: false,
    url,
    healthUrl: `${url}/health`,
  };
  const sup = new Supervisor([spec], { log: silentLogger, onEvent: rec.onEvent, healthIntervalMs: 30 });
  try {
    await sup.start();
    assert.equal(sup.status()[0].state, "healthy");
    assert.equal(sup.status()[0].pid, null);
    up = false;
    await waitFor(() => sup.status()[0].state === "unhealthy", 5000, "unhealthy");
    assert.equal(sup.status()[0].reason, `HTTP 500 from ${url}/health`);
    up = true;
    await waitFor(() => sup.status()[0].state === "healthy", 5000, "healthy again");
    assert.deepEqual(rec.events.map((e) => e.type), ["healthy", "unhealthy", "healthy"]);
    assert.equal(sup.status()[0].restarts, 0);
  } finally {
    await sup.stop();
  }
});

Deno.test("stop() before start() and twice is harmless", async () => {
  const sup = new Supervisor([], { log: silentLogger });
  await sup.stop();
  await sup.stop();
  assert.deepEqual(sup.status(), []);
});

Deno.test({
  name: "an engine's log file is owner-only (0600 in a 0700 directory), whatever the umask",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tom-engine-log-" });
    const logDir = `${dir}/logs`;
    await Deno.mkdir(logDir, { mode: 0o755 });
    await Deno.chmod(logDir, 0o755);
    const oldMask = Deno.umask(0);
    try {
      const proc = await spawnEngine({
        name: "stt",
        kind: "whisper-server",
        managed: true,
        command: Deno.execPath(),
        args: ["eval", "console.log('a caller said something')"],
      }, { log: silentLogger, logDir });
      await proc.status;
      // Another user on the box cannot read what the engine printed.
      assert.equal((Deno.statSync(`${logDir}/stt.log`).mode ?? 0) & 0o777, 0o600);
      assert.equal((Deno.statSync(logDir).mode ?? 0) & 0o777, 0o700);
    } finally {
      Deno.umask(oldMask);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
