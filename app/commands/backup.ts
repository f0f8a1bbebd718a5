/**
 * `tom backup` and `tom restore`: everything needed to bring a box back, in one folder.
 *
 * A backup folder holds `tom.db` (an online snapshot: the appliance keeps running and writing),
 * `secrets/` (a copy of `<dataDir>/secrets`: the transcript keys, without which the encrypted transcripts
 * are unreadable, the call-token key and the log salt), `transcript-key/` when `TOM_UI_TRANSCRIPT_KEY_FILE`
 * points outside that folder, and `manifest.json` (versions, time, SHA-256 of every file). The folder is
 * 0700, every file 0600. `tom restore DIR` refuses while TOM is running and refuses a copy that fails its
 * checks; it keeps the replaced files beside the new ones (`*.before-restore-<time>`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { basename, dirname, isAbsolute, join, normalize, resolve } from "node:path";
import { z } from "zod";
import type { Config } from "../../infra/mod.ts";
import { VERSION } from "../../infra/mod.ts";
import { databasePath } from "./migrate.ts";
import { keyIdOf } from "../../store/mod.ts";
import {
  backupDatabase,
  checkDatabaseFile,
  databaseInUse,
  openStore,
  transcriptKeyIdsOfFile,
} from "../../store/mod.ts";
import { reapplyErasureLog } from "../../ui/mod.ts";

const FORMAT = "tom-backup";
const DB_FILE = "tom.db";
const EXTERNAL_KEY_DIR = "transcript-key";

const ManifestSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.literal(1),
  tomVersion: z.string(),
  schemaVersion: z.number().int().min(0),
  createdAt: z.string(),
  /** Where the transcript key lies inside the backup. */
  transcriptKey: z.string(),
  files: z.array(z.object({ path: z.string(), bytes: z.number().int().min(0), sha256: z.string() })),
});

/** The `manifest.json` of a backup folder. */
export type BackupManifest = z.infer<typeof ManifestSchema>;

/** The result of {@linkcode verifyBackup}: `problems` is empty when the folder can be restored. */
export interface BackupVerification {
  dir: string;
  manifest?: BackupManifest;
  problems: string[];
}

function sha256File(path: string): string {
  const hash = createHash("sha256");
  const file = Deno.openSync(path, { read: true });
  try {
    const buf = new Uint8Array(1 << 16);
    for (let n = file.readSync(buf); n !== null; n = file.readSync(buf)) hash.update(buf.subarray(0, n));
  } finally {
    file.close();
  }
  return hash.digest("hex");
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Copies the regular files under `from` to `to` (0700 folders, 0600 files); returns relative paths. */
function copyTree(from: string, to: string, rel = ""): string[] {
  Deno.mkdirSync(to, { recursive: true, mode: 0o700 });
  Deno.chmodSync(to, 0o700);
  const out: string[] = [];
  for (const e of [...Deno.readDirSync(from)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.endsWith(".tmp")) continue; // a half-written secret of a concurrent writer
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory) out.push(...copyTree(src, dst, join(rel, e.name)));
    else if (e.isFile) {
      Deno.copyFileSync(src, dst);
      Deno.chmodSync(dst, 0o600);
      out.push(join(rel, e.name));
    }
  }
  return out;
}

/**
 * Copies the files the manifest lists under `prefix` (and only those: they are the verified ones) to
 * `to`, with 0700 folders and 0600 files; returns how many.
 */
function copyListed(dir: string, manifest: BackupManifest, prefix: string, to: string): number {
  const files = manifest.files.filter((f) => f.path.startsWith(`${prefix}/`));
  for (const f of files) {
    const target = join(to, f.path.slice(prefix.length + 1));
    for (let d = dirname(target);; d = dirname(d)) {
      Deno.mkdirSync(d, { recursive: true, mode: 0o700 });
      Deno.chmodSync(d, 0o700);
      if (d === to || d === dirname(d)) break;
    }
    Deno.copyFileSync(join(dir, f.path), target);
    Deno.chmodSync(target, 0o600);
  }
  return files.length;
}

/** The configured transcript key file, and whether it lies outside `<dataDir>/secrets`. */
function transcriptKeyFile(config: Config): { file: string; external: boolean } {
  const secrets = resolve(config.dataDir, "secrets");
  const file = config.ui.transcriptKeyFile
    ? resolve(config.ui.transcriptKeyFile)
    : join(secrets, "transcripts.key");
  return { file, external: dirname(file) !== secrets };
}

function keyIds(dir: string, keyRel: string): Set<string> {
  const ids = new Set<string>();
  const parse = (path: string) => {
    // Decoded as the keyring decodes it; a file that is not 32 bytes of base64 supplies no key.
    const raw = new Uint8Array(Buffer.from(Deno.readTextFileSync(path).trim(), "base64"));
    if (raw.byteLength === 32) ids.add(keyIdOf(raw));
  };
  const key = join(dir, keyRel);
  if (exists(key)) parse(key);
  const retired = `${key}.retired`;
  if (exists(retired)) {
    for (const e of Deno.readDirSync(retired)) if (e.name.endsWith(".key")) parse(join(retired, e.name));
  }
  return ids;
}

/** Transcript key ids the database uses that the backup's key files cannot supply. */
function missingTranscriptKeys(dir: string, keyRel: string): string[] {
  const have = keyIds(dir, keyRel);
  return transcriptKeyIdsOfFile(join(dir, DB_FILE)).filter((id) => !have.has(id));
}

/**
 * Writes a backup of the running (or stopped) appliance into `out`, which must not exist or be empty.
 * The folder is built beside it under a temporary name and renamed when complete, so a folder named
 * `out` is always a whole backup.
 *
 * @throws {Error} naming the file when something cannot be read or written.
 */
export async function createBackup(config: Config, out: string, now = new Date()): Promise<BackupManifest> {
  const target = resolve(out);
  if (exists(target) && [...Deno.readDirSync(target)].length > 0) {
    throw new Error(`Cannot back up to ${target}: the folder exists and is not empty`);
  }
  const parent = dirname(target);
  const write = Deno.permissions.querySync({ name: "write", path: parent }).state;
  if (write !== "granted") {
    throw new Error(
      `Cannot back up to ${target}: this tom may write only to the data directory ${config.dataDir} and ` +
        `the temporary directory (egress sandbox). Back up to a folder under ${config.dataDir} and copy it away`,
    );
  }
  Deno.mkdirSync(parent, { recursive: true });
  const work = `${target}.partial-${Deno.pid}`;
  Deno.mkdirSync(work, { mode: 0o700 });
  Deno.chmodSync(work, 0o700);
  try {
    const key = transcriptKeyFile(config);
    const files: string[] = [];
    const secrets = join(config.dataDir, "secrets");
    if (exists(secrets)) {
      files.push(...copyTree(secrets, join(work, "secrets")).map((p) => join("secrets", p)));
    }
    let keyRel = join("secrets", basename(key.file));
    if (key.external) {
      keyRel = join(EXTERNAL_KEY_DIR, basename(key.file));
      const dir = join(work, EXTERNAL_KEY_DIR);
      Deno.mkdirSync(dir, { mode: 0o700 });
      if (exists(key.file)) {
        Deno.copyFileSync(key.file, join(work, keyRel));
        Deno.chmodSync(join(work, keyRel), 0o600);
        files.push(keyRel);
      }
      if (exists(`${key.file}.retired`)) {
        files.push(
          ...copyTree(`${key.file}.retired`, join(work, `${keyRel}.retired`)).map((p) =>
            join(`${keyRel}.retired`, p)
          ),
        );
      }
    }
    const db = await backupDatabase(databasePath(config), join(work, DB_FILE));
    files.unshift(DB_FILE);
    const missing = missingTranscriptKeys(work, keyRel);
    if (missing.length > 0) {
      throw new Error(
        `Cannot back up: transcripts use key ${missing.join(", ")}, which is not in ${keyRel} ` +
          "(was a key rotated during the backup? run tom backup again)",
      );
    }
    const manifest: BackupManifest = {
      format: FORMAT,
      formatVersion: 1,
      tomVersion: VERSION,
      schemaVersion: db.schemaVersion,
      createdAt: now.toISOString(),
      transcriptKey: keyRel,
      files: files.map((path) => ({
        path,
        bytes: Deno.statSync(join(work, path)).size,
        sha256: sha256File(join(work, path)),
      })),
    };
    Deno.writeTextFileSync(join(work, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n", {
      mode: 0o600,
    });
    if (exists(target)) Deno.removeSync(target);
    Deno.renameSync(work, target);
    return manifest;
  } catch (e) {
    Deno.removeSync(work, { recursive: true });
    throw e;
  }
}

function safeRelative(path: string): boolean {
  return !isAbsolute(path) && !normalize(path).startsWith("..");
}

/**
 * Checks a backup folder without changing it: the manifest, the size and SHA-256 of every file,
 * `PRAGMA integrity_check` and `foreign_key_check` of the database, its schema version against this
 * build's migrations, and that every transcript key the database uses is in the backup.
 */
export function verifyBackup(dir: string): BackupVerification {
  const result: BackupVerification = { dir: resolve(dir), problems: [] };
  const p = result.problems;
  let raw: unknown;
  try {
    raw = JSON.parse(Deno.readTextFileSync(join(dir, "manifest.json")));
  } catch (e) {
    p.push(`manifest.json cannot be read: ${message(e)}`);
    return result;
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    p.push(`manifest.json is not a tom backup manifest: ${parsed.error.issues[0]?.message}`);
    return result;
  }
  const manifest = result.manifest = parsed.data;
  if (!manifest.files.some((f) => f.path === DB_FILE)) p.push(`manifest.json lists no ${DB_FILE}`);
  for (const f of manifest.files) {
    if (!safeRelative(f.path)) {
      p.push(`manifest.json names a path outside the backup: ${f.path}`);
      continue;
    }
    const path = join(dir, f.path);
    if (!exists(path)) {
      p.push(`${f.path} is missing`);
      continue;
    }
    const size = Deno.statSync(path).size;
    if (size !== f.bytes) p.push(`${f.path} has ${size} bytes, the manifest says ${f.bytes}`);
    else if (sha256File(path) !== f.sha256) p.push(`${f.path} does not match its SHA-256 in manifest.json`);
  }
  const db = checkDatabaseFile(join(dir, DB_FILE));
  p.push(...db.problems.map((m) => `${DB_FILE}: ${m}`));
  if (db.problems.length === 0) {
    if (db.schemaVersion !== manifest.schemaVersion) {
      p.push(
        `${DB_FILE} has schema version ${db.schemaVersion}, the manifest says ${manifest.schemaVersion}`,
      );
    }
    const missing = safeRelative(manifest.transcriptKey)
      ? missingTranscriptKeys(dir, manifest.transcriptKey)
      : [`(manifest.json names a key outside the backup: ${manifest.transcriptKey})`];
    if (missing.length > 0) {
      p.push(`transcripts use key ${missing.join(", ")}, which the backup does not contain`);
    }
  }
  return result;
}

/**
 * Why the appliance counts as running, or undefined when it is stopped: its `/healthz` answers at the
 * configured address, or another process (`tom serve` on another address, `tom migrate`) has the
 * database open.
 */
export async function applianceRunning(config: Config, timeoutMs = 2000): Promise<string | undefined> {
  const host = config.http.host === "0.0.0.0"
    ? "127.0.0.1"
    : config.http.host === "::"
    ? "[::1]"
    : config.http.host.includes(":") && !config.http.host.startsWith("[")
    ? `[${config.http.host}]`
    : config.http.host;
  const url = `http://${host}:${config.http.port}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.json().catch(() => undefined) as
      | { status?: unknown; version?: unknown }
      | undefined;
    if (body?.status === "ok" && typeof body.version === "string") {
      return `TOM ${body.version} answers at ${url}`;
    }
  } catch {
    // Nothing (or nothing TOM-like) listens there.
  }
  const db = databasePath(config);
  if (databaseInUse(db)) return `another process has ${db} open (tom serve or tom migrate)`;
  return undefined;
}

function stampOf(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

function syncPath(path: string): void {
  try {
    const f = Deno.openSync(path, { read: true });
    try {
      f.syncSync();
    } finally {
      f.close();
    }
  } catch {
    // Some file systems cannot sync a folder; the renames are still atomic.
  }
}

/** What {@linkcode restoreBackup} did. */
export interface RestoreResult {
  manifest: BackupManifest;
  /** The files now in place. */
  restored: string[];
  /** The replaced files, kept under new names. */
  kept: string[];
  /** People erased after the backup was taken, erased again from the erasure log. */
  erasuresReapplied: number;
}

/**
 * Puts a verified backup in place of the data directory's database and secrets. Refuses while the
 * appliance runs and when the backup fails {@linkcode verifyBackup}. The new files are written under
 * temporary names and renamed into place; the old ones are kept as `*.before-restore-<time>`.
 *
 * @throws {Error} starting with "Cannot restore" when it refuses.
 */
export async function restoreBackup(config: Config, dir: string, now = new Date()): Promise<RestoreResult> {
  const running = await applianceRunning(config);
  if (running) throw new Error(`Cannot restore while TOM is running: ${running}. Stop it first`);
  const check = verifyBackup(dir);
  if (check.problems.length > 0 || !check.manifest) {
    throw new Error(
      `Cannot restore: the backup in ${check.dir} failed verification:\n  - ${check.problems.join("\n  - ")}`,
    );
  }
  const manifest = check.manifest;
  const stamp = stampOf(now);
  const dbPath = databasePath(config);
  const secrets = join(config.dataDir, "secrets");
  Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const tmpDb = `${dbPath}.restore-${Deno.pid}.tmp`;
  const tmpSecrets = `${secrets}.restore-${Deno.pid}.tmp`;
  const restored: string[] = [];
  const kept: string[] = [];
  try {
    Deno.copyFileSync(join(dir, DB_FILE), tmpDb);
    Deno.chmodSync(tmpDb, 0o600);
    syncPath(tmpDb);
    const want = manifest.files.find((f) => f.path === DB_FILE)?.sha256;
    if (sha256File(tmpDb) !== want) throw new Error(`Cannot restore: the copy of ${DB_FILE} differs from it`);
    copyListed(dir, manifest, "secrets", tmpSecrets);
  } catch (e) {
    if (exists(tmpDb)) Deno.removeSync(tmpDb);
    if (exists(tmpSecrets)) Deno.removeSync(tmpSecrets, { recursive: true });
    throw e;
  }
  // Swap: from here on every step is a rename (or a hard link) inside the data directory.
  if (exists(dbPath)) {
    const old = `${dbPath}.before-restore-${stamp}`;
    try {
      Deno.linkSync(dbPath, old);
    } catch {
      Deno.copyFileSync(dbPath, old);
    }
    kept.push(old);
    // A WAL left by a crash belongs to the old database: it goes with it, never onto the restored one.
    if (exists(`${dbPath}-wal`)) {
      Deno.renameSync(`${dbPath}-wal`, `${old}-wal`);
      kept.push(`${old}-wal`);
    }
    if (exists(`${dbPath}-shm`)) Deno.removeSync(`${dbPath}-shm`);
  }
  if (exists(tmpSecrets)) {
    if (exists(secrets)) {
      Deno.renameSync(secrets, `${secrets}.before-restore-${stamp}`);
      kept.push(`${secrets}.before-restore-${stamp}`);
    }
    Deno.renameSync(tmpSecrets, secrets);
    restored.push(secrets);
  }
  Deno.renameSync(tmpDb, dbPath);
  restored.unshift(dbPath);
  // The configured transcript key file, when the secrets folder did not already bring it back.
  const key = transcriptKeyFile(config);
  if (manifest.transcriptKey !== join("secrets", basename(key.file)) || key.external) {
    const from = join(dir, manifest.transcriptKey);
    if (exists(from)) {
      Deno.mkdirSync(dirname(key.file), { recursive: true, mode: 0o700 });
      for (const path of [key.file, `${key.file}.retired`]) {
        if (!exists(path)) continue;
        Deno.renameSync(path, `${path}.before-restore-${stamp}`);
        kept.push(`${path}.before-restore-${stamp}`);
      }
      Deno.copyFileSync(from, key.file);
      Deno.chmodSync(key.file, 0o600);
      restored.push(key.file);
      if (copyListed(dir, manifest, `${manifest.transcriptKey}.retired`, `${key.file}.retired`) > 0) {
        restored.push(`${key.file}.retired`);
      }
    }
  }
  syncPath(config.dataDir);
  // The backup may predate erasures: apply the erasure log (beside the database, untouched by a restore).
  const store = openStore(dbPath, { migrate: false, keyFile: transcriptKeyFile(config).file });
  let erasuresReapplied: number;
  try {
    erasuresReapplied = reapplyErasureLog(store, config.dataDir);
  } finally {
    store.close();
  }
  return { manifest, restored, kept, erasuresReapplied };
}

/** Arguments of {@linkcode backupMain}, as typed on the command line. */
export interface BackupArgs {
  /** Write a backup into this folder. */
  output?: string;
  /** Check the backup in this folder. */
  verify?: string;
}

/** Run `tom backup --output DIR` or `tom backup --verify DIR`; returns the exit code. */
export async function backupMain(config: Config, args: BackupArgs): Promise<number> {
  if (
    (args.output === undefined) === (args.verify === undefined) || args.output === "" || args.verify === ""
  ) {
    console.error("tom backup: give exactly one of --output DIR or --verify DIR");
    return 2;
  }
  if (args.verify !== undefined) {
    const v = verifyBackup(args.verify);
    if (v.problems.length > 0 || !v.manifest) {
      console.error(
        `tom backup: the backup in ${v.dir} failed verification:\n  - ${v.problems.join("\n  - ")}`,
      );
      return 1;
    }
    const m = v.manifest;
    console.log(
      `Backup ${v.dir} is good: taken ${m.createdAt} by tom ${m.tomVersion}, schema version ` +
        `${m.schemaVersion}, ${m.files.length} files match manifest.json, integrity_check ok`,
    );
    return 0;
  }
  try {
    const output = args.output ?? "";
    const m = await createBackup(config, output);
    const db = m.files.find((f) => f.path === DB_FILE);
    console.log(
      `Backup written to ${resolve(output)}: ${DB_FILE} (${db?.bytes} bytes, schema version ` +
        `${m.schemaVersion}) and ${m.files.length - 1} key files. It contains the keys: keep it as safe as ` +
        "the box itself.",
    );
    return 0;
  } catch (e) {
    console.error(`tom backup: ${message(e)}`);
    return 1;
  }
}

/** Run `tom restore DIR`; returns the exit code. */
export async function restoreMain(config: Config, positionals: string[]): Promise<number> {
  if (positionals.length !== 1 || positionals[0] === "") {
    console.error("tom restore: expected one backup folder\n\nUsage: tom restore DIR");
    return 2;
  }
  try {
    const r = await restoreBackup(config, positionals[0]);
    console.log(
      `Restored the backup of ${r.manifest.createdAt} (schema version ${r.manifest.schemaVersion}):\n` +
        r.restored.map((p) => `  ${p}\n`).join("") +
        (r.kept.length > 0 ? `Replaced files were kept:\n${r.kept.map((p) => `  ${p}\n`).join("")}` : "") +
        (r.erasuresReapplied > 0
          ? `Erased again from the erasure log: ${r.erasuresReapplied} person(s) erased after the backup.\n`
          : "") +
        "Start TOM; it applies pending migrations at start.",
    );
    return 0;
  } catch (e) {
    console.error(`tom restore: ${message(e)}`);
    return 1;
  }
}
