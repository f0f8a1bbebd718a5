import assert from "node:assert/strict";
import { createHttpApp, type ReadinessCheck } from "../../../infra/http.ts";
import { initTelemetry } from "../../../infra/telemetry.ts";
import { silentLogger } from "../../../infra/log.ts";
import { loadConfig } from "../../../infra/config.ts";
import { selfcheck, selfcheckMain, selfcheckUrl } from "../../../app/commands/selfcheck.ts";

/** TOM's real HTTP skeleton on a real loopback socket, with the readiness it is given. */
function serveTom(checks: () => ReadinessCheck[], draining = () => false) {
  const app = createHttpApp({
    version: "1",
    telemetry: initTelemetry(),
    log: silentLogger,
    readiness: () => Promise.resolve(checks()),
    draining,
    activeCalls: () => 0,
  });
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
}

function captureConsole(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  console.error = (...a: unknown[]) => void lines.push(a.join(" "));
  return { lines, restore: () => Object.assign(console, { log, error }) };
}

Deno.test("tom selfcheck exits 0 with one line when the running TOM is ready, 1 with the reasons when not", async () => {
  let checks: ReadinessCheck[] = [{ name: "stt", ok: true }, { name: "database", ok: true }];
  let draining = false;
  const server = serveTom(() => checks, () => draining);
  const config = loadConfig({ env: { TOM_HTTP_PORT: String(server.addr.port) } });
  const out = captureConsole();
  try {
    assert.equal(await selfcheckMain(config, {}), 0);
    checks = [{ name: "stt", ok: false, reason: "whisper-server not answering" }, {
      name: "database",
      ok: true,
    }];
    assert.equal(await selfcheckMain(config, {}), 1);
    checks = [{ name: "stt", ok: true }];
    draining = true;
    assert.equal(await selfcheckMain(config, {}), 1);
  } finally {
    out.restore();
    await server.shutdown();
  }
  assert.deepEqual(out.lines, [
    `tom selfcheck: ready (http://127.0.0.1:${server.addr.port}/readyz)`,
    "tom selfcheck: not ready: stt: whisper-server not answering",
    "tom selfcheck: not ready: shutting down: not accepting new calls",
  ]);
});

Deno.test("tom selfcheck says unreachable when nothing listens, and when something else answers", async () => {
  const other = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("<h1>Bad gateway</h1>", { status: 502 }),
  );
  const closed = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => new Response());
  await closed.shutdown();
  try {
    const down = await selfcheck(`http://127.0.0.1:${closed.addr.port}`, 2000);
    assert.equal(down.ok, false);
    assert.match(down.line, /^unreachable: http:\/\/127\.0\.0\.1:\d+\/readyz: /);
    const proxy = await selfcheck(`http://127.0.0.1:${other.addr.port}/`, 2000);
    assert.equal(proxy.ok, false);
    assert.match(proxy.line, /answered HTTP 502 without TOM's readiness report$/);
  } finally {
    await other.shutdown();
  }
});

Deno.test("tom selfcheck gives up after --timeout when TOM does not answer", async () => {
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    await held;
    return new Response("{}");
  });
  try {
    const r = await selfcheck(`http://127.0.0.1:${server.addr.port}`, 200);
    assert.equal(r.ok, false);
    assert.match(r.line, /no answer within 200 ms$/);
  } finally {
    release();
    await server.shutdown();
  }
});

Deno.test("tom selfcheck rejects bad arguments with exit code 2 and asks a wildcard listener on loopback", async () => {
  const out = captureConsole();
  try {
    assert.equal(await selfcheckMain(loadConfig({ env: {} }), { timeout: "soon" }), 2);
    assert.equal(await selfcheckMain(loadConfig({ env: {} }), { url: "127.0.0.1:8080" }), 2);
  } finally {
    out.restore();
  }
  assert.match(out.lines[0], /--timeout must be a whole number/);
  assert.match(
    out.lines[1],
    /--url must be a base URL like http:\/\/127\.0\.0\.1:8080, got 127\.0\.0\.1:8080/,
  );
  assert.equal(selfcheckUrl(loadConfig({ env: { TOM_HTTP_HOST: "0.0.0.0" } })), "http://127.0.0.1:8080");
  assert.equal(
    selfcheckUrl(loadConfig({ env: { TOM_HTTP_HOST: "::", TOM_HTTP_PORT: "9" } })),
    "http://[::1]:9",
  );
  assert.equal(
    selfcheckUrl(loadConfig({ env: { TOM_HTTP_HOST: "192.168.1.5" } })),
    "http://192.168.1.5:8080",
  );
});
