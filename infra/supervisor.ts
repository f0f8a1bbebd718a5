/**
 * Engine supervision: the engines TOM manages (whisper-server, llama-server) run as child processes that
 * are started, waited for until healthy, restarted with exponential backoff when they crash, and
 * stopped with SIGTERM then SIGKILL. Engines TOM does not manage (Ollama, espeak-ng, ...) are only
 * checked periodically.
 *
 * A managed engine that TOM did not start is refused: when its port is already taken, `start()` fails and
 * names the port (adopting a process of unknown origin would hide a second TOM or a stale engine).
 * Children die with TOM's `stop()`; if TOM itself is killed with SIGKILL, systemd's cgroup kill
 * (`KillMode=control-group`, the default) removes them.
 *
 * @module
 */
import type { Logger } from "./log.ts";
import type { EngineKind, EngineName, EngineSpec } from "./engines/specs.ts";
import { checkEngine, type EngineHealth } from "./engines/health.ts";
import { type EngineProcess, spawnEngine } from "./engines/process.ts";
import { preflight } from "./engines/preflight.ts";

/** Where an engine is in its life. */
export type EngineState = "starting" | "healthy" | "unhealthy" | "restarting" | "stopped";

/** How a process ended. */
export interface ExitInfo {
  code: number;
  signal: string | null;
  /** Epoch milliseconds. */
  at: number;
}

/** One engine's status, for `/readyz`, metrics and the admin UI. */
export interface EngineStatus {
  name: EngineName;
  /** The pool member (`stt#2`); absent for the first or only process of an engine. */
  label?: string;
  kind: EngineKind;
  managed: boolean;
  pid: number | null;
  state: EngineState;
  restarts: number;
  lastExit: ExitInfo | null;
  reason?: string;
}

/** Something that happened to an engine (for metrics and logs). */
export type SupervisorEvent =
  | { type: "started"; name: EngineName; pid: number }
  | { type: "exited"; name: EngineName; pid: number; code: number; signal: string | null }
  | { type: "restarted"; name: EngineName; pid: number; restarts: number; delayMs: number }
  | { type: "healthy"; name: EngineName }
  | { type: "unhealthy"; name: EngineName; reason: string };

/** Options of {@linkcode Supervisor}. */
export interface SupervisorOptions {
  log: Logger;
  onEvent?: (e: SupervisorEvent) => void;
  /** Restart delays: first `initialMs`, doubling to `maxMs`, reset after `resetAfterMs` of health. */
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /** Checks of a running engine (default 5 s). */
  healthIntervalMs?: number;
  /** Checks while an engine starts (default 50 ms: readiness is noticed quickly). */
  startPollMs?: number;
  /** How long `start()` waits for an engine to become healthy (default 120 s: a large model loads slowly). */
  startTimeoutMs?: number;
  /** `start()` gives up after this many exits before the first healthy check (default 3). */
  maxStartExits?: number;
  /** A healthy engine failing this many checks in a row is killed and restarted (default 3). */
  maxFailedChecks?: number;
  /** Grace after SIGTERM before SIGKILL (default 5 s). */
  stopTimeoutMs?: number;
  /** Per-engine log files `<logDir>/<name>.log`; none: output goes to the logger at debug level only. */
  logDir?: string;
  /** Clock (default `Date.now`). */
  now?: () => number;
}

/** An engine could not be started. */
export class SupervisorError extends Error {
  constructor(readonly engine: EngineName, message: string, readonly output: string[] = []) {
    super(output.length > 0 ? `${message}\nLast output of ${engine}:\n  ${output.join("\n  ")}` : message);
    this.name = "SupervisorError";
  }
}

interface Engine {
  spec: EngineSpec;
  state: EngineState;
  proc: EngineProcess | null;
  restarts: number;
  crashes: number;
  startExits: number;
  everReady: boolean;
  failedChecks: number;
  healthySince: number | null;
  lastExit: ExitInfo | null;
  lastTail: string[];
  reason?: string;
  ready: PromiseWithResolvers<void>;
}

interface Timing {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
  healthIntervalMs: number;
  startPollMs: number;
  startTimeoutMs: number;
  maxStartExits: number;
  maxFailedChecks: number;
  stopTimeoutMs: number;
}

/** Starts, watches, restarts and stops the engines. */
export class Supervisor {
  readonly #engines: Engine[];
  readonly #log: Logger;
  readonly #emit: (e: SupervisorEvent) => void;
  readonly #now: () => number;
  readonly #o: Timing & { logDir?: string };
  readonly #stopAc = new AbortController();
  readonly #tasks = new Set<Promise<unknown>>();
  #started = false;
  #stopping: Promise<void> | null = null;

  constructor(specs: readonly EngineSpec[], opts: SupervisorOptions) {
    this.#log = opts.log.child({ component: "supervisor" });
    this.#emit = (e) => {
      try {
        opts.onEvent?.(e);
      } catch (err) {
        this.#log.warn("Engine event handler failed", { error: err });
      }
    };
    this.#now = opts.now ?? Date.now;
    this.#o = {
      initialMs: opts.backoff?.initialMs ?? 250,
      maxMs: opts.backoff?.maxMs ?? 30_000,
      resetAfterMs: opts.backoff?.resetAfterMs ?? 60_000,
      healthIntervalMs: opts.healthIntervalMs ?? 5_000,
      startPollMs: opts.startPollMs ?? 50,
      startTimeoutMs: opts.startTimeoutMs ?? 120_000,
      maxStartExits: opts.maxStartExits ?? 3,
      maxFailedChecks: opts.maxFailedChecks ?? 3,
      stopTimeoutMs: opts.stopTimeoutMs ?? 5_000,
      logDir: opts.logDir,
    };
    for (const [k, v] of Object.entries(this.#o)) {
      if (typeof v === "number" && !(v > 0)) {
        throw new RangeError(`Cannot create Supervisor: ${k} must be > 0, got ${v}`);
      }
    }
    this.#engines = specs.map((spec) => ({
      spec,
      state: "stopped",
      proc: null,
      restarts: 0,
      crashes: 0,
      startExits: 0,
      everReady: false,
      failedChecks: 0,
      healthySince: null,
      lastExit: null,
      lastTail: [],
      ready: Promise.withResolvers<void>(),
    }));
    for (const e of this.#engines) e.ready.promise.catch(() => {});
  }

  /**
   * Spawn every managed engine and wait until each is healthy; begin checking the others.
   *
   * @throws {SupervisorError} naming the engine (and its last output) when one cannot start; every engine
   * already started is stopped again before it throws.
   */
  async start(): Promise<void> {
    if (this.#started) throw new Error("Cannot start Supervisor: it was started already");
    this.#started = true;
    try {
      const managed = this.#engines.filter((e) => e.spec.managed);
      const problems = await Promise.all(managed.map((e) => preflight(e.spec)));
      problems.forEach((p, i) => {
        if (p) throw new SupervisorError(managed[i].spec.name, p);
      });
      await Promise.all(managed.map((e) => this.#track(this.#spawn(e))));
      await Promise.all(managed.map((e) => this.#waitReady(e)));
      const others = this.#engines.filter((e) => !e.spec.managed);
      await Promise.all(others.map(async (e) => {
        e.state = "starting";
        await this.#check(e, null);
        if ((e.state as EngineState) !== "healthy") {
          this.#log.warn(`Engine ${e.spec.label ?? e.spec.name} is not ready`, { reason: e.reason });
        }
        this.#track(this.#pollLoop(e, null));
      }));
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The status of every engine. */
  status(): EngineStatus[] {
    return this.#engines.map((e) => {
      const s: EngineStatus = {
        name: e.spec.name,
        ...(e.spec.label ? { label: e.spec.label } : {}),
        kind: e.spec.kind,
        managed: e.spec.managed,
        pid: e.proc?.pid ?? null,
        state: e.state,
        restarts: e.restarts,
        lastExit: e.lastExit ? { ...e.lastExit } : null,
      };
      if (e.reason && e.state !== "healthy") s.reason = e.reason;
      return s;
    });
  }

  /** Stop every engine (SIGTERM, then SIGKILL after the grace time) and every check. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    this.#stopAc.abort();
    for (const e of this.#engines) e.ready.reject(new Error("stopped"));
    await Promise.all(this.#engines.map((e) => this.#terminate(e)));
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
    for (const e of this.#engines) e.state = "stopped";
  }

  #track(p: Promise<unknown>): Promise<unknown> {
    const t = p.catch((err) => this.#log.error("Supervisor task failed", { error: err }))
      .finally(() => this.#tasks.delete(t));
    this.#tasks.add(t);
    return t;
  }

  async #spawn(e: Engine, delayMs = 0): Promise<void> {
    if (this.#stopAc.signal.aborted) return;
    let proc: EngineProcess;
    try {
      proc = await spawnEngine(e.spec, { log: this.#log, logDir: this.#o.logDir });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      e.lastTail = [`spawn failed: ${msg}`];
      this.#onExit(e, null, { code: 127, signal: null, success: false });
      return;
    }
    if (this.#stopAc.signal.aborted) {
      // stop() ran while the process was being spawned: it must not outlive the supervisor.
      proc.kill("SIGKILL");
      await proc.exited();
      return;
    }
    e.proc = proc;
    e.state = "starting";
    e.failedChecks = 0;
    if (e.restarts > 0) {
      this.#log.info(`Engine ${e.spec.label ?? e.spec.name} restarted`, {
        pid: proc.pid,
        restarts: e.restarts,
        delayMs,
      });
      this.#emit({ type: "restarted", name: e.spec.name, pid: proc.pid, restarts: e.restarts, delayMs });
    } else {this.#log.info(`Engine ${e.spec.label ?? e.spec.name} started`, {
        pid: proc.pid,
        args: e.spec.args,
      });}
    this.#emit({ type: "started", name: e.spec.name, pid: proc.pid });
    this.#track(proc.exited().then((st) => this.#onExit(e, proc, st)));
    this.#track(this.#pollLoop(e, proc));
  }

  #onExit(e: Engine, proc: EngineProcess | null, st: Deno.CommandStatus): void {
    if (proc && e.proc !== proc) return;
    const pid = proc?.pid ?? 0;
    e.lastExit = { code: st.code, signal: st.signal ?? null, at: this.#now() };
    if (proc) e.lastTail = proc.tail();
    e.proc = null;
    if (this.#stopAc.signal.aborted) {
      e.state = "stopped";
      return;
    }
    if (e.healthySince !== null && this.#now() - e.healthySince >= this.#o.resetAfterMs) e.crashes = 0;
    e.healthySince = null;
    const delayMs = Math.min(this.#o.maxMs, this.#o.initialMs * 2 ** e.crashes);
    e.crashes++;
    const how = st.signal ? `signal ${st.signal}` : `exit code ${st.code}`;
    e.reason = `exited (${how}); restarting in ${delayMs} ms` +
      (e.lastTail.length > 0 ? `; last output: ${e.lastTail.at(-1)}` : "");
    e.state = "restarting";
    this.#emit({ type: "exited", name: e.spec.name, pid, code: st.code, signal: st.signal ?? null });
    this.#log.warn(`Engine ${e.spec.label ?? e.spec.name} exited`, {
      pid,
      how,
      delayMs,
      lastOutput: e.lastTail.slice(-5),
    });
    if (!e.everReady && ++e.startExits >= this.#o.maxStartExits) {
      e.ready.reject(this.#startError(e, `exited ${e.startExits} times while starting (last: ${how})`));
    }
    this.#track((async () => {
      if (!(await this.#sleep(delayMs))) return;
      e.restarts++;
      await this.#spawn(e, delayMs);
    })());
  }

  #startError(e: Engine, what: string): SupervisorError {
    return new SupervisorError(
      e.spec.name,
      `Engine ${e.spec.label ?? e.spec.name} (${e.spec.kind}) ${what}`,
      e.lastTail.slice(-10),
    );
  }

  async #waitReady(e: Engine): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        e.lastTail = e.proc?.tail() ?? e.lastTail;
        reject(
          this.#startError(
            e,
            `did not become healthy within ${this.#o.startTimeoutMs} ms: ${e.reason ?? ""}`,
          ),
        );
      }, this.#o.startTimeoutMs);
    });
    try {
      await Promise.race([e.ready.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #check(e: Engine, proc: EngineProcess | null): Promise<void> {
    const h: EngineHealth = await checkEngine(e.spec, { signal: this.#stopAc.signal });
    if (this.#stopAc.signal.aborted || e.proc !== proc || (proc && !proc.running)) return;
    if (h.ok) {
      e.failedChecks = 0;
      if (e.state !== "healthy") {
        e.state = "healthy";
        e.healthySince = this.#now();
        e.reason = undefined;
        e.everReady = true;
        e.ready.resolve();
        this.#log.info(`Engine ${e.spec.label ?? e.spec.name} is healthy`, { latencyMs: h.latencyMs });
        this.#emit({ type: "healthy", name: e.spec.name });
      }
      return;
    }
    e.reason = h.reason ?? "not healthy";
    if (e.state === "starting" && e.spec.managed) return;
    e.failedChecks++;
    e.healthySince = null;
    if (e.state !== "unhealthy") {
      e.state = "unhealthy";
      this.#log.warn(`Engine ${e.spec.label ?? e.spec.name} is unhealthy`, { reason: e.reason });
      this.#emit({ type: "unhealthy", name: e.spec.name, reason: e.reason });
    }
    if (proc && e.failedChecks >= this.#o.maxFailedChecks) {
      this.#log.error(
        `Engine ${e.spec.label ?? e.spec.name} failed ${e.failedChecks} checks in a row; killing it`,
        {
          pid: proc.pid,
        },
      );
      proc.kill("SIGKILL");
    }
  }

  async #pollLoop(e: Engine, proc: EngineProcess | null): Promise<void> {
    while (!this.#stopAc.signal.aborted && e.proc === proc) {
      await this.#check(e, proc);
      const ms = e.state === "starting" ? this.#o.startPollMs : this.#o.healthIntervalMs;
      if (!(await this.#sleep(ms))) return;
    }
  }

  /** Sleep; false when stop() cut it short. */
  #sleep(ms: number): Promise<boolean> {
    const signal = this.#stopAc.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async #terminate(e: Engine): Promise<void> {
    const proc = e.proc;
    if (!proc) return;
    proc.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      proc.status.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), this.#o.stopTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!exited) {
      this.#log.warn(
        `Engine ${e.spec.label ?? e.spec.name} ignored SIGTERM for ${this.#o.stopTimeoutMs} ms; killing it`,
        {
          pid: proc.pid,
        },
      );
      proc.kill("SIGKILL");
    }
    const st = await proc.exited();
    e.lastExit = { code: st.code, signal: st.signal ?? null, at: this.#now() };
    e.proc = null;
    e.state = "stopped";
    this.#log.info(`Engine ${e.spec.label ?? e.spec.name} stopped`, { pid: proc.pid });
  }
}
