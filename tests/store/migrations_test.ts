import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { migrate, type Migration, MIGRATIONS, migrationStatus, openStore } from "../../store/mod.ts";

function schemaOf(db: DatabaseSync): unknown[] {
  // sqlite_stat* tables are statistics written by PRAGMA optimize, not schema.
  const sql =
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name";
  return db.prepare(sql).all();
}

Deno.test("migrate applies every migration once and nothing on the second run", () => {
  const db = new DatabaseSync(":memory:");
  assert.deepEqual(migrate(db), MIGRATIONS.map((m) => m.version));
  const schema = schemaOf(db);
  const salt = db.prepare("SELECT value FROM store_meta WHERE key = 'phone_hash_salt'").get();
  assert.deepEqual(migrate(db), []);
  assert.deepEqual(schemaOf(db), schema);
  assert.deepEqual(db.prepare("SELECT value FROM store_meta WHERE key = 'phone_hash_salt'").get(), salt);
  assert.equal((db.prepare("SELECT count(*) AS n FROM schema_migrations").get() as { n: number }).n, 1);
  db.close();
});

Deno.test("reopening a store file applies no migration and keeps the schema identical", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_store_" });
  try {
    const path = `${dir}/tom.db`;
    const first = openStore(path);
    assert.deepEqual(first.appliedMigrations, [1]);
    const schema = schemaOf(first.db);
    first.close();
    const second = openStore(path);
    assert.deepEqual(second.appliedMigrations, []);
    assert.deepEqual(schemaOf(second.db), schema);
    second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrationStatus reports current and pending versions without changing anything", () => {
  const db = new DatabaseSync(":memory:");
  const before = migrationStatus(db);
  assert.equal(before.current, 0);
  assert.equal(before.latest, MIGRATIONS.length);
  assert.deepEqual(before.pending, [{ version: 1, name: "initial" }]);
  assert.deepEqual(schemaOf(db), []);
  migrate(db, { clock: () => 42 });
  const after = migrationStatus(db);
  assert.equal(after.current, 1);
  assert.deepEqual(after.pending, []);
  assert.deepEqual(after.applied, [{ version: 1, name: "initial", appliedAt: 42 }]);
  db.close();
});

Deno.test("a failing migration is rolled back whole and leaves the previous version", () => {
  const db = new DatabaseSync(":memory:");
  const broken: Migration[] = [
    ...MIGRATIONS,
    {
      version: 2,
      name: "broken",
      sql: "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);",
    },
  ];
  assert.throws(
    () => migrate(db, { migrations: broken }),
    /Cannot apply migration 2 \(broken\): no such table/,
  );
  assert.equal(migrationStatus(db).current, 1);
  assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").get(), undefined);
  assert.equal(db.isTransaction, false);
  db.close();
});

Deno.test("a database migrated by a newer build is refused", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db, {
    migrations: [...MIGRATIONS, { version: 2, name: "future", sql: "CREATE TABLE future (x INT)" }],
  });
  assert.throws(() => migrate(db), /schema version 2, newer than this build \(1\)/);
  db.close();
});

Deno.test("a renamed migration is refused", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db);
  const renamed = MIGRATIONS.map((m) => ({ ...m, name: "renamed" }));
  assert.throws(
    () => migrate(db, { migrations: renamed }),
    /applied as "initial" but this build calls it "renamed"/,
  );
  db.close();
});

Deno.test("migrations out of order are refused", () => {
  const db = new DatabaseSync(":memory:");
  assert.throws(
    () => migrate(db, { migrations: [{ version: 2, name: "x", sql: "" }] }),
    /expected version 1/,
  );
  db.close();
});

Deno.test("four processes opening a new store file at once apply each migration exactly once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_store_" });
  try {
    const path = `${dir}/tom.db`;
    const fixture = new URL("./fixtures/open_and_report.ts", import.meta.url).pathname;
    const runs = Array.from({ length: 4 }, () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--allow-read", "--allow-write", "--allow-env", fixture, path],
        stdout: "piped",
        stderr: "piped",
      }).output());
    const outputs = await Promise.all(runs);
    const applied: number[] = [];
    for (const out of outputs) {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      applied.push(...JSON.parse(new TextDecoder().decode(out.stdout)) as number[]);
    }
    assert.deepEqual(applied, [1]);
    const db = new DatabaseSync(path);
    assert.equal(migrationStatus(db).current, 1);
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
