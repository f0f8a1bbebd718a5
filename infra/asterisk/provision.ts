/**
 * A real Asterisk for tests and development: Debian sid's asterisk (22.x, with app_audiosocket,
 * chan_audiosocket and chan_websocket) installed by debootstrap into a chroot outside the repository
 * (Debian bookworm has no asterisk package). About a minute and 550 MB, once; later runs find it cached.
 *
 * Like the engines' provisioning (infra/engines/provision.ts): idempotent steps that check their result
 * first, progress events, a log file, and a {@linkcode AsteriskProvisionError} naming the step that failed.
 *
 * Where: `ASTERISK_CHROOT` if set, else `<enginesDir>/asterisk-chroot` (so `TOM_ENGINES_DIR` moves it
 * with the engines). Needs root (debootstrap, chroot) and the Debian mirror.
 *
 * @module
 */
import { acquireLock, exists } from "../engines/lock.ts";
import { dirname, join } from "node:path";
import type { ProgressEvent } from "../engines/provision.ts";

/** Environment variable naming the chroot directory (not `TOM_*`: the config rejects unknown ones). */
export const ASTERISK_CHROOT_ENV = "ASTERISK_CHROOT";
/** Environment variable naming the Debian mirror debootstrap uses. */
export const ASTERISK_MIRROR_ENV = "ASTERISK_DEBIAN_MIRROR";
/** Debian packages installed into the chroot. */
export const CHROOT_PACKAGES = [
  "asterisk",
  "asterisk-modules",
  "asterisk-config",
  "asterisk-core-sounds-en-wav",
];
/** Modules TOM's tests need; the check step fails when one is missing. */
export const REQUIRED_MODULES = ["app_audiosocket.so", "chan_audiosocket.so", "chan_websocket.so"];
/** Asterisk's directories that must belong to root (Asterisk run with `-U root` drops CAP_DAC_OVERRIDE). */
const ROOT_OWNED = [
  "etc/asterisk",
  "var/lib/asterisk",
  "var/log/asterisk",
  "var/spool/asterisk",
  "run/asterisk",
];

/** Names of the provisioning steps, in order. */
export const ASTERISK_STEPS = ["preflight", "debootstrap", "ownership", "check"] as const;
/** One step's name. */
export type AsteriskStep = typeof ASTERISK_STEPS[number];

/** A failed step. */
export class AsteriskProvisionError extends Error {
  constructor(readonly step: AsteriskStep, detail: string, readonly logFile: string) {
    super(`Asterisk provisioning failed at step "${step}": ${detail}\nFull log: ${logFile}`);
    this.name = "AsteriskProvisionError";
  }
}

/** What a provisioned chroot holds. */
export interface AsteriskChroot {
  dir: string;
  /** `asterisk -V`, e.g. "Asterisk 22.10.1+dfsg+~cs6.17.60671434-1". */
  version: string;
  /** The modules directory inside the chroot, e.g. `/usr/lib/x86_64-linux-gnu/asterisk/modules`. */
  moduleDir: string;
  /** Seconds the build took (0 when it was cached before this process). */
  buildSeconds: number;
  /** Size on disk in bytes, measured when it was built. */
  bytes: number;
}

/** Options of {@linkcode provisionAsterisk}. */
export interface AsteriskProvisionOptions {
  /** The chroot directory ({@linkcode defaultAsteriskDir} says where by default). */
  dir: string;
  /** Debian suite (default "sid": the first with chan_websocket). */
  suite?: string;
  /** Debian mirror (default `ASTERISK_DEBIAN_MIRROR` or http://deb.debian.org/debian). */
  mirror?: string;
  /** Install debootstrap with apt-get when missing (default true when root). */
  installHostPackages?: boolean;
  onProgress?: (e: ProgressEvent) => void;
}

/** The chroot directory: `ASTERISK_CHROOT`, else `<enginesDir>/asterisk-chroot`. */
export function defaultAsteriskDir(
  enginesDir: string,
  env: (k: string) => string | undefined = envGet,
): string {
  const set = env(ASTERISK_CHROOT_ENV);
  return set && set !== "" ? set : join(enginesDir, "asterisk-chroot");
}

function envGet(k: string): string | undefined {
  try {
    return Deno.env.get(k);
  } catch {
    return undefined;
  }
}

const STAMP = ".tom-asterisk.json";

/** The provisioned chroot, or undefined when it is not (completely) there. Cheap: reads a stamp file. */
export async function asteriskProvisioned(dir: string): Promise<AsteriskChroot | undefined> {
  try {
    const stamp = JSON.parse(await Deno.readTextFile(join(dir, STAMP))) as AsteriskChroot;
    await Deno.stat(join(dir, "usr/sbin/asterisk"));
    for (const m of REQUIRED_MODULES) await Deno.stat(join(dir, stamp.moduleDir, m));
    return { ...stamp, dir, buildSeconds: 0 };
  } catch {
    return undefined;
  }
}

/**
 * Build (or find) the chroot. Safe to run again and from parallel processes (a lock serialises them).
 *
 * @throws {AsteriskProvisionError} naming the failed step and the log file
 */
export async function provisionAsterisk(opts: AsteriskProvisionOptions): Promise<AsteriskChroot> {
  const dir = opts.dir;
  const cached = await asteriskProvisioned(dir);
  if (cached) {
    ASTERISK_STEPS.forEach((step, i) =>
      opts.onProgress?.({
        kind: "skip",
        index: i + 1,
        total: ASTERISK_STEPS.length,
        step,
        reason: "provisioned",
      })
    );
    return cached;
  }
  const logFile = `${dir}.log`;
  let release: () => Promise<void>;
  try {
    await Deno.mkdir(dirname(dir), { recursive: true });
    release = await acquireLock(`${dir}.lock`, "tom asterisk");
  } catch (e) {
    throw new AsteriskProvisionError(
      "preflight",
      `cannot use ${dir}: ${e instanceof Error ? e.message : e}`,
      logFile,
    );
  }
  try {
    const again = await asteriskProvisioned(dir);
    if (again) return again;
    const started = Date.now();
    const ctx = new Steps(opts, logFile);
    await ctx.step("preflight", () => preflight(ctx));
    await ctx.step("debootstrap", () => debootstrap(ctx, dir, opts));
    await ctx.step("ownership", () => ownership(ctx, dir));
    let result: AsteriskChroot | undefined;
    await ctx.step("check", async () => {
      result = await check(ctx, dir, Math.round((Date.now() - started) / 1000));
      return undefined;
    });
    return result as AsteriskChroot;
  } finally {
    await release();
  }
}

class Steps {
  current: AsteriskStep = "preflight";
  #index = 0;
  constructor(readonly opts: AsteriskProvisionOptions, readonly logFile: string) {}

  async step(name: AsteriskStep, run: () => Promise<string | undefined>): Promise<void> {
    this.current = name;
    this.#index++;
    const total = ASTERISK_STEPS.length;
    const started = Date.now();
    let skipped: string | undefined;
    try {
      skipped = await run();
    } catch (e) {
      if (e instanceof AsteriskProvisionError) throw e;
      this.fail(e instanceof Error ? e.message : String(e));
    }
    if (skipped) {
      this.opts.onProgress?.({ kind: "skip", index: this.#index, total, step: name, reason: skipped });
    } else this.opts.onProgress?.({ kind: "done", step: name, elapsedMs: Date.now() - started });
  }

  announce(note: string): void {
    this.opts.onProgress?.({
      kind: "step",
      index: this.#index,
      total: ASTERISK_STEPS.length,
      step: this.current,
      note,
    });
  }

  fail(detail: string): never {
    throw new AsteriskProvisionError(this.current, detail, this.logFile);
  }

  /** Run a command, its output appended to the log; progress ticks every 15 s. */
  async run(cmd: string[], what = cmd[0], env: Record<string, string> = {}): Promise<string> {
    const log = await Deno.open(this.logFile, { append: true, create: true });
    await log.write(new TextEncoder().encode(`\n$ ${cmd.join(" ")}\n`));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(cmd[0], {
        args: cmd.slice(1),
        env: { DEBIAN_FRONTEND: "noninteractive", ...env },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      log.close();
      this.fail(`cannot run ${cmd[0]}: ${e instanceof Error ? e.message : e}`);
    }
    const started = Date.now();
    const timer = setInterval(
      () => this.opts.onProgress?.({ kind: "tick", step: this.current, elapsedMs: Date.now() - started }),
      15_000,
    );
    let tail = "";
    let stdout = "";
    const pump = async (stream: ReadableStream<Uint8Array>, keep: boolean) => {
      const dec = new TextDecoder();
      for await (const chunk of stream) {
        await log.write(chunk);
        const text = dec.decode(chunk, { stream: true });
        if (keep) stdout += text;
        tail = (tail + text).slice(-4000);
      }
    };
    try {
      const [status] = await Promise.all([child.status, pump(child.stdout, true), pump(child.stderr, false)]);
      if (!status.success) {
        const last = tail.trim().split("\n").slice(-8).join("\n    ");
        this.fail(`${what} exited with code ${status.code}\n  last output:\n    ${last}`);
      }
      return stdout;
    } finally {
      clearInterval(timer);
      log.close();
    }
  }
}

async function preflight(ctx: Steps): Promise<string | undefined> {
  if (Deno.build.os !== "linux") ctx.fail(`needs Linux (debootstrap, chroot), this is ${Deno.build.os}`);
  if (Deno.uid() !== 0) ctx.fail("needs root (debootstrap and chroot); run `deno task asterisk` as root");
  if (await commandWorks(["debootstrap", "--version"])) return "debootstrap is installed";
  if (!(ctx.opts.installHostPackages ?? true)) {
    ctx.fail("debootstrap is missing; install it: apt-get install -y debootstrap");
  }
  ctx.announce("installing debootstrap with apt-get");
  await ctx.run(["apt-get", "update", "-q"], "apt-get update");
  await ctx.run(
    ["apt-get", "install", "-y", "-q", "--no-install-recommends", "debootstrap"],
    "apt-get install",
  );
  if (!(await commandWorks(["debootstrap", "--version"]))) {
    ctx.fail("debootstrap still missing after apt-get");
  }
  return undefined;
}

async function debootstrap(
  ctx: Steps,
  dir: string,
  opts: AsteriskProvisionOptions,
): Promise<string | undefined> {
  if (await exists(join(dir, "usr/sbin/asterisk"))) return "asterisk is installed in the chroot";
  const partial = `${dir}.partial`;
  // An interrupted run leaves a half-built tree that debootstrap cannot continue: start over.
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const suite = opts.suite ?? "sid";
  const mirror = opts.mirror ?? envGet(ASTERISK_MIRROR_ENV) ?? "http://deb.debian.org/debian";
  ctx.announce(`debootstrap Debian ${suite} with ${CHROOT_PACKAGES.join(", ")} (about 1 minute, 550 MB)`);
  await ctx.run(
    ["debootstrap", "--variant=minbase", `--include=${CHROOT_PACKAGES.join(",")}`, suite, partial, mirror],
    "debootstrap",
  );
  await Deno.rename(partial, dir);
  return undefined;
}

async function ownership(ctx: Steps, dir: string): Promise<string | undefined> {
  await Deno.mkdir(join(dir, "run/asterisk"), { recursive: true });
  ctx.announce("chown Asterisk's directories to root");
  await ctx.run(["chown", "-R", "0:0", ...ROOT_OWNED.map((p) => join(dir, p))], "chown");
  return undefined;
}

async function check(ctx: Steps, dir: string, buildSeconds: number): Promise<AsteriskChroot> {
  const version = (await ctx.run(["chroot", dir, "/usr/sbin/asterisk", "-V"], "asterisk -V")).trim();
  const moduleDir = await findModuleDir(dir);
  if (!moduleDir) ctx.fail(`no asterisk modules directory under ${dir}/usr/lib`);
  const missing: string[] = [];
  for (const m of REQUIRED_MODULES) if (!(await exists(join(dir, moduleDir, m)))) missing.push(m);
  if (missing.length > 0) ctx.fail(`${version} lacks ${missing.join(", ")} (need Asterisk 22.6 or later)`);
  const du = await ctx.run(["du", "-sb", dir], "du");
  const bytes = Number(du.split(/\s/)[0]) || 0;
  const result: AsteriskChroot = { dir, version, moduleDir, buildSeconds, bytes };
  await Deno.writeTextFile(
    join(dir, STAMP),
    JSON.stringify({ ...result, builtAt: new Date().toISOString() }),
  );
  return result;
}

/** `/usr/lib/<triplet>/asterisk/modules` inside the chroot (the triplet depends on the architecture). */
export async function findModuleDir(dir: string): Promise<string | undefined> {
  try {
    for await (const e of Deno.readDir(join(dir, "usr/lib"))) {
      const rel = `/usr/lib/${e.name}/asterisk/modules`;
      if (e.isDirectory && (await exists(join(dir, rel)))) return rel;
    }
  } catch {
    // no usr/lib
  }
  return (await exists(join(dir, "usr/lib/asterisk/modules"))) ? "/usr/lib/asterisk/modules" : undefined;
}

async function commandWorks(cmd: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}
