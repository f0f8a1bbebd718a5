/**
 * What `/readyz` checks: every configured engine (bounded health checks), the FreeSWITCH event socket when
 * that transport is on, and the database by a real write (with a full disk reads pass while every page
 * view, which writes an audit row, fails).
 *
 * @module
 */
import { checkEngines, type Config, type EngineSpec, type ReadinessCheck } from "../infra/mod.ts";
import { demoModelRoles, realModelsHint } from "../infra/mod.ts";
import type { FreeswitchTransport } from "../gateway/mod.ts";
import { isStorageFull, probeWrite, type Store } from "../store/mod.ts";

/** The readiness function for the HTTP skeleton. */
export function readinessChecks(
  config: Config,
  specs: readonly EngineSpec[],
  store: Store,
  freeswitch: () => FreeswitchTransport | undefined,
  ttsDegraded: () => string | undefined = () => undefined,
): () => Promise<ReadinessCheck[]> {
  return async () => {
    const engines = await checkEngines(specs);
    const checks: ReadinessCheck[] = engines.map((h) => ({
      name: h.name,
      kind: h.kind,
      ok: h.ok,
      ...(h.reason ? { reason: h.reason } : {}),
      ...(h.url ? { url: h.url } : {}),
      latency_ms: h.latencyMs,
    }));
    // Piper that cannot speak: espeak-ng does (ready, degraded), found by the check or by the engine itself.
    const tts = checks.find((c) => c.name === "tts");
    const degraded = ttsDegraded() ?? engines.find((h) => h.name === "tts")?.degraded;
    if (tts && degraded) Object.assign(tts, { ok: true, degraded });
    // Synthetic demo models run (ready, but TOM understands nothing): said, not failed.
    const demo = demoModelRoles(config);
    if (demo.length > 0) {
      checks.push({
        name: "models",
        ok: true,
        demo_models: demo,
        note: `Demo-Modelle aktiv (${demo.join(", ")}): TOM versteht und spricht noch nicht wirklich; ` +
          realModelsHint(config.profile),
      });
    }
    const fs = freeswitch();
    if (fs) {
      const esl = fs.esl;
      checks.push(
        esl.connected ? { name: "freeswitch", ok: true } : {
          name: "freeswitch",
          ok: false,
          reason: `event socket ${config.freeswitch.eslHost}:${config.freeswitch.eslPort} not connected` +
            (esl.status.lastError ? `: ${esl.status.lastError}` : ""),
        },
      );
    }
    try {
      probeWrite(store);
      checks.push({ name: "database", ok: true });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const reason = isStorageFull(e) ? `disk full: cannot write ${store.path} (${message})` : message;
      checks.push({ name: "database", ok: false, reason });
    }
    return checks;
  };
}
