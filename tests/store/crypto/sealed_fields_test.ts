// Personal columns at rest: notes, memory and analysis are sealed like transcripts and requests, the
// raw files (tom.db, tom.db-wal, a backup) never hold them in clear, before and after a key rotation; a
// rotation interrupted by a crash continues when run again; rows from before sealing are sealed at start.
import assert from "node:assert/strict";
import { join } from "node:path";
import { getAnalysis, getMemory, getPerson, openStore, type Store } from "../../../store/mod.ts";
import { readTranscript, rekeyTranscripts, SEALED_COLUMNS } from "../../../store/crypto/mod.ts";
import { markersOnDisk, plantPerson } from "../_raw_files.ts";

function fileStore(): { store: Store; dir: string } {
  const dir = Deno.makeTempDirSync({ prefix: "tom-sealed-" });
  return { store: openStore(join(dir, "tom.db")), dir };
}

Deno.test("no personal column is found in clear in tom.db, tom.db-wal or a backup, before and after a key rotation", async () => {
  const { store, dir } = fileStore();
  try {
    const p = await plantPerson(store, "A", "+4917011111111");
    // Name and number too: sealed like the rest, the number found by its keyed hash.
    const secret = [...Object.values(p.markers), "+4917011111111", "4917011111111"];
    // The staff still read everything in clear through the normal functions.
    assert.match(getPerson(store, p.accountId, p.personId)?.notes ?? "", new RegExp(p.markers.notes));
    assert.match(
      JSON.stringify(getMemory(store, p.accountId, p.personId)?.memory),
      new RegExp(p.markers.memory),
    );
    const analysis = getAnalysis(store, p.accountId, p.callId);
    assert.ok(analysis);
    assert.match(analysis.reason ?? "", new RegExp(p.markers.reason));
    assert.match(analysis.summary?.[0] ?? "", new RegExp(p.markers.summary));
    assert.deepEqual(analysis.memoryUpdate, { facts: [p.markers.memoryUpdate] });
    assert.deepEqual(await markersOnDisk(store, secret, dir), []);

    const old = store.keyring.currentKeyId;
    await store.keyring.rotate();
    const r = await rekeyTranscripts(store, store.keyring);
    assert.equal(r.fields, SEALED_COLUMNS.length, "every sealed value is re-encrypted once");
    assert.deepEqual(r.droppedKeys, [old]);
    assert.deepEqual(await markersOnDisk(store, secret, dir), []);
    assert.match(getPerson(store, p.accountId, p.personId)?.notes ?? "", new RegExp(p.markers.notes));
    assert.match((await readTranscript(store, store.keyring, p.accountId, p.callId))[0].text, /TRANSCRIPT/);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a sealed value copied to another person does not open (bound to account, row and column)", async () => {
  const { store, dir } = fileStore();
  try {
    const a = await plantPerson(store, "A", "+4917011111111");
    const b = await plantPerson(store, "B", "+4917022222222", a.accountId);
    store.db.prepare("UPDATE people SET notes = (SELECT notes FROM people WHERE id = ?) WHERE id = ?")
      .run(a.personId, b.personId);
    assert.throws(() => getPerson(store, b.accountId, b.personId), /failed authentication/);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a rotation interrupted after two batches continues where it stopped when run again", async () => {
  const { store, dir } = fileStore();
  try {
    const people = [];
    for (let i = 0; i < 12; i++) people.push(await plantPerson(store, `P${i}`, `+49170100000${10 + i}`));
    const old = store.keyring.currentKeyId;
    await store.keyring.rotate();
    let batches = 0;
    await assert.rejects(
      rekeyTranscripts(store, store.keyring, {
        batch: 5,
        onProgress: () => {
          if (++batches === 2) throw new Error("power cut");
        },
      }),
      /power cut/,
    );
    const stillOld = store.db.prepare("SELECT count(*) AS n FROM people WHERE display_name LIKE ?")
      .get(`%"k":"${old}"%`) as { n: number };
    assert.equal(stillOld.n, 2, "two batches of five names were committed before the crash");
    const progress: number[] = [];
    const r = await rekeyTranscripts(store, store.keyring, {
      batch: 5,
      onProgress: (p) => progress.push(p.done),
    });
    assert.equal(r.fields, 2 + 12 * (SEALED_COLUMNS.length - 1), "only what was left is rewritten");
    assert.deepEqual(r.droppedKeys, [old]);
    for (const p of people) {
      assert.match(getPerson(store, p.accountId, p.personId)?.notes ?? "", new RegExp(p.markers.notes));
    }
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("plain rows written before sealing are sealed at start, and their clear text leaves the files", async () => {
  const { store, dir } = fileStore();
  try {
    const p = await plantPerson(store, "OLD", "+4917033333333");
    // A database of an earlier build: the columns held clear text.
    const plain = "ZQXPLAINNOTEQXZ";
    store.db.prepare("UPDATE people SET notes = ? WHERE id = ?").run(plain, p.personId);
    store.db.prepare("UPDATE memory_state SET memory_json = ? WHERE person_id = ?")
      .run('{"facts":["ZQXPLAINMEMQXZ"]}', p.personId);
    assert.equal(getPerson(store, p.accountId, p.personId)?.notes, plain, "clear rows still read");
    const r = await rekeyTranscripts(store, store.keyring); // what every start runs (app/admin_ui.ts)
    assert.equal(r.fields, 2);
    assert.equal(getPerson(store, p.accountId, p.personId)?.notes, plain);
    assert.deepEqual(getMemory(store, p.accountId, p.personId)?.memory, { facts: ["ZQXPLAINMEMQXZ"] });
    assert.deepEqual(await markersOnDisk(store, [plain, "ZQXPLAINMEMQXZ"], dir), []);
    assert.equal((await rekeyTranscripts(store, store.keyring)).fields, 0, "running it again does nothing");
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
