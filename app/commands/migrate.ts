/**
 * `tom migrate`: apply pending migrations (or show them with `--status`).
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "../../infra/mod.ts";
import { MIGRATIONS, migrationStatus, openStore } from "../../store/mod.ts";

/** The database file of a configuration. */
export function databasePath(config: Config): string {
  return join(config.dataDir, "tom.db");
}

/** Run `tom migrate`; returns the exit code. */
export function migrateMain(config: Config, opts: { statusOnly: boolean }): Promise<number> {
  const path = databasePath(config);
  const store = openStore(path, { migrate: !opts.statusOnly });
  try {
    const status = migrationStatus(store.db);
    if (opts.statusOnly) {
      console.log(`Database ${path}: version ${status.current} of ${status.latest}`);
      for (const p of status.pending) console.log(`  pending: ${p.version} ${p.name}`);
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
