/**
 * `deno task start`: the appliance's front door for a fresh checkout. Validates the configuration,
 * provisions the local engines on first run (with progress; later runs find them cached), pulls the
 * profile's real models while the synthetic ones are active and the sources answer, then runs
 * `tom serve` in a child Deno process whose permission flags ARE the egress policy
 * (see `permissions.ts`). Signals are forwarded; the child's exit code is ours.
 *
 * Usage: launch.ts [serve|doctor|migrate|token ...]
 *
 * @module
 */
import { join } from "node:path";
import { type Config, ConfigError, loadConfig } from "../infra/mod.ts";
import { formatProgress } from "../infra/mod.ts";
import { enginesProvisioned, provisionEngines, ProvisionError } from "../infra/mod.ts";
import { servePermissionFlags } from "../infra/mod.ts";
import { buildIslands, defaultRoot } from "../ui/mod.ts";

/** Whether the configured managed engines use provisioned files that are not there yet. */
export async function needsProvisioning(config: Config): Promise<boolean> {
  if (!config.manageEngines && config.tts.kind !== "espeak-ng") return false;
  return !(await enginesProvisioned(config.enginesDir));
}

/** The full `deno run` command line for `tom serve` under the egress policy. */
export function serveCommand(config: Config, args: string[]): string[] {
  const main = join(import.meta.dirname ?? ".", "..", "main.ts");
  return [Deno.execPath(), "run", ...servePermissionFlags(config), main, ...args];
}

async function launch(args: string[]): Promise<number> {
  let config: Config;
  const configFile = args.indexOf("--config") >= 0 ? args[args.indexOf("--config") + 1] : undefined;
  try {
    config = loadConfig({ file: configFile });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`tom: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const command = args[0] ?? "serve";
  if (command === "serve" && (await needsProvisioning(config))) {
    const started = Date.now();
    console.error(
      `tom: first start: preparing the local engines in ${config.enginesDir} (about 10 minutes once)`,
    );
    try {
      await provisionEngines({ dir: config.enginesDir, onProgress: (e) => console.error(formatProgress(e)) });
    } catch (e) {
      if (e instanceof ProvisionError) {
        console.error(`tom: ${e.message}`);
        return 1;
      }
      throw e;
    }
    console.error(`tom: engines ready after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  if (command === "serve") {
    // Real models: pulled here (the sandboxed server has no egress); offline, it says so once and the
    // synthetic models run.
    const { autoPullModels } = await import("./commands/models.ts");
    if (await autoPullModels(config)) config = loadConfig({ file: configFile });
  }
  if (command === "serve") {
    // The serving process may not run `deno` (egress sandbox), so the admin UI's island scripts are
    // bundled here, cached by content hash: later starts reuse them.
    try {
      await buildIslands({ root: defaultRoot(), cacheDir: join(config.dataDir, "cache", "ui-islands") });
    } catch (e) {
      console.error(
        `tom: admin UI scripts could not be bundled (pages still work): ${
          e instanceof Error ? e.message : e
        }`,
      );
    }
  }
  const [bin, ...rest] = serveCommand(config, args);
  const child = new Deno.Command(bin, { args: rest, stdin: "inherit", stdout: "inherit", stderr: "inherit" })
    .spawn();
  const forward = (sig: Deno.Signal) => () => {
    try {
      child.kill(sig);
    } catch { /* already gone */ }
  };
  const handlers: Array<[Deno.Signal, () => void]> = [["SIGTERM", forward("SIGTERM")], [
    "SIGINT",
    forward("SIGINT"),
  ]];
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  const status = await child.status;
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  return status.signal
    ? 128 + (status.signal === "SIGTERM" ? 15 : status.signal === "SIGINT" ? 2 : 9)
    : status.code;
}

if (import.meta.main) {
  Deno.exit(await launch(Deno.args));
}
