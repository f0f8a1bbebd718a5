/**
 * Recording retention: recordings older than `retention.recordingHours` lose their path (and, through
 * the file deletion the retention job does, their file); fresh ones stay; other accounts are untouched;
 * the file sweep removes old files the database lost track of.
 */
import assert from "node:assert/strict";
import { attachRecording, createCall, endCall, getCall } from "../../store/mod.ts";
import { purgeExpiredRecordings } from "../../store/retention.ts";
import { recordingsDir, sweepRecordingFiles } from "../../gateway/recording.ts";
import { deleteRecordingFiles } from "../../ui/data/privacy.ts";
import { memoryStore, seedTwoTenants } from "./_helpers.ts";

const HOUR = 3_600_000;

Deno.test("recordings older than recordingHours are purged and their files deleted; fresh ones are kept", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tom-ret-" });
  const { store, clock } = memoryStore();
  try {
    const { a, b } = seedTwoTenants(store);
    // A's first call ends now; 20 h later a second call; B's call at the same time as A's first.
    const calls = [
      { account: a.account.id, call: a.call.id },
      { account: b.account.id, call: b.call.id },
    ];
    endCall(store, a.account.id, a.call.id, { status: "completed" });
    endCall(store, b.account.id, b.call.id, { status: "completed" });
    clock.advance(20 * HOUR);
    const fresh = createCall(store, a.account.id, {
      direction: "inbound",
      transport: "browser",
      personId: a.person.id,
    });
    endCall(store, a.account.id, fresh.id, { status: "completed" });
    calls.push({ account: a.account.id, call: fresh.id });
    for (const c of calls) {
      const rel = `${c.account}/${c.call}.wav`;
      Deno.mkdirSync(`${recordingsDir(dataDir)}/${c.account}`, { recursive: true });
      Deno.writeFileSync(`${recordingsDir(dataDir)}/${rel}`, new Uint8Array(44));
      assert.equal(attachRecording(store, c.account, c.call, rel), true);
    }

    // 23 h after the first call: nothing is 24 h old yet.
    clock.advance(3 * HOUR);
    assert.deepEqual(purgeExpiredRecordings(store, a.account.id, clock()), []);
    // 25 h after: A's first call goes, its fresh call (5 h old) stays; B is another account.
    clock.advance(2 * HOUR);
    const paths = purgeExpiredRecordings(store, a.account.id, clock(), { recordingHours: 24 });
    assert.deepEqual(paths, [`${a.account.id}/${a.call.id}.wav`]);
    assert.deepEqual(deleteRecordingFiles(dataDir, paths), { deleted: 1, refused: 0 });
    assert.throws(() => Deno.statSync(`${recordingsDir(dataDir)}/${paths[0]}`), Deno.errors.NotFound);
    assert.equal(getCall(store, a.account.id, a.call.id)?.recordingPath, null);
    assert.equal(getCall(store, a.account.id, a.call.id)?.recorded, true);
    assert.equal(getCall(store, a.account.id, fresh.id)?.recordingPath, `${a.account.id}/${fresh.id}.wav`);
    assert.ok(Deno.statSync(`${recordingsDir(dataDir)}/${a.account.id}/${fresh.id}.wav`).isFile);
    assert.equal(getCall(store, b.account.id, b.call.id)?.recordingPath, `${b.account.id}/${b.call.id}.wav`);
    // A shorter retention takes the fresh one too; running again finds nothing.
    assert.deepEqual(purgeExpiredRecordings(store, a.account.id, clock(), { recordingHours: 4 }), [
      `${a.account.id}/${fresh.id}.wav`,
    ]);
    assert.deepEqual(purgeExpiredRecordings(store, a.account.id, clock(), { recordingHours: 4 }), []);
    assert.throws(
      () => purgeExpiredRecordings(store, a.account.id, clock(), { recordingHours: 0 }),
      /Cannot purge recordings: recordingHours must be an integer from 1 to 8760, got 0/,
    );
  } finally {
    store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the file sweep deletes recordings last written before the cutoff and nothing else", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tom-sweep-" });
  try {
    assert.equal(sweepRecordingFiles(dataDir, Date.now()), 0, "no recordings directory yet");
    const dir = `${recordingsDir(dataDir)}/acct-1`;
    Deno.mkdirSync(dir, { recursive: true });
    const now = Date.now();
    const files = { old: `${dir}/old.wav`, fresh: `${dir}/fresh.wav`, other: `${dir}/notes.txt` };
    for (const f of Object.values(files)) Deno.writeFileSync(f, new Uint8Array(44));
    Deno.utimeSync(files.old, new Date(now - 30 * HOUR), new Date(now - 30 * HOUR));
    Deno.utimeSync(files.other, new Date(now - 30 * HOUR), new Date(now - 30 * HOUR));
    assert.equal(sweepRecordingFiles(dataDir, now - 24 * HOUR), 1);
    assert.throws(() => Deno.statSync(files.old), Deno.errors.NotFound);
    assert.ok(Deno.statSync(files.fresh).isFile);
    assert.ok(Deno.statSync(files.other).isFile);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
