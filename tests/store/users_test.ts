import assert from "node:assert/strict";
import {
  anyUserExists,
  createAccount,
  createUser,
  getPasswordHash,
  listUsers,
  setPasswordHash,
  setUserDisabled,
  StoreConflictError,
  StoreNotFoundError,
} from "../../store/mod.ts";
import { memoryStore } from "./_helpers.ts";

Deno.test("an email is unique per account, case-insensitively", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "private" });
  createUser(store, account.id, {
    email: "anna@x.de",
    displayName: "Anna",
    role: "admin",
    passwordHash: "h",
  });
  assert.throws(
    () =>
      createUser(store, account.id, {
        email: "ANNA@x.de",
        displayName: "A2",
        role: "staff",
        passwordHash: "h",
      }),
    StoreConflictError,
  );
  store.close();
});

Deno.test("createUser validates email, role, hash and the account", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "private" });
  const base = { email: "a@x.de", displayName: "A", role: "staff" as const, passwordHash: "h" };
  assert.throws(
    () => createUser(store, account.id, { ...base, email: "no-at" }),
    /email must look like name@host/,
  );
  assert.throws(
    () => createUser(store, account.id, { ...base, role: "root" as "staff" }),
    /role must be one of/,
  );
  assert.throws(() => createUser(store, account.id, { ...base, passwordHash: "" }), /passwordHash/);
  assert.throws(() => createUser(store, "nope", base), StoreNotFoundError);
  store.close();
});

Deno.test("a disabled user has no password hash for login; the hash can be replaced", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "private" });
  const user = createUser(store, account.id, {
    email: "a@x.de",
    displayName: "A",
    role: "staff",
    passwordHash: "h1",
  });
  assert.equal(setPasswordHash(store, account.id, user.id, "h2"), true);
  assert.equal(getPasswordHash(store, account.id, user.id), "h2");
  assert.equal(setUserDisabled(store, account.id, user.id, true), true);
  assert.equal(getPasswordHash(store, account.id, user.id), undefined);
  assert.equal(listUsers(store, account.id)[0]?.disabled, true);
  assert.ok(!("passwordHash" in (listUsers(store, account.id)[0] ?? {})));
  store.close();
});

Deno.test("anyUserExists is false until the first user of any account is created", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "Praxis", kind: "clinical" });
  assert.equal(anyUserExists(store), false);
  createUser(store, account.id, { email: "a@x.test", displayName: "A", role: "admin", passwordHash: "h" });
  assert.equal(anyUserExists(store), true);
  store.close();
});
