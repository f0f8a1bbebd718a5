/**
 * The face of infra/: what other folders may import from it (re-exports only).
 *
 * @module
 */
export { encodeBase64Url } from "./_base64.ts";
export { createLogger, type Logger } from "./log.ts";
export { type Config, CONFIG_KEYS, ConfigError, envName, loadConfig } from "./config.ts";
export { initTelemetry, registerGpuMetrics, startTraceExport, type Telemetry } from "./telemetry.ts";
export { CallRegistry } from "./calls.ts";
export { type DoctorReport, formatDoctor, runDoctor } from "./doctor.ts";
export { loadOrCreateSecret } from "./secrets.ts";
export { createHttpApp, type ReadinessCheck } from "./http.ts";
export { serveNode } from "./http_server.ts";
export { allowedNetHosts, egressSandboxed, servePermissionFlags } from "./permissions.ts";
export { VERSION } from "./version.ts";
export { engineSpecs } from "./engines/specs.ts";
export { checkEngines } from "./engines/health.ts";
export { Supervisor } from "./supervisor.ts";
export { formatProgress } from "./engines/progress.ts";
export { enginesProvisioned, provisionEngines, ProvisionError } from "./engines/provision.ts";
export { type BoundedOption, type Bounds, PIPELINE_BOUNDS } from "./pipeline_bounds.ts";
export { doctorMain } from "./doctor.ts";
