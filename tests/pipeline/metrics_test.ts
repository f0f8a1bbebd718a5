import assert from "node:assert/strict";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { createPipelineMetrics } from "../../pipeline/metrics.ts";

Deno.test("pipeline metrics render with Prometheus names, labels and the 1 ms - 10 s buckets", async () => {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const m = createPipelineMetrics(provider.getMeter("t"));
  m.stage("stt", 0.3);
  m.handover("stt_to_llm", 0.0001);
  m.bargeIn(0.002);
  m.queueWait(0.1);
  m.engineError({ engine: "llm", kind: "timeout", message: "x", retryable: true });
  m.turn("answered");
  const text = new PrometheusSerializer().serialize((await exporter.collect()).resourceMetrics);
  for (
    const line of [
      /tom_turn_stage_seconds_bucket\{stage="stt",[^}]*le="0.5"\} 1/,
      /tom_stage_handover_seconds_bucket\{handover="stt_to_llm",[^}]*le="0.001"\} 1/,
      /tom_barge_in_seconds_bucket\{[^}]*le="0.0025"\} 1/,
      /tom_stt_queue_wait_seconds_count\{[^}]*\} 1/,
      /tom_barge_ins_total\{[^}]*\} 1/,
      /tom_engine_errors_total\{engine="llm",kind="timeout"[^}]*\} 1/,
      /tom_turns_total\{outcome="answered"[^}]*\} 1/,
    ]
  ) assert.match(text, line);
  await provider.shutdown();
});
