// Practice knowledge (store/practice.ts): the schema's rules, storage scoped by account, migration 4.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  defaultPractice,
  deleteAccount,
  getPractice,
  migrate,
  MIGRATIONS,
  type Practice,
  PRACTICE_LIMITS,
  PracticeSchema,
  practiceUpdated,
  putPractice,
} from "../../store/mod.ts";
import { memoryStore, seedTwoTenants, T0 } from "./_helpers.ts";

function full(): Practice {
  const p = defaultPractice("Praxis Dr. Weber");
  p.address = "Hauptstraße 1, 10115 Berlin";
  p.phone = "+49 30 123456";
  p.hours.mon = [{ from: "08:00", to: "12:00" }, { from: "14:00", to: "18:00" }];
  p.hours.fri = [{ from: "08:00", to: "12:00" }];
  p.closures = [{ from: "2026-12-24", to: "2026-12-26", note: "Weihnachten" }];
  p.team = [{ name: "Dr. Anna Weber", role: "Ärztin" }];
  p.services = ["Impfungen"];
  p.faq = [{ question: "Brauche ich einen Termin?", answer: "Ja, bitte rufen Sie an." }];
  p.mustNot = ["Keine Diagnosen stellen"];
  p.transfer = {
    duringHours: { kind: "extension", target: "21" },
    afterHours: { kind: "voicemail", target: "" },
  };
  return p;
}

/** [case, change, expected codes at paths ("path:code"), or [] when valid]. */
const CASES: [string, (p: Practice) => void, string[]][] = [
  ["the default", () => {}, []],
  ["a full practice", () => {}, []],
  ["touching intervals", (p) => {
    p.hours.tue = [{ from: "08:00", to: "12:00" }, { from: "12:00", to: "13:00" }];
  }, []],
  ["overlapping intervals", (p) => {
    p.hours.tue = [{ from: "08:00", to: "12:00" }, { from: "11:00", to: "13:00" }];
  }, ["hours.tue.1:overlap"]],
  ["unsorted intervals", (p) => {
    p.hours.tue = [{ from: "14:00", to: "18:00" }, { from: "08:00", to: "12:00" }];
  }, ["hours.tue.1:overlap"]],
  ["an interval ending before it starts", (p) => {
    p.hours.wed = [{ from: "12:00", to: "08:00" }];
  }, ["hours.wed.0.to:interval_order"]],
  ["a bad time", (p) => {
    p.hours.wed = [{ from: "8:00", to: "24:00" }];
  }, ["hours.wed.0.from:bad_time", "hours.wed.0.to:bad_time"]],
  ["a bad zone", (p) => {
    p.timeZone = "Europe/Nirgendwo";
  }, ["timeZone:bad_zone"]],
  ["another valid zone", (p) => {
    p.timeZone = "America/New_York";
  }, []],
  ["a date that does not exist", (p) => {
    p.closures = [{ from: "2026-02-30", to: "2026-03-01", note: "" }];
  }, ["closures.0.from:bad_date"]],
  ["a closure ending before it starts", (p) => {
    p.closures = [{ from: "2026-12-26", to: "2026-12-24", note: "" }];
  }, ["closures.0.to:date_order"]],
  ["an empty name", (p) => {
    p.name = "  ";
  }, ["name:required"]],
  ["a long assistant name", (p) => {
    p.assistantName = "x".repeat(PRACTICE_LIMITS.assistantName + 1);
  }, ["assistantName:too_long"]],
  ["too many services", (p) => {
    p.services = Array.from({ length: PRACTICE_LIMITS.services + 1 }, (_, i) => `Leistung ${i}`);
  }, ["services:too_many"]],
  ["a target for kind none", (p) => {
    p.transfer.duringHours = { kind: "none", target: "21" };
  }, ["transfer.duringHours.target:bad_target"]],
  ["letters in an extension", (p) => {
    p.transfer.afterHours = { kind: "extension", target: "zwei" };
  }, ["transfer.afterHours.target:bad_target"]],
  ["an unknown key", (p) => {
    (p as unknown as Record<string, unknown>).extra = 1;
  }, [":invalid"]],
  ["too big in total", (p) => {
    p.faq = Array.from({ length: PRACTICE_LIMITS.faq }, (_, i) => ({
      question: `Frage ${i}`,
      answer: "a".repeat(PRACTICE_LIMITS.answer),
    }));
  }, [":too_big"]],
];

for (const [name, change, expected] of CASES) {
  Deno.test(`practice schema: ${name}`, () => {
    const p = name === "the default" ? defaultPractice("Praxis") : full();
    change(p);
    const r = PracticeSchema.safeParse(p);
    const got = r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}:${i.message}`);
    assert.deepEqual(got, expected);
  });
}

Deno.test("defaultPractice: no hours, Europe/Berlin, TOM, no transfers", () => {
  const p = defaultPractice("Praxis Dr. Weber");
  assert.equal(p.name, "Praxis Dr. Weber");
  assert.equal(p.timeZone, "Europe/Berlin");
  assert.equal(p.assistantName, "TOM");
  assert.ok(Object.values(p.hours).every((d) => d.length === 0));
  assert.deepEqual(p.transfer.duringHours, { kind: "none", target: "" });
  assert.deepEqual(p.transfer.afterHours, { kind: "none", target: "" });
});

Deno.test("putPractice stores per account with who and when; account B sees nothing of A", () => {
  const { store, clock } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  assert.equal(getPractice(store, a.account.id), undefined);
  putPractice(store, a.account.id, full(), "user-1");
  assert.deepEqual(getPractice(store, a.account.id), full());
  assert.deepEqual(practiceUpdated(store, a.account.id), { updatedAt: T0, updatedBy: "user-1" });
  assert.equal(getPractice(store, b.account.id), undefined);
  assert.equal(practiceUpdated(store, b.account.id), undefined);

  clock.advance(1000);
  putPractice(store, b.account.id, defaultPractice("B"), null);
  const changed = { ...full(), name: "Praxis Neu" };
  putPractice(store, a.account.id, changed, null);
  assert.equal(getPractice(store, a.account.id)?.name, "Praxis Neu");
  assert.equal(getPractice(store, b.account.id)?.name, "B");
  assert.deepEqual(practiceUpdated(store, a.account.id), { updatedAt: T0 + 1000, updatedBy: null });
  store.close();
});

Deno.test("putPractice refuses an invalid practice and keeps the stored one", () => {
  const { store } = memoryStore();
  const { a } = seedTwoTenants(store);
  putPractice(store, a.account.id, full(), null);
  const bad = full();
  bad.timeZone = "Mars/Olympus";
  assert.throws(() => putPractice(store, a.account.id, bad, null), /bad_zone/);
  assert.equal(getPractice(store, a.account.id)?.timeZone, "Europe/Berlin");
  store.close();
});

Deno.test("the practice goes with its account", () => {
  const { store } = memoryStore();
  const { a } = seedTwoTenants(store);
  putPractice(store, a.account.id, full(), null);
  deleteAccount(store, a.account.id);
  const n = store.prepare("SELECT count(*) AS n FROM practice").get() as { n: number };
  assert.equal(n.n, 0);
  store.close();
});

Deno.test("migration 4 adds the practice table to a version 3 database with its rows kept", () => {
  const db = new DatabaseSync(":memory:");
  db.exec("PRAGMA foreign_keys = ON");
  migrate(db, { migrations: MIGRATIONS.slice(0, 3) });
  db.prepare("INSERT INTO accounts (id, name, kind, created_at) VALUES ('a1', 'Praxis', 'clinical', 0)")
    .run();
  assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'practice'").get(), undefined);
  assert.deepEqual(migrate(db, { migrations: MIGRATIONS.slice(0, 4) }), [4]);
  assert.equal(MIGRATIONS[3].name, "practice");
  db.prepare(
    "INSERT INTO practice (account_id, doc_json, updated_at, updated_by) VALUES ('a1', '{}', 0, NULL)",
  )
    .run();
  assert.throws(
    () =>
      db.prepare("INSERT INTO practice (account_id, doc_json, updated_at) VALUES ('nope', '{}', 0)").run(),
    /FOREIGN KEY/,
  );
  assert.throws(
    () =>
      db.prepare("INSERT INTO practice (account_id, doc_json, updated_at) VALUES ('a1', 'kein json', 0)")
        .run(),
    /CHECK|UNIQUE|constraint/i,
  );
  db.close();
});
