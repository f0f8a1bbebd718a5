/**
 * A realistic `/metrics` page: the real appliance (`startAppliance`, in-process, echo answering stage,
 * unmanaged engines answered by a local health server) exercised until every metric family TOM defines
 * has samples, then scraped over HTTP. Shared by the promtool test and the Prometheus/Grafana deploy test.
 *
 * Families and how they get samples: HTTP requests (`/healthz`), gateway auth failures (a handshake
 * without a token), refused connections (a foreign Origin), connections and calls (one echo call),
 * oversize messages (a 2 KiB frame over a 1 KiB limit), rate limiting (a burst over 20 messages/s),
 * AudioSocket protocol errors (a malformed stream), Twilio signature failures (an unsigned webhook),
 * engine health and restarts (the supervisor), the pipeline's histograms and counters (recorded through
 * `createPipelineMetrics` on the appliance's meter: the echo stage runs no engines), GPU memory
 * (`nvidia-smi`; on a machine without one, a stand-in script on PATH prints nvidia-smi's CSV), and the
 * learning loop (`tom_rl_*`, declared with zero values until feedback arrives).
 *
 * @module
 */
import { join } from "node:path";
import { loadConfig } from "../../infra/config.ts";
import { startAppliance } from "../../app/serve.ts";
import { findBinary } from "../../infra/engines/files.ts";
import { createPipelineMetrics } from "../../pipeline/metrics.ts";
import { hmacKey, mintCallToken } from "../../gateway/auth/token.ts";
import { freePort } from "../_helpers.ts";
import { clientFrame, rawHandshake, RawWsClient, TestClient } from "../gateway/server_harness.ts";

const SECRET = "metrics-page-test-secret-0123456789-abcdef";

const promtool = await findBinary("promtool");
/** Why promtool cannot be used, or undefined when it can. */
export const promtoolMissing: string | undefined = promtool
  ? undefined
  : "promtool not found (Debian package `prometheus`)";
/** `ignore` for tests that need promtool: skipped with the reason, but a failure under CI=true. */
export const promtoolIgnore: boolean = promtoolMissing !== undefined && Deno.env.get("CI") !== "true";
if (promtoolMissing && promtoolIgnore) console.error(`skipping promtool tests: ${promtoolMissing}`);

/** Every family TOM exposes, by the module that defines it. */
export const TOM_FAMILIES: Record<string, "counter" | "gauge" | "histogram"> = {
  // infra/http.ts, app/serve.ts, infra/telemetry.ts
  tom_http_requests_total: "counter",
  tom_engine_restarts_total: "counter",
  tom_engine_up: "gauge",
  tom_active_calls: "gauge",
  tom_calls_total: "counter",
  tom_build_info: "gauge",
  tom_gpu_memory_used_bytes: "gauge",
  tom_gpu_memory_total_bytes: "gauge",
  // gateway/
  tom_gateway_auth_failures_total: "counter",
  tom_gateway_rejected_connections_total: "counter",
  tom_gateway_rate_limited_total: "counter",
  tom_gateway_oversize_total: "counter",
  tom_gateway_connections: "gauge",
  tom_audiosocket_protocol_errors_total: "counter",
  tom_twilio_signature_failures_total: "counter",
  // pipeline/metrics.ts
  tom_turn_stage_seconds: "histogram",
  tom_stage_handover_seconds: "histogram",
  tom_barge_in_seconds: "histogram",
  tom_stt_queue_wait_seconds: "histogram",
  tom_barge_ins_total: "counter",
  tom_engine_errors_total: "counter",
  tom_turns_total: "counter",
  // rl/metrics.ts
  tom_rl_feedback_total: "counter",
  tom_rl_reward: "histogram",
  tom_rl_policy_pulls_total: "counter",
  tom_rl_exploration_ratio: "gauge",
  tom_rl_blacklisted_variants: "gauge",
};

/** The learning loop's counters start empty; these get samples once feedback arrives
 * (metrics_promtool_test.ts checks a populated page). */
export const EMPTY_UNTIL_FEEDBACK: ReadonlySet<string> = new Set([
  "tom_rl_feedback_total",
  "tom_rl_policy_pulls_total",
]);

/** Run `promtool ARGS...` (with `stdin` piped in, if given); its exit code and combined output. */
export async function promtoolCheck(
  args: string[],
  stdin?: string,
): Promise<{ code: number; output: string }> {
  if (!promtool) throw new Error(promtoolMissing);
  const child = new Deno.Command(promtool, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, output: (dec.decode(out.stdout) + dec.decode(out.stderr)).trim() };
}

/** What {@linkcode produceMetricsPage} returns. */
export interface MetricsPage {
  /** The `/metrics` body. */
  text: string;
  /** Whether the GPU series came from a stand-in `nvidia-smi` (no real one on this machine). */
  gpuStandIn: boolean;
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Start the appliance, exercise every metric family, scrape `/metrics`, stop it again. */
export async function produceMetricsPage(): Promise<MetricsPage> {
  const dir = await Deno.makeTempDir({ prefix: "tom-metrics-page-" });
  const engines = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => Response.json({}));
  const oldPath = Deno.env.get("PATH") ?? "";
  const gpuStandIn = (await findBinary("nvidia-smi")) === undefined;
  if (gpuStandIn) {
    const bin = join(dir, "bin");
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      join(bin, "nvidia-smi"),
      "#!/bin/sh\necho 'NVIDIA RTX 4000 SFF Ada Generation, 20475, 1385'\n",
      { mode: 0o755 },
    );
    Deno.env.set("PATH", `${bin}:${oldPath}`);
  }
  const engineUrl = `http://127.0.0.1:${engines.addr.port}`;
  const config = loadConfig({
    env: {
      HOME: dir,
      TOM_DATA_DIR: join(dir, "data"),
      TOM_ENGINES_DIR: join(dir, "engines"),
      TOM_HTTP_PORT: String(freePort()),
      TOM_AUDIOSOCKET_PORT: String(freePort()),
      TOM_MANAGE_ENGINES: "false",
      TOM_STT_URL: engineUrl,
      TOM_LLM_URL: engineUrl,
      TOM_ANSWER: "echo",
      TOM_RL_ANALYSIS: "false",
      TOM_JWT_SECRET: SECRET,
      TOM_TWILIO_AUTH_TOKEN: "twilio-test-token",
      TOM_GATEWAY_MAX_FRAME_BYTES: "1024",
      TOM_GATEWAY_MESSAGES_PER_SECOND: "20",
      TOM_LOG_LEVEL: "error",
    },
    cwd: dir,
  });
  const app = await startAppliance(config);
  const port = app.addr.port;
  const base = `http://127.0.0.1:${port}`;
  const token = (callId: string) => mintCallToken(hmacKey(SECRET), { callId });
  const scrape = async () => await (await fetch(`${base}/metrics`)).text();
  try {
    await (await fetch(`${base}/healthz`)).body?.cancel();
    // Gateway refusals: no token (auth failure), a foreign origin (refused before authentication).
    await rawHandshake(port, "/ws/stream/metrics-no-token");
    await rawHandshake(port, `/ws/stream/metrics-origin?token=${await token("metrics-origin")}`, {
      Origin: "https://evil.example",
    });
    // One echo call, then a frame over the 1 KiB limit (closed with 1009).
    const call = new TestClient(
      `ws://127.0.0.1:${port}/ws/stream/metrics-call?token=${await token("metrics-call")}`,
    );
    await call.event("connected");
    call.send({ type: "start" });
    await call.event("streaming_started");
    call.send(new Uint8Array(2048));
    await call.closed;
    // A burst over the message rate limit (closed with 1013).
    const flood = await RawWsClient.connect(
      port,
      `/ws/stream/metrics-flood?token=${await token("metrics-flood")}`,
    );
    const frame = clientFrame(new Uint8Array(64));
    const burst = new Uint8Array(200 * frame.length);
    for (let i = 0; i < 200; i++) burst.set(frame, i * frame.length);
    await flood.write(burst);
    await flood.ended;
    // A malformed AudioSocket stream (a UUID message of 17 bytes).
    const ast = await Deno.connect({ hostname: "127.0.0.1", port: config.audiosocket.port });
    await ast.write(new Uint8Array([0x01, 0, 17]));
    while ((await ast.read(new Uint8Array(64)).catch(() => null)) !== null) { /* until closed */ }
    ast.close();
    // An unsigned Twilio webhook.
    await (await fetch(`${base}/twilio/voice`, {
      method: "POST",
      body: new URLSearchParams({ CallSid: "CA1" }),
    }))
      .body?.cancel();
    // The pipeline's recorders on the appliance's meter.
    const p = createPipelineMetrics(app.telemetry.meter);
    p.stage("stt", 0.21);
    p.stage("voice_to_voice", 0.62);
    p.handover("stt_to_llm", 0.002);
    p.bargeIn(0.04);
    p.queueWait(0.01);
    p.engineError({
      engine: "llm",
      kind: "timeout",
      message: "no first token within 1800 ms",
      retryable: true,
    });
    p.turn("answered");
    const wanted = [
      "tom_engine_up{",
      "tom_gateway_rate_limited_total{",
      "tom_gateway_oversize_total{",
      "tom_audiosocket_protocol_errors_total{",
      "tom_gpu_memory_used_bytes{",
    ];
    await waitFor(`${wanted.join(", ")} in /metrics`, async () => {
      const text = await scrape();
      return wanted.every((w) => text.includes(w));
    });
    return { text: await scrape(), gpuStandIn };
  } finally {
    Deno.env.set("PATH", oldPath);
    await app.shutdown("test done");
    await engines.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The metric names a page exposes: each `# TYPE` family, and for histograms also its `_bucket`, `_sum`
 * and `_count` series.
 */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]);
    if (m[2] === "histogram") { for (const s of ["_bucket", "_sum", "_count"]) names.add(m[1] + s); }
  }
  return names;
}

/**
 * Metric names (`tom_...`) used in a PromQL expression. Label names and values, and range selectors, are
 * skipped.
 */
export function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, "{}");
  return [...new Set(withoutStrings.match(/\btom_[a-z0-9_]+/g) ?? [])];
}
