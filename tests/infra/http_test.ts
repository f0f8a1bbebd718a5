import assert from "node:assert/strict";
import { createHttpApp, type ReadinessCheck } from "../../infra/http.ts";
import { initTelemetry } from "../../infra/telemetry.ts";
import { silentLogger } from "../../infra/log.ts";

function app(checks: ReadinessCheck[], draining = false) {
  return createHttpApp({
    version: "9.9.9",
    telemetry: initTelemetry(),
    log: silentLogger,
    readiness: () => Promise.resolve(checks),
    draining: () => draining,
    activeCalls: () => 3,
    now: () => 1000,
  });
}

Deno.test("/healthz answers 200 without checking engines", async () => {
  let asked = false;
  const a = createHttpApp({
    version: "1",
    telemetry: initTelemetry(),
    log: silentLogger,
    readiness: () => {
      asked = true;
      return Promise.resolve([]);
    },
    draining: () => false,
    activeCalls: () => 0,
  });
  const res = await a.request("/healthz");
  assert.equal(res.status, 200);
  assert.equal((await res.json()).status, "ok");
  assert.equal(asked, false);
});

Deno.test("/readyz is 200 when every check passes and names each one", async () => {
  const res = await app([{ name: "stt", ok: true }, { name: "llm", ok: true }, {
    name: "database",
    ok: true,
  }])
    .request("/readyz");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, "ready");
  assert.deepEqual(body.checks.map((c: ReadinessCheck) => c.name), ["stt", "llm", "database"]);
});

Deno.test("/readyz is 503 with the reason of each engine that is down", async () => {
  const res = await app([
    { name: "stt", ok: false, reason: "connection refused at http://127.0.0.1:8178" },
    { name: "llm", ok: true },
  ]).request("/readyz");
  assert.equal(res.status, 503);
  const body = await res.json();
  assert.deepEqual(body.reasons, ["stt: connection refused at http://127.0.0.1:8178"]);
});

Deno.test("/readyz is 503 while draining, even with healthy engines", async () => {
  const res = await app([{ name: "stt", ok: true }], true).request("/readyz");
  assert.equal(res.status, 503);
  assert.match((await res.json()).reasons[0], /shutting down/);
});

Deno.test("/metrics is Prometheus text and counts requests", async () => {
  const a = app([]);
  await a.request("/healthz");
  const res = await a.request("/metrics");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /# TYPE tom_http_requests_total counter/);
  assert.match(text, /tom_http_requests_total\{[^}]*route="\/healthz"[^}]*status="2xx"[^}]*\} \d+/);
});

Deno.test("unknown paths get a JSON 404", async () => {
  const res = await app([]).request("/nope");
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error, "Not found");
});
