import assert from "node:assert/strict";
import { join } from "node:path";
import {
  countPeople,
  createAccount,
  createPerson,
  erasePerson,
  findPeopleByName,
  findPersonByPhone,
  getPerson,
  listPeople,
  openStore,
  recentPeople,
  StoreConflictError,
  updatePerson,
} from "../../store/mod.ts";
import { memoryStore, seedTenant, T0 } from "./_helpers.ts";
import { markersOnDisk } from "./_raw_files.ts";

const ids = (people: { id: string }[]) => people.map((p) => p.id);

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

Deno.test("people are counted, found by part of their name and listed newest first, per account", () => {
  const { store, clock } = memoryStore();
  const a = seedTenant(store, "A", "+4917000000001");
  const b = seedTenant(store, "B", "+4917000000001");
  clock.advance(1000);
  const p = createPerson(store, a.account.id, {
    kind: "patient",
    displayName: "Erna 100%_Wahr",
    phoneE164: "+4917000000002",
  });
  assert.equal(countPeople(store, a.account.id), 2);
  assert.equal(countPeople(store, a.account.id, "patient"), 1);
  assert.equal(countPeople(store, b.account.id, "patient"), 0);
  assert.deepEqual(ids(findPeopleByName(store, a.account.id, "SENIOR", 10)), [a.person.id]);
  assert.deepEqual(
    ids(findPeopleByName(store, a.account.id, "100%_", 10)),
    [p.id],
    "% and _ match literally",
  );
  assert.deepEqual(ids(findPeopleByName(store, a.account.id, "0%", 10)), [p.id]);
  assert.deepEqual(ids(findPeopleByName(store, a.account.id, "r%", 10)), []);
  assert.deepEqual(ids(findPeopleByName(store, b.account.id, "erna", 10)), []);
  assert.deepEqual(recentPeople(store, a.account.id), [
    { id: p.id, displayName: "Erna 100%_Wahr", kind: "patient", createdAt: T0 + 1000 },
    { id: a.person.id, displayName: "Senior of A", kind: "senior", createdAt: T0 },
  ]);
  assert.deepEqual(recentPeople(store, a.account.id, 1).map((r) => r.id), [p.id]);
  store.close();
});

Deno.test("a person's name and number are in no file on disk, yet the staff see, find, sort, change and erase them", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "tom-people-sealed-" });
  const store = openStore(join(dir, "tom.db"));
  try {
    const account = createAccount(store, { name: "Praxis", kind: "clinical" });
    const other = createAccount(store, { name: "Andere Praxis", kind: "clinical" });
    const name = "ZQXMüllerQXZ";
    const maria = createPerson(store, account.id, {
      kind: "patient",
      displayName: name,
      phoneE164: "+4917011223344",
    });
    createPerson(store, account.id, {
      kind: "patient",
      displayName: "Zacharias",
      phoneE164: "+4917011223345",
    });
    createPerson(store, account.id, {
      kind: "senior",
      displayName: "Ärzteblatt Anton",
      phoneE164: "+4917011223346",
    });
    const onDisk = ["ZQXMüllerQXZ", "ZQXM", "+4917011223344", "4917011223344", "Zacharias", "Anton"];
    assert.deepEqual(await markersOnDisk(store, onDisk, dir), [], "neither name nor number in the files");

    assert.equal(
      findPersonByPhone(store, account.id, "+4917011223344")?.displayName,
      name,
      "caller ID finds her",
    );
    assert.equal(findPersonByPhone(store, other.id, "+4917011223344"), undefined, "only in her practice");
    assert.throws(
      () =>
        createPerson(store, account.id, { kind: "senior", displayName: "Dup", phoneE164: "+4917011223344" }),
      StoreConflictError,
      "one number once per practice",
    );
    assert.ok(
      createPerson(store, other.id, { kind: "senior", displayName: "B", phoneE164: "+4917011223344" }),
    );
    assert.deepEqual(
      listPeople(store, account.id).map((p) => p.displayName),
      ["Ärzteblatt Anton", "Zacharias", name],
      "sorted by name as a German reader expects (Ä with A, case aside)",
    );
    assert.deepEqual(
      ids(findPeopleByName(store, account.id, "MÜLLER", 10)),
      [maria.id],
      "case-insensitive, umlauts too",
    );
    assert.equal(recentPeople(store, account.id, 3).find((r) => r.id === maria.id)?.displayName, name);

    const moved = updatePerson(store, account.id, maria.id, {
      displayName: "ZQXNeuQXZ",
      phoneE164: "+4917099887766",
    });
    assert.equal(moved?.phoneE164, "+4917099887766");
    assert.equal(findPersonByPhone(store, account.id, "+4917099887766")?.displayName, "ZQXNeuQXZ");
    assert.equal(findPersonByPhone(store, account.id, "+4917011223344"), undefined, "the old number is free");
    assert.deepEqual(await markersOnDisk(store, ["ZQXNeuQXZ", "4917099887766"], dir), []);

    erasePerson(store, account.id, maria.id);
    assert.equal(getPerson(store, account.id, maria.id), undefined);
    assert.equal(findPersonByPhone(store, account.id, "+4917099887766"), undefined);
    assert.deepEqual(ids(findPeopleByName(store, account.id, "neu", 10)), []);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a sealed name or number copied to another person does not open", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "private" });
  const a = createPerson(store, account.id, {
    kind: "senior",
    displayName: "Anna",
    phoneE164: "+4917000000001",
  });
  const b = createPerson(store, account.id, {
    kind: "senior",
    displayName: "Bernd",
    phoneE164: "+4917000000002",
  });
  store.db.prepare(
    "UPDATE people SET display_name = (SELECT display_name FROM people WHERE id = ?) WHERE id = ?",
  )
    .run(a.id, b.id);
  assert.throws(() => getPerson(store, account.id, b.id), /failed authentication/);
  store.close();
});
