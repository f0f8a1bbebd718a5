/**
 * Whether the real engines are provisioned. Tests that need them skip with the reason when they are
 * not; in CI (`CI=true`) a missing engine is a failure instead, so nothing is silently skipped there.
 *
 * @module
 */
import { loadConfig } from "../infra/config.ts";
import { enginePaths } from "../infra/engines/catalog.ts";

const dir = loadConfig({
  env: Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => k === "TOM_ENGINES_DIR" || !k.startsWith("TOM_")),
  ),
}).enginesDir;
/** Paths of the provisioned engines. */
export const ENGINES = enginePaths(dir);

function present(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Why the real engines cannot be used, or undefined when they can. */
export const enginesMissing: string | undefined = [
  ENGINES.whisperServer,
  ENGINES.llamaServer,
  ENGINES.engineGuard,
  ENGINES.whisperModel,
  ENGINES.llamaModel,
  ENGINES.sileroModel,
].filter((p) => !present(p)).map((p) => `missing ${p} (run: deno task engines)`)[0];

/** `ignore` option for tests that need the engines: false in CI, where their absence must fail. */
export const skipWithoutEngines: boolean = enginesMissing !== undefined && Deno.env.get("CI") !== "true";
if (enginesMissing && skipWithoutEngines) console.error(`skipping real-engine tests: ${enginesMissing}`);
