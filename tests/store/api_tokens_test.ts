// API tokens (store/api_tokens.ts): stored by hash, listed and deleted per account, resolved for enabled users.
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
  });
  assert.deepEqual(listApiTokens(store, a.account.id), [token]);
  assert.deepEqual(token, { id: token.id, userId: user.id, name: "Export", createdAt: T0, lastUsedAt: null });
  assert.deepEqual(listApiTokens(store, b.account.id), []);
  clock.advance(1000);
  assert.deepEqual(useApiToken(store, "f".repeat(64)), { accountId: a.account.id, userId: user.id });
  assert.equal(listApiTokens(store, a.account.id)[0].lastUsedAt, T0 + 1000);
  assert.equal(useApiToken(store, "e".repeat(64)), undefined);
  setUserDisabled(store, a.account.id, user.id, true);
  assert.equal(useApiToken(store, "f".repeat(64)), undefined, "a disabled user's token does not work");
  assert.equal(deleteApiToken(store, b.account.id, token.id), false, "account B cannot delete A's token");
  assert.equal(deleteApiToken(store, a.account.id, token.id), true);
  assert.deepEqual(listApiTokens(store, a.account.id), []);
  store.close();
});
