/**
 * What must hold before a managed engine is spawned: its binary and model are there and its port is free.
 *
 * @module
 */
import type { EngineSpec } from "./specs.ts";
import { checkEngine } from "./health.ts";
import { filePresent, findBinary } from "./files.ts";

const URL_ENV: Record<EngineSpec["name"], string> = {
  stt: "TOM_STT_URL",
  llm: "TOM_LLM_URL",
  tts: "",
  vad: "",
};

async function listening(hostname: string, port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname, port })).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Check a managed engine before it is spawned.
 *
 * A port that is taken is never adopted: a process answering there may be a second TOM or a stale engine
 * of unknown version and model, so the problem names the port and the setting that moves it.
 *
 * @returns `undefined` when it may be spawned, else the problem, readable by a person.
 */
export async function preflight(spec: EngineSpec): Promise<string | undefined> {
  const what = `${spec.name} (${spec.kind})`;
  for (const bin of new Set([spec.command ?? "", spec.bin ?? spec.command ?? ""])) {
    if (!(await findBinary(bin))) {
      const hint = bin.endsWith("tom-engine-guard") ? " (run: deno task engines)" : "";
      return `Cannot start engine ${what}: binary not found: ${bin}${hint}`;
    }
  }
  if (spec.model !== undefined && !(await filePresent(spec.model))) {
    return `Cannot start engine ${what}: model file missing: ${spec.model}`;
  }
  if (spec.port === undefined) return undefined;
  // Connect rather than bind: a port left in TIME_WAIT by a killed engine cannot be bound without
  // SO_REUSEADDR (which the engines set), yet it is free for them.
  if (!(await listening(spec.host ?? "127.0.0.1", spec.port))) return undefined;
  const h = await checkEngine(spec);
  const who = h.ok
    ? `an engine answering at ${spec.url} (left over from an earlier run, or another TOM)`
    : "another program";
  return `Cannot start engine ${what}: port ${spec.port} is already in use by ${who}; ` +
    `stop it or configure another port (${URL_ENV[spec.name]})`;
}
