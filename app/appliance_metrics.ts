/**
 * The appliance's own metrics on the Prometheus meter: engine restarts and health, calls in progress and
 * accepted, the build, and the GPUs. The engine gauge reads the supervisor that is current when scraped
 * (a failed engine start replaces it).
 *
 * @module
 */
import type { Meter } from "@opentelemetry/api";
import { type CallRegistry, registerGpuMetrics, type Supervisor, VERSION } from "../infra/mod.ts";

/** What the engine wing reports into. */
export interface EngineMetrics {
  /** Count one restart of an engine by the supervisor. */
  restarted(engine: string): void;
}

/**
 * Register the metrics.
 *
 * @param engines names of every configured engine (their restart series exist from the start, so
 *   `increase()` sees the first restart)
 * @param supervisor the supervisor in charge now (none before the engines start)
 */
export function registerApplianceMetrics(
  meter: Meter,
  opts: { engines: string[]; calls: CallRegistry; supervisor: () => Supervisor | undefined },
): EngineMetrics {
  const restarts = meter.createCounter("tom_engine_restarts_total", {
    description: "Engine process restarts by TOM's supervisor (always 0 for engines TOM does not manage)",
  });
  for (const name of opts.engines) restarts.add(0, { engine: name });
  meter.createObservableGauge("tom_engine_up", { description: "1 when the engine is healthy" })
    .addCallback((r) => {
      for (const s of opts.supervisor()?.status() ?? []) {
        r.observe(s.state === "healthy" ? 1 : 0, { engine: s.label ?? s.name });
      }
    });
  meter.createObservableGauge("tom_active_calls", { description: "Calls in progress" })
    .addCallback((r) => r.observe(opts.calls.size));
  meter.createObservableCounter("tom_calls_total", {
    description: "Calls accepted (inbound, outbound and test calls)",
  }).addCallback((r) => r.observe(opts.calls.started));
  meter.createObservableGauge("tom_build_info", { description: "Version of the running appliance" })
    .addCallback((r) => r.observe(1, { version: VERSION }));
  registerGpuMetrics(meter);
  return { restarted: (engine) => restarts.add(1, { engine }) };
}
