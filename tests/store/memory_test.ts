import assert from "node:assert/strict";
import {
  deleteMemory,
  getMemory,
  MAX_MEMORY_BYTES,
  saveMemory,
  StoreConflictError,
  StoreNotFoundError,
} from "../../store/mod.ts";
import { memoryStore, seedTenant, T0 } from "./_helpers.ts";

Deno.test("memory is versioned: a save based on a stale version is refused", () => {
  const { store } = memoryStore();
  const { account, person } = seedTenant(store, "A", "+4917000000001");
  const first = saveMemory(store, account.id, person.id, { facts: ["Lebt alleine"] }, 0);
  assert.equal(first.version, 1);
  assert.throws(() => saveMemory(store, account.id, person.id, { facts: [] }, 0), StoreConflictError);
  const second = saveMemory(store, account.id, person.id, { facts: ["Lebt alleine", "Hund Bello"] }, 1);
  assert.equal(second.version, 2);
  assert.throws(() => saveMemory(store, account.id, person.id, { facts: [] }, 1), /version 1 is stale/);
  assert.deepEqual(getMemory(store, account.id, person.id), {
    personId: person.id,
    accountId: account.id,
    memory: { facts: ["Lebt alleine", "Hund Bello"] },
    version: 2,
    updatedAt: T0,
  });
  assert.equal(deleteMemory(store, account.id, person.id), true);
  assert.equal(getMemory(store, account.id, person.id), undefined);
  store.close();
});

Deno.test("saveMemory refuses unknown people, non-objects and oversized documents", () => {
  const { store } = memoryStore();
  const { account, person } = seedTenant(store, "A", "+4917000000001");
  assert.throws(() => saveMemory(store, account.id, "nobody", {}, 0), StoreNotFoundError);
  assert.throws(
    () => saveMemory(store, account.id, person.id, [] as unknown as object as never, 0),
    /JSON object/,
  );
  const big = { facts: ["x".repeat(MAX_MEMORY_BYTES)] };
  assert.throws(() => saveMemory(store, account.id, person.id, big, 0), /larger than 65536 bytes/);
  assert.throws(() => saveMemory(store, account.id, person.id, {}, -1), /expectedVersion/);
  store.close();
});
