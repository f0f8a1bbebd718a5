/**
 * One engine child process: spawned with its pipes always drained (a full pipe would block the engine),
 * every output line logged at debug level, kept in a short tail for error messages and, when asked,
 * appended to a per-engine log file.
 *
 * @module
 */
import { join } from "node:path";
import type { Logger } from "../log.ts";
import type { EngineSpec } from "./specs.ts";

/** A running (or finished) engine process. */
export interface EngineProcess {
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Resolves when both output pipes are drained and the log file is closed (after exit). */
  readonly done: Promise<void>;
  /**
   * Wait for the exit and, at most `ms` longer, for the output to be drained (a grandchild that inherited
   * the pipes could keep them open).
   */
  exited(ms?: number): Promise<Deno.CommandStatus>;
  /** False once the process has exited. */
  readonly running: boolean;
  /** The last output lines (stdout and stderr interleaved). */
  tail(): string[];
  /** Send a signal; a process that has already exited is ignored. */
  kill(signal: Deno.Signal): void;
}

/** Options of {@linkcode spawnEngine}. */
export interface SpawnOptions {
  log: Logger;
  /** Directory for `<name>.log` (appended); none: output goes to the logger only. */
  logDir?: string;
  /** Lines kept for error messages (default 30). */
  tailLines?: number;
}

async function drain(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  try {
    for await (
      const chunk of stream.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    ) {
      const parts = (rest + chunk).split(/\r?\n|\r/);
      rest = parts.pop() ?? "";
      for (const p of parts) if (p.trim() !== "") onLine(p);
    }
  } catch {
    // The pipe broke: the process is gone; nothing more to read.
  }
  if (rest.trim() !== "") onLine(rest);
}

/**
 * Spawn a managed engine's command.
 *
 * @throws {Error} when the command cannot be started (binary missing, not executable).
 */
export async function spawnEngine(spec: EngineSpec, opts: SpawnOptions): Promise<EngineProcess> {
  if (!spec.command) throw new Error(`Cannot spawn engine ${spec.name}: it has no command (not managed)`);
  const keep = opts.tailLines ?? 30;
  const lines: string[] = [];
  let file: Deno.FsFile | undefined;
  if (opts.logDir) {
    // An engine's output can carry what callers said (whisper-server) or the prompt: owner-only.
    const path = join(opts.logDir, `${(spec.label ?? spec.name).replace("#", "-")}.log`);
    await Deno.mkdir(opts.logDir, { recursive: true, mode: 0o700 });
    file = await Deno.open(path, { append: true, create: true, mode: 0o600 });
    if (Deno.build.os !== "windows") {
      await Deno.chmod(opts.logDir, 0o700);
      await Deno.chmod(path, 0o600);
    }
  }
  const encoder = new TextEncoder();
  const child = (() => {
    try {
      return new Deno.Command(spec.command ?? "", {
        args: [...(spec.args ?? [])],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      file?.close();
      throw e;
    }
  })();
  const log = opts.log.child({ engine: spec.label ?? spec.name, pid: child.pid });
  const onLine = (stream: string) => (line: string) => {
    lines.push(line);
    if (lines.length > keep) lines.shift();
    log.debug(line, { stream });
    try {
      file?.writeSync(encoder.encode(`${new Date().toISOString()} ${stream} ${line}\n`));
    } catch {
      // A full disk must not stop the engine: the line is still in the tail and the logger.
    }
  };
  let running = true;
  const status = child.status.finally(() => (running = false));
  const done = Promise.all([
    drain(child.stdout, onLine("stdout")),
    drain(child.stderr, onLine("stderr")),
    status,
  ])
    .then(() => file?.close());
  return {
    pid: child.pid,
    get running() {
      return running;
    },
    status,
    done,
    tail: () => [...lines],
    async exited(ms = 500) {
      const st = await status;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([done, new Promise((r) => (timer = setTimeout(r, ms)))]);
      clearTimeout(timer);
      return st;
    },
    kill(signal: Deno.Signal) {
      try {
        child.kill(signal);
      } catch {
        // Already exited.
      }
    },
  };
}
