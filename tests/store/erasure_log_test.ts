// Erasure that erases: after erasePerson nothing of the person is in tom.db, tom.db-wal or a backup taken
// afterwards (the other person of the practice is still readable), the erasure log holds only
// ids, and a database put back from before the erasure loses the person again at start.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  backupDatabase,
  erasePerson,
  erasureLogPath,
  getPerson,
  openStore,
  readErasures,
  reapplyErasures,
} from "../../store/mod.ts";
import { markersOnDisk, plantPerson } from "./_raw_files.ts";

Deno.test("after an erasure no marker of the person is in tom.db, tom.db-wal or a backup taken afterwards", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "tom-erase-" });
  const store = openStore(join(dir, "tom.db"));
  try {
    const gone = await plantPerson(store, "GONE", "+4917055555555");
    const kept = await plantPerson(store, "KEPT", "+4917066666666", gone.accountId);
    assert.deepEqual(
      await markersOnDisk(store, [kept.markers.name], dir),
      [],
      "names are sealed at rest: not even the kept person's name is in the files",
    );
    erasePerson(store, gone.accountId, gone.personId);
    const everything = [...Object.values(gone.markers), "+4917055555555", "4917055555555"];
    assert.deepEqual(await markersOnDisk(store, everything, dir), [], "nothing of the erased person");
    assert.equal(
      getPerson(store, kept.accountId, kept.personId)?.displayName,
      kept.markers.name,
      "the other person of the practice is still there, by name",
    );
    const log = Deno.readTextFileSync(erasureLogPath(store.path) ?? "");
    assert.deepEqual(readErasures(store.path).map((e) => e.personId), [gone.personId]);
    assert.doesNotMatch(log, /ZQX|4917055555555/, "the log holds ids and the time, nothing personal");
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a database from a backup taken before an erasure loses the person again at the next start", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "tom-erase-" });
  const path = join(dir, "tom.db");
  let store = openStore(path);
  try {
    const p = await plantPerson(store, "BACK", "+4917077777777");
    const other = await plantPerson(store, "STAY", "+4917088888888", p.accountId);
    await backupDatabase(path, join(dir, "old.db"));
    erasePerson(store, p.accountId, p.personId);
    store.close();
    // Put the old copy back by hand (tom restore re-applies itself: tests/app/commands/backup_test.ts).
    Deno.copyFileSync(join(dir, "old.db"), path);
    store = openStore(path);
    assert.ok(getPerson(store, p.accountId, p.personId), "the old copy brought the person back");
    const again = reapplyErasures(store); // what app/serve.ts runs at every start
    assert.deepEqual(again.map((e) => e.personId), [p.personId]);
    assert.equal(getPerson(store, p.accountId, p.personId), undefined);
    assert.ok(getPerson(store, other.accountId, other.personId), "the others stay");
    assert.deepEqual(await markersOnDisk(store, Object.values(p.markers), dir), []);
    assert.deepEqual(reapplyErasures(store), [], "applied once; the log did not grow");
    assert.equal(readErasures(path).length, 1);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
