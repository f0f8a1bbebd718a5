/**
 * The HTTP skeleton: liveness, readiness and metrics on a hono app. Later features mount their routes
 * on the app this returns.
 *
 * @module
 */
import { Hono } from "hono";
import type { Telemetry } from "./telemetry.ts";
import type { Logger } from "./log.ts";

/** One readiness check's result. */
export interface ReadinessCheck {
  name: string;
  ok: boolean;
  reason?: string;
  /** Extra facts such as the engine kind or URL (no secrets). */
  [key: string]: unknown;
}

/** What the HTTP skeleton needs from the rest of the appliance. */
export interface HttpDeps {
  version: string;
  telemetry: Telemetry;
  log: Logger;
  /** Every configured engine and the store, checked on each `/readyz`. */
  readiness: () => Promise<ReadinessCheck[]>;
  /** True once shutdown has begun: `/readyz` answers 503 so balancers stop sending calls. */
  draining: () => boolean;
  activeCalls: () => number;
  /** More Prometheus text appended to `/metrics` (metrics kept outside OpenTelemetry). */
  extraMetrics?: () => string;
  now?: () => number;
}

/** Build the hono app with `/healthz`, `/readyz` and `/metrics`. */
export function createHttpApp(deps: HttpDeps): Hono {
  const now = deps.now ?? Date.now;
  const started = now();
  const app = new Hono();
  const requests = deps.telemetry.meter.createCounter("tom_http_requests_total", {
    description: "HTTP requests by route and status class",
  });

  app.use("*", async function countRequests(c, next) {
    await next();
    const route = c.req.routePath || "unmatched";
    requests.add(1, { route, status: `${Math.floor(c.res.status / 100)}xx` });
  });

  app.get("/healthz", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({
      status: "ok",
      version: deps.version,
      uptime_s: Math.round((now() - started) / 1000),
      draining: deps.draining(),
      active_calls: deps.activeCalls(),
    });
  });

  app.get("/readyz", async (c) => {
    c.header("Cache-Control", "no-store");
    const checks = await deps.readiness();
    const reasons = checks.filter((ch) => !ch.ok).map((ch) => `${ch.name}: ${ch.reason ?? "not ready"}`);
    if (deps.draining()) reasons.unshift("shutting down: not accepting new calls");
    const ready = reasons.length === 0;
    return c.json({ status: ready ? "ready" : "not_ready", reasons, checks }, ready ? 200 : 503);
  });

  app.get("/metrics", async (c) => {
    const body = (await deps.telemetry.renderPrometheus()) + (deps.extraMetrics?.() ?? "");
    return c.body(body, 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  app.notFound((c) => c.json({ error: "Not found", path: c.req.path }, 404));
  app.onError((err, c) => {
    deps.log.error("unhandled error in HTTP handler", { path: c.req.path, error: err });
    return c.json({ error: "Internal error" }, 500);
  });
  return app;
}
