import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS, migrationTables } from "../../../store/mod.ts";
import { runTom } from "../../_helpers.ts";

Deno.test("tom migrate applies every migration once; a second run applies nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const status0 = await runTom(["migrate", "--status"], { TOM_DATA_DIR: dir });
    assert.equal(status0.code, 1, "pending migrations make --status exit 1");
    assert.match(status0.stdout, /version 0 of \d+/);
    const first = await runTom(["migrate"], { TOM_DATA_DIR: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Applied \d+ migration\(s\)/);
    const second = await runTom(["migrate"], { TOM_DATA_DIR: dir });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /is up to date/);
    const status = await runTom(["migrate", "--status"], { TOM_DATA_DIR: dir });
    assert.equal(status.code, 0);
    const db = new DatabaseSync(`${dir}/tom.db`);
    try {
      const rows = db.prepare("SELECT count(*) AS n, count(DISTINCT version) AS d FROM schema_migrations")
        .get() as {
          n: number;
          d: number;
        };
      assert.equal(rows.n, rows.d, "each version recorded once");
      assert.equal((db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode, "wal");
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tom migrate --status lists every migration, applied or pending, with the tables it creates", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const before = await runTom(["migrate", "--status"], { TOM_DATA_DIR: dir });
    for (const m of MIGRATIONS) {
      assert.ok(
        before.stdout.includes(
          `pending: ${m.version} ${m.name} (tables: ${migrationTables(m).join(", ") || "none"})`,
        ),
        before.stdout,
      );
    }
    assert.ok(before.stdout.includes("ui_settings"), "the admin UI's tables are a migration's");
    assert.equal((await runTom(["migrate"], { TOM_DATA_DIR: dir })).code, 0);
    const after = await runTom(["migrate", "--status"], { TOM_DATA_DIR: dir });
    for (const m of MIGRATIONS) {
      assert.ok(after.stdout.includes(`applied: ${m.version} ${m.name} (tables:`), after.stdout);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
