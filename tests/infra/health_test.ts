import assert from "node:assert/strict";
import { join } from "node:path";
import { checkEngine, checkEngines } from "../../infra/engines/health.ts";
import type { EngineSpec } from "../../infra/engines/specs.ts";
import { findBinary } from "../../infra/engines/files.ts";
import { freePort } from "./fixtures/engines.ts";

/** A stand-in for Ollama built from its documented API: GET /api/version and GET /api/tags. */
function fakeOllama(models: string[]): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/api/version") return Response.json({ version: "0.5.7" });
    if (req.method === "GET" && path === "/api/tags") {
      return Response.json({
        models: models.map((name) => ({
          name,
          model: name,
          modified_at: "2025-01-01T00:00:00Z",
          size: 4_920_753_328,
          digest: "a".repeat(64),
          details: { format: "gguf", family: "llama", parameter_size: "8.0B", quantization_level: "Q4_K_M" },
        })),
      });
    }
    return new Response("404 page not found", { status: 404 });
  });
}

const ollamaSpec = (port: number, modelName: string): EngineSpec => ({
  name: "llm",
  kind: "ollama",
  managed: false,
  url: `http://127.0.0.1:${port}`,
  healthUrl: `http://127.0.0.1:${port}/api/tags`,
  modelName,
});

Deno.test("an engine nobody listens for is not ok and the reason names its URL", async () => {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const h = await checkEngine({
    name: "stt",
    kind: "whisper-server",
    managed: false,
    url,
    healthUrl: `${url}/health`,
  });
  assert.equal(h.ok, false);
  assert.equal(h.reachable, false);
  assert.equal(h.reason, `connection refused at ${url}`);
  assert.equal(h.url, url);
  assert.equal(typeof h.latencyMs, "number");
});

Deno.test("a fake Ollama answering /api/version and /api/tags with the model is healthy", async () => {
  await using server = fakeOllama(["llama3.1:8b", "qwen2.5:0.5b"]);
  const h = await checkEngine(ollamaSpec(server.addr.port, "llama3.1:8b"));
  assert.equal(h.ok, true, h.reason ?? "");
  assert.equal(h.reachable, true);
  assert.match(h.detail ?? "", /Ollama 0\.5\.7/);
  assert.equal(h.binaryFound, undefined, "Ollama is a service: no binary is looked for");
});

Deno.test("an Ollama tag without a version matches the :latest tag", async () => {
  await using server = fakeOllama(["mistral:latest"]);
  assert.equal((await checkEngine(ollamaSpec(server.addr.port, "mistral"))).ok, true);
});

Deno.test("Ollama without the configured model is not ok and says how to pull it", async () => {
  await using server = fakeOllama(["qwen2.5:0.5b"]);
  const h = await checkEngine(ollamaSpec(server.addr.port, "llama3.1:8b"));
  assert.equal(h.ok, false);
  assert.match(h.reason ?? "", /model "llama3\.1:8b" is not pulled .*ollama pull llama3\.1:8b/);
});

Deno.test("a server answering 503 Loading model is reported as loading", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      Response.json({ error: { code: 503, message: "Loading model", type: "unavailable_error" } }, {
        status: 503,
      }),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  const h = await checkEngine({
    name: "llm",
    kind: "llama-server",
    managed: false,
    url,
    healthUrl: `${url}/health`,
  });
  assert.equal(h.ok, false);
  assert.equal(h.reachable, true);
  assert.equal(h.reason, `loading model at ${url}/health`);
});

Deno.test("an engine that does not answer in time fails after the timeout with a reason", async () => {
  const release = Promise.withResolvers<void>();
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await release.promise;
    return new Response("late");
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  const started = performance.now();
  const h = await checkEngine(
    { name: "stt", kind: "whisper-server", managed: false, url, healthUrl: `${url}/health` },
    { timeoutMs: 150 },
  );
  release.resolve();
  assert.equal(h.ok, false);
  assert.equal(h.reason, `no answer within 150 ms at ${url}`);
  assert.ok(performance.now() - started < 2000);
});

Deno.test("a missing model file is reported with its path", async () => {
  const dir = await Deno.makeTempDir();
  const model = join(dir, "silero_vad_16k_op15.onnx");
  const h = await checkEngine({ name: "vad", kind: "silero", managed: false, model });
  assert.equal(h.ok, false);
  assert.equal(h.modelPresent, false);
  assert.equal(h.reason, `model file missing: ${model}`);
  await Deno.writeFile(model, new Uint8Array([1, 2, 3]));
  const again = await checkEngine({ name: "vad", kind: "silero", managed: false, model });
  assert.equal(again.ok, true);
  assert.equal(again.modelPresent, true);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a managed engine reports its binary and model besides the connection", async () => {
  const url = `http://127.0.0.1:${freePort()}`;
  const h = await checkEngine({
    name: "stt",
    kind: "whisper-server",
    managed: true,
    url,
    healthUrl: `${url}/health`,
    bin: "/nonexistent/whisper-server",
    model: "/nonexistent/model.bin",
    command: "/nonexistent/whisper-server",
    args: [],
  });
  assert.equal(h.ok, false);
  assert.equal(h.binaryFound, false);
  assert.equal(h.modelPresent, false);
  assert.equal(
    h.reason,
    `connection refused at ${url}; binary not found: /nonexistent/whisper-server; ` +
      "model file missing: /nonexistent/model.bin",
  );
});

Deno.test("Piper without its binary or the voice's .onnx.json: degraded, espeak-ng speaks instead", async () => {
  const dir = await Deno.makeTempDir();
  const model = join(dir, "de_DE-thorsten-medium.onnx");
  await Deno.writeFile(model, new Uint8Array([1]));
  const h = await checkEngine({ name: "tts", kind: "piper", managed: false, bin: join(dir, "piper"), model });
  assert.equal(h.binaryFound, false);
  assert.equal(h.modelPresent, true);
  // With espeak-ng (the fallback that always works) TOM still speaks: ready, but degraded and said why.
  const said = await findBinary("espeak-ng") ? h.degraded : h.reason;
  assert.equal(h.ok, said === h.degraded);
  assert.match(said ?? "", /binary not found: .*piper/);
  assert.match(said ?? "", /voice config missing: .*\.onnx\.json/);
  if (h.degraded) assert.match(h.degraded, /^Piper nicht nutzbar .*Ersatzstimme espeak-ng$/);
  await Deno.remove(dir, { recursive: true });
});

const espeak = await findBinary("espeak-ng");

Deno.test({
  name: "espeak-ng with the German voice is healthy; an unknown voice is not",
  ignore: !espeak,
  async fn() {
    const ok = await checkEngine({
      name: "tts",
      kind: "espeak-ng",
      managed: false,
      bin: "espeak-ng",
      voice: "de",
    });
    assert.equal(ok.ok, true, ok.reason ?? "");
    assert.equal(ok.binaryFound, true);
    const bad = await checkEngine({
      name: "tts",
      kind: "espeak-ng",
      managed: false,
      bin: "espeak-ng",
      voice: "xx-nope",
    });
    assert.equal(bad.ok, false);
    assert.match(bad.reason ?? "", /voice "xx-nope" is not usable/);
  },
});

Deno.test("checkEngines checks in parallel and keeps the order", async () => {
  const release = Promise.withResolvers<void>();
  await using slow = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await release.promise;
    return new Response("late");
  });
  const specs: EngineSpec[] = [0, 1, 2].map((i) => ({
    name: "stt",
    kind: "whisper-server",
    managed: false,
    url: `http://127.0.0.1:${slow.addr.port}/${i}`,
    healthUrl: `http://127.0.0.1:${slow.addr.port}/${i}/health`,
  }));
  const started = performance.now();
  const results = await checkEngines(specs, { timeoutMs: 300 });
  release.resolve();
  assert.deepEqual(results.map((r) => r.url), specs.map((s) => s.url));
  assert.ok(results.every((r) => !r.ok && /no answer within 300 ms/.test(r.reason ?? "")));
  assert.ok(performance.now() - started < 850, "three 300 ms timeouts ran one after another");
});
