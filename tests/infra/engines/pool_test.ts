// The STT pool's size and addresses (infra/engines/pool.ts) and how engineSpecs starts its members and
// llama-server's slots; the guard lets `--parallel` through with a number only.
import assert from "node:assert/strict";
import {
  autoSizeEnginePools,
  MAX_AUTO_CPU_POOL,
  sizeEnginePools,
  sttPoolUrls,
} from "../../../infra/engines/pool.ts";
import { EngineSpecError, engineSpecs } from "../../../infra/engines/specs.ts";
import { allowedNetHosts } from "../../../infra/permissions.ts";
import { loadConfig } from "../../../infra/config.ts";
import { freePort, PATHS, testConfig } from "../fixtures/engines.ts";

const cfg = (poolSize: number, threads: number, parallel = 0) => ({
  stt: { poolSize, threads },
  llm: { parallel },
});

Deno.test("on a CPU box the STT pool is sized from the cores and the LLM keeps one slot", () => {
  assert.deepEqual(
    [2, 4, 16, 64].map((cores) => sizeEnginePools(cfg(0, 1), { cores, sttModelBytes: 0 }).sttPool),
    [2, 4, 8, MAX_AUTO_CPU_POOL],
  );
  // Two threads per member: a 2-core box keeps one whisper-server (today's setup).
  const two = sizeEnginePools(cfg(0, 2), { cores: 2, sttModelBytes: 0 });
  assert.equal(two.sttPool, 1);
  assert.equal(two.llmParallel, 1);
  // Slots on a CPU only share out the same cores: one, unless configured.
  assert.match(two.why, /2 CPU cores/);
  const eight = sizeEnginePools(cfg(0, 2), { cores: 16, sttModelBytes: 0 });
  assert.deepEqual([eight.sttPool, eight.llmParallel], [8, 1]);
  // A set size wins; so do set slots.
  assert.deepEqual(
    { ...sizeEnginePools(cfg(3, 2, 5), { cores: 64, sttModelBytes: 0 }), why: "" },
    { sttPool: 3, llmParallel: 5, why: "" },
  );
});

Deno.test("on a GPU a quarter of its free memory goes to the pool, at most 4, and as many LLM slots", () => {
  const GIB = 1024 ** 3;
  const small = sizeEnginePools(cfg(0, 2), { cores: 2, gpuFreeBytes: 8 * GIB, sttModelBytes: 78e6 });
  assert.equal(small.sttPool, 3); // 2 GiB for members of about 0.65 GiB each
  assert.match(small.why, /GPU/);
  const h100 = sizeEnginePools(cfg(0, 2), { cores: 16, gpuFreeBytes: 78 * GIB, sttModelBytes: 1.6e9 });
  assert.equal(h100.sttPool, 4);
  assert.equal(h100.llmParallel, 4);
});

Deno.test("autoSizeEnginePools fills in 0 from the box; unmanaged servers stay one", async () => {
  const probes = {
    cpu: () => Promise.resolve({ model: "test", cores: 4 }),
    gpu: () => Promise.resolve({ present: false, devices: [] }),
  };
  const config = testConfig({ TOM_STT_THREADS: "1" });
  const { config: sized, sizing } = await autoSizeEnginePools(config, probes);
  assert.deepEqual([sized.stt.poolSize, sized.llm.parallel, sizing.sttPool], [4, 1, 4]);
  const remote = await autoSizeEnginePools(testConfig({ TOM_MANAGE_ENGINES: "false" }), probes);
  assert.equal(remote.config.stt.poolSize, 1);
});

Deno.test("pool members listen on stt.url, then poolPort, poolPort + 1, ... (or 100 ports apart)", () => {
  const c = loadConfig({
    env: { TOM_STT_URL: "http://127.0.0.1:8178/", TOM_STT_POOL_SIZE: "3", TOM_STT_POOL_PORT: "9100" },
  });
  assert.deepEqual(sttPoolUrls(c), [
    "http://127.0.0.1:8178",
    "http://127.0.0.1:9100",
    "http://127.0.0.1:9101",
  ]);
  assert.deepEqual(sttPoolUrls(loadConfig({ env: {} })), ["http://127.0.0.1:8178"]);
  // Without a pool port: 100 ports apart from stt.url's, below it near the top of the range.
  assert.deepEqual(sttPoolUrls(loadConfig({ env: { TOM_STT_POOL_SIZE: "3" } })).slice(1), [
    "http://127.0.0.1:8278",
    "http://127.0.0.1:8378",
  ]);
  const high = loadConfig({ env: { TOM_STT_URL: "http://127.0.0.1:65500", TOM_STT_POOL_SIZE: "2" } });
  assert.deepEqual(sttPoolUrls(high), ["http://127.0.0.1:65500", "http://127.0.0.1:65400"]);
});

Deno.test("engineSpecs starts one whisper-server per pool member and llama-server with --parallel", () => {
  const poolPort = freePort();
  const config = testConfig({
    TOM_STT_POOL_SIZE: "3",
    TOM_STT_POOL_PORT: String(poolPort),
    TOM_STT_THREADS: "1",
    TOM_LLM_PARALLEL: "3",
    TOM_LLM_CONTEXT_SIZE: "2048",
  });
  const specs = engineSpecs(config);
  const stt = specs.filter((s) => s.name === "stt");
  assert.deepEqual(stt.map((s) => s.label), [undefined, "stt#2", "stt#3"]);
  assert.deepEqual(stt.map((s) => s.port), [
    Number(new URL(config.stt.url).port),
    poolPort,
    poolPort + 1,
  ]);
  for (const s of stt) {
    assert.equal(s.command, PATHS.engineGuard); // every member through tom-engine-guard
    assert.deepEqual(s.args?.slice(-2), ["-t", "1"]);
  }
  const llm = specs.find((s) => s.name === "llm");
  // -c is the total context: 3 slots of 2048 each.
  assert.deepEqual(llm?.args?.slice(7), [
    ...["-t", "2", "-c", "6144", "--alias", "tom", "--parallel", "3", "--jinja"],
  ]);
});

Deno.test("a pool member on the LLM's port is refused with the setting to change", () => {
  const llmPort = freePort();
  assert.throws(
    () =>
      engineSpecs(testConfig({
        TOM_LLM_URL: `http://127.0.0.1:${llmPort}`,
        TOM_STT_POOL_SIZE: "2",
        TOM_STT_POOL_PORT: String(llmPort),
      })),
    (e: unknown) => e instanceof EngineSpecError && /TOM_STT_POOL_PORT/.test(e.message),
  );
});

Deno.test("remote pool members are on the egress allow-list, each with its port", () => {
  const c = loadConfig({
    env: {
      TOM_MANAGE_ENGINES: "false",
      TOM_STT_URL: "http://10.0.0.5:8178",
      TOM_STT_POOL_SIZE: "2",
      TOM_STT_POOL_PORT: "8190",
    },
  });
  const hosts = allowedNetHosts(c);
  assert.ok(hosts.includes("10.0.0.5:8178"));
  assert.ok(hosts.includes("10.0.0.5:8190"));
});

Deno.test({
  name: "tom-engine-guard lets --parallel through with a number and refuses anything else",
  ignore: (() => {
    try {
      return !Deno.statSync(PATHS.engineGuard).isFile;
    } catch {
      return true;
    }
  })(),
  async fn() {
    const guard = async (...args: string[]) => {
      const r = await new Deno.Command(PATHS.engineGuard, {
        args: ["llama-server", ...args],
        stderr: "piped",
      })
        .output();
      return { code: r.code, err: new TextDecoder().decode(r.stderr) };
    };
    for (const bad of [["--parallel", "x"], ["--parallel", "-1"], ["--parallel"], ["--parallel", "1e3"]]) {
      const r = await guard(...bad);
      assert.equal(r.code, 64, bad.join(" "));
      assert.match(r.err, /refused/);
    }
    // Accepted: llama-server itself runs (and fails on the missing model), the guard refuses nothing.
    const ok = await guard("-m", "/nonexistent/model.gguf", "--parallel", "4", "--port", String(freePort()));
    assert.notEqual(ok.code, 64);
    assert.doesNotMatch(ok.err, /tom-engine-guard: refused/);
  },
});
