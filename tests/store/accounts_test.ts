import assert from "node:assert/strict";
import {
  appendAudit,
  createAccount,
  createUser,
  deleteAccount,
  getAccount,
  listAccounts,
  renameAccount,
  saveMemory,
} from "../../store/mod.ts";
import { memoryStore, seedTwoTenants } from "./_helpers.ts";

Deno.test("accounts are created, listed, renamed and validated", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "Praxis Weber", kind: "clinical" });
  assert.deepEqual(getAccount(store, account.id), account);
  assert.equal(renameAccount(store, account.id, "Praxis Dr. Weber"), true);
  assert.equal(renameAccount(store, "nope", "x"), false);
  assert.deepEqual(listAccounts(store).map((a) => a.name), ["Praxis Dr. Weber"]);
  assert.throws(
    () => createAccount(store, { name: " ", kind: "private" }),
    /name must be a non-empty string/,
  );
  assert.throws(
    () => createAccount(store, { name: "X", kind: "hospital" as "private" }),
    /kind must be one of/,
  );
  store.close();
});

Deno.test("deleting an account deletes all of its data and nothing of other accounts", () => {
  const { store } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  createUser(store, a.account.id, { email: "a@x.de", displayName: "A", role: "admin", passwordHash: "h" });
  saveMemory(store, a.account.id, a.person.id, { facts: [] }, 0);
  appendAudit(store, a.account.id, { actorUserId: null, action: "x", subjectType: "y" });
  assert.equal(deleteAccount(store, a.account.id), true);
  for (const table of ["users", "people", "calls", "memory_state", "audit_log"]) {
    const rows = store.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE account_id = ?`).get(
      a.account.id,
    );
    assert.equal((rows as { n: number }).n, 0, table);
  }
  assert.equal(listAccounts(store).length, 1);
  assert.equal(getAccount(store, b.account.id)?.name, "B");
  store.close();
});
