/**
 * `tom migrate`: apply pending migrations (or show them with `--status`: every migration, applied or
 * pending, with the tables it creates).
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "../../infra/mod.ts";
import { MIGRATIONS, migrationStatus, migrationTables, openStore } from "../../store/mod.ts";

/** The database file of a configuration. */
export function databasePath(config: Config): string {
  return join(config.dataDir, "tom.db");
}

/** The transcript key file of a configuration (it seals every personal column too). */
export function transcriptKeyPath(config: Config): string {
  return config.ui.transcriptKeyFile || join(config.dataDir, "secrets", "transcripts.key");
}

/** Run `tom migrate`; returns the exit code. */
export function migrateMain(config: Config, opts: { statusOnly: boolean }): Promise<number> {
  const path = databasePath(config);
  const store = openStore(path, { migrate: !opts.statusOnly });
  try {
    const status = migrationStatus(store.db);
    if (opts.statusOnly) {
      console.log(`Database ${path}: version ${status.current} of ${status.latest}`);
      const done = new Set(status.applied.map((a) => a.version));
      for (const m of MIGRATIONS) {
        const state = done.has(m.version) ? "applied" : "pending";
        console.log(
          `  ${state}: ${m.version} ${m.name} (tables: ${migrationTables(m).join(", ") || "none"})`,
        );
      }
      return Promise.resolve(status.pending.length === 0 ? 0 : 1);
    }
    const applied = store.appliedMigrations;
    console.log(
      applied.length === 0
        ? `Database ${path} is up to date (version ${status.current})`
        : `Applied ${applied.length} migration(s) to ${path}: ${
          applied.map((v) => `${v} ${MIGRATIONS[v - 1].name}`).join(", ")
        }; now at version ${status.current}`,
    );
    return Promise.resolve(0);
  } finally {
    store.close();
  }
}
