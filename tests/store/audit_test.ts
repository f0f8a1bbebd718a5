import assert from "node:assert/strict";
import { appendAudit, createAccount, listAudit, StoreNotFoundError } from "../../store/mod.ts";
import { memoryStore, T0 } from "./_helpers.ts";

Deno.test("audit entries are listed newest first, filtered by subject and paged by time", () => {
  const { store, clock } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "clinical" });
  const view = appendAudit(store, account.id, {
    actorUserId: "u1",
    action: "person.view",
    subjectType: "person",
    subjectId: "p1",
  });
  clock.advance(10);
  const edit = appendAudit(store, account.id, {
    actorUserId: "u1",
    action: "person.update",
    subjectType: "person",
    subjectId: "p1",
    detail: { fields: ["retentionDays"] },
  });
  appendAudit(store, account.id, { actorUserId: null, action: "retention.purge", subjectType: "account" });
  assert.deepEqual(listAudit(store, account.id, { subjectType: "person", subjectId: "p1" }), [edit, view]);
  assert.deepEqual(listAudit(store, account.id, { before: T0 + 10 }), [view]);
  assert.equal(listAudit(store, account.id, { limit: 1 })[0]?.action, "retention.purge");
  store.close();
});

Deno.test("the audit log is append-only", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "clinical" });
  const entry = appendAudit(store, account.id, {
    actorUserId: "u1",
    action: "person.view",
    subjectType: "person",
  });
  assert.throws(
    () => store.db.prepare("UPDATE audit_log SET action = 'nothing' WHERE id = ?").run(entry.id),
    /audit_log is append-only/,
  );
  store.close();
});

Deno.test("appendAudit refuses an unknown account and invalid input", () => {
  const { store } = memoryStore();
  assert.throws(
    () => appendAudit(store, "nope", { actorUserId: null, action: "x", subjectType: "y" }),
    StoreNotFoundError,
  );
  const account = createAccount(store, { name: "A", kind: "clinical" });
  assert.throws(
    () => appendAudit(store, account.id, { actorUserId: null, action: "", subjectType: "y" }),
    /action/,
  );
  store.close();
});
