// The scheduled retention job deletes recordings past TOM_RETENTION_RECORDING_HOURS (default 24 h) with
// their call's path, keeps fresh ones, sweeps recording files no call names any more, and audits it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../infra/config.ts";
import { silentLogger } from "../../infra/log.ts";
import { recordingsDir } from "../../gateway/mod.ts";
import {
  attachRecording,
  createAccount,
  createCall,
  createPerson,
  createRequest,
  endCall,
  getCall,
  getRequest,
  listAudit,
  openStore,
  updateRequest,
} from "../../store/mod.ts";
import { TranscriptKeyring } from "../../store/crypto/mod.ts";
import { RetentionJob } from "../../ui/data/retention_job.ts";

const HOUR = 3_600_000;

Deno.test("the retention job deletes recordings older than 24 h, keeps fresh ones and sweeps orphans", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom-retention-" });
  const store = openStore(":memory:");
  try {
    const config = loadConfig({ env: { TOM_DATA_DIR: dir }, cwd: dir });
    const now = Date.now();
    const account = createAccount(store, { name: "Praxis", kind: "clinical" });
    const person = createPerson(store, account.id, {
      kind: "patient",
      displayName: "Erna",
      phoneE164: "+4930111333",
      consentRecording: true,
    });
    const recorded = async (hoursAgo: number) => {
      const call = createCall(store, account.id, {
        direction: "inbound",
        transport: "browser",
        personId: person.id,
        startedAt: now - hoursAgo * HOUR - 60_000,
      });
      endCall(store, account.id, call.id, { status: "completed", at: now - hoursAgo * HOUR });
      const rel = `${account.id}/${call.id}.wav`;
      await Deno.mkdir(join(recordingsDir(dir), account.id), { recursive: true });
      await Deno.writeFile(join(recordingsDir(dir), rel), new Uint8Array(64));
      assert.ok(attachRecording(store, account.id, call.id, rel));
      return { id: call.id, file: join(recordingsDir(dir), rel) };
    };
    const old = await recorded(25);
    const fresh = await recorded(2);
    // A file from a crash between creating it and storing its path: no call names it.
    const orphan = join(recordingsDir(dir), account.id, "lost.wav");
    await Deno.writeFile(orphan, new Uint8Array(64));
    await Deno.utime(orphan, new Date(now - 30 * HOUR), new Date(now - 30 * HOUR));

    const job = new RetentionJob({ store, config, log: silentLogger, now: () => now });
    const summary = job.run();
    assert.equal(summary.recordings, 2);
    assert.throws(() => Deno.statSync(old.file), Deno.errors.NotFound);
    assert.throws(() => Deno.statSync(orphan), Deno.errors.NotFound);
    assert.ok(Deno.statSync(fresh.file).isFile);
    assert.equal(getCall(store, account.id, old.id)?.recordingPath, null);
    assert.ok(getCall(store, account.id, fresh.id)?.recordingPath);
    const audit = listAudit(store, account.id).find((a) => a.action === "retention.purge");
    assert.ok(audit, "the purge is audited");
    // Nothing left to do: a second run deletes nothing.
    assert.equal(job.run().recordings, 0);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the retention job deletes requests done longer ago than the account's retention, keeps open ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom-retention-req-" });
  let clock = Date.UTC(2026, 0, 1);
  const store = openStore(":memory:", { clock: () => clock });
  try {
    const config = loadConfig({ env: { TOM_DATA_DIR: dir }, cwd: dir });
    const keyring = await TranscriptKeyring.open(join(dir, "secrets", "transcripts.key"));
    const account = createAccount(store, { name: "Praxis", kind: "clinical" });
    const req = {
      callId: null,
      kind: "callback",
      urgency: "normal",
      callerName: "Erna",
      callbackNumber: null,
      forWhom: "",
      preferredTimes: "",
      medication: "",
      summary: "Rückruf",
      source: "staff",
    } as const;
    const done = await createRequest(store, keyring, account.id, req);
    const open = await createRequest(store, keyring, account.id, req);
    await updateRequest(store, keyring, account.id, done.id, { status: "done" });
    const job = new RetentionJob({ store, config, log: silentLogger, now: () => clock });
    clock += 29 * 86_400_000;
    assert.equal(job.run().requests, 0, "within the default 30 days");
    clock += 2 * 86_400_000;
    assert.equal(job.run().requests, 1);
    assert.equal(await getRequest(store, keyring, account.id, done.id), undefined);
    assert.ok(await getRequest(store, keyring, account.id, open.id), "an open request is kept");
    const audit = listAudit(store, account.id).find((a) => a.action === "retention.purge");
    assert.equal(audit?.detail.requests, 1);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
