/**
 * Telemetry: spans leave the box over OTLP/HTTP only to a collector the egress policy allows (real
 * exporter, real HTTP to a local collector), anything else is refused at start with exit code 2, and the
 * GPU memory gauges come from nvidia-smi or are absent, never an error.
 */
import assert from "node:assert/strict";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { ConfigError, loadConfig } from "../../infra/config.ts";
import { allowedNetHosts, servePermissionFlags } from "../../infra/permissions.ts";
import {
  assertTelemetryConfig,
  initTelemetry,
  otlpTracesUrl,
  registerGpuMetrics,
  startTraceExport,
} from "../../infra/telemetry.ts";
import { type GpuFacts, parseNvidiaSmi, systemProbes } from "../../infra/engines/hardware.ts";
import { freePort, runTom } from "../_helpers.ts";

const config = (env: Record<string, string>) => loadConfig({ env: { HOME: "/tmp", ...env }, cwd: "/tmp" });

interface Received {
  method: string;
  path: string;
  contentType: string | null;
  body: {
    resourceSpans: {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      scopeSpans: {
        spans: { name: string; attributes: { key: string; value: { intValue?: string | number } }[] }[];
      }[];
    }[];
  };
}

Deno.test("spans are POSTed as OTLP/HTTP JSON to a loopback collector by the real exporter", async () => {
  const received: Received[] = [];
  const collector = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    received.push({
      method: req.method,
      path: new URL(req.url).pathname,
      contentType: req.headers.get("content-type"),
      body: await req.json(),
    });
    return Response.json({});
  });
  const cfg = config({ TOM_TELEMETRY_OTLP_ENDPOINT: `http://127.0.0.1:${collector.addr.port}` });
  const exp = startTraceExport(cfg, { serviceVersion: "9.9.9", scheduledDelayMillis: 50 });
  try {
    assert.ok(exp);
    assert.equal(exp.url, `http://127.0.0.1:${collector.addr.port}/v1/traces`);
    assert.equal(startTraceExport(cfg), exp, "a second start with the same endpoint reuses the export");
    const tracer = initTelemetry("9.9.9").tracer;
    const span = tracer.startSpan("tom.turn", { attributes: { "tom.turn": 3 } });
    assert.equal(span.isRecording(), true);
    span.end();
    const answer = tracer.startActiveSpan("tom.active", (s) => {
      s.end();
      return 42;
    });
    assert.equal(answer, 42);
    await exp.forceFlush();
    assert.equal(received.length, 1);
    const [post] = received;
    assert.equal(post.method, "POST");
    assert.equal(post.path, "/v1/traces");
    assert.match(post.contentType ?? "", /^application\/json/);
    const rs = post.body.resourceSpans[0];
    const service = rs.resource.attributes.find((a) => a.key === "service.name");
    assert.equal(service?.value.stringValue, "tom");
    const spans = rs.scopeSpans.flatMap((s) => s.spans);
    assert.deepEqual(spans.map((s) => s.name).sort(), ["tom.active", "tom.turn"]);
    const sent = spans.find((s) => s.name === "tom.turn");
    assert.ok(sent);
    assert.equal(Number(sent.attributes.find((a) => a.key === "tom.turn")?.value.intValue), 3);
  } finally {
    await exp?.shutdown();
    await collector.shutdown();
  }
  // After shutdown spans are no longer recorded (and nothing is sent).
  assert.equal(initTelemetry().tracer.startSpan("after").isRecording(), false);
});

Deno.test("without an endpoint no trace export starts and spans are not recorded", () => {
  assert.equal(startTraceExport(config({})), undefined);
  assert.equal(initTelemetry().tracer.startSpan("x").isRecording(), false);
});

Deno.test("an OTLP endpoint outside the egress policy is refused with a ConfigError naming the key", () => {
  const endpoint = { TOM_TELEMETRY_OTLP_ENDPOINT: "http://collector.praxis.example:4318" };
  const refused = config(endpoint);
  assert.throws(() => startTraceExport(refused), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /telemetry\.otlpEndpoint \(TOM_TELEMETRY_OTLP_ENDPOINT\)/);
    assert.match(e.message, /collector\.praxis\.example:4318/);
    assert.match(e.message, /TOM_EGRESS_ALLOW_HOSTS/);
    return true;
  });
  assert.ok(!allowedNetHosts(refused).some((h) => h.includes("collector")), "not in --allow-net");
  // Another port of an allowed host is still refused.
  assert.throws(
    () =>
      assertTelemetryConfig(config({ ...endpoint, TOM_EGRESS_ALLOW_HOSTS: "collector.praxis.example:9999" })),
    ConfigError,
  );
  // Allowed by host, by host:port, or by allow-all: accepted and in the permission flags.
  for (const allow of ["collector.praxis.example", "collector.praxis.example:4318"]) {
    const ok = config({ ...endpoint, TOM_EGRESS_ALLOW_HOSTS: allow });
    assertTelemetryConfig(ok);
    assert.ok(allowedNetHosts(ok).includes("collector.praxis.example:4318"), allow);
    const net = servePermissionFlags(ok).find((f) => f.startsWith("--allow-net"));
    assert.match(net ?? "", /collector\.praxis\.example:4318/);
  }
  assertTelemetryConfig(config({ ...endpoint, TOM_EGRESS_ALLOW_ALL: "true" }));
  // Loopback is always allowed.
  const local = config({ TOM_TELEMETRY_OTLP_ENDPOINT: "http://[::1]:4318" });
  assertTelemetryConfig(local);
  assert.ok(allowedNetHosts(local).includes("[::1]:4318"));
});

Deno.test("the endpoint must be empty or an http(s) URL without credentials", () => {
  for (const bad of ["ftp://127.0.0.1:4318", "collector:4318", "http://user:secret@127.0.0.1:4318"]) {
    assert.throws(() => config({ TOM_TELEMETRY_OTLP_ENDPOINT: bad }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /TOM_TELEMETRY_OTLP_ENDPOINT \(telemetry\.otlpEndpoint\): expected empty/);
      return true;
    }, bad);
  }
  assert.equal(otlpTracesUrl("http://127.0.0.1:4318"), "http://127.0.0.1:4318/v1/traces");
  assert.equal(otlpTracesUrl("https://otel.example/collector/"), "https://otel.example/collector/v1/traces");
});

Deno.test("tom serve exits with code 2 and names the key when the OTLP endpoint is not allowed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom-otlp-" });
  try {
    const r = await runTom(["serve"], {
      TOM_DATA_DIR: dir,
      TOM_HTTP_PORT: String(freePort()),
      TOM_AUDIOSOCKET_PORT: String(freePort()),
      TOM_MANAGE_ENGINES: "false",
      TOM_TELEMETRY_OTLP_ENDPOINT: "http://collector.praxis.example:4318",
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /tom: Invalid configuration:\n\s+telemetry\.otlpEndpoint \(TOM_TELEMETRY_OTLP_ENDPOINT\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function gpuPage(probe?: () => Promise<GpuFacts>): Promise<string> {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  registerGpuMetrics(provider.getMeter("t"), probe ? { probe } : {});
  const { resourceMetrics, errors } = await exporter.collect();
  assert.deepEqual(errors, []);
  await provider.shutdown();
  return new PrometheusSerializer().serialize(resourceMetrics);
}

Deno.test("GPU memory gauges: one series pair per GPU from nvidia-smi's output", async () => {
  const csv = "NVIDIA L4, 23034, 20000\nNVIDIA RTX 4000 SFF Ada Generation, 20475, 1385\n";
  const text = await gpuPage(() => Promise.resolve({ present: true, devices: parseNvidiaSmi(csv) }));
  assert.match(text, /^tom_gpu_memory_used_bytes\{gpu="0",name="NVIDIA L4"[^}]*\} 20971520000$/m);
  assert.match(text, /^tom_gpu_memory_total_bytes\{gpu="0",name="NVIDIA L4"[^}]*\} 24152899584$/m);
  assert.match(text, /^tom_gpu_memory_used_bytes\{gpu="1",name="NVIDIA RTX 4000 SFF Ada Generation"/m);
});

Deno.test("GPU memory gauges: no GPU or a failing nvidia-smi gives no series and no error", async () => {
  const none = await gpuPage(() =>
    Promise.resolve({ present: false, devices: [], note: "nvidia-smi not found" })
  );
  assert.doesNotMatch(none, /tom_gpu_memory_\w+\{/);
  const failing = await gpuPage(() => Promise.reject(new Error("nvidia-smi hung")));
  assert.doesNotMatch(failing, /tom_gpu_memory_\w+\{/);
});

Deno.test("GPU memory gauges with this machine's real nvidia-smi (or its absence)", async () => {
  const facts = await systemProbes.gpu();
  const text = await gpuPage();
  const series = text.match(/^tom_gpu_memory_total_bytes\{.*$/gm) ?? [];
  assert.equal(series.length, facts.devices.length, facts.note ?? text);
  for (const [i, d] of facts.devices.entries()) {
    assert.ok(d.memoryTotalBytes > 0 && d.memoryUsedBytes <= d.memoryTotalBytes, d.name);
    assert.ok(series[i].includes(`gpu="${i}"`));
  }
  if (facts.devices.length > 0) console.log(`real GPUs: ${series.join("; ")}`);
});
