/**
 * The foundation and the box: the configuration and its bounds, the log, telemetry (Prometheus metrics,
 * traces), the HTTP server (node:http + ws, with its caps and timeouts), permissions, secrets, the
 * registry of live calls, and the engines on this machine (provisioning, model specs, supervision,
 * health, the doctor). Beside the code: the Asterisk chroot for tests (asterisk/) and the deployment files
 * (deploy/: systemd, FreeSWITCH and Asterisk dialplans, Prometheus rules, Grafana). infra/ imports nothing
 * of ours outside itself; every other folder imports it only through this module.
 *
 * @module
 */
export { encodeBase64Url } from "./_base64url.ts";
export { createLogger, type Logger } from "./log.ts";
export { type Config, CONFIG_KEYS, ConfigError, envName, loadConfig } from "./config.ts";
export { initTelemetry, registerGpuMetrics, startTraceExport, type Telemetry } from "./telemetry.ts";
export { CallRegistry, CallsFullError } from "./call_registry.ts";
export { type DoctorReport, formatDoctor, runDoctor } from "./doctor.ts";
export { loadOrCreateSecret } from "./secrets.ts";
export { createHttpApp, type ReadinessCheck } from "./http.ts";
export { serveNode } from "./http_server.ts";
export { allowedNetHosts, egressSandboxed, servedPrograms, servePermissionFlags } from "./permissions.ts";
export { VERSION } from "./version.ts";
export { type EngineSpec, engineSpecs } from "./engines/specs.ts";
export { autoSizeEnginePools, type PoolSizing, sizeEnginePools, sttPoolUrls } from "./engines/pool.ts";
export { chooseGpuLayers, type GpuLayerChoice, resolveGpuLayers } from "./engines/gpu_layers.ts";
export { checkEngines, ttsFallbackReason } from "./engines/health.ts";
export { Supervisor } from "./supervisor.ts";
export { formatProgress } from "./engines/progress.ts";
export { enginesProvisioned, provisionEngines, ProvisionError } from "./engines/provision.ts";
export { type BoundedOption, type Bounds, PIPELINE_BOUNDS } from "./pipeline_bounds.ts";
export { doctorMain } from "./doctor.ts";
export { createMailTransport, mailConfigured, type MailMessage, type MailTransport } from "./mail.ts";
export {
  BUILTIN_CATALOGUE,
  type Catalogue,
  CatalogueError,
  CatalogueSchema,
  findEntry,
  loadCatalogue,
  type ModelEntry,
  type Profile,
  profileEntries,
  PROFILES,
} from "./engines/models_catalog.ts";
export {
  entryInstalled,
  hashFile,
  ModelPullError,
  modelsDir,
  pullEntry,
  type PullProgress,
  verifyEntry,
} from "./engines/model_pull.ts";
export {
  demoModelRoles,
  isSyntheticModel,
  piperRuntimeEntry,
  readModelSelection,
  realModelsHint,
  writeModelSelection,
} from "./engines/model_selection.ts";
export {
  addDays,
  localInstant,
  localMidnight,
  type LocalMoment,
  localMoment,
  startOfLocalWeek,
  weekdayOf,
} from "./local_time.ts";
