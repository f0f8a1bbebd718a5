/**
 * Which installed models TOM uses, and whether it still runs the synthetic demo ones.
 *
 * `tom models use NAME` writes `<enginesDir>/models/selected.json` (`{"stt": "ggml-small.bin", ...}`: file
 * names in the models directory). The configuration reads it for every model key left empty, so the service,
 * `tom doctor` and `deno task compile` all see the same choice without anyone editing `/etc/tom/tom.env`
 * (root's file, mode 0600, which the service user cannot and should not write). An explicit
 * `TOM_STT_MODEL` / `TOM_LLM_MODEL` / `TOM_TTS_MODEL` still wins; `tom models use` says so when one is set.
 *
 * @module
 */
import { basename, join } from "node:path";
import { z } from "zod";

/** The roles a selection can fill. */
export type SelectableRole = "stt" | "llm" | "tts";

const SelectionSchema = z.object({
  stt: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).optional(),
  llm: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).optional(),
  tts: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/).optional(),
});
/** The selected model file per role. */
export type ModelSelection = z.infer<typeof SelectionSchema>;

/** Where the selection lives. */
export function selectionFile(enginesDir: string): string {
  return join(enginesDir, "models", "selected.json");
}

/**
 * Read the selection (synchronously: the configuration loader uses it).
 *
 * @returns `{}` when there is none.
 * @throws {Error} naming the file when it exists but is not a valid selection.
 */
export function readModelSelection(enginesDir: string): ModelSelection {
  const file = selectionFile(enginesDir);
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    return {};
  }
  try {
    return SelectionSchema.parse(JSON.parse(text));
  } catch (e) {
    throw new Error(
      `model selection ${file} is invalid (${e instanceof Error ? e.message : e}); ` +
        "run `tom models use NAME` again or delete it",
    );
  }
}

/** Set one role's model file (atomically: temp file, then rename). */
export async function writeModelSelection(
  enginesDir: string,
  role: SelectableRole,
  file: string,
): Promise<ModelSelection> {
  const next = { ...readModelSelection(enginesDir), [role]: file };
  const target = selectionFile(enginesDir);
  await Deno.mkdir(join(enginesDir, "models"), { recursive: true });
  const tmp = `${target}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify(next, null, 2) + "\n");
  await Deno.rename(tmp, target);
  return next;
}

/** The catalogue's Piper program entry for this machine (`piper-linux-<arch>`, models_catalog.ts). */
export function piperRuntimeEntry(): string {
  return `piper-linux-${Deno.build.arch === "aarch64" ? "aarch64" : "x86_64"}`;
}

/** The Piper program unpacked by `tom models pull piper-linux-<arch>` for this machine, if installed. */
export function piperRuntimeBin(enginesDir: string): string | undefined {
  const bin = join(enginesDir, "runtimes", piperRuntimeEntry(), "piper", "piper");
  try {
    return Deno.statSync(bin).isFile ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a model path is one of the synthetic (gibberish) models provisioning generates. */
export function isSyntheticModel(path: string): boolean {
  return basename(path).startsWith("synthetic-");
}

/** The minimal part of the configuration the demo check reads. */
export interface DemoModelConfig {
  profile: string;
  stt: { kind: string; model: string };
  llm: { kind: string; model: string };
}

/** The roles that run a synthetic model now (empty: real models everywhere TOM loads a model file). */
export function demoModelRoles(config: DemoModelConfig): ("stt" | "llm")[] {
  const roles: ("stt" | "llm")[] = [];
  if (config.stt.kind === "whisper-server" && isSyntheticModel(config.stt.model)) roles.push("stt");
  if (config.llm.kind === "llama-server" && isSyntheticModel(config.llm.model)) roles.push("llm");
  return roles;
}

/** The commands that install real models for this profile (shown by the banner, /readyz and tom doctor). */
export function realModelsHint(profile: string): string {
  return `so installieren Sie echte Modelle: tom models pull --profile ${profile}, dann tom models use NAME ` +
    "je Modell und TOM neu starten (README: „Real models (Echte Modelle)“)";
}
