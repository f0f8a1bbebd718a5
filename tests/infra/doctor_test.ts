import assert from "node:assert/strict";
import {
  type DoctorEngine,
  doctorMain,
  type DoctorReport,
  evaluateGates,
  formatDoctor,
  type GateName,
  runDoctor,
} from "../../infra/doctor.ts";
import { type GpuFacts, type HardwareProbes, parseNvidiaSmi } from "../../infra/engines/hardware.ts";
import { engineSpecs } from "../../infra/engines/specs.ts";
import { Supervisor } from "../../infra/supervisor.ts";
import { silentLogger } from "../../infra/log.ts";
import { alive, freePort, LLAMA_MISSING, testConfig, WHISPER_MISSING } from "./fixtures/engines.ts";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const gpu = (...mib: number[]): GpuFacts => ({
  present: mib.length > 0,
  devices: mib.map((m, i) => ({ name: `GPU${i}`, memoryTotalBytes: m * MiB, memoryUsedBytes: 0 })),
});
const engine = (healthy: boolean): DoctorEngine => ({
  name: "llm",
  kind: "ollama",
  managed: false,
  url: "http://127.0.0.1:11434",
  healthy,
  latencyMs: 1,
  checked: "running",
  ...(healthy ? {} : { reason: "connection refused at http://127.0.0.1:11434" }),
});

/** Injected hardware: no real machine is asked. */
function probes(ramGiB: number, g: GpuFacts): HardwareProbes {
  return {
    cpu: () => Promise.resolve({ model: "Test CPU", cores: 8 }),
    ram: () => Promise.resolve({ totalBytes: ramGiB * GiB, availableBytes: ramGiB * GiB / 2 }),
    disk: (path) => Promise.resolve({ path, totalBytes: 500 * GiB, freeBytes: 200 * GiB }),
    gpu: () => Promise.resolve(g),
  };
}

Deno.test("gates: VRAM, RAM and engine health decide each gate", () => {
  const table: Array<[string, GpuFacts, number, boolean, Record<GateName, boolean>]> = [
    ["H100, 128 GiB", gpu(81559), 128, true, {
      "realtime-ready": true,
      "single-agent-ready": true,
      "cpu-dev": true,
    }],
    ["12 GB card, 32 GB box (31.3 GiB)", gpu(12288), 31.3, true, {
      "realtime-ready": true,
      "single-agent-ready": true,
      "cpu-dev": true,
    }],
    ["16 GB T4 (15 GiB), 16 GiB", gpu(15360), 16, true, {
      "realtime-ready": false,
      "single-agent-ready": true,
      "cpu-dev": true,
    }],
    ["8 GB card, 15.6 GiB", gpu(8192), 15.6, true, {
      "realtime-ready": false,
      "single-agent-ready": true,
      "cpu-dev": true,
    }],
    ["6 GB card, 64 GiB", gpu(6144), 64, true, {
      "realtime-ready": false,
      "single-agent-ready": false,
      "cpu-dev": true,
    }],
    ["two 8 GB cards are not one 16 GB card", gpu(8192, 8192), 64, true, {
      "realtime-ready": false,
      "single-agent-ready": true,
      "cpu-dev": true,
    }],
    ["no GPU, 2 cores", gpu(), 23.5, true, {
      "realtime-ready": false,
      "single-agent-ready": false,
      "cpu-dev": true,
    }],
    ["H100 but an engine is down", gpu(81559), 128, false, {
      "realtime-ready": false,
      "single-agent-ready": false,
      "cpu-dev": false,
    }],
  ];
  for (const [label, g, ram, healthy, want] of table) {
    const gates = evaluateGates({
      ram: { totalBytes: ram * GiB, availableBytes: GiB },
      gpu: g,
      engines: [engine(healthy)],
    });
    const got = Object.fromEntries(gates.map((x) => [x.name, x.pass]));
    assert.deepEqual(got, want, label);
    for (const x of gates) assert.equal(x.reasons.length === 0, x.pass, `${label}: ${x.name} reasons`);
  }
});

Deno.test("gate reasons say what is missing", () => {
  const gates = evaluateGates({
    ram: { totalBytes: 16 * GiB, availableBytes: GiB },
    gpu: gpu(),
    engines: [engine(false)],
  });
  const realtime = gates.find((g) => g.name === "realtime-ready");
  assert.deepEqual(realtime?.reasons, [
    "no NVIDIA GPU found, needs one with 12 GB VRAM",
    "RAM is 16.0 GiB, needs 32 GB",
    "engine llm (ollama) not healthy: connection refused at http://127.0.0.1:11434",
  ]);
});

Deno.test("ok is the verdict of the configured profile's gate", async () => {
  const cases: Array<[string, boolean]> = [["realtime", false], ["single-agent", true], ["cpu-dev", true]];
  for (const [profile, ok] of cases) {
    const report = await runDoctor(testConfig({ TOM_PROFILE: profile }), {
      probes: probes(16, gpu(15360)),
      checkEngines: () => Promise.resolve([engine(true)]),
    });
    assert.equal(report.profile, profile);
    assert.equal(report.ok, ok, profile);
    assert.equal(
      report.gate,
      { realtime: "realtime-ready", "single-agent": "single-agent-ready", "cpu-dev": "cpu-dev" }[
        profile
      ],
    );
  }
});

Deno.test("nvidia-smi csv lines become devices with bytes", () => {
  assert.deepEqual(parseNvidiaSmi("NVIDIA H100 80GB HBM3, 81559, 1\nTesla T4, 15360, 0\n"), [
    { name: "NVIDIA H100 80GB HBM3", memoryTotalBytes: 81559 * MiB, memoryUsedBytes: 1 * MiB },
    { name: "Tesla T4", memoryTotalBytes: 15360 * MiB, memoryUsedBytes: 0 },
  ]);
  assert.deepEqual(parseNvidiaSmi("No devices were found\n"), []);
});

async function captureStdout(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const original = console.log;
  const lines: string[] = [];
  console.log = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  try {
    return { code: await fn(), out: lines.join("\n") };
  } finally {
    console.log = original;
  }
}

Deno.test("doctor --json prints every field with the right type, from this machine", async () => {
  const config = testConfig({ TOM_STT_KIND: "none", TOM_LLM_KIND: "none", TOM_TTS_KIND: "none" });
  const { code, out } = await captureStdout(() => doctorMain(config, { json: true }));
  const r = JSON.parse(out) as DoctorReport;
  assert.equal(code, r.ok ? 0 : 1);
  assert.equal(typeof r.time, "string");
  assert.equal(r.profile, "cpu-dev");
  assert.equal(r.gate, "cpu-dev");
  assert.equal(typeof r.ok, "boolean");
  assert.equal(typeof r.cpu.model, "string");
  assert.ok(Number.isInteger(r.cpu.cores) && r.cpu.cores > 0);
  assert.ok(r.ram.totalBytes > 0 && r.ram.availableBytes > 0 && r.ram.availableBytes <= r.ram.totalBytes);
  assert.ok(
    r.disk !== null && r.disk.totalBytes > 0 && r.disk.freeBytes >= 0 && r.disk.path === config.dataDir,
  );
  assert.equal(typeof r.gpu.present, "boolean");
  assert.ok(Array.isArray(r.gpu.devices));
  assert.deepEqual(r.engines.map((e) => [e.name, e.kind]), [["vad", "silero"]]);
  for (const e of r.engines) {
    assert.equal(typeof e.healthy, "boolean");
    assert.equal(typeof e.latencyMs, "number");
    assert.equal(typeof e.modelPresent, "boolean");
  }
  assert.deepEqual(r.gates.map((g) => g.name), ["realtime-ready", "single-agent-ready", "cpu-dev"]);
  for (const g of r.gates) assert.ok(typeof g.pass === "boolean" && Array.isArray(g.reasons));
  assert.ok(Array.isArray(r.warnings));
});

Deno.test("the report never shows secrets or URL credentials", async () => {
  const secret = "s3cr3t-".repeat(6);
  const port = freePort();
  const config = testConfig({
    TOM_JWT_SECRET: secret,
    TOM_LOG_HASH_SALT: "salty-salt-value",
    TOM_STT_KIND: "none",
    TOM_LLM_KIND: "openai",
    TOM_LLM_URL: `http://admin:hunter2@127.0.0.1:${port}/v1`,
  });
  const report = await runDoctor(config, { probes: probes(64, gpu()) });
  const texts = [JSON.stringify(report), formatDoctor(report)];
  for (const t of texts) {
    for (const s of [secret, "salty-salt-value", "hunter2", "admin:"]) {
      assert.ok(!t.includes(s), `leaked ${s}`);
    }
  }
  const llm = report.engines.find((e) => e.name === "llm");
  assert.equal(llm?.healthy, false);
  assert.equal(llm?.reason, `connection refused at http://127.0.0.1:${port}/v1`);
  assert.equal(llm?.checked, "not-running");
  assert.match(formatDoctor(report), /✗ llm openai/);
});

Deno.test("with startManaged false a stopped managed engine is reported not running", async () => {
  const config = testConfig({ TOM_LLM_KIND: "none" });
  const report = await runDoctor(config, { probes: probes(64, gpu()), startManaged: false });
  const stt = report.engines.find((e) => e.name === "stt");
  assert.equal(stt?.checked, "not-running");
  assert.equal(stt?.healthy, false);
  assert.match(stt?.reason ?? "", /^connection refused at http:\/\/127\.0\.0\.1:\d+/);
  assert.equal(report.ok, false);
});

Deno.test({
  name: "doctor starts stopped managed engines briefly, checks them and stops them again",
  ignore: WHISPER_MISSING !== undefined || LLAMA_MISSING !== undefined,
  async fn() {
    const config = testConfig();
    const before = new Set(pidsOf(config));
    const report = await runDoctor(config, { probes: probes(64, gpu()) });
    const managed = report.engines.filter((e) => e.managed);
    assert.deepEqual(managed.map((e) => [e.name, e.healthy, e.checked]), [
      ["stt", true, "started-by-doctor"],
      ["llm", true, "started-by-doctor"],
    ]);
    assert.ok(managed.every((e) => e.binaryFound === true && e.modelPresent === true));
    assert.deepEqual(pidsOf(config).filter((p) => !before.has(p)), [], "doctor left an engine running");
    assert.equal(report.ok, report.engines.every((e) => e.healthy));
    assert.match(formatDoctor(report), /✓ stt whisper-server .*started briefly by doctor/);
  },
});

Deno.test({
  name: "doctor checks an engine that already runs where it is",
  ignore: WHISPER_MISSING !== undefined,
  async fn() {
    const config = testConfig({ TOM_LLM_KIND: "none" });
    const sup = new Supervisor(engineSpecs(config).filter((s) => s.name === "stt"), { log: silentLogger });
    try {
      await sup.start();
      const pid = sup.status()[0].pid ?? 0;
      const report = await runDoctor(config, { probes: probes(64, gpu()) });
      const stt = report.engines.find((e) => e.name === "stt");
      assert.equal(stt?.checked, "running");
      assert.equal(stt?.healthy, true);
      assert.ok(alive(pid), "doctor must not stop an engine it did not start");
    } finally {
      await sup.stop();
    }
  },
});

/** Pids of processes whose command line names one of this config's engine ports. */
function pidsOf(config: ReturnType<typeof testConfig>): number[] {
  const ports = [new URL(config.stt.url).port, new URL(config.llm.url).port];
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      const i = cmd.indexOf("--port");
      if (i >= 0 && ports.includes(cmd[i + 1]) && alive(Number(entry.name))) pids.push(Number(entry.name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

Deno.test("tom doctor shows the STT pool and LLM slots it will start and how to set TOM_MAX_CALLS", async () => {
  const config = testConfig({ TOM_STT_KIND: "none", TOM_LLM_KIND: "none", TOM_STT_THREADS: "2" });
  const cpu = await runDoctor(config, { probes: probes(64, { present: false, devices: [] }) });
  assert.deepEqual({ ...cpu.capacity, why: "" }, { sttPool: 4, llmParallel: 1, why: "", maxCalls: 0 });
  const text = formatDoctor(cpu);
  assert.match(text, /STT pool 4 whisper-server\(s\), LLM 1 slot\(s\) \(8 CPU cores/);
  assert.match(text, /TOM_MAX_CALLS 0 \(no limit/);
  assert.match(text, /capacity_bench\.ts --pool N --search/);
  const limited = await runDoctor(
    testConfig({ TOM_STT_KIND: "none", TOM_LLM_KIND: "none", TOM_MAX_CALLS: "6" }),
    {
      probes: probes(64, gpu(81559)),
    },
  );
  assert.equal(limited.capacity?.sttPool, 4); // an H100: the GPU decides, at most 4
  assert.equal(limited.capacity?.llmParallel, 4); // and the LLM batches as many calls
  assert.match(formatDoctor(limited), /TOM_MAX_CALLS 6/);
});
