/**
 * Telemetry: OpenTelemetry meters and tracers (through `@opentelemetry/api`), with the meter provider
 * read by a Prometheus exporter that `/metrics` renders on demand (no extra listening port).
 *
 * @module
 */
import { type Meter, metrics, trace, type Tracer } from "@opentelemetry/api";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";

/** The telemetry of one process. */
export interface Telemetry {
  meter: Meter;
  tracer: Tracer;
  /** The current metrics in Prometheus text exposition format. */
  renderPrometheus(): Promise<string>;
  shutdown(): Promise<void>;
}

let installed: Telemetry | undefined;

/** Create (once per process) the meter provider and make it the global one. */
export function initTelemetry(serviceVersion = "0.1.0"): Telemetry {
  if (installed) return installed;
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  metrics.setGlobalMeterProvider(provider);
  const serializer = new PrometheusSerializer();
  installed = {
    meter: metrics.getMeter("tom", serviceVersion),
    tracer: trace.getTracer("tom", serviceVersion),
    async renderPrometheus() {
      const { resourceMetrics, errors } = await exporter.collect();
      if (errors.length > 0) console.error("metrics collection errors", errors.map(String));
      return serializer.serialize(resourceMetrics);
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
  return installed;
}
