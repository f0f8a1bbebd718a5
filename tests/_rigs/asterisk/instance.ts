/**
 * Run an Asterisk from the provisioned chroot: its own configuration, run, log and spool directories
 * (so several instances, and the chroot's stock configuration, never collide), started in the
 * foreground as a child process, driven through `asterisk -rx`, stopped with `core stop now` (killed if
 * it does not stop).
 *
 * @module
 */
import { join } from "node:path";
import {
  asteriskConfigFiles,
  CALLER_ID_CONTEXT,
  type CallerScript,
  CLOSED_SUFFIX,
  type InstancePaths,
  instancePaths,
  type ManagerUser,
  type Route,
  type TomEndpoints,
} from "./config.ts";
import { encodeWav, readWav } from "../../../gateway/mod.ts";
import type { AsteriskChroot } from "../../../infra/asterisk/provision.ts";

/** The caller's test tone: what the `tom-caller` context plays, between two silences. */
export interface CallerTone {
  hz: number;
  /** Peak amplitude (of 32767). */
  amplitude: number;
  ms: number;
  /** Silence before the tone (TOM greets meanwhile) and after it (TOM echoes it), in ms. */
  beforeMs: number;
  afterMs: number;
}

/** Default caller tone: 600 Hz (well apart from the 1 kHz greeting), -12 dBFS peak, 1 s, at 1.5 s. */
export const CALLER_TONE: CallerTone = { hz: 600, amplitude: 8192, ms: 1000, beforeMs: 1500, afterMs: 1500 };

/** Options of {@linkcode AsteriskInstance.start}. */
export interface AsteriskInstanceOptions extends TomEndpoints {
  chroot: AsteriskChroot;
  /** Instance name (default `t<pid>-<n>`). */
  name?: string;
  /** The caller's tone (default {@linkcode CALLER_TONE}). */
  tone?: CallerTone;
  /** How long to wait for `core waitfullybooted` (default 30 s). */
  bootTimeoutMs?: number;
  /** Changes to the test caller's script (waits, digits, MixMonitor options). */
  caller?: Partial<CallerScript>;
  /**
   * The caller keys its digits only when cued ({@linkcode AsteriskInstance.cue}), playing silence
   * (`<sounds>/pause`) until then and after.
   */
  cued?: boolean;
  /** Keep the instance's files (recordings, logs) after stop, for a look at a failure. */
  keepFiles?: boolean;
  /** Enable AMI (manager.conf) with this user. */
  manager?: ManagerUser;
}

/** The tone a transfer target (`tom-phones`, config.ts) plays once it answered: 1400 Hz, 1.5 s. */
export const TARGET_TONE: CallerTone = { hz: 1400, amplitude: 8192, ms: 1500, beforeMs: 200, afterMs: 300 };

let instances = 0;

/** A decoded mono recording. */
export interface Wav {
  rate: number;
  pcm: Int16Array;
}

/** A running Asterisk. */
export class AsteriskInstance {
  readonly name: string;
  readonly chroot: string;
  readonly paths: InstancePaths;
  readonly tone: CallerTone;
  readonly #child: Deno.ChildProcess;
  readonly #output: string[] = [];
  readonly #exited: Promise<Deno.CommandStatus>;
  readonly #drained: Promise<unknown>;
  #keepFiles = false;
  #stopped = false;

  private constructor(name: string, chroot: string, tone: CallerTone, child: Deno.ChildProcess) {
    this.name = name;
    this.chroot = chroot;
    this.paths = instancePaths(name);
    this.tone = tone;
    this.#child = child;
    this.#exited = child.status;
    const keep = async (s: ReadableStream<Uint8Array>) => {
      const dec = new TextDecoder();
      for await (const chunk of s) {
        this.#output.push(dec.decode(chunk, { stream: true }));
        if (this.#output.length > 2000) this.#output.splice(0, 1000);
      }
    };
    this.#drained = Promise.allSettled([keep(child.stdout), keep(child.stderr)]);
  }

  /**
   * Write the configuration and the caller's tone, start Asterisk, wait until it has fully booted.
   *
   * @throws {Error} when Asterisk exits or does not boot in time (with its output)
   */
  static async start(opts: AsteriskInstanceOptions): Promise<AsteriskInstance> {
    const name = opts.name ?? `t${Deno.pid}-${++instances}`;
    const dir = opts.chroot.dir;
    const p = instancePaths(name);
    const caller = opts.cued ? { cuePause: `${p.sounds}/pause`, ...opts.caller } : opts.caller;
    const files = asteriskConfigFiles({ ...opts, caller, name, moduleDir: opts.chroot.moduleDir });
    for (const d of Object.values(p)) {
      await Deno.remove(join(dir, d), { recursive: true }).catch(() => {});
      await Deno.mkdir(join(dir, d), { recursive: true });
    }
    for (const [file, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, p.etc, file), text);
    const tone = opts.tone ?? CALLER_TONE;
    await Deno.writeFile(join(dir, p.sounds, "caller.wav"), encodeWav(callerSound(tone, 8000), 8000));
    await Deno.writeFile(join(dir, p.sounds, "pause.wav"), encodeWav(new Int16Array(8000), 8000));
    // What a transfer target (`tom-phones`) plays: its own tone, well apart from the caller's.
    await Deno.writeFile(join(dir, p.sounds, "target.wav"), encodeWav(callerSound(TARGET_TONE, 8000), 8000));
    const child = new Deno.Command("chroot", {
      args: [
        dir,
        "/usr/sbin/asterisk",
        "-f",
        "-n",
        "-U",
        "root",
        "-G",
        "root",
        "-C",
        `${p.etc}/asterisk.conf`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const instance = new AsteriskInstance(name, dir, tone, child);
    instance.#keepFiles = opts.keepFiles ?? false;
    try {
      await instance.#boot(opts.bootTimeoutMs ?? 30_000);
    } catch (e) {
      await instance.stop();
      throw e;
    }
    return instance;
  }

  /** Asterisk's console output so far (for failure messages). */
  get output(): string {
    return this.#output.join("");
  }

  async #boot(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      if (await within(this.#exited, 200)) {
        throw new Error(`Asterisk exited while starting:\n${this.output.slice(-3000)}`);
      }
      const r = await this.#rx("core waitfullybooted", 5000).catch((e) => ({ ok: false, out: String(e) }));
      if (r.ok && /fully booted/i.test(r.out)) return;
      last = r.out;
    }
    throw new Error(`Asterisk did not boot in ${timeoutMs} ms: ${last}\n${this.output.slice(-3000)}`);
  }

  /**
   * Run a CLI command (`asterisk -rx`) and return its output.
   *
   * @throws {Error} when the command cannot reach Asterisk
   */
  async cli(command: string, timeoutMs = 10_000): Promise<string> {
    const r = await this.#rx(command, timeoutMs);
    if (!r.ok) throw new Error(`asterisk -rx ${JSON.stringify(command)} failed: ${r.out}`);
    return r.out;
  }

  async #rx(command: string, timeoutMs: number): Promise<{ ok: boolean; out: string }> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      const out = await new Deno.Command("chroot", {
        args: [this.chroot, "/usr/sbin/asterisk", "-C", `${this.paths.etc}/asterisk.conf`, "-rx", command],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: ac.signal,
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      return { ok: out.success && !/Unable to connect to remote asterisk/.test(text), out: text };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Place a test call: `Local/<route>@tom` (TOM's side) against the `tom-caller` context at extension
   * `key` (digits), which records what it hears and says under that key. With `callerNumber` (digits), TOM's
   * side presents that number as the caller ID (through `tom-cid`, config.ts).
   */
  async originate(route: Route, key: string, callerNumber?: string): Promise<void> {
    if (!/^\d{1,20}$/.test(key)) {
      throw new RangeError(`Cannot use call key ${JSON.stringify(key)}: digits only`);
    }
    if (callerNumber !== undefined && !/^\d{3,20}$/.test(callerNumber)) {
      throw new RangeError(`Cannot present ${JSON.stringify(callerNumber)} as a caller number: digits only`);
    }
    const tom = callerNumber === undefined ? `${route}@tom` : `${route}*${callerNumber}@${CALLER_ID_CONTEXT}`;
    const out = await this.cli(`channel originate Local/${tom}/n extension ${key}@tom-caller`);
    if (/no such|error|fail/i.test(out)) throw new Error(`originate failed: ${out.trim()}`);
  }

  /**
   * Cue the keys of a cued caller (option `cued`): the call with key `key` sends `digits` as DTMF within
   * about a second.
   *
   * @throws {RangeError} on a key that is not digits or digits that are no DTMF keys
   */
  async cue(key: string, digits: string): Promise<void> {
    if (!/^\d{1,20}$/.test(key) || !/^[0-9*#A-D]{1,40}$/.test(digits)) {
      throw new RangeError(`Cannot cue ${JSON.stringify(digits)} for call key ${JSON.stringify(key)}`);
    }
    await this.cli(`dialplan set global TOM_CUE_${key} ${digits}`);
  }

  /** Active channels, from `core show channels count`. */
  async activeChannels(): Promise<number> {
    const out = await this.cli("core show channels count");
    const m = /(\d+) active channels?/.exec(out);
    return m ? Number(m[1]) : 0;
  }

  /** Wait until no channel is up (the call ended on both sides), or throw after `timeoutMs`. */
  async waitIdle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.activeChannels()) === 0) return;
      await delay(200);
    }
    throw new Error(
      `Asterisk still has channels after ${timeoutMs} ms:\n${await this.cli("core show channels")}`,
    );
  }

  /**
   * Wait until MixMonitor has closed the test call's recordings (its post-process marker, config.ts), or
   * throw after `timeoutMs`. Until then the file on disk lacks what sits in Asterisk's 32 KiB write
   * buffer: a 2 s call can read as empty. Call it after the call ended, before {@linkcode recording}.
   */
  async recordingsClosed(key: string, timeoutMs = 15_000): Promise<void> {
    const marker = join(this.chroot, this.paths.spool, `${key}${CLOSED_SUFFIX}`);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await Deno.stat(marker).then(() => true, () => false)) return;
      await delay(50);
    }
    throw new Error(
      `MixMonitor did not close the recordings of call ${key} within ${timeoutMs} ms:\n${
        this.output.slice(-2000)
      }`,
    );
  }

  /**
   * A test call's recording (format_wav: 16-bit mono): what the caller heard (TOM's audio) or said (the
   * tone, the silences). A recording Asterisk is still writing is read to the end of what reached the
   * file (see {@linkcode recordingsClosed}).
   */
  async recording(key: string, which: "heard" | "said"): Promise<Wav> {
    const wav = readWav(await Deno.readFile(join(this.chroot, this.paths.spool, `${key}-${which}.wav`)));
    return { rate: wav.sampleRate, pcm: Int16Array.from(wav.channels[0], Math.round) };
  }

  /** Stop Asterisk (`core stop now`, killed after `timeoutMs`) and remove the instance's files. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#rx("core stop now", 5000).catch(() => {});
    if (!(await within(this.#exited, timeoutMs))) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await this.#exited;
    }
    await this.#drained;
    if (this.#keepFiles) return;
    for (const d of Object.values(this.paths)) {
      await Deno.remove(join(this.chroot, d), { recursive: true }).catch(() => {});
    }
  }
}

/** The caller's sound at `rate`: silence, the tone (with 5 ms fades), silence. */
export function callerSound(t: CallerTone, rate: number): Int16Array {
  const at = (ms: number) => Math.round((rate * ms) / 1000);
  const n = at(t.ms);
  const fade = at(5);
  const out = new Int16Array(at(t.beforeMs) + n + at(t.afterMs));
  for (let i = 0; i < n; i++) {
    const env = Math.min(1, i / fade, (n - 1 - i) / fade);
    out[at(t.beforeMs) + i] = Math.round(t.amplitude * env * Math.sin((2 * Math.PI * t.hz * i) / rate));
  }
  return out;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether `p` settles within `ms` (the timer is cleared either way). */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([
    p.then(() => true, () => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]);
  clearTimeout(timer);
  return done;
}
