import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createAccount, listAccounts, openStore, useNonce } from "../../store/mod.ts";
import { memoryStore, T0 } from "./_helpers.ts";

async function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tom_store_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function pragma(db: DatabaseSync, name: string): unknown {
  return Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0];
}

Deno.test("openStore creates parent directories and a 0600 file in WAL mode with foreign keys on", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/nested/deeper/tom.db`;
    const store = openStore(path);
    assert.equal(pragma(store.db, "journal_mode"), "wal");
    assert.equal(pragma(store.db, "foreign_keys"), 1);
    assert.equal(pragma(store.db, "busy_timeout"), 5000);
    assert.equal(pragma(store.db, "synchronous"), 2); // FULL
    createAccount(store, { name: "A", kind: "private" });
    if (Deno.build.os !== "windows") {
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        assert.equal((Deno.statSync(file).mode ?? 0) & 0o777, 0o600, file);
      }
    }
    store.close();
  });
});

Deno.test("openStore accepts synchronous NORMAL and a custom busy timeout", async () => {
  await withTempDir((dir) => {
    const store = openStore(`${dir}/tom.db`, { synchronous: "NORMAL", busyTimeoutMs: 250 });
    assert.equal(pragma(store.db, "synchronous"), 1);
    assert.equal(pragma(store.db, "busy_timeout"), 250);
    store.close();
  });
});

Deno.test("openStore rejects invalid options with a clear error", () => {
  assert.throws(
    () => openStore(":memory:", { busyTimeoutMs: -1 }),
    /busyTimeoutMs must be a non-negative integer/,
  );
  assert.throws(
    () => openStore(":memory:", { synchronous: "OFF" as "FULL" }),
    /synchronous must be FULL or NORMAL, got OFF/,
  );
  assert.throws(() => openStore(":memory:", { maxBatch: 0 }), /maxBatch must be a positive integer/);
});

Deno.test("an in-memory store works and uses the injected clock and ids", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "Praxis", kind: "clinical" });
  assert.equal(account.createdAt, T0);
  assert.equal(account.id, "00000000-0000-4000-8000-000000000001");
  store.close();
});

Deno.test("transaction commits on return and rolls back everything on throw", () => {
  const { store } = memoryStore();
  store.transaction(() => createAccount(store, { name: "kept", kind: "private" }));
  assert.throws(
    () =>
      store.transaction(() => {
        createAccount(store, { name: "lost", kind: "private" });
        assert.equal(store.inTransaction, true);
        throw new Error("boom");
      }),
    /boom/,
  );
  assert.equal(store.inTransaction, false);
  assert.equal(store.db.isTransaction, false);
  assert.deepEqual(listAccounts(store).map((a) => a.name), ["kept"]);
  store.close();
});

Deno.test("a nested transaction that throws undoes only its own work", () => {
  const { store } = memoryStore();
  store.transaction(() => {
    createAccount(store, { name: "outer", kind: "private" });
    assert.throws(() =>
      store.transaction(() => {
        createAccount(store, { name: "inner", kind: "private" });
        throw new Error("inner failed");
      })
    );
    store.transaction(() => createAccount(store, { name: "inner ok", kind: "private" }));
  });
  assert.deepEqual(listAccounts(store).map((a) => a.name).sort(), ["inner ok", "outer"]);
  store.close();
});

Deno.test("transaction refuses an async callback and rolls its synchronous part back", () => {
  const { store } = memoryStore();
  assert.throws(
    () =>
      store.transaction(async () => {
        createAccount(store, { name: "before await", kind: "private" });
        await Promise.resolve();
      }),
    /Cannot run an async function in Store.transaction/,
  );
  assert.equal(store.db.isTransaction, false);
  assert.deepEqual(listAccounts(store), []);
  store.close();
});

Deno.test("write batches queued writes, rejects a failing one alone and resolves after commit", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/tom.db`;
    const store = openStore(path);
    const ok = Array.from(
      { length: 50 },
      (_, i) => store.write(() => useNonce(store, `n${i}`, "c", T0 + 1, T0)),
    );
    const bad = store.write(() => {
      useNonce(store, "undone", "c", T0 + 1, T0);
      throw new Error("job failed");
    });
    assert.deepEqual(await Promise.all(ok), Array(50).fill(true));
    await assert.rejects(bad, /job failed/);
    // A second connection sees every acknowledged write, and not the failed job's partial work.
    const other = new DatabaseSync(path);
    assert.equal((other.prepare("SELECT count(*) AS n FROM nonces").get() as { n: number }).n, 50);
    assert.equal(other.prepare("SELECT 1 FROM nonces WHERE nonce = 'undone'").get(), undefined);
    other.close();
    store.close();
  });
});

Deno.test("close flushes queued writes, truncates the WAL and is safe to call twice", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/tom.db`;
    const store = openStore(path);
    const pending = store.write(() => createAccount(store, { name: "queued", kind: "private" }));
    store.close();
    store.close();
    // The last connection checkpointed everything into the main file and removed (or emptied) the WAL.
    const wal = (() => {
      try {
        return Deno.statSync(`${path}-wal`).size;
      } catch {
        return 0;
      }
    })();
    assert.equal(wal, 0);
    assert.throws(() => store.transaction(() => 1), /is closed/);
    const reopened = openStore(path);
    assert.deepEqual(listAccounts(reopened).map((a) => a.name), ["queued"]);
    reopened.close();
    return pending.then(() => {});
  });
});

Deno.test("close inside a transaction is refused", () => {
  const { store } = memoryStore();
  store.transaction(() => assert.throws(() => store.close(), /inside a transaction/));
  store.close();
});

Deno.test("phoneHash is a salted SHA-256: stable per store, different between installations", () => {
  const one = memoryStore().store;
  const two = memoryStore().store;
  const hash = one.phoneHash("+4917012345678");
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(one.phoneHash("+4917012345678"), hash);
  assert.notEqual(two.phoneHash("+4917012345678"), hash);
  one.close();
  two.close();
});
