// Online backup of the database file (SQLite's backup API through node:sqlite), checks of a copy
// (integrity, foreign keys, schema version) and a probe for "another process has the database open".
import { fieldKeyIds } from "./crypto/sealed_fields.ts";
import { backup, DatabaseSync } from "node:sqlite";
import { type Migration, MIGRATIONS } from "./migrations.ts";

/** What {@linkcode backupDatabase} produced. */
export interface DatabaseBackup {
  /** The copy's path. */
  path: string;
  /** Size of the copy in bytes. */
  bytes: number;
  /** Pages copied. */
  pages: number;
  /** Highest applied migration in the copy (0 for an empty database). */
  schemaVersion: number;
}

/** The findings of {@linkcode checkDatabaseFile}; `problems` is empty when the file is usable. */
export interface DatabaseCheck {
  path: string;
  /** Every reason the file is unusable, one sentence each. */
  problems: string[];
  /** Highest applied migration; undefined when it could not be read. */
  schemaVersion?: number;
  /** Highest migration this build knows. */
  latestVersion: number;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function schemaVersionOf(db: DatabaseSync): number {
  const table = db.prepare(
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
  ).get();
  if (!table) return 0;
  const row = db.prepare("SELECT max(version) AS v FROM schema_migrations").get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Copies the live database at `source` to `target` (which must not exist) while other processes keep
 * writing. The copy is one consistent snapshot: SQLite's backup API copies every page in a single step
 * inside one read transaction, which in WAL mode does not block writers. (A copy in several steps would
 * start over each time another process commits, and under steady load never finish.) The copy is then
 * switched to a rollback journal, so it is one self-contained file (mode 0600) and written to disk.
 *
 * @throws {Error} when `source` does not exist, `target` exists, or SQLite fails.
 */
export async function backupDatabase(
  source: string,
  target: string,
  opts: { busyTimeoutMs?: number } = {},
): Promise<DatabaseBackup> {
  if (!exists(source)) throw new Error(`Cannot back up ${source}: no such database file`);
  if (exists(target)) throw new Error(`Cannot back up to ${target}: the file exists`);
  Deno.openSync(target, { createNew: true, write: true, mode: 0o600 }).close();
  // Read-write but not migrating: the database is copied as it is, whatever this build's schema.
  const db = new DatabaseSync(source, { timeout: opts.busyTimeoutMs ?? 5000 });
  try {
    await backup(db, target, { rate: -1 });
  } catch (e) {
    Deno.removeSync(target);
    throw new Error(`Cannot back up ${source}: ${reason(e)}`, { cause: e });
  } finally {
    db.close();
  }
  const copy = new DatabaseSync(target);
  let schemaVersion: number;
  let pages: number;
  try {
    copy.exec("PRAGMA journal_mode = DELETE");
    schemaVersion = schemaVersionOf(copy);
    pages = (copy.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
  } finally {
    copy.close();
  }
  const file = Deno.openSync(target, { read: true, write: true });
  try {
    file.syncSync();
  } finally {
    file.close();
  }
  if (Deno.build.os !== "windows") Deno.chmodSync(target, 0o600);
  return { path: target, bytes: Deno.statSync(target).size, pages, schemaVersion };
}

/**
 * Checks a database file without changing it: `PRAGMA integrity_check`, `PRAGMA foreign_key_check`,
 * and that its applied migrations are the ones this build knows (not newer, same names).
 */
export function checkDatabaseFile(
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
): DatabaseCheck {
  const result: DatabaseCheck = { path, problems: [], latestVersion: migrations.length };
  if (!exists(path)) {
    result.problems.push(`${path} does not exist`);
    return result;
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (e) {
    result.problems.push(`${path} cannot be opened: ${reason(e)}`);
    return result;
  }
  try {
    const integrity = db.prepare("PRAGMA integrity_check").all().map((r) => String(r.integrity_check));
    if (integrity.length !== 1 || integrity[0] !== "ok") {
      result.problems.push(
        `integrity_check failed: ${integrity.slice(0, 5).join("; ")}${integrity.length > 5 ? "; ..." : ""}`,
      );
      return result;
    }
    const broken = db.prepare("PRAGMA foreign_key_check").all();
    if (broken.length > 0) result.problems.push(`foreign_key_check found ${broken.length} orphaned rows`);
    result.schemaVersion = schemaVersionOf(db);
    if (result.schemaVersion > 0) {
      const applied = db.prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .all() as { version: number; name: string }[];
      for (const row of applied) {
        const known = migrations[row.version - 1];
        if (!known) {
          result.problems.push(
            `schema version ${row.version} is newer than this build (${migrations.length}): use a newer tom`,
          );
          break;
        }
        if (known.name !== row.name) {
          result.problems.push(
            `migration ${row.version} was applied as "${row.name}" but this build calls it "${known.name}"`,
          );
        }
      }
    }
  } catch (e) {
    // A damaged file often fails before integrity_check can say more ("file is not a database").
    result.problems.push(`${path} is not a readable SQLite database: ${reason(e)}`);
  } finally {
    db.close();
  }
  return result;
}

/**
 * The key ids the transcript and request rows of a database file use (none when the file predates the transcripts
 * table); opened read-only, for checking that a backup's key files can decrypt it.
 */
export function transcriptKeyIdsOfFile(path: string): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'transcripts'")
      .get();
    if (!table) return [];
    const hasRequests = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'requests'")
      .get();
    const sql = hasRequests
      ? "SELECT key_id FROM transcripts UNION SELECT key_id FROM requests"
      : "SELECT DISTINCT key_id FROM transcripts";
    const ids = (db.prepare(sql).all() as { key_id: string }[]).map((r) => r.key_id);
    return [...new Set([...ids, ...fieldKeyIds(db)])];
  } finally {
    db.close();
  }
}

/**
 * Whether another connection (another process, such as a running `tom serve` or `tom migrate`) has the
 * database open. Probes with an exclusive lock that is released at once; a missing file is not in use.
 */
export function databaseInUse(path: string): boolean {
  if (!exists(path)) return false;
  const db = new DatabaseSync(path, { timeout: 0 });
  try {
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("ROLLBACK");
    return false;
  } catch (e) {
    if (/locked|busy/i.test(reason(e))) return true;
    throw e;
  } finally {
    db.close();
  }
}
