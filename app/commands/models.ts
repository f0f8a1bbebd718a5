/**
 * `tom models list [--json] | pull [NAME...|--profile P] | verify [NAME...] | use NAME`: the real models of
 * the catalogue (infra/engines/models_catalog.ts), downloaded and verified by infra/engines/model_pull.ts,
 * chosen by infra/engines/model_selection.ts. Also the first start's attempt to pull the profile's
 * default set (`autoPullModels`, used by app/launch.ts). Runs in the provisioning process only.
 *
 * @module
 */
import {
  type Catalogue,
  CatalogueError,
  type Config,
  ConfigError,
  demoModelRoles,
  entryInstalled,
  findEntry,
  loadCatalogue,
  loadConfig,
  type ModelEntry,
  ModelPullError,
  modelsDir,
  piperRuntimeEntry,
  profileEntries,
  PROFILES,
  pullEntry,
  type PullProgress,
  realModelsHint,
  verifyEntry,
  writeModelSelection,
} from "../../infra/mod.ts";
import type { Profile } from "../../infra/mod.ts";

/** Options of {@linkcode modelsMain}. */
export interface ModelsOptions {
  json?: boolean;
  profile?: string;
  /** Load the configuration again (after `use`, to show what it resolves now); default: the process's. */
  reloadConfig?: () => Config;
}

const MiB = 1024 * 1024;
const fmtSize = (n: number) =>
  n >= 1024 * MiB ? `${(n / 1024 / MiB).toFixed(1)} GiB` : `${(n / MiB).toFixed(0)} MiB`;

/** A progress reporter: a bar with speed and ETA on a terminal, nothing otherwise. */
export function progressReporter(tty = Deno.stderr.isTerminal()): (p: PullProgress) => void {
  if (!tty) return () => {};
  let last = 0;
  const enc = new TextEncoder();
  return (p) => {
    const now = Date.now();
    if (now - last < 200 && p.done < p.total) return;
    last = now;
    Deno.stderr.writeSync(enc.encode(`\r${formatBar(p)}\x1b[K${p.done >= p.total ? "\n" : ""}`));
  };
}

/** One progress line: `file [#####-----]  45%  66/148 MiB  12.3 MiB/s  ETA 7 s`. */
export function formatBar(p: PullProgress): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const width = 24;
  const filled = Math.round(frac * width);
  const rate = p.elapsedMs > 0 ? ((p.done - p.resumedFrom) / p.elapsedMs) * 1000 : 0;
  const eta = rate > 0 ? Math.max(0, (p.total - p.done) / rate) : undefined;
  return `  ${p.file} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${
    (frac * 100).toFixed(0).padStart(3)
  }%` +
    `  ${(p.done / MiB).toFixed(0)}/${(p.total / MiB).toFixed(0)} MiB  ${(rate / MiB).toFixed(1)} MiB/s` +
    (eta !== undefined ? `  ETA ${eta < 90 ? `${eta.toFixed(0)} s` : `${(eta / 60).toFixed(0)} min`}` : "");
}

function configuredFile(config: Config, e: ModelEntry): string | undefined {
  switch (e.kind) {
    case "stt":
      return config.stt.model;
    case "llm":
      return config.llm.model;
    case "tts":
      return config.tts.model;
    default:
      return undefined;
  }
}

function inUse(config: Config, e: ModelEntry): boolean {
  const f = configuredFile(config, e);
  return f !== undefined && e.files.some((x) => `${modelsDir(config.enginesDir)}/${x.file}` === f);
}

async function listModels(config: Config, cat: Catalogue, json: boolean): Promise<number> {
  const rows = [];
  for (const e of cat.entries) {
    rows.push({
      ...e,
      bytes: e.files.reduce((s, f) => s + f.bytes, 0),
      installed: await entryInstalled(e, config.enginesDir),
      inUse: inUse(config, e),
      profiles: PROFILES.filter((p) => (cat.profiles[p] ?? []).includes(e.name)),
    });
  }
  const demo = demoModelRoles(config);
  if (json) {
    console.log(
      JSON.stringify({ modelsDir: modelsDir(config.enginesDir), demoModels: demo, models: rows }, null, 2),
    );
    return 0;
  }
  console.log(`Modelle in ${modelsDir(config.enginesDir)} (Profil ${config.profile}):`);
  for (const r of rows) {
    const state = r.inUse ? "in Betrieb" : r.installed ? "installiert" : "-";
    const check = r.files.every((f) => f.checksum) ? r.files[0].checksum?.algorithm : "ohne Prüfsumme";
    console.log(
      `  ${r.name.padEnd(30)} ${r.kind.padEnd(4)} ${fmtSize(r.bytes).padStart(8)}  ${state.padEnd(11)} ` +
        `${r.licence}; RAM ${r.ramMiB} MiB, VRAM ${r.vramMiB} MiB; ${check}` +
        (r.profiles.length ? `; Standard für ${r.profiles.join(", ")}` : ""),
    );
  }
  if (demo.length > 0) {
    console.log(`\nDemo-Modelle aktiv (${demo.join(", ")}): ${realModelsHint(config.profile)}`);
  }
  return 0;
}

function pickEntries(cat: Catalogue, names: string[], profile: Profile): ModelEntry[] | string {
  if (names.length === 0) return profileEntries(cat, profile);
  const out: ModelEntry[] = [];
  for (const n of names) {
    const e = findEntry(cat, n);
    if (!e) return `unbekanntes Modell "${n}" (tom models list zeigt alle)`;
    out.push(e);
  }
  return out;
}

/** Pull entries, printing progress; returns the failures (already printed). */
export async function pullEntries(
  config: Config,
  entries: ModelEntry[],
  opts: { quiet?: boolean; retries?: number } = {},
): Promise<ModelPullError[]> {
  const failures: ModelPullError[] = [];
  const onProgress = opts.quiet ? undefined : progressReporter();
  for (const e of entries) {
    try {
      const files = await pullEntry(e, {
        enginesDir: config.enginesDir,
        mirror: config.models.mirror,
        onProgress,
        onNote: (l) => console.error(`tom models: ${l}`),
        retries: opts.retries,
      });
      for (const f of files) {
        console.error(
          f.downloaded
            ? `tom models: ${e.name}: ${f.file} geprüft und installiert, ${fmtSize(f.bytes)} in ` +
              `${f.seconds.toFixed(1)} s (${(f.bytes / MiB / Math.max(f.seconds, 0.001)).toFixed(1)} MiB/s)`
            : `tom models: ${e.name}: ${f.file} ist schon installiert`,
        );
      }
    } catch (err) {
      if (!(err instanceof ModelPullError)) throw err;
      console.error(`tom models: ${err.message}`);
      failures.push(err);
    }
  }
  return failures;
}

async function verifyModels(config: Config, cat: Catalogue, names: string[]): Promise<number> {
  const entries = names.length > 0 ? pickEntries(cat, names, config.profile) : cat.entries;
  if (typeof entries === "string") {
    console.error(`tom models: ${entries}`);
    return 2;
  }
  let bad = 0;
  for (const e of entries) {
    for (const v of await verifyEntry(e, config.enginesDir)) {
      if (v.state === "missing" && names.length === 0) continue;
      if (v.state === "corrupt" || v.state === "missing") bad++;
      const what =
        { ok: "in Ordnung", missing: "fehlt", corrupt: "BESCHÄDIGT", unchecked: "ungeprüft" }[v.state];
      console.log(`${e.name}: ${v.file}: ${what}${v.detail ? ` (${v.detail})` : ""}`);
    }
  }
  if (bad > 0) {
    console.error(`tom models: ${bad} Datei(en) fehlen oder sind beschädigt: tom models pull NAME`);
  }
  return bad > 0 ? 1 : 0;
}

async function useModel(config: Config, cat: Catalogue, name: string, reload: () => Config): Promise<number> {
  const e = findEntry(cat, name);
  if (!e) {
    console.error(`tom models: unbekanntes Modell "${name}" (tom models list zeigt alle)`);
    return 2;
  }
  if (e.kind === "tts-runtime") {
    console.error(`tom models: ${name} ist ein Programm, kein Modell: tom models pull installiert es`);
    return 2;
  }
  const checked = await verifyEntry(e, config.enginesDir);
  const bad = checked.filter((v) => v.state === "missing" || v.state === "corrupt");
  if (bad.length > 0) {
    console.error(
      `tom models: ${name}: ${
        bad.map((v) => `${v.file} ${v.state === "missing" ? "fehlt" : "ist beschädigt"}`)
          .join(", ")
      }; zuerst: tom models pull ${name}`,
    );
    return 1;
  }
  const file = selectedFile(e);
  if (!file) {
    console.error(`tom models: ${name}: keine .onnx-Datei im Eintrag`);
    return 1;
  }
  await writeModelSelection(config.enginesDir, e.kind, file);
  const now = reload();
  const path = `${modelsDir(config.enginesDir)}/${file}`;
  const key = { stt: "TOM_STT_MODEL", llm: "TOM_LLM_MODEL", tts: "TOM_TTS_MODEL" }[e.kind];
  console.log(`tom models: ${name} ist ausgewählt (${path}); wirksam nach dem Neustart von TOM`);
  if (configuredFile(now, e) !== path) {
    console.error(
      `tom models: Achtung: ${key} ist gesetzt (${configuredFile(now, e)}) und gilt vor der Auswahl; ` +
        `entfernen Sie ${key} aus /etc/tom/tom.env bzw. der Konfigurationsdatei oder setzen Sie ${key}=${path}`,
    );
    return 1;
  }
  if (e.kind === "tts" && now.tts.kind !== "piper") {
    console.log(
      `tom models: die Stimme spricht, sobald das Piper-Programm installiert ist (tom models pull ${piperRuntimeEntry()}) oder TOM_TTS_KIND=piper und TOM_TTS_BIN gesetzt sind`,
    );
  }
  return 0;
}

/** The file a selection names for an entry: a voice's `.onnx` (its `.onnx.json` lies beside it), else the file. */
function selectedFile(e: ModelEntry): string | undefined {
  return e.kind === "tts" ? e.files.find((f) => f.file.endsWith(".onnx"))?.file : e.files[0]?.file;
}

/** Run `tom models SUBCOMMAND`. */
export async function modelsMain(config: Config, args: string[], opts: ModelsOptions = {}): Promise<number> {
  const [sub, ...rest] = args;
  let cat: Catalogue;
  try {
    cat = loadCatalogue(config.models.catalog);
  } catch (e) {
    if (e instanceof CatalogueError) {
      console.error(`tom models: ${e.message}`);
      return 2;
    }
    throw e;
  }
  switch (sub) {
    case "list":
      return await listModels(config, cat, opts.json === true);
    case "pull": {
      if (opts.profile !== undefined && !(PROFILES as readonly string[]).includes(opts.profile)) {
        console.error(`tom models: unbekanntes Profil "${opts.profile}" (${PROFILES.join(", ")})`);
        return 2;
      }
      if (opts.profile !== undefined && rest.length > 0) {
        console.error("tom models pull: NAME oder --profile, nicht beides");
        return 2;
      }
      const entries = pickEntries(cat, rest, (opts.profile ?? config.profile) as Profile);
      if (typeof entries === "string") {
        console.error(`tom models: ${entries}`);
        return 2;
      }
      const failures = await pullEntries(config, entries);
      if (failures.length === 0 && rest.length > 0) {
        console.error(`tom models: aktivieren mit: tom models use ${rest.join(" / ")}`);
      }
      return failures.length > 0 ? 1 : 0;
    }
    case "verify":
      return await verifyModels(config, cat, rest);
    case "use":
      if (rest.length !== 1) {
        console.error("tom models use: genau ein NAME (tom models list zeigt alle)");
        return 2;
      }
      try {
        return await useModel(config, cat, rest[0], opts.reloadConfig ?? (() => loadConfig()));
      } catch (e) {
        if (e instanceof ConfigError) {
          console.error(`tom models: ${e.message}`);
          return 2;
        }
        throw e;
      }
    default:
      console.error(`tom models: erwartet list, pull, verify oder use\n\nUsage: ${MODELS_USAGE}`);
      return 2;
  }
}

/** The usage line. */
export const MODELS_USAGE =
  "tom models list [--json] | pull [NAME...|--profile P] | verify [NAME...] | use NAME";

/**
 * The first start (`deno task start`): while synthetic models are active, try to pull the profile's default
 * set and select it. When the sources cannot be reached it says so once and TOM runs the synthetic models.
 *
 * @returns whether the selection changed (reload the configuration).
 */
export async function autoPullModels(config: Config): Promise<boolean> {
  if (!config.models.autoPull || demoModelRoles(config).length === 0) return false;
  let cat: Catalogue;
  try {
    cat = loadCatalogue(config.models.catalog);
  } catch (e) {
    console.error(`tom: ${e instanceof Error ? e.message : e}`);
    return false;
  }
  // The whole default set: whisper, the LLM, the voice and (with it) the Piper program for this machine.
  const entries = profileEntries(cat, config.profile);
  const pullable = entries.filter((e) => e.files.every((f) => f.checksum !== null));
  const skipped = entries.filter((e) => !pullable.includes(e)).map((e) => e.name);
  const unreachable = await firstUnreachable(config, pullable);
  if (pullable.length === 0 || unreachable) {
    console.error(
      `tom: Demo-Modelle aktiv: echte Modelle ${
        unreachable ? `sind von hier nicht erreichbar (${unreachable})` : "haben keine geprüfte Prüfsumme"
      }. TOM läuft mit den synthetischen Modellen und versteht noch nichts; ${
        realModelsHint(config.profile)
      }` +
        (skipped.length ? `; ohne Prüfsumme übersprungen: ${skipped.join(", ")}` : ""),
    );
    return false;
  }
  console.error(
    `tom: erster Start: lade die Modelle des Profils ${config.profile} (${
      pullable.map((e) => e.name).join(", ")
    })`,
  );
  const failures = await pullEntries(config, pullable);
  let changed = false;
  for (const e of pullable) {
    if (failures.some((f) => f.model === e.name)) continue;
    const file = selectedFile(e);
    if (file === undefined || (e.kind !== "stt" && e.kind !== "llm" && e.kind !== "tts")) continue;
    await writeModelSelection(config.enginesDir, e.kind, file);
    changed = true;
  }
  if (skipped.length) console.error(`tom: ohne geprüfte Prüfsumme nicht geladen: ${skipped.join(", ")}`);
  return changed;
}

/** A short reachability probe of the first source (HEAD, 5 s), so an offline box says so at once. */
async function firstUnreachable(config: Config, entries: ModelEntry[]): Promise<string | undefined> {
  const f = entries[0]?.files[0];
  if (!f) return undefined;
  const mirror = config.models.mirror;
  if (mirror !== "" && !/^https?:\/\//.test(mirror)) {
    try {
      await Deno.stat(mirror);
      return undefined;
    } catch {
      return `Spiegelverzeichnis ${mirror} fehlt`;
    }
  }
  const url = mirror !== "" ? `${mirror.replace(/\/+$/, "")}/${f.file}` : f.url;
  try {
    const res = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    return res.ok || res.status === 405 ? undefined : `${new URL(url).host}: HTTP ${res.status}`;
  } catch (e) {
    return `${new URL(url).host}: ${e instanceof Error ? e.message : e}`;
  }
}
