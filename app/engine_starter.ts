/**
 * The engine wing of the appliance: the supervised engines come up in the background, so `/healthz`
 * answers at once and `/readyz` says what is still missing. A failed start (binary missing, port taken,
 * model broken) is retried every 30 s with a fresh supervisor until shutdown, so a box whose engine an
 * administrator fixed recovers without a restart of TOM.
 *
 * @module
 */
import { join } from "node:path";
import { type Config, type EngineSpec, type Logger, Supervisor } from "../infra/mod.ts";

/** The running engine wing. */
export interface EngineStarter {
  /** The supervisor in charge now (replaced after a failed start). */
  supervisor(): Supervisor;
  /** Stop retrying (shutdown has begun; calls are still draining). */
  halt(): void;
  /** Stop the engines and wait for the start loop to end. */
  stop(): Promise<void>;
}

/** How long to wait before trying a failed engine start again. */
const RETRY_MS = 30_000;

/** Create the supervisor and start the engines in the background. */
export function startEngines(
  config: Config,
  specs: readonly EngineSpec[],
  opts: { log: Logger; onRestart: (engine: string) => void },
): EngineStarter {
  const { log } = opts;
  const newSupervisor = () =>
    new Supervisor(specs, {
      log: log.child({ component: "supervisor" }),
      logDir: join(config.dataDir, "logs"),
      onEvent: (e) => {
        if (e.type === "restarted") opts.onRestart(e.name);
      },
    });
  let supervisor = newSupervisor();
  let halted = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let wakeRetry: (() => void) | undefined;
  const started = (async () => {
    for (;;) {
      try {
        await supervisor.start();
        log.info("engines ready", { engines: supervisor.status().map((s) => `${s.name}:${s.state}`) });
        return;
      } catch (e) {
        if (halted) return;
        log.error("engines failed to start; retrying in 30 s", { error: e });
      }
      await new Promise<void>((r) => {
        wakeRetry = r;
        retryTimer = setTimeout(r, RETRY_MS);
      });
      if (halted) return;
      supervisor = newSupervisor();
    }
  })();
  return {
    supervisor: () => supervisor,
    halt() {
      halted = true;
    },
    async stop() {
      halted = true;
      clearTimeout(retryTimer);
      wakeRetry?.();
      await supervisor.stop();
      await started;
    },
  };
}
