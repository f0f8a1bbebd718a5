import assert from "node:assert/strict";
import {
  appendAudit,
  createAccount,
  createUser,
  listAccessLog,
  listAudit,
  StoreNotFoundError,
} from "../../store/mod.ts";
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

Deno.test("a subject's access log is oldest first, paged by cursor, named from this account's users only", () => {
  const { store, clock } = memoryStore();
  const a = createAccount(store, { name: "A", kind: "clinical" });
  const b = createAccount(store, { name: "B", kind: "private" });
  const sam = createUser(store, a.id, {
    email: "s@a.test",
    displayName: "Sam",
    role: "staff",
    passwordHash: "x",
  });
  const bert = createUser(store, b.id, {
    email: "b@b.test",
    displayName: "Bert",
    role: "admin",
    passwordHash: "x",
  });
  const call = { subjectType: "call", subjectId: "c1" };
  appendAudit(store, a.id, { actorUserId: sam.id, action: "transcript.view", ...call });
  appendAudit(store, a.id, { actorUserId: sam.id, action: "recording.play", ...call });
  clock.advance(5);
  appendAudit(store, a.id, { actorUserId: bert.id, action: "person.export", ...call });
  appendAudit(store, a.id, {
    actorUserId: sam.id,
    action: "call.view",
    subjectType: "call",
    subjectId: "c2",
  });
  appendAudit(store, b.id, { actorUserId: bert.id, action: "transcript.view", ...call });
  const first = listAccessLog(store, a.id, { type: "call", id: "c1" }, { limit: 2 });
  const rest = listAccessLog(store, a.id, { type: "call", id: "c1" }, { limit: 2, after: first[1] });
  assert.deepEqual([...first, ...rest].map((e) => [e.action, e.actorName]), [
    ["transcript.view", "Sam"],
    ["recording.play", "Sam"],
    ["person.export", null],
  ]);
  store.close();
});
