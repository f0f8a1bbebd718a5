/**
 * The systemd units in infra/deploy/systemd, checked by systemd itself: `systemd-analyze verify` on the
 * shipped files, unchanged, inside a throw-away root (`--root`: this container has no systemd as PID 1,
 * and verify needs the units they point at, sysinit.target and friends, and an executable ExecStart);
 * `systemd-analyze security --offline=true` for the exposure score; TOM's own config loader for every
 * TOM_* name they set; TOM's own CLI for every command line they run.
 *
 * verify exits 0 on some mistakes (an unknown key is only a warning), so any line it prints counts as a
 * failure here; the negative controls show that a typo, a missing binary and an impossible calendar time
 * are caught.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigSchema, loadConfig } from "../../infra/config.ts";
import { testToolMissing } from "../../infra/engines/test_tools.ts";
import { ROOT, runTom } from "../_helpers.ts";

const CI = Deno.env.get("CI") === "true";
const DIR = join(ROOT, "infra/deploy/systemd");
const UNITS = [
  "tom.service",
  "tom-probe.service",
  "tom-probe.timer",
  "tom-selfcheck.service",
  "tom-selfcheck.timer",
];
/** Highest accepted `systemd-analyze security` exposure (0 safe .. 10 unsafe). Measured: tom.service 1.7, the other two 1.3. */
const MAX_EXPOSURE = 2.0;

const missing = await testToolMissing("systemd-analyze");
if (missing && !CI) console.error(`skipping the systemd unit checks: ${missing}`);

/** Where systemd's own units are (sysinit.target, timers.target, ...): merged /usr or not. */
async function systemUnitDir(): Promise<string> {
  for (const d of ["/usr/lib/systemd/system", "/lib/systemd/system"]) {
    try {
      await Deno.stat(join(d, "sysinit.target"));
      return d;
    } catch {
      // next
    }
  }
  throw new Error("Cannot find systemd's unit directory (sysinit.target) in /usr/lib or /lib");
}

/** A root with systemd's units, a stub /usr/local/bin/tom and these unit files in /etc/systemd/system. */
async function makeRoot(units: Record<string, string>, opts: { binary?: boolean } = {}): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "tom-systemd-" });
  const sys = await systemUnitDir();
  await Deno.mkdir(join(root, "usr/lib/systemd/system"), { recursive: true });
  for await (const e of Deno.readDir(sys)) {
    if (e.isFile && /\.(target|service|socket|slice|timer|mount|path)$/.test(e.name)) {
      await Deno.copyFile(join(sys, e.name), join(root, "usr/lib/systemd/system", e.name));
    }
  }
  await Deno.mkdir(join(root, "etc/systemd/system"), { recursive: true });
  for (const [name, text] of Object.entries(units)) {
    await Deno.writeTextFile(join(root, "etc/systemd/system", name), text);
  }
  if (opts.binary ?? true) {
    await Deno.mkdir(join(root, "usr/local/bin"), { recursive: true });
    await Deno.writeTextFile(join(root, "usr/local/bin/tom"), "#!/bin/sh\nexit 0\n");
    await Deno.chmod(join(root, "usr/local/bin/tom"), 0o755);
  }
  return root;
}

async function analyze(args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command("systemd-analyze", {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { SYSTEMD_COLORS: "0", SYSTEMD_PAGER: "" },
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: (dec.decode(r.stdout) + dec.decode(r.stderr)).trim() };
}

/** `systemd-analyze verify` of these units in a fresh root: the problems it reports ([] when clean). */
async function verify(units: Record<string, string>, opts: { binary?: boolean } = {}): Promise<string[]> {
  const root = await makeRoot(units, opts);
  try {
    const r = await analyze(["verify", "--man=no", `--root=${root}`, ...Object.keys(units)]);
    const lines = r.out === "" ? [] : r.out.split("\n");
    if (r.code !== 0 && lines.length === 0) lines.push(`systemd-analyze verify exited ${r.code}`);
    return lines.map((l) => l.replaceAll(root, "<root>"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function shipped(): Promise<Record<string, string>> {
  return Object.fromEntries(
    await Promise.all(UNITS.map(async (u) => [u, await Deno.readTextFile(join(DIR, u))])),
  );
}

/** `[Section] Key=value` lines of a unit file (comments and blank lines skipped). */
function directives(text: string): { section: string; key: string; value: string }[] {
  let section = "";
  const out: { section: string; key: string; value: string }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) section = s[1];
    else {
      const eq = line.indexOf("=");
      out.push({ section, key: line.slice(0, eq), value: line.slice(eq + 1) });
    }
  }
  return out;
}

function seconds(v: string): number {
  const m = /^(\d+)\s*(s|sec|min|m)?$/.exec(v.trim());
  assert.ok(m, `Cannot read the time span ${v}`);
  return Number(m[1]) * (m[2] === "min" || m[2] === "m" ? 60 : 1);
}

Deno.test({
  name: "systemd-analyze verify accepts every shipped unit without a single warning",
  ignore: missing !== undefined && !CI,
  async fn() {
    assert.equal(missing, undefined, missing ?? "");
    assert.deepEqual(await verify(await shipped()), []);
  },
});

Deno.test({
  name: "systemd-analyze verify reports a misspelt key, a missing binary and an impossible timer time",
  ignore: missing !== undefined && !CI,
  async fn() {
    const units = await shipped();
    const typo = units["tom.service"].replace("ProtectSystem=strict", "ProtectSytem=strict");
    assert.notEqual(typo, units["tom.service"]);
    const typoProblems = await verify({ "tom.service": typo });
    assert.ok(typoProblems.some((l) => /Unknown key 'ProtectSytem'/.test(l)), typoProblems.join("\n"));
    const noBinary = await verify({ "tom.service": units["tom.service"] }, { binary: false });
    assert.ok(noBinary.some((l) => /\/usr\/local\/bin\/tom is not executable/.test(l)), noBinary.join("\n"));
    const badTime = units["tom-probe.timer"].replace("03:30:00", "27:30:00");
    assert.notEqual(badTime, units["tom-probe.timer"]);
    const timerProblems = await verify({
      "tom-probe.timer": badTime,
      "tom-probe.service": units["tom-probe.service"],
    });
    assert.ok(
      timerProblems.some((l) => /Failed to parse calendar specification/.test(l)),
      timerProblems.join("\n"),
    );
  },
});

Deno.test({
  name: `systemd-analyze security rates every service's exposure at most ${MAX_EXPOSURE}`,
  ignore: missing !== undefined && !CI,
  async fn() {
    const root = await makeRoot(await shipped());
    try {
      for (const unit of UNITS.filter((u) => u.endsWith(".service"))) {
        const r = await analyze([
          "security",
          "--offline=true",
          `--root=${root}`,
          `--threshold=${MAX_EXPOSURE * 10}`,
          unit,
        ]);
        const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.out);
        assert.ok(m, `no exposure level in:\n${r.out.slice(-1000)}`);
        console.log(`${unit}: exposure ${m[1]}`);
        assert.ok(Number(m[1]) <= MAX_EXPOSURE, `${unit} exposure ${m[1]} > ${MAX_EXPOSURE}`);
        assert.equal(r.code, 0, r.out.slice(-1000));
      }
      // Negative control: a service without the sandbox is rated far worse, and --threshold fails it.
      await Deno.writeTextFile(
        join(root, "etc/systemd/system/bare.service"),
        "[Service]\nExecStart=/usr/local/bin/tom serve\n",
      );
      const bare = await analyze([
        "security",
        "--offline=true",
        `--root=${root}`,
        `--threshold=${MAX_EXPOSURE * 10}`,
        "bare.service",
      ]);
      assert.match(bare.out, /Overall exposure level for bare\.service: (9|10)\.\d/);
      assert.notEqual(bare.code, 0);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "systemd-sysusers creates the tom user from tom.sysusers, and refuses a broken line",
  ignore: missing !== undefined && !CI,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "tom-sysusers-" });
    const bad = join(root, "bad.conf");
    try {
      await Deno.mkdir(join(root, "etc"));
      const run = async (file: string) => {
        const r = await new Deno.Command("systemd-sysusers", {
          args: [`--root=${root}`, file],
          stdout: "piped",
          stderr: "piped",
          stdin: "null",
        }).output();
        return { code: r.code, err: new TextDecoder().decode(r.stderr) };
      };
      const ok = await run(join(DIR, "tom.sysusers"));
      assert.equal(ok.code, 0, ok.err);
      const passwd = await Deno.readTextFile(join(root, "etc/passwd"));
      assert.match(passwd, /^tom:x:\d+:\d+:TOM telephone assistant:\/var\/lib\/tom:\/usr\/sbin\/nologin$/m);
      assert.match(await Deno.readTextFile(join(root, "etc/group")), /^tom:x:\d+:$/m);
      await Deno.writeTextFile(
        bad,
        (await Deno.readTextFile(join(DIR, "tom.sysusers"))).replace(/^u tom/m, "x tom"),
      );
      const refused = await run(bad);
      assert.notEqual(refused.code, 0);
      assert.match(refused.err, /Unknown command type 'x'/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("the units' hardening: own user, state directory, no capabilities, no W^X ban, RT media, drain-aware stop", async () => {
  const tom = directives(await Deno.readTextFile(join(DIR, "tom.service")));
  const get = (key: string) => tom.filter((d) => d.key === key).map((d) => d.value);
  assert.deepEqual(get("ExecStart"), ["/usr/local/bin/tom serve"]);
  assert.deepEqual(get("Type"), ["simple"]); // `tom serve` never calls sd_notify
  assert.deepEqual([get("User"), get("Group"), get("StateDirectory")], [["tom"], ["tom"], ["tom"]]);
  for (
    const [k, v] of [
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["ProtectHome", "yes"],
      ["PrivateTmp", "yes"],
      ["CapabilityBoundingSet", ""],
      ["AmbientCapabilities", ""],
      ["SystemCallArchitectures", "native"],
      ["LockPersonality", "yes"],
      ["Restart", "on-failure"],
      ["KillMode", "mixed"],
      ["CPUSchedulingPolicy", "fifo"],
      ["EnvironmentFile", "-/etc/tom/tom.env"],
    ]
  ) {
    assert.deepEqual(get(k), [v], k);
  }
  assert.deepEqual(get("MemoryDenyWriteExecute"), [], "V8's JIT needs writable+executable memory");
  assert.deepEqual(get("RestrictRealtime"), [], "RestrictRealtime would forbid the SCHED_FIFO policy");
  assert.ok(
    get("DeviceAllow").some((v) => v.startsWith("char-nvidia-frontend")),
    "the GPU must stay reachable",
  );
  assert.match(get("RestrictAddressFamilies")[0], /^AF_UNIX AF_INET AF_INET6$/);
  // The stop timeout must outlast the default drain (TOM_SHUTDOWN_DRAIN_SECONDS) plus the engines' stop.
  const drain = ConfigSchema.parse({}).shutdown.drainSeconds;
  assert.ok(seconds(get("TimeoutStopSec")[0]) >= drain + 20, `TimeoutStopSec must exceed ${drain} s + 20 s`);
});

Deno.test("every TOM_* name the units and tom.env.example set is a real setting that TOM accepts", async () => {
  const env: Record<string, string> = {};
  for (const u of UNITS.filter((u) => u.endsWith(".service"))) {
    for (const d of directives(await Deno.readTextFile(join(DIR, u)))) {
      if (d.key !== "Environment") continue;
      const [name, ...rest] = d.value.split("=");
      env[name] = rest.join("=");
    }
  }
  assert.deepEqual(Object.keys(env).sort(), ["TOM_DATA_DIR", "TOM_ENGINES_DIR"]);
  const example = await Deno.readTextFile(join(DIR, "tom.env.example"));
  const lines = example.split("\n").filter((l) => /^#?TOM_[A-Z0-9_]+=/.test(l));
  assert.ok(lines.length >= 30, `expected the main settings in tom.env.example, found ${lines.length}`);
  for (const l of lines) {
    const [name, ...rest] = l.replace(/^#/, "").split("=");
    env[name] = rest.join("=");
  }
  const config = loadConfig({ env, cwd: "/" });
  assert.equal(config.dataDir, "/var/lib/tom");
  assert.equal(config.freeswitch.enabled, true);
  // Negative control: the same loader rejects a misspelt name, so the check above can fail.
  assert.throws(
    () => loadConfig({ env: { ...env, TOM_SHUTDOWN_DRAIN_SECOND: "20" } }),
    /TOM_SHUTDOWN_DRAIN_SECOND: unknown setting \(did you mean TOM_SHUTDOWN_DRAIN_SECONDS\?\)/,
  );
});

Deno.test("every command line the units run is one the tom CLI accepts", async () => {
  const commands: string[][] = [];
  for (const u of UNITS.filter((u) => u.endsWith(".service"))) {
    for (const d of directives(await Deno.readTextFile(join(DIR, u)))) {
      if (d.key !== "ExecStart") continue;
      const [bin, ...args] = d.value.split(/\s+/);
      assert.equal(bin, "/usr/local/bin/tom", u);
      commands.push(args);
    }
  }
  assert.deepEqual(commands.map((c) => c[0]), ["serve", "probe", "selfcheck"]);
  for (const args of commands) {
    // --help after the unit's own arguments: the CLI parses them strictly (unknown command or option:
    // exit 2) and then prints help instead of running.
    const r = await runTom([...args, "--help"]);
    assert.equal(r.code, 0, `tom ${args.join(" ")} is not accepted by main.ts:\n${r.stderr}`);
  }
  const typo = await runTom(["probe", "--jsn", "--help"]);
  assert.equal(typo.code, 2, "negative control: an unknown option is refused");
});
