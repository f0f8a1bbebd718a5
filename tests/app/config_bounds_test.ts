// Every numeric configuration key, enumerated from the zod schema itself (a new key is covered without
// touching this file): what the administrator sees when a value sits at the edge of its documented range.
// At its minimum and its maximum the real start-up path runs in-process (`loadConfig` -> `startAppliance`:
// secrets, store, UI, gateway, the pipeline answering stage whose defaults once threw a RangeError) and
// the appliance listens, or start-up is refused with a ConfigError (exit 2) that names the variable and
// wrote nothing. One step outside is refused by `loadConfig`, naming the variable, before anything is
// written. Engines are not managed and never called: no call is placed.
//
// Two `tom serve` child processes show the exit codes a shell sees: the issue's
// TOM_PIPELINE_LLM_TIMEOUT_MS=300000 starts and stops cleanly on SIGTERM; 600001 exits 2 with no stack
// trace and no database.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { z } from "zod";
import { ConfigError, ConfigSchema, envName, loadConfig } from "../../infra/config.ts";
import { startAppliance } from "../../app/serve.ts";
import { cleanEnv, freePort, MAIN, ROOT } from "../_helpers.ts";

interface NumericKey {
  key: string;
  min: number;
  max: number;
  int: boolean;
}

/** Walk the schema like `CONFIG_KEYS` does and keep the number leaves with their bounds. */
function numericKeys(schema: z.ZodType, prefix = ""): NumericKey[] {
  // deno-lint-ignore no-explicit-any -- zod's internal def is not part of its typed surface
  let s: any = schema;
  while (s?._zod?.def && ["default", "prefault", "optional", "pipe"].includes(s._zod.def.type)) {
    s = s._zod.def.type === "pipe" ? s._zod.def.out : s._zod.def.innerType;
  }
  const type = s?._zod?.def?.type;
  if (type === "object") {
    return Object.entries(s._zod.def.shape as Record<string, z.ZodType>)
      .flatMap(([k, v]) => numericKeys(v, prefix ? `${prefix}.${k}` : k));
  }
  if (type !== "number") return [];
  assert.ok(Number.isFinite(s.minValue) && Number.isFinite(s.maxValue), `${prefix} has no bounds`);
  return [{ key: prefix, min: s.minValue, max: s.maxValue, int: s.isInt === true }];
}

const KEYS = numericKeys(ConfigSchema);
const dataDirOf = (dir: string) => join(dir, "data");

function baseEnv(dir: string): Record<string, string> {
  return {
    HOME: dir,
    TOM_DATA_DIR: dataDirOf(dir),
    TOM_ENGINES_DIR: join(dir, "engines"),
    TOM_HTTP_PORT: String(freePort()),
    TOM_AUDIOSOCKET_PORT: String(freePort()),
    TOM_MANAGE_ENGINES: "false",
    // Nothing listens there; no call is placed, so the adapters are built but never used.
    TOM_STT_URL: "http://127.0.0.1:9",
    TOM_LLM_URL: "http://127.0.0.1:9",
    TOM_RL_ANALYSIS: "false",
    TOM_JWT_SECRET: "config-bounds-test-secret-0123456789abcdef",
    TOM_LOG_LEVEL: "error",
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Start the real appliance with one key set; resolve "started" or the refusal's message. */
async function startWith(key: string, value: number): Promise<"started" | string> {
  // The suite runs in parallel: a port freePort() just found free may be taken by another test before the
  // appliance binds it. That is the machine, not the configuration: try again on fresh ports (the key under
  // test keeps its value).
  for (let attempt = 1;; attempt++) {
    const result = await startOnce(key, value);
    if (result !== PORT_TAKEN || attempt === 5) return result === PORT_TAKEN ? "port taken 5 times" : result;
  }
}

const PORT_TAKEN = Symbol("port taken");

async function startOnce(key: string, value: number): Promise<"started" | string | typeof PORT_TAKEN> {
  const dir = await Deno.makeTempDir({ prefix: "tom-config-bounds-" });
  try {
    const env = { ...baseEnv(dir), [envName(key)]: String(value) };
    let app;
    try {
      app = await startAppliance(loadConfig({ env, cwd: dir }));
    } catch (e) {
      if (!(e instanceof ConfigError) && /EADDRINUSE/.test(String((e as Error)?.message ?? e))) {
        return PORT_TAKEN;
      }
      assert.ok(
        e instanceof ConfigError,
        `${envName(key)}=${value} crashed start-up instead of refusing it: ${(e as Error)?.stack ?? e}`,
      );
      assert.equal(await exists(dataDirOf(dir)), false, `${envName(key)}=${value}: refused after writing`);
      return e.message;
    }
    await app.shutdown("test over");
    return "started";
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the schema has numeric keys to check, the pipeline's among them", () => {
  const names = KEYS.map((k) => k.key);
  for (const k of ["pipeline.llmTimeoutMs", "pipeline.retryDelayMs", "vad.threshold", "http.port"]) {
    assert.ok(names.includes(k), `${k} missing from ${names.join(", ")}`);
  }
});

for (const { key, min, max, int } of KEYS) {
  const name = envName(key);
  Deno.test({
    name: `${name}: ${min} and ${max} start the appliance; one step outside exits 2 naming ${name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      for (const value of [min, max]) {
        const r = await startWith(key, value);
        if (r !== "started") assert.ok(r.includes(name), `${name}=${value} refused without naming it: ${r}`);
      }
      const step = int ? 1 : Math.round((max - min) * 100) / 10_000;
      for (const value of [min - step, max + step]) {
        const dir = await Deno.makeTempDir({ prefix: "tom-config-bounds-" });
        try {
          const env = { ...baseEnv(dir), [name]: String(value) };
          assert.throws(() => loadConfig({ env, cwd: dir }), (e: unknown) => {
            assert.ok(e instanceof ConfigError, String(e));
            assert.match(e.message, new RegExp(`${name} \\(${key.replace(".", "\\.")}\\)`));
            return true;
          });
          assert.equal(await exists(dataDirOf(dir)), false);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      }
    },
  });
}

/** `tom serve` as a shell runs it (logs go to stderr); stopped with SIGTERM once it listens. */
async function serve(env: Record<string, string>, dir: string) {
  const { HOME: _ownHome, ...base } = baseEnv(dir); // the child keeps the real HOME: Deno's npm cache
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve"],
    env: cleanEnv({ ...base, ...env, TOM_LOG_LEVEL: "info" }),
    clearEnv: true,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const dec = new TextDecoder();
  let err = "";
  let stopping: ReturnType<typeof setTimeout> | undefined;
  const stderr = (async () => {
    for await (const chunk of child.stderr) {
      err += dec.decode(chunk);
      // serve() installs its signal handlers just after the "listening" line: give it a moment.
      if (!stopping && err.includes('"listening"')) stopping = setTimeout(() => child.kill("SIGTERM"), 500);
    }
  })();
  const stdout = new Response(child.stdout).text();
  const status = await child.status;
  clearTimeout(killer);
  await stderr;
  return { code: status.code, stdout: await stdout, stderr: err };
}

Deno.test({
  name: "tom serve with TOM_PIPELINE_LLM_TIMEOUT_MS=300000 listens and stops with 0 on SIGTERM (it crashed)",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tom-config-bounds-" });
    try {
      const r = await serve(
        { TOM_PIPELINE_LLM_TIMEOUT_MS: "300000", TOM_PIPELINE_RETRY_DELAY_MS: "60000" },
        dir,
      );
      assert.ok(r.stderr.includes('"listening"'), r.stdout + r.stderr);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /RangeError|\n\s+at /);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "tom serve with TOM_PIPELINE_LLM_TIMEOUT_MS=600001 exits 2 naming it, no stack trace, no database",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tom-config-bounds-" });
    try {
      const r = await serve({ TOM_PIPELINE_LLM_TIMEOUT_MS: "600001" }, dir);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /TOM_PIPELINE_LLM_TIMEOUT_MS \(pipeline\.llmTimeoutMs\): .*600000, got "600001"/,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.equal(await exists(dataDirOf(dir)), false, "nothing may be written");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
