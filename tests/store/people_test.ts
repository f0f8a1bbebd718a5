import assert from "node:assert/strict";
import {
  appendTranscriptTurn,
  attachRecording,
  completeAnalysis,
  createAccount,
  createCall,
  createPerson,
  endCall,
  enqueueAnalysis,
  erasePerson,
  findPersonByPhone,
  getAnalysis,
  getCall,
  getFeedback,
  getMemory,
  getPerson,
  listPeople,
  listTranscript,
  recordFeedback,
  saveMemory,
  StoreConflictError,
  updatePerson,
} from "../../store/mod.ts";
import { bytes, memoryStore, seedTenant, T0 } from "./_helpers.ts";

Deno.test("createPerson rejects numbers that are not E.164, without repeating the number", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "private" });
  for (
    const phone of [
      "017012345678",
      "+017012345678",
      "+49 170 1234567",
      "+49170",
      "+4917012345678901",
      "+49-170-1234",
    ]
  ) {
    assert.throws(
      () => createPerson(store, account.id, { kind: "senior", displayName: "X", phoneE164: phone }),
      (err: Error) => {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, /^Cannot create person: phone_e164 must be E.164/);
        assert.ok(!err.message.includes(phone), "the message must not contain the number");
        return true;
      },
    );
  }
  store.close();
});

Deno.test("createPerson rejects retention_days 0 and 366 and accepts 1 and 365", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "private" });
  const person = (retentionDays: number, phone: string) =>
    createPerson(store, account.id, { kind: "senior", displayName: "X", phoneE164: phone, retentionDays });
  assert.throws(() => person(0, "+4917000000001"), /retention_days must be an integer from 1 to 365, got 0/);
  assert.throws(
    () => person(366, "+4917000000002"),
    /retention_days must be an integer from 1 to 365, got 366/,
  );
  assert.throws(() => person(30.5, "+4917000000003"), RangeError);
  assert.equal(person(1, "+4917000000004").retentionDays, 1);
  assert.equal(person(365, "+4917000000005").retentionDays, 365);
  store.close();
});

Deno.test("the schema itself rejects a bad number or retention written around the module", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "private" });
  const insert = store.db.prepare(
    `INSERT INTO people (id, account_id, kind, display_name, phone_e164, phone_hash,
    retention_days, created_at, updated_at) VALUES (?, ?, 'senior', 'X', ?, ?, ?, 0, 0)`,
  );
  const hash = "0".repeat(64);
  assert.throws(
    () => insert.run("p1", account.id, "+4917012345678", hash, 0),
    /CHECK constraint failed: retention_days/,
  );
  assert.throws(() => insert.run("p2", account.id, "+4917012345678", hash, 366), /CHECK constraint failed/);
  assert.throws(
    () => insert.run("p3", account.id, "+49170x2345678", hash, 30),
    /CHECK constraint failed: phone_e164/,
  );
  assert.throws(
    () => insert.run("p4", account.id, "+0170123456", hash, 30),
    /CHECK constraint failed: phone_e164/,
  );
  assert.throws(
    () => insert.run("p5", account.id, "+49170", hash, 30),
    /CHECK constraint failed: phone_e164/,
  );
  assert.throws(
    () => insert.run("p6", "no-account", "+4917012345678", hash, 30),
    /FOREIGN KEY constraint failed/,
  );
  insert.run("p7", account.id, "+4917012345678", hash, 30);
  store.close();
});

Deno.test("a number is registered once per account and found again by its salted hash", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "private" });
  const maria = createPerson(store, account.id, {
    kind: "senior",
    displayName: " Maria ",
    phoneE164: "+4917012345678",
  });
  assert.equal(maria.displayName, "Maria");
  assert.equal(maria.phoneHash, store.phoneHash("+4917012345678"));
  assert.deepEqual(findPersonByPhone(store, account.id, "+4917012345678"), maria);
  assert.equal(findPersonByPhone(store, account.id, "+4917012345679"), undefined);
  assert.throws(
    () =>
      createPerson(store, account.id, { kind: "senior", displayName: "Dup", phoneE164: "+4917012345678" }),
    (err: Error) => err instanceof StoreConflictError && !err.message.includes("+4917012345678"),
  );
  store.close();
});

Deno.test("listPeople filters by kind and orders by name", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "clinical" });
  createPerson(store, account.id, { kind: "patient", displayName: "Zoe", phoneE164: "+4917000000001" });
  createPerson(store, account.id, { kind: "patient", displayName: "Anna", phoneE164: "+4917000000002" });
  createPerson(store, account.id, { kind: "senior", displayName: "Bernd", phoneE164: "+4917000000003" });
  assert.deepEqual(listPeople(store, account.id, { kind: "patient" }).map((p) => p.displayName), [
    "Anna",
    "Zoe",
  ]);
  assert.deepEqual(listPeople(store, account.id).map((p) => p.displayName), ["Anna", "Bernd", "Zoe"]);
  assert.deepEqual(listPeople(store, account.id, { limit: 1, offset: 1 }).map((p) => p.displayName), [
    "Bernd",
  ]);
  store.close();
});

Deno.test("updatePerson changes the given fields, re-hashes a new number and validates", () => {
  const { store, clock } = memoryStore();
  const { account, person } = seedTenant(store, "A", "+4917000000001");
  clock.advance(1000);
  const updated = updatePerson(store, account.id, person.id, {
    phoneE164: "+4917000000009",
    retentionDays: 90,
    notes: "Hört schlecht",
    consentTranscript: undefined,
  });
  assert.ok(updated);
  assert.equal(updated.retentionDays, 90);
  assert.equal(updated.consentTranscript, true);
  assert.equal(updated.phoneHash, store.phoneHash("+4917000000009"));
  assert.equal(updated.updatedAt, T0 + 1000);
  assert.deepEqual(getPerson(store, account.id, person.id), updated);
  assert.throws(() => updatePerson(store, account.id, person.id, { retentionDays: 366 }), /got 366/);
  assert.equal(getPerson(store, account.id, person.id)?.retentionDays, 90);
  store.close();
});

Deno.test("erasing a person removes their memory, transcripts, analyses and recordings; calls stay anonymous", () => {
  const { store } = memoryStore();
  const { account, person, call } = seedTenant(store, "A", "+4917000000001");
  const other = createPerson(store, account.id, {
    kind: "senior",
    displayName: "Other",
    phoneE164: "+4917000000002",
    consentTranscript: true,
  });
  const otherCall = createCall(store, account.id, {
    direction: "outbound",
    transport: "twilio",
    personId: other.id,
  });
  for (const c of [call, otherCall]) {
    appendTranscriptTurn(store, account.id, {
      callId: c.id,
      turnIndex: 0,
      speaker: "caller",
      ciphertext: bytes(1),
      iv: bytes(2),
      keyId: "k1",
    });
    enqueueAnalysis(store, account.id, c.id);
    completeAnalysis(store, account.id, c.id, {
      sentimentLabel: "positiv",
      sentimentScore: 0.5,
      confidence: 0.9,
      reason: "freundlich",
      summary: ["Garten"],
    });
    endCall(store, account.id, c.id, { status: "completed" });
    recordFeedback(store, account.id, { callId: c.id, rating: 5, source: "dtmf" });
  }
  assert.equal(attachRecording(store, account.id, call.id, "/data/rec/a.wav"), true);
  saveMemory(store, account.id, person.id, { facts: ["Hat Enkelin Lisa"] }, 0);
  saveMemory(store, account.id, other.id, { facts: ["Hund Bello"] }, 0);

  assert.deepEqual(erasePerson(store, account.id, person.id), {
    personId: person.id,
    anonymisedCalls: 1,
    recordingPaths: ["/data/rec/a.wav"],
  });
  assert.equal(getPerson(store, account.id, person.id), undefined);
  assert.equal(getMemory(store, account.id, person.id), undefined);
  assert.deepEqual(listTranscript(store, account.id, call.id), []);
  assert.equal(getAnalysis(store, account.id, call.id), undefined);
  const anonymous = getCall(store, account.id, call.id);
  assert.equal(anonymous?.personId, null);
  assert.equal(anonymous?.recordingPath, null);
  assert.equal(anonymous?.status, "completed");
  assert.equal(getFeedback(store, account.id, call.id)?.rating, 5);
  // The other person's data is untouched.
  assert.equal(listTranscript(store, account.id, otherCall.id).length, 1);
  assert.equal(getAnalysis(store, account.id, otherCall.id)?.status, "done");
  assert.deepEqual(getMemory(store, account.id, other.id)?.memory, { facts: ["Hund Bello"] });
  assert.equal(erasePerson(store, account.id, person.id), undefined);
  store.close();
});

Deno.test("a raw DELETE of a person erases their call data too (enforced by the schema)", () => {
  const { store } = memoryStore();
  const { account, person, call } = seedTenant(store, "A", "+4917000000001");
  appendTranscriptTurn(store, account.id, {
    callId: call.id,
    turnIndex: 0,
    speaker: "assistant",
    ciphertext: bytes(1),
    iv: bytes(2),
    keyId: "k1",
  });
  enqueueAnalysis(store, account.id, call.id);
  store.db.prepare("DELETE FROM people WHERE id = ?").run(person.id);
  const count = (table: string) =>
    (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  assert.equal(count("transcripts"), 0);
  assert.equal(count("call_analysis"), 0);
  assert.equal(count("calls"), 1);
  store.close();
});
