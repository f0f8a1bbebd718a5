// Versioned schema migrations: applied at start (openStore) and by `tom migrate`.
import type { DatabaseSync } from "node:sqlite";
import { SQL_V1 } from "./schema_v1.ts";
import { SQL_V2 } from "./schema_v2.ts";
import { SQL_V3 } from "./schema_v3.ts";
import { SQL_V4 } from "./schema_v4.ts";
import { SQL_V5 } from "./schema_v5.ts";
import { SQL_V6 } from "./schema_v6.ts";
import { SQL_V7 } from "./schema_v7.ts";
import { SQL_V8 } from "./schema_v8.ts";

/** One schema step. Versions are 1, 2, 3, ... in order; a released migration is never edited. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /**
   * Run with foreign keys off (SQLite's way to rebuild a table: new table, copy, drop, rename; dropping
   * the old table must not cascade). PRAGMA foreign_keys cannot change inside a transaction, so it is
   * switched around the step's transaction; `foreign_key_check` still runs before the commit.
   */
  readonly foreignKeysOff?: boolean;
}

/** Every migration this build knows, oldest first. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: "initial", sql: SQL_V1 },
  { version: 2, name: "learning", sql: SQL_V2 },
  { version: 3, name: "admin_ui", sql: SQL_V3 },
  { version: 4, name: "practice", sql: SQL_V4 },
  { version: 5, name: "requests", sql: SQL_V5 },
  { version: 6, name: "admin_levels", sql: SQL_V6 },
  { version: 7, name: "caller_identity", sql: SQL_V7 },
  { version: 8, name: "people_sealed", sql: SQL_V8, foreignKeysOff: true },
]);

const CREATES_TABLE = /\bCREATE\s+(?:VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?["`]?(\w+)/gi;

/** The tables a migration creates, in the order of its SQL (for `tom migrate --status`). */
export function migrationTables(migration: Migration): string[] {
  const code = migration.sql.replace(/--[^\n]*/g, "");
  return [...code.matchAll(CREATES_TABLE)].map((m) => m[1]);
}

/** Where a database stands against the migrations of this build. */
export interface MigrationStatus {
  /** Highest applied version; 0 for an empty database. */
  current: number;
  /** Highest version this build knows. */
  latest: number;
  applied: { version: number; name: string; appliedAt: number }[];
  pending: { version: number; name: string }[];
}

/** Options of {@linkcode migrate}. */
export interface MigrateOptions {
  migrations?: readonly Migration[];
  clock?: () => number;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`;

interface AppliedRow {
  version: number;
  name: string;
  applied_at: number;
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`Cannot use migrations: expected version ${i + 1} at position ${i}, got ${m.version}`);
    }
  });
}

function readApplied(db: DatabaseSync): AppliedRow[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!exists) return [];
  return db.prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
    .all() as unknown as AppliedRow[];
}

function checkApplied(applied: AppliedRow[], migrations: readonly Migration[]): void {
  for (const row of applied) {
    const known = migrations[row.version - 1];
    if (!known) {
      throw new Error(
        `Cannot migrate: the database has schema version ${row.version}, newer than this build (${migrations.length})`,
      );
    }
    if (known.name !== row.name) {
      throw new Error(
        `Cannot migrate: version ${row.version} was applied as "${row.name}" but this build calls it "${known.name}"`,
      );
    }
  }
}

/**
 * Applies every pending migration, each inside its own BEGIN IMMEDIATE..COMMIT (so a failure leaves the
 * database at the previous version, and two processes migrating at once apply each step exactly once).
 * Returns the versions applied by this call: running it twice applies nothing the second time.
 */
export function migrate(db: DatabaseSync, opts: MigrateOptions = {}): number[] {
  const migrations = opts.migrations ?? MIGRATIONS;
  const clock = opts.clock ?? Date.now;
  checkOrder(migrations);
  const applied = readApplied(db);
  checkApplied(applied, migrations);
  const done = new Set(applied.map((r) => r.version));
  const appliedNow: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    const fkOn = (db.prepare("PRAGMA foreign_keys").get() as { foreign_keys: number }).foreign_keys === 1;
    if (m.foreignKeysOff && fkOn) db.exec("PRAGMA foreign_keys = OFF");
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(CREATE_TABLE);
      // Re-check under the write lock: another process may have applied it since we looked.
      if (db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?").get(m.version)) {
        db.exec("ROLLBACK");
        continue;
      }
      db.exec(m.sql);
      const broken = db.prepare("PRAGMA foreign_key_check").all();
      if (broken.length > 0) throw new Error(`${broken.length} rows violate foreign keys afterwards`);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
        .run(m.version, m.name, clock());
      db.exec("COMMIT");
      appliedNow.push(m.version);
    } catch (err) {
      if (db.isTransaction) db.exec("ROLLBACK");
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`Cannot apply migration ${m.version} (${m.name}): ${reason}`, { cause: err });
    } finally {
      if (m.foreignKeysOff && fkOn) db.exec("PRAGMA foreign_keys = ON");
    }
  }
  return appliedNow;
}

/** Reports the current and pending versions without changing anything (for `tom migrate` and doctor). */
export function migrationStatus(
  db: DatabaseSync,
  migrations: readonly Migration[] = MIGRATIONS,
): MigrationStatus {
  const applied = readApplied(db);
  const done = new Set(applied.map((r) => r.version));
  return {
    current: applied.reduce((max, r) => Math.max(max, r.version), 0),
    latest: migrations.length,
    applied: applied.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at })),
    pending: migrations.filter((m) => !done.has(m.version)).map((m) => ({
      version: m.version,
      name: m.name,
    })),
  };
}
