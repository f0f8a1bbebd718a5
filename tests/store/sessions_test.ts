// Login sessions (store/sessions.ts): live only until they expire and while their user is enabled.
import assert from "node:assert/strict";
import {
  createUser,
  deleteSession,
  deleteUserSessions,
  findLiveSession,
  insertSession,
  purgeExpiredSessions,
  setUserDisabled,
  touchSession,
} from "../../store/mod.ts";
import { memoryStore, seedTwoTenants, T0 } from "./_helpers.ts";

const HASH_A = "a".repeat(64);
const HASH_B = "b".repeat(64);

function seed() {
  const { store, clock } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  const user = (accountId: string) =>
    createUser(store, accountId, {
      email: "admin@x.test",
      displayName: "Admin",
      role: "admin",
      passwordHash: "h",
    });
  const ua = user(a.account.id);
  const ub = user(b.account.id);
  insertSession(store, {
    idHash: HASH_A,
    accountId: a.account.id,
    userId: ua.id,
    createdAt: T0,
    expiresAt: T0 + 1000,
  });
  insertSession(store, {
    idHash: HASH_B,
    accountId: b.account.id,
    userId: ub.id,
    createdAt: T0,
    expiresAt: T0 + 5000,
  });
  return { store, clock, a, b, ua, ub };
}

Deno.test("a session is live until it expires and while its user is enabled", () => {
  const { store, a, ua } = seed();
  assert.deepEqual(findLiveSession(store, HASH_A, T0), {
    idHash: HASH_A,
    accountId: a.account.id,
    userId: ua.id,
    createdAt: T0,
    expiresAt: T0 + 1000,
    lastSeenAt: T0,
  });
  assert.equal(findLiveSession(store, HASH_A, T0 + 1000), undefined, "expired");
  assert.equal(findLiveSession(store, "c".repeat(64), T0), undefined, "unknown");
  touchSession(store, HASH_A, T0 + 500);
  assert.equal(findLiveSession(store, HASH_A, T0 + 600)?.lastSeenAt, T0 + 500);
  setUserDisabled(store, a.account.id, ua.id, true);
  assert.equal(findLiveSession(store, HASH_A, T0), undefined, "disabled user");
  store.close();
});

Deno.test("sessions are deleted one by one, per user of an account, and when expired", () => {
  const { store, a, b, ua, ub } = seed();
  assert.equal(deleteUserSessions(store, b.account.id, ua.id), 0, "account B cannot end A's sessions");
  assert.equal(deleteUserSessions(store, a.account.id, ua.id), 1);
  assert.equal(findLiveSession(store, HASH_A, T0), undefined);
  assert.equal(purgeExpiredSessions(store, T0 + 4999), 0);
  assert.ok(findLiveSession(store, HASH_B, T0));
  deleteSession(store, HASH_B);
  assert.equal(findLiveSession(store, HASH_B, T0), undefined);
  insertSession(store, {
    idHash: HASH_B,
    accountId: b.account.id,
    userId: ub.id,
    createdAt: T0,
    expiresAt: T0 + 10,
  });
  assert.equal(purgeExpiredSessions(store, T0 + 10), 1);
  store.close();
});
