/**
 * Telemetry: OpenTelemetry meters and tracers (through `@opentelemetry/api`), with the meter provider
 * read by a Prometheus exporter that `/metrics` renders on demand (no extra listening port).
 *
 * Traces leave the box only when `telemetry.otlpEndpoint` is set AND the egress policy allows its host
 * ({@linkcode startTraceExport}); they are then POSTed as OTLP/HTTP JSON by the OpenTelemetry exporter.
 * The GPU memory gauges ({@linkcode registerGpuMetrics}) read `nvidia-smi` when Prometheus scrapes.
 *
 * @module
 */
import {
  type Context,
  type Meter,
  metrics,
  type Span,
  type SpanOptions,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { type Config, ConfigError, envName } from "./config.ts";
import { egressAllows, otlpEndpointHost } from "./permissions.ts";
import { type GpuFacts, systemProbes } from "./engines/hardware.ts";

/** The telemetry of one process. */
export interface Telemetry {
  meter: Meter;
  tracer: Tracer;
  /** The current metrics in Prometheus text exposition format. */
  renderPrometheus(): Promise<string>;
  shutdown(): Promise<void>;
}

/** The service name in `target_info` and in exported spans' resource. */
export const SERVICE_NAME = "tom";

/**
 * A tracer that asks the global tracer provider on every span, so a trace export started (or stopped)
 * after the tracer was handed out still takes effect. Without an export it is OpenTelemetry's no-op.
 */
class GlobalTracer implements Tracer {
  constructor(readonly name: string, readonly version: string) {}
  #current(): Tracer {
    return trace.getTracer(this.name, this.version);
  }
  startSpan(name: string, options?: SpanOptions, context?: Context): Span {
    return this.#current().startSpan(name, options, context);
  }
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const t = this.#current();
    // The three overloads differ only in the optional arguments before the callback; pass them through.
    return (t.startActiveSpan as (name: string, ...rest: unknown[]) => ReturnType<F>).call(t, name, ...rest);
  }
}

let installed: Telemetry | undefined;
let traces: TraceExport | undefined;

/** Create (once per process) the meter provider and make it the global one. */
export function initTelemetry(serviceVersion = "0.1.0"): Telemetry {
  if (installed) return installed;
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    readers: [exporter],
    resource: resourceFromAttributes({ "service.name": SERVICE_NAME, "service.version": serviceVersion }),
  });
  metrics.setGlobalMeterProvider(provider);
  const serializer = new PrometheusSerializer();
  installed = {
    meter: metrics.getMeter(SERVICE_NAME, serviceVersion),
    tracer: new GlobalTracer(SERVICE_NAME, serviceVersion),
    async renderPrometheus() {
      const { resourceMetrics, errors } = await exporter.collect();
      if (errors.length > 0) console.error("metrics collection errors", errors.map(String));
      return serializer.serialize(resourceMetrics);
    },
    async shutdown() {
      await traces?.shutdown();
      await provider.shutdown();
    },
  };
  return installed;
}

/** A running OTLP trace export. */
export interface TraceExport {
  /** Where spans are POSTed (`<telemetry.otlpEndpoint>/v1/traces`). */
  url: string;
  /** Send the spans that are still queued now. */
  forceFlush(): Promise<void>;
  /** Send what is queued and stop exporting (idempotent); later spans are not recorded. */
  shutdown(): Promise<void>;
}

/** Options of {@linkcode startTraceExport}. */
export interface TraceExportOptions {
  serviceVersion?: string;
  /** Longest wait before queued spans are sent (ms, default 5000). */
  scheduledDelayMillis?: number;
}

/** The OTLP/HTTP traces URL for a collector base URL (`http://h:4318` -> `http://h:4318/v1/traces`). */
export function otlpTracesUrl(endpoint: string): string {
  const base = new URL(endpoint);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  return new URL("v1/traces", base).href;
}

/**
 * Check that the OTLP endpoint, when set, is one the egress policy lets TOM reach.
 *
 * @throws {ConfigError} naming `telemetry.otlpEndpoint` when its host is neither loopback nor allowed by
 * `egress.allowHosts` / `egress.allowAll`: traces are refused at start rather than silently dropped.
 */
export function assertTelemetryConfig(config: Pick<Config, "telemetry" | "egress">): void {
  const target = otlpEndpointHost(config);
  if (!target || egressAllows(config, target.hostname, target.port)) return;
  const key = "telemetry.otlpEndpoint";
  throw new ConfigError([
    `${key} (${envName(key)}): the egress policy does not allow ${target.hostname}:${target.port}; ` +
    `add that host to ${envName("egress.allowHosts")}, use a collector on loopback, or leave ${
      envName(key)
    } empty to keep traces on the box`,
  ]);
}

/**
 * Start exporting spans over OTLP/HTTP when `telemetry.otlpEndpoint` is set, as the process's global
 * tracer provider (so {@linkcode Telemetry.tracer} records into it). Returns undefined when the endpoint
 * is empty. A second call with the same endpoint returns the running export.
 *
 * @throws {ConfigError} when the egress policy does not allow the endpoint (see
 * {@linkcode assertTelemetryConfig}).
 * @throws {Error} when an export to another endpoint is already running in this process.
 */
export function startTraceExport(
  config: Pick<Config, "telemetry" | "egress">,
  opts: TraceExportOptions = {},
): TraceExport | undefined {
  assertTelemetryConfig(config);
  if (!config.telemetry.otlpEndpoint) return undefined;
  const url = otlpTracesUrl(config.telemetry.otlpEndpoint);
  if (traces) {
    if (traces.url === url) return traces;
    throw new Error(`Cannot export traces to ${url}: this process already exports to ${traces.url}`);
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": SERVICE_NAME,
      "service.version": opts.serviceVersion ?? "0.1.0",
    }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url }),
        scheduledDelayMillis: opts.scheduledDelayMillis ?? 5000,
      }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  let stopping: Promise<void> | undefined;
  const running: TraceExport = {
    url,
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      stopping ??= (async () => {
        if (traces === running) {
          traces = undefined;
          trace.disable();
        }
        await provider.shutdown();
      })();
      return stopping;
    },
  };
  traces = running;
  return running;
}

/** Options of {@linkcode registerGpuMetrics}. */
export interface GpuMetricsOptions {
  /** Reads the GPUs (default: `nvidia-smi` through the doctor's hardware probe). */
  probe?: () => Promise<GpuFacts>;
  /** A reading is reused for this long, so several scrapes in a row run `nvidia-smi` once (ms). */
  cacheMs?: number;
  now?: () => number;
}

const gpuMeters = new WeakSet<Meter>();

/**
 * Register `tom_gpu_memory_used_bytes` and `tom_gpu_memory_total_bytes` (label `gpu`: the index in
 * `nvidia-smi`'s order, `name`: the model), read when metrics are collected. No GPU, no `nvidia-smi`, or a
 * failing one: no series (never an error in `/metrics`). Registering twice on one meter is a no-op.
 */
export function registerGpuMetrics(meter: Meter, opts: GpuMetricsOptions = {}): void {
  if (gpuMeters.has(meter)) return;
  gpuMeters.add(meter);
  const probe = opts.probe ?? systemProbes.gpu;
  const cacheMs = opts.cacheMs ?? 5000;
  const now = opts.now ?? (() => performance.now());
  let last: { at: number; facts: Promise<GpuFacts> } | undefined;
  const read = (): Promise<GpuFacts> => {
    if (!last || now() - last.at >= cacheMs) {
      last = {
        at: now(),
        facts: probe().catch((e) => ({ present: false, devices: [], note: String(e) })),
      };
    }
    return last.facts;
  };
  const used = meter.createObservableGauge("tom_gpu_memory_used_bytes", {
    description: "GPU memory in use (nvidia-smi), per GPU",
    unit: "By",
  });
  const total = meter.createObservableGauge("tom_gpu_memory_total_bytes", {
    description: "GPU memory installed (nvidia-smi), per GPU",
    unit: "By",
  });
  meter.addBatchObservableCallback(async (r) => {
    const facts = await read();
    facts.devices.forEach((d, i) => {
      const attrs = { gpu: String(i), name: d.name };
      r.observe(used, d.memoryUsedBytes, attrs);
      r.observe(total, d.memoryTotalBytes, attrs);
    });
  }, [used, total]);
}
