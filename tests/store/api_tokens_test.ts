// API tokens (store/api_tokens.ts): stored by hash, listed and deleted per account, resolved for enabled users,
// with a scope and an expiry (migration 7).
import assert from "node:assert/strict";
import {
  createUser,
  deleteApiToken,
  insertApiToken,
  listApiTokens,
  setUserDisabled,
  useApiToken,
} from "../../store/mod.ts";
import { memoryStore, seedTwoTenants, T0 } from "./_helpers.ts";

Deno.test("a token is listed in its account only, resolved by its hash, and marked as used", () => {
  const { store, clock } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  const user = createUser(store, a.account.id, {
    email: "admin@x.test",
    displayName: "Admin",
    role: "admin",
    passwordHash: "h",
  });
  const token = insertApiToken(store, a.account.id, {
    userId: user.id,
    name: "Export",
    tokenHash: "f".repeat(64),
    scope: "read",
    expiresAt: T0 + 86_400_000,
  });
  assert.deepEqual(listApiTokens(store, a.account.id), [token]);
  assert.deepEqual(token, {
    id: token.id,
    userId: user.id,
    name: "Export",
    scope: "read",
    createdAt: T0,
    expiresAt: T0 + 86_400_000,
    lastUsedAt: null,
  });
  assert.deepEqual(listApiTokens(store, b.account.id), []);
  clock.advance(1000);
  assert.deepEqual(useApiToken(store, "f".repeat(64)), {
    accountId: a.account.id,
    userId: user.id,
    scope: "read",
    expiresAt: T0 + 86_400_000,
    expired: false,
  });
  assert.equal(listApiTokens(store, a.account.id)[0].lastUsedAt, T0 + 1000);
  assert.equal(useApiToken(store, "e".repeat(64)), undefined);
  setUserDisabled(store, a.account.id, user.id, true);
  assert.equal(useApiToken(store, "f".repeat(64)), undefined, "a disabled user's token does not work");
  assert.equal(deleteApiToken(store, b.account.id, token.id), false, "account B cannot delete A's token");
  assert.equal(deleteApiToken(store, a.account.id, token.id), true);
  assert.deepEqual(listApiTokens(store, a.account.id), []);
  store.close();
});

Deno.test("an expired token is reported as expired and not marked as used; a scope outside the list is refused", () => {
  const { store, clock } = memoryStore();
  const { a } = seedTwoTenants(store);
  const user = createUser(store, a.account.id, {
    email: "admin@x.test",
    displayName: "Admin",
    role: "admin",
    passwordHash: "h",
  });
  insertApiToken(store, a.account.id, {
    userId: user.id,
    name: "Kurz",
    tokenHash: "a".repeat(64),
    scope: "requests",
    expiresAt: T0 + 1000,
  });
  clock.advance(1000);
  const used = useApiToken(store, "a".repeat(64));
  assert.equal(used?.expired, true);
  assert.equal(used?.scope, "requests");
  assert.equal(listApiTokens(store, a.account.id)[0].lastUsedAt, null, "an expired token is not 'used'");
  assert.throws(
    () =>
      insertApiToken(store, a.account.id, {
        userId: user.id,
        name: "X",
        tokenHash: "b".repeat(64),
        scope: "admin" as "full",
        expiresAt: T0,
      }),
    /scope/,
  );
  store.close();
});
