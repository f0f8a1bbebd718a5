// Requests at rest: sealed personal fields (AAD: account and id), ordering, account scoping, retention,
// erasure (with the person, with the call) and key rotation.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createPerson,
  createRequest,
  createUser,
  deleteRequestsOfCall,
  erasePerson,
  getRequest,
  listRequests,
  type NewRequest,
  openStore,
  purgeDoneRequests,
  StoreNotFoundError,
  updateRequest,
} from "../../store/mod.ts";
import { listPersonRequests, rekeyTranscripts, TranscriptKeyring } from "../../store/crypto/mod.ts";
import { memoryStore, seedTwoTenants, sequentialIds, T0, testClock } from "./_helpers.ts";

const DAY = 86_400_000;

const REQ: NewRequest = {
  callId: null,
  kind: "callback",
  urgency: "normal",
  callerName: "Hildegard Zwiebelmeier",
  callbackNumber: "+4917099887766",
  forWhom: "ihren Mann",
  preferredTimes: "vormittags",
  medication: "",
  summary: "Bitte um Rückruf wegen Befund",
  source: "call",
};

async function ring(): Promise<{ keyring: TranscriptKeyring; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "tom-req-keys-" });
  return { keyring: await TranscriptKeyring.open(join(dir, "transcripts.key")), dir };
}

Deno.test("requests: the SQLite file holds no caller name or number in clear, only the sealed blob", async () => {
  const { keyring, dir } = await ring();
  const path = join(dir, "tom.db");
  const store = openStore(path, { clock: testClock() });
  try {
    const { a } = seedTwoTenants(store);
    const r = await createRequest(store, keyring, a.account.id, { ...REQ, callId: a.call.id });
    assert.equal(r.status, "open");
    assert.equal(r.callerName, REQ.callerName);
    const raw = store.prepare("SELECT * FROM requests WHERE id = ?").get(r.id) as Record<string, unknown>;
    const cipher = new TextDecoder("latin1").decode(raw.ciphertext as Uint8Array);
    for (const clear of ["Zwiebelmeier", "17099887766", "Befund", "vormittags"]) {
      assert.ok(!cipher.includes(clear), `ciphertext contains ${clear}`);
      assert.ok(!Object.values(raw).some((v) => typeof v === "string" && v.includes(clear)));
    }
    assert.equal(raw.kind, "callback");
    assert.equal(raw.call_id, a.call.id);
    store.prepare("PRAGMA wal_checkpoint(TRUNCATE)").run();
    const file = new TextDecoder("latin1").decode(Deno.readFileSync(path));
    assert.ok(!file.includes("Zwiebelmeier"), "the name is not in the database file");
    assert.ok(!file.includes("+4917099887766"), "the number is not in the database file");
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requests: a row copied to another account or id fails to decrypt", async () => {
  const { keyring, dir } = await ring();
  const { store } = memoryStore();
  try {
    const { a, b } = seedTwoTenants(store);
    const ra = await createRequest(store, keyring, a.account.id, REQ);
    const rb = await createRequest(store, keyring, b.account.id, { ...REQ, callerName: "B" });
    // Another account: move A's sealed blob into a row of B.
    store.prepare(
      "UPDATE requests SET ciphertext = (SELECT ciphertext FROM requests WHERE id = ?1), iv = (SELECT iv FROM requests WHERE id = ?1) WHERE id = ?2",
    )
      .run(ra.id, rb.id);
    await assert.rejects(
      () => getRequest(store, keyring, b.account.id, rb.id),
      /failed authentication|decrypt/i,
    );
    // Another id in the same account.
    const ra2 = await createRequest(store, keyring, a.account.id, REQ);
    store.prepare(
      "UPDATE requests SET ciphertext = (SELECT ciphertext FROM requests WHERE id = ?1), iv = (SELECT iv FROM requests WHERE id = ?1) WHERE id = ?2",
    )
      .run(ra.id, ra2.id);
    await assert.rejects(
      () => getRequest(store, keyring, a.account.id, ra2.id),
      /failed authentication|decrypt/i,
    );
    assert.equal((await getRequest(store, keyring, a.account.id, ra.id))?.callerName, REQ.callerName);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requests: open first, emergencies and urgent on top, newest first; filters by status and kind", async () => {
  const { keyring, dir } = await ring();
  const { store, clock } = memoryStore();
  try {
    const { a } = seedTwoTenants(store);
    const acc = a.account.id;
    const mk = async (summary: string, over: Partial<NewRequest> = {}) => {
      clock.advance(1000);
      return await createRequest(store, keyring, acc, { ...REQ, summary, ...over });
    };
    const old = await mk("alt");
    const emergency = await mk("notfall", { kind: "emergency" });
    const urgent = await mk("dringend", { urgency: "urgent", kind: "prescription" });
    const done = await mk("erledigt", { urgency: "urgent" });
    const newest = await mk("neu");
    const busy = await mk("in arbeit", { kind: "emergency" });
    await updateRequest(store, keyring, acc, done.id, { status: "done" });
    await updateRequest(store, keyring, acc, busy.id, { status: "in_progress" });
    const order = (await listRequests(store, keyring, acc)).map((r) => r.summary);
    assert.deepEqual(order, ["notfall", "dringend", "neu", "alt", "in arbeit", "erledigt"]);
    assert.deepEqual((await listRequests(store, keyring, acc, { status: "open" })).map((r) => r.id), [
      emergency.id,
      urgent.id,
      newest.id,
      old.id,
    ]);
    assert.deepEqual((await listRequests(store, keyring, acc, { kind: "emergency" })).map((r) => r.id), [
      emergency.id,
      busy.id,
    ]);
    assert.equal((await listRequests(store, keyring, acc, { limit: 2 })).length, 2);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requests: status, assignee and notes; done sets doneAt and reopening clears it", async () => {
  const { keyring, dir } = await ring();
  const { store, clock } = memoryStore();
  try {
    const { a, b } = seedTwoTenants(store);
    const acc = a.account.id;
    const u = createUser(store, acc, {
      email: "a@x.test",
      displayName: "Anna",
      role: "staff",
      passwordHash: "x",
    });
    const ub = createUser(store, b.account.id, {
      email: "b@x.test",
      displayName: "Bert",
      role: "staff",
      passwordHash: "x",
    });
    const r = await createRequest(store, keyring, acc, REQ);
    clock.advance(5000);
    const done = await updateRequest(store, keyring, acc, r.id, {
      status: "done",
      assigneeUserId: u.id,
      notes: "Rückruf erledigt",
    });
    assert.equal(done?.status, "done");
    assert.equal(done?.doneAt, T0 + 5000);
    assert.equal(done?.assigneeUserId, u.id);
    assert.equal(done?.notes, "Rückruf erledigt");
    assert.equal(done?.callerName, REQ.callerName, "the other sealed fields survive a notes change");
    const raw = store.prepare("SELECT ciphertext FROM requests WHERE id = ?").get(r.id) as {
      ciphertext: Uint8Array;
    };
    assert.ok(!new TextDecoder("latin1").decode(raw.ciphertext).includes("erledigt"), "notes are sealed");
    const reopened = await updateRequest(store, keyring, acc, r.id, { status: "open", assigneeUserId: null });
    assert.equal(reopened?.doneAt, null);
    assert.equal(reopened?.assigneeUserId, null);
    await assert.rejects(
      () => updateRequest(store, keyring, acc, r.id, { assigneeUserId: ub.id }),
      StoreNotFoundError,
    );
    await assert.rejects(
      () => createRequest(store, keyring, acc, { ...REQ, callbackNumber: "0171 123" }),
      /E\.164/,
    );
    await assert.rejects(
      () => createRequest(store, keyring, acc, { ...REQ, callId: b.call.id }),
      StoreNotFoundError,
    );
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requests: account B cannot get, list or update A's request", async () => {
  const { keyring, dir } = await ring();
  const { store } = memoryStore();
  try {
    const { a, b } = seedTwoTenants(store);
    const r = await createRequest(store, keyring, a.account.id, { ...REQ, callId: a.call.id });
    assert.equal(await getRequest(store, keyring, b.account.id, r.id), undefined);
    assert.deepEqual(await listRequests(store, keyring, b.account.id), []);
    assert.equal(await updateRequest(store, keyring, b.account.id, r.id, { status: "done" }), undefined);
    assert.equal(deleteRequestsOfCall(store, b.account.id, a.call.id), 0);
    assert.equal((await getRequest(store, keyring, a.account.id, r.id))?.status, "open");
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requests: retention deletes only requests done longer ago than the period", async () => {
  const { keyring, dir } = await ring();
  const { store, clock } = memoryStore();
  try {
    const { a, b } = seedTwoTenants(store);
    const acc = a.account.id;
    const doneOld = await createRequest(store, keyring, acc, REQ);
    const openOld = await createRequest(store, keyring, acc, REQ);
    const otherAccount = await createRequest(store, keyring, b.account.id, REQ);
    await updateRequest(store, keyring, acc, doneOld.id, { status: "done" });
    await updateRequest(store, keyring, b.account.id, otherAccount.id, { status: "done" });
    clock.advance(10 * DAY);
    const doneNew = await createRequest(store, keyring, acc, REQ);
    await updateRequest(store, keyring, acc, doneNew.id, { status: "done" });
    assert.equal(purgeDoneRequests(store, acc, clock(), 30), 0, "nothing is 30 days past done");
    assert.equal(purgeDoneRequests(store, acc, clock(), 7), 1);
    const left = (await listRequests(store, keyring, acc)).map((r) => r.id).sort();
    assert.deepEqual(left, [openOld.id, doneNew.id].sort(), "open requests stay whatever their age");
    assert.ok(await getRequest(store, keyring, b.account.id, otherAccount.id), "other accounts untouched");
    assert.throws(() => purgeDoneRequests(store, acc, clock(), 0), RangeError);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requests: erasing a person deletes the requests of their calls; a call can be erased too", async () => {
  const { keyring, dir } = await ring();
  const { store } = memoryStore();
  try {
    const { a, b } = seedTwoTenants(store);
    const acc = a.account.id;
    const theirs = await createRequest(store, keyring, acc, { ...REQ, callId: a.call.id });
    const staffNote = await createRequest(store, keyring, acc, { ...REQ, source: "staff" });
    const other = createPerson(store, acc, { kind: "patient", displayName: "X", phoneE164: "+4930555" });
    assert.equal((await listPersonRequests(store, keyring, acc, a.person.id))[0].id, theirs.id);
    assert.deepEqual(await listPersonRequests(store, keyring, acc, other.id), []);
    const inB = await createRequest(store, keyring, b.account.id, { ...REQ, callId: b.call.id });
    assert.ok(erasePerson(store, acc, a.person.id));
    assert.equal(await getRequest(store, keyring, acc, theirs.id), undefined);
    assert.ok(await getRequest(store, keyring, acc, staffNote.id), "requests without a call stay");
    assert.ok(await getRequest(store, keyring, b.account.id, inB.id), "B's request of its own person stays");
    assert.equal(deleteRequestsOfCall(store, b.account.id, b.call.id), 1);
    assert.equal(await getRequest(store, keyring, b.account.id, inB.id), undefined);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requests: key rotation re-encrypts them and keeps the old key while a request uses it", async () => {
  const { keyring: fileRing, dir } = await ring();
  const store = openStore(":memory:", { clock: testClock(), newId: sequentialIds() });
  try {
    // One keyring for the store and the requests, as at start (app/admin_ui.ts): people's names are sealed too.
    const keyring = store.useKeyFile(fileRing.file);
    const { a } = seedTwoTenants(store);
    const r = await createRequest(store, keyring, a.account.id, REQ);
    const old = keyring.currentKeyId;
    await keyring.rotate();
    const res = await rekeyTranscripts(store, keyring);
    assert.equal(res.requests, 1);
    assert.deepEqual(res.droppedKeys, [old]);
    const row = store.prepare("SELECT key_id FROM requests WHERE id = ?").get(r.id) as { key_id: string };
    assert.equal(row.key_id, keyring.currentKeyId);
    assert.equal((await getRequest(store, keyring, a.account.id, r.id))?.callerName, REQ.callerName);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
