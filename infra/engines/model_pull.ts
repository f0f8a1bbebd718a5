/**
 * Download and verify catalogue models into `<enginesDir>/models`: resumable (HTTP Range on a `.part` file
 * kept after an interruption), a free-disk check first, the catalogue's checksum decides (SHA-1 or SHA-256,
 * streamed through node:crypto), and the file appears under its name only when verified (rename of the
 * `.part` file in the same directory, so a half file is never taken for a model).
 *
 * Runs in the provisioning process (`tom models`, `deno task start` before the server starts), never in the
 * sandboxed `tom serve`, whose egress stays closed. Proxies: Deno's `fetch` itself honours `HTTPS_PROXY`,
 * `HTTP_PROXY` and `NO_PROXY` (also lower case), so nothing here reads them. `TOM_MODELS_MIRROR` replaces
 * every source: a base URL (`<base>/<file>`) or a directory (a USB disk: `<dir>/<file>`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { statfs } from "node:fs/promises";
import { join } from "node:path";
import type { Checksum, ModelEntry, ModelFile } from "./models_catalog.ts";
import { unpackTarGz } from "./unpack.ts";

/** Why a pull failed (the message names the model, in German with the English term). */
export type PullErrorCode = "not-found" | "checksum" | "no-checksum" | "disk-full" | "interrupted" | "http";

/** A pull that failed; `model` is the catalogue entry's name. */
export class ModelPullError extends Error {
  constructor(message: string, readonly model: string, readonly code: PullErrorCode) {
    super(message);
    this.name = "ModelPullError";
  }
}

/** Progress of one file. */
export interface PullProgress {
  model: string;
  file: string;
  done: number;
  total: number;
  /** ms since this file's transfer started (for speed and ETA). */
  elapsedMs: number;
  /** Bytes that were already there when it started (resumed). */
  resumedFrom: number;
}

/** Options of {@linkcode pullEntry}. */
export interface PullOptions {
  enginesDir: string;
  /** `TOM_MODELS_MIRROR`: a base URL or a directory; empty: the catalogue's sources. */
  mirror?: string;
  onProgress?: (p: PullProgress) => void;
  /** One line per notable event (resume, restart from zero). */
  onNote?: (line: string) => void;
  /** Resume attempts within this run after a dropped connection (default 3). */
  retries?: number;
  /** Abort a transfer when no byte arrives for this long (default 60 s). */
  idleTimeoutMs?: number;
}

/** What a pull did per file. */
export interface PulledFile {
  file: string;
  path: string;
  /** False when it was already installed. */
  downloaded: boolean;
  bytes: number;
  seconds: number;
}

/** The models directory of an engines cache. */
export function modelsDir(enginesDir: string): string {
  return join(enginesDir, "models");
}

const MiB = 1024 * 1024;
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/** Hash a file (streamed). */
export async function hashFile(path: string, algorithm: Checksum["algorithm"]): Promise<string> {
  const h = createHash(algorithm);
  using f = await Deno.open(path, { read: true });
  for await (const chunk of f.readable) h.update(chunk);
  return h.digest("hex");
}

async function size(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return undefined;
  }
}

function isDiskFull(e: unknown): boolean {
  const m = e instanceof Error ? `${e.message} ${(e as { code?: string }).code ?? ""}` : String(e);
  return /ENOSPC|No space left|os error 28/i.test(m);
}

/** Free bytes where `dir` lives (statfs; `bavail`, as df's "Available"). */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

interface Opened {
  body: ReadableStream<Uint8Array>;
  /** Where the body starts (0 when the source cannot resume). */
  start: number;
}

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

async function openSource(
  model: string,
  f: ModelFile,
  offset: number,
  mirror: string,
  signal: AbortSignal,
  note: (l: string) => void,
): Promise<Opened> {
  if (mirror !== "" && !isUrl(mirror)) {
    const src = join(mirror, f.file);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(src, { read: true });
    } catch {
      throw new ModelPullError(
        `Modell ${model}: ${src} fehlt im Spiegelverzeichnis (not found in TOM_MODELS_MIRROR)`,
        model,
        "not-found",
      );
    }
    await file.seek(offset, Deno.SeekMode.Start);
    return { body: file.readable, start: offset };
  }
  const url = mirror !== "" ? `${mirror.replace(/\/+$/, "")}/${f.file}` : f.url;
  const res = await fetch(url, {
    headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
    signal,
  });
  if (res.status === 404) {
    await res.body?.cancel();
    throw new ModelPullError(
      `Modell ${model}: ${url} nicht gefunden (HTTP 404 not found)`,
      model,
      "not-found",
    );
  }
  if (res.status === 416 && offset > 0) {
    await res.body?.cancel();
    note(`${f.file}: Server meldet die Datei als vollständig (416), prüfe die Prüfsumme`);
    return { body: new ReadableStream({ start: (c) => c.close() }), start: offset };
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new ModelPullError(
      `Modell ${model}: ${url} antwortet HTTP ${res.status} ${res.statusText}`,
      model,
      "http",
    );
  }
  if (offset > 0 && res.status === 206) {
    const m = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
    if (m && Number(m[1]) === offset) return { body: res.body, start: offset };
  }
  if (offset > 0) {
    note(`${f.file}: Server setzt nicht fort (no range support), Download beginnt von vorn`);
  }
  return { body: res.body, start: 0 };
}

async function transfer(
  model: string,
  f: ModelFile,
  part: string,
  opts: PullOptions,
): Promise<void> {
  const note = opts.onNote ?? (() => {});
  const retries = opts.retries ?? 3;
  const idle = opts.idleTimeoutMs ?? 60_000;
  for (let attempt = 0;; attempt++) {
    const have = (await size(part)) ?? 0;
    if (have > 0) note(`${f.file}: setze bei ${mib(have)} fort (resume)`);
    const ctl = new AbortController();
    let timer = setTimeout(() => ctl.abort(), idle);
    const started = Date.now();
    let opened: Opened;
    try {
      opened = await openSource(model, f, have, opts.mirror ?? "", ctl.signal, note);
    } catch (e) {
      clearTimeout(timer);
      if (e instanceof ModelPullError) throw e;
      if (attempt < retries) continue;
      const where = opts.mirror || new URL(f.url).host;
      throw new ModelPullError(
        `Modell ${model}: Quelle ${where} nicht erreichbar (unreachable: ${
          e instanceof Error ? e.message : e
        })`,
        model,
        "interrupted",
      );
    }
    let done = opened.start;
    const out = opened.start === 0
      ? await Deno.open(part, { write: true, create: true, truncate: true })
      : await Deno.open(part, { append: true, create: true });
    try {
      for await (const chunk of opened.body) {
        clearTimeout(timer);
        timer = setTimeout(() => ctl.abort(), idle);
        try {
          await writeAll(out, chunk);
        } catch (e) {
          if (!isDiskFull(e)) throw e;
          out.close();
          await Deno.remove(part).catch(() => {});
          throw new ModelPullError(
            `Modell ${model}: Festplatte voll (disk full) beim Schreiben von ${part}; ` +
              "die Teildatei wurde gelöscht",
            model,
            "disk-full",
          );
        }
        done += chunk.byteLength;
        opts.onProgress?.({
          model,
          file: f.file,
          done,
          total: f.bytes,
          elapsedMs: Date.now() - started,
          resumedFrom: opened.start,
        });
      }
      return;
    } catch (e) {
      if (e instanceof ModelPullError) throw e;
      if (attempt < retries) continue;
      throw new ModelPullError(
        `Modell ${model}: Download unterbrochen bei ${mib(done)} (interrupted: ` +
          `${e instanceof Error ? e.message : e}); \`tom models pull ${model}\` setzt fort`,
        model,
        "interrupted",
      );
    } finally {
      clearTimeout(timer);
      try {
        out.close();
      } catch { /* closed above */ }
    }
  }
}

async function writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) off += await f.write(data.subarray(off));
}

/**
 * Install every file of one catalogue entry (already installed files are left as they are).
 *
 * @throws {ModelPullError} naming the model: no checksum in the catalogue, 404, not enough disk space or
 * disk full, an interruption after the retries (the `.part` file stays for the next run), or a checksum
 * mismatch (the file is deleted).
 */
export async function pullEntry(entry: ModelEntry, opts: PullOptions): Promise<PulledFile[]> {
  const dir = modelsDir(opts.enginesDir);
  await Deno.mkdir(dir, { recursive: true });
  const missing = entry.files.filter((f) => f.checksum === null);
  if (missing.length > 0) {
    throw new ModelPullError(
      `Modell ${entry.name}: keine Prüfsumme im Katalog für ${missing.map((f) => f.file).join(", ")} ` +
        `(no checksum: ${missing[0].checksumSource}); TOM lädt nichts, was es nicht prüfen kann`,
      entry.name,
      "no-checksum",
    );
  }
  const out: PulledFile[] = [];
  for (const f of entry.files) {
    const path = join(dir, f.file);
    if ((await size(path)) !== undefined) {
      out.push({ file: f.file, path, downloaded: false, bytes: 0, seconds: 0 });
      continue;
    }
    const part = `${path}.part`;
    const have = (await size(part)) ?? 0;
    const need = Math.max(0, f.bytes - have);
    const free = await freeBytes(dir);
    if (free < need) {
      throw new ModelPullError(
        `Modell ${entry.name}: nicht genug Speicherplatz (not enough disk space) in ${dir}: ` +
          `${mib(free)} frei, ${mib(need)} nötig`,
        entry.name,
        "disk-full",
      );
    }
    const started = performance.now();
    await transfer(entry.name, f, part, opts);
    const checksum = f.checksum as Checksum;
    const got = await hashFile(part, checksum.algorithm);
    if (got !== checksum.value) {
      await Deno.remove(part).catch(() => {});
      throw new ModelPullError(
        `Modell ${entry.name}: Prüfsumme falsch (checksum mismatch) für ${f.file}: erwartet ` +
          `${checksum.algorithm} ${checksum.value}, erhalten ${got}; die Datei wurde gelöscht`,
        entry.name,
        "checksum",
      );
    }
    await Deno.rename(part, path);
    const bytes = (await size(path)) ?? 0;
    out.push({ file: f.file, path, downloaded: true, bytes, seconds: (performance.now() - started) / 1000 });
  }
  if (entry.unpack === "tar.gz") {
    const target = runtimeDir(opts.enginesDir, entry.name);
    if (out.some((f) => f.downloaded) || (await size(target)) === undefined) {
      await unpackTarGz(out[0].path, target);
    }
  }
  return out;
}

/** Where a runtime entry (`unpack`) is unpacked: `<enginesDir>/runtimes/<name>`. */
export function runtimeDir(enginesDir: string, name: string): string {
  return join(enginesDir, "runtimes", name);
}

/** The state of one installed file. */
export interface VerifiedFile {
  file: string;
  path: string;
  state: "ok" | "missing" | "corrupt" | "unchecked";
  detail?: string;
}

/** Check the installed files of an entry against the catalogue's checksums. */
export async function verifyEntry(entry: ModelEntry, enginesDir: string): Promise<VerifiedFile[]> {
  const out: VerifiedFile[] = [];
  for (const f of entry.files) {
    const path = join(modelsDir(enginesDir), f.file);
    if ((await size(path)) === undefined) {
      out.push({ file: f.file, path, state: "missing" });
    } else if (f.checksum === null) {
      out.push({ file: f.file, path, state: "unchecked", detail: f.checksumSource });
    } else {
      const got = await hashFile(path, f.checksum.algorithm);
      out.push(
        got === f.checksum.value
          ? { file: f.file, path, state: "ok" }
          : { file: f.file, path, state: "corrupt", detail: `${f.checksum.algorithm} ${got}` },
      );
    }
  }
  return out;
}

/** Whether every file of the entry is present (not checked). */
export async function entryInstalled(entry: ModelEntry, enginesDir: string): Promise<boolean> {
  for (const f of entry.files) {
    if ((await size(join(modelsDir(enginesDir), f.file))) === undefined) return false;
  }
  return true;
}
