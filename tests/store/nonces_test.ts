import assert from "node:assert/strict";
import { purgeExpiredNonces, useNonce } from "../../store/mod.ts";
import { memoryStore, T0 } from "./_helpers.ts";

Deno.test("a nonce is accepted once and refused on every replay until it expires", () => {
  const { store } = memoryStore();
  const exp = T0 + 3_600_000;
  assert.equal(useNonce(store, "n-1", "call-1", exp, T0), true);
  assert.equal(useNonce(store, "n-1", "call-1", exp, T0 + 1), false);
  assert.equal(useNonce(store, "n-1", "call-2", exp, T0 + 2), false);
  assert.equal(useNonce(store, "n-2", "call-1", exp, T0), true);
  store.close();
});

Deno.test("an expired nonce is refused even if it was never seen", () => {
  const { store } = memoryStore();
  assert.equal(useNonce(store, "late", "call-1", T0, T0), false);
  assert.equal(useNonce(store, "late", "call-1", T0 - 1, T0), false);
  store.close();
});

Deno.test("purgeExpiredNonces deletes only expired nonces, and a purged nonce stays refused by its expiry", () => {
  const { store } = memoryStore();
  useNonce(store, "old", "c", T0 + 10, T0);
  useNonce(store, "new", "c", T0 + 1000, T0);
  assert.equal(purgeExpiredNonces(store, T0 + 10), 1);
  assert.equal(purgeExpiredNonces(store, T0 + 10), 0);
  assert.equal(useNonce(store, "new", "c", T0 + 1000, T0 + 20), false);
  assert.equal(useNonce(store, "old", "c", T0 + 10, T0 + 20), false);
  store.close();
});

Deno.test("useNonce rejects an empty nonce or a non-integer expiry", () => {
  const { store } = memoryStore();
  assert.throws(() => useNonce(store, "", "c", T0 + 1, T0), /nonce must be a non-empty string/);
  assert.throws(() => useNonce(store, "n", "c", Number.NaN, T0), /expiresAt must be an integer/);
  store.close();
});
