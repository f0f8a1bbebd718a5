// Migration 8 ("people_sealed") on an existing database: people are rebuilt without losing a row or any
// row that points at them (memory, calls, schedules), the clear names and numbers still read, the start-up
// step seals them and afterwards neither is in the files; a number stays unique per practice by its hash.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createPerson,
  findPersonByPhone,
  getMemory,
  getPerson,
  listPeople,
  listSchedules,
  migrate,
  MIGRATIONS,
  openStore,
  StoreConflictError,
} from "../../store/mod.ts";
import { rekeyTranscripts } from "../../store/crypto/mod.ts";
import { markersOnDisk } from "./_raw_files.ts";

const NAME = "ZQXALTNAMEQXZ";
const PHONE = "+4917044556677";

/** A database of the build before: migrated up to migration 7, one person written in clear. */
function oldDatabase(path: string): void {
  const at = MIGRATIONS.findIndex((m) => m.name === "people_sealed");
  assert.ok(at > 0, "migration people_sealed is registered");
  const store = openStore(path, { migrate: false });
  migrate(store.db, { migrations: MIGRATIONS.slice(0, at) });
  store.db.exec(`INSERT INTO accounts (id, name, kind, created_at) VALUES ('acc', 'Praxis', 'clinical', 1)`);
  store.db.prepare(
    `INSERT INTO people (id, account_id, kind, display_name, phone_e164, phone_hash, created_at, updated_at)
     VALUES ('p1', 'acc', 'senior', ?, ?, ?, 1, 1)`,
  ).run(NAME, PHONE, store.phoneHash(PHONE));
  store.db.exec(`INSERT INTO memory_state (person_id, account_id, memory_json, updated_at)
    VALUES ('p1', 'acc', '{}', 1)`);
  store.db.exec(
    `INSERT INTO calls (id, account_id, person_id, direction, transport, status, started_at, ended_at)
    VALUES ('c1', 'acc', 'p1', 'inbound', 'browser', 'completed', 1, 2)`,
  );
  store.db.exec(`INSERT INTO ui_schedules (id, account_id, person_id, weekdays, window_start, window_end,
    created_at, updated_at) VALUES ('s1', 'acc', 'p1', 1, '09:00', '10:00', 1, 1)`);
  store.close();
}

Deno.test("people_sealed: an existing practice keeps its people and their calls, and the clear text is sealed at start", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "tom-v8-" });
  const path = join(dir, "tom.db");
  oldDatabase(path);
  const store = openStore(path);
  try {
    assert.ok(store.appliedMigrations.includes(8));
    assert.deepEqual(store.db.prepare("PRAGMA foreign_key_check").all(), []);
    assert.equal((store.db.prepare("PRAGMA foreign_keys").get() as { foreign_keys: number }).foreign_keys, 1);
    const triggers = store.db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'people'",
    )
      .all().map((r) => r.name).sort();
    assert.deepEqual(
      triggers,
      ["people_erase_personal_data", "people_erase_requests"],
      "erasure still cascades",
    );
    assert.ok(getMemory(store, "acc", "p1"), "memory survived the rebuild (no cascade)");
    const call = store.db.prepare("SELECT person_id FROM calls WHERE id = 'c1'").get() as {
      person_id: string;
    };
    assert.equal(call.person_id, "p1", "the call still names its person");
    assert.equal(listSchedules(store, "acc")[0]?.personName, NAME, "the schedule still names the person");
    assert.equal(getPerson(store, "acc", "p1")?.displayName, NAME, "a clear row reads before it is sealed");

    const r = await rekeyTranscripts(store, store.keyring); // what every start runs (app/admin_ui.ts)
    assert.equal(r.fields, 3, "name, number (and the old clear memory) sealed");
    assert.equal(findPersonByPhone(store, "acc", PHONE)?.displayName, NAME);
    assert.deepEqual(listPeople(store, "acc").map((p) => p.phoneE164), [PHONE]);
    assert.deepEqual(await markersOnDisk(store, [NAME, PHONE, PHONE.slice(1)], dir), []);
    assert.equal((await rekeyTranscripts(store, store.keyring)).fields, 0, "running it again does nothing");
    assert.throws(
      () => createPerson(store, "acc", { kind: "senior", displayName: "Doppelt", phoneE164: PHONE }),
      StoreConflictError,
      "the number is still unique in the practice (by its hash)",
    );
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
