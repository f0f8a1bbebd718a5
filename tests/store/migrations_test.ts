import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  migrate,
  type Migration,
  MIGRATIONS,
  migrationStatus,
  migrationTables,
  openStore,
} from "../../store/mod.ts";

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
  assert.equal(
    (db.prepare("SELECT count(*) AS n FROM schema_migrations").get() as { n: number }).n,
    MIGRATIONS.length,
  );
  db.close();
});

Deno.test("reopening a store file applies no migration and keeps the schema identical", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_store_" });
  try {
    const path = `${dir}/tom.db`;
    const first = openStore(path);
    assert.deepEqual(first.appliedMigrations, MIGRATIONS.map((m) => m.version));
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
  assert.deepEqual(before.pending, MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  assert.deepEqual(schemaOf(db), []);
  migrate(db, { clock: () => 42 });
  const after = migrationStatus(db);
  assert.equal(after.current, MIGRATIONS.length);
  assert.deepEqual(after.pending, []);
  assert.deepEqual(
    after.applied,
    MIGRATIONS.map((m) => ({ version: m.version, name: m.name, appliedAt: 42 })),
  );
  db.close();
});

Deno.test("a failing migration is rolled back whole and leaves the previous version", () => {
  const db = new DatabaseSync(":memory:");
  const broken: Migration[] = [
    ...MIGRATIONS,
    {
      version: MIGRATIONS.length + 1,
      name: "broken",
      sql: "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);",
    },
  ];
  assert.throws(
    () => migrate(db, { migrations: broken }),
    new RegExp(`Cannot apply migration ${MIGRATIONS.length + 1} \\(broken\\): no such table`),
  );
  assert.equal(migrationStatus(db).current, MIGRATIONS.length);
  assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").get(), undefined);
  assert.equal(db.isTransaction, false);
  db.close();
});

Deno.test("a database migrated by a newer build is refused", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db, {
    migrations: [...MIGRATIONS, {
      version: MIGRATIONS.length + 1,
      name: "future",
      sql: "CREATE TABLE f (x INT)",
    }],
  });
  assert.throws(
    () => migrate(db),
    new RegExp(`schema version ${MIGRATIONS.length + 1}, newer than this build \\(${MIGRATIONS.length}\\)`),
  );
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
    assert.deepEqual(applied.sort(), MIGRATIONS.map((m) => m.version));
    const db = new DatabaseSync(path);
    assert.equal(migrationStatus(db).current, MIGRATIONS.length);
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a version 1 database with calls upgrades to the learning schema and keeps its rows", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db, { migrations: MIGRATIONS.slice(0, 1) });
  db.exec(`INSERT INTO accounts (id, name, kind, created_at) VALUES ('a1', 'Praxis', 'clinical', 1);
    INSERT INTO calls (id, account_id, direction, transport, started_at) VALUES ('c1', 'a1', 'inbound', 'browser', 1);`);
  assert.deepEqual(migrate(db), MIGRATIONS.slice(1).map((m) => m.version));
  assert.equal((db.prepare("SELECT count(*) AS n FROM calls").get() as { n: number }).n, 1);
  db.exec(`INSERT INTO rewards (account_id, call_id, reward, components_json, missing_json, source, applied,
    created_at) VALUES ('a1', 'c1', 0.5, '{}', '[]', 'none', 0, 2)`);
  assert.throws(
    () =>
      db.exec(
        `INSERT INTO rewards (account_id, call_id, reward, components_json, missing_json, source, applied,
    created_at) VALUES ('a1', 'nope', 0.5, '{}', '[]', 'none', 0, 2)`,
      ),
    /FOREIGN KEY/,
  );
  db.close();
});

const UI_TABLES = ["ui_sessions", "ui_api_tokens", "ui_schedules", "ui_settings", "ui_turn_metrics"];
const adminUi = MIGRATIONS.findIndex((m) => m.name === "admin_ui");

function tablesOf(db: DatabaseSync): string[] {
  const sql =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
  return (db.prepare(sql).all() as { name: string }[]).map((r) => r.name);
}

Deno.test("a fresh database gets the admin UI's tables from migration admin_ui", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db, { migrations: MIGRATIONS.slice(0, adminUi) });
  assert.deepEqual(tablesOf(db).filter((t) => t.startsWith("ui_")), []);
  assert.deepEqual(migrate(db), MIGRATIONS.slice(adminUi).map((m) => m.version));
  assert.deepEqual(tablesOf(db).filter((t) => t.startsWith("ui_")), [...UI_TABLES].sort());
  assert.deepEqual(migrationTables(MIGRATIONS[adminUi]), UI_TABLES);
  db.close();
});

Deno.test("a database whose admin UI made its own tables at mount applies admin_ui cleanly and keeps the rows", () => {
  const fresh = new DatabaseSync(":memory:");
  migrate(fresh);
  const db = new DatabaseSync(":memory:");
  migrate(db, { migrations: MIGRATIONS.slice(0, adminUi) });
  // What the admin UI did at mount before this migration existed (ui/schema.ts's SQL, which migration
  // admin_ui took over verbatim): the tables exist, the migration is not recorded.
  db.exec(MIGRATIONS[adminUi].sql);
  db.exec(`INSERT INTO accounts (id, name, kind, created_at) VALUES ('a1', 'Praxis', 'clinical', 1);
    INSERT INTO ui_settings (account_id, key, value_json, updated_at) VALUES ('a1', 'recordingAllowed', 'false', 1);`);
  assert.equal(migrationStatus(db).current, adminUi);
  assert.deepEqual(migrate(db), MIGRATIONS.slice(adminUi).map((m) => m.version));
  assert.equal(migrationStatus(db).current, MIGRATIONS.length);
  assert.deepEqual(
    db.prepare("SELECT account_id, value_json FROM ui_settings").all().map((r) => ({ ...r })),
    [
      { account_id: "a1", value_json: "false" },
    ],
  );
  assert.deepEqual(schemaOf(db), schemaOf(fresh), "the same schema as a database migrated from scratch");
  db.close();
  fresh.close();
});

Deno.test("every table in a migrated database is named by the migration that creates it", () => {
  const db = new DatabaseSync(":memory:");
  migrate(db);
  const named = new Set(MIGRATIONS.flatMap(migrationTables));
  // schema_migrations is the migrator's own bookkeeping, created before any migration runs.
  const unnamed = tablesOf(db).filter((t) => t !== "schema_migrations" && !named.has(t));
  assert.deepEqual(unnamed, []);
  assert.equal(named.size, MIGRATIONS.flatMap(migrationTables).length, "no table is created twice");
  assert.deepEqual(migrationTables(MIGRATIONS[1]), ["rewards", "rl_decisions"]);
  db.close();
});
