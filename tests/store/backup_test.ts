// Online backup under a real write load from other processes, checks of damaged copies, and the
// "database in use" probe.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  backupDatabase,
  checkDatabaseFile,
  databaseInUse,
  transcriptKeyIdsOfFile,
} from "../../store/backup.ts";
import { appendTranscriptTurn, createAccount, createCall, MIGRATIONS, openStore } from "../../store/mod.ts";
import { bytes, seedTenant } from "./_helpers.ts";

const WRITER = new URL("./fixtures/writer.ts", import.meta.url).pathname;

/** A writer process of the crash test's fixture: calls with two transcript turns each, "ack ID" per commit. */
function startWriter(path: string, mode: "tx" | "queue", name: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", "--allow-write", "--allow-env", WRITER, path, mode, name],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const acks: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const reading = (async () => {
    let rest = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    ) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("ack ")) acks.push(line.slice(4));
      for (const w of waiters.filter((w) => acks.length >= w.n)) w.resolve();
    }
  })();
  const stderr = new Response(child.stderr).text();
  return {
    acks,
    /** Resolves once `n` writes are acknowledged; rejects when the writer dies first. */
    async until(n: number): Promise<void> {
      if (acks.length >= n) return;
      const reached = new Promise<void>((resolve) => waiters.push({ n, resolve }));
      const died = child.status.then(async (s) => {
        throw new Error(`writer ${name} exited (${s.code}) before ${n} acks: ${await stderr}`);
      });
      await Promise.race([reached, died]);
    },
    async stop(): Promise<void> {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone: status says so.
      }
      await child.status;
      await reading;
    },
  };
}

function count(db: DatabaseSync, sql: string, ...args: string[]): number {
  return (db.prepare(sql).get(...args) as { n: number }).n;
}

Deno.test("a backup taken while two processes write calls and transcripts is one consistent, intact snapshot", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_backup_" });
  const path = join(dir, "tom.db");
  const copy = join(dir, "copy.db");
  try {
    const warmup = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", WRITER, path, "warmup"] })
      .output();
    assert.equal(warmup.code, 0, new TextDecoder().decode(warmup.stderr));
    // Some bulk first (about 10 MB), so the copy takes a while as the writers go on.
    const seed = openStore(path);
    const account = createAccount(seed, { name: "Bulk", kind: "clinical" });
    seed.transaction(() => {
      for (let i = 0; i < 30_000; i++) {
        createCall(seed, account.id, { direction: "inbound", transport: "browser", externalId: `bulk-${i}` });
      }
    });
    seed.close();
    const bulk = 30_000;
    const writers = [startWriter(path, "tx", "tx"), startWriter(path, "queue", "queue")];
    let before: string[];
    let during: number[];
    let tookMs: number;
    try {
      await Promise.all(writers.map((w) => w.until(300)));
      before = writers.flatMap((w) => [...w.acks]);
      const started = writers.map((w) => w.acks.length);
      const t0 = performance.now();
      const made = await backupDatabase(path, copy);
      tookMs = performance.now() - t0;
      assert.equal(made.path, copy);
      assert.ok(made.pages > 0 && made.bytes % made.pages === 0, `${made.pages} pages, ${made.bytes} bytes`);
      // Both writers are still committing after the backup: the backup ran while they wrote.
      await Promise.all(writers.map((w, i) => w.until(started[i] + 100)));
      during = writers.map((w, i) => w.acks.length - started[i]);
    } finally {
      for (const w of writers) await w.stop();
    }
    console.log(
      `backup of ${Deno.statSync(copy).size} bytes in ${tookMs.toFixed(0)} ms; acks during and after it: ${
        during.join(", ")
      }`,
    );

    assert.deepEqual(checkDatabaseFile(copy).problems, []);
    const live = new DatabaseSync(path, { readOnly: true });
    const snap = new DatabaseSync(copy, { readOnly: true });
    try {
      assert.equal(
        (snap.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
        "delete",
      );
      assert.deepEqual(snap.prepare("PRAGMA integrity_check").all().map((r) => r.integrity_check), ["ok"]);
      assert.deepEqual(snap.prepare("PRAGMA foreign_key_check").all(), []);
      const calls = count(snap, "SELECT count(*) AS n FROM calls") - bulk;
      const liveCalls = count(live, "SELECT count(*) AS n FROM calls") - bulk;
      assert.ok(calls >= before.length, `snapshot has ${calls} calls, ${before.length} were acked before`);
      assert.ok(calls < liveCalls, `snapshot ${calls} calls, live database later ${liveCalls}`);
      console.log(
        `writers' calls: ${before.length} acked before the backup, ${calls} in it, ${liveCalls} at the end`,
      );
      const missing = before.filter((id) =>
        count(snap, "SELECT count(*) AS n FROM calls WHERE id = ?", id) !== 1
      );
      assert.deepEqual(missing, [], "every call acknowledged before the backup is in it");
      // Each call and its two turns were one transaction: a snapshot never holds half of one.
      const torn = count(
        snap,
        `SELECT count(*) AS n FROM calls c WHERE external_id IS NULL
           AND (SELECT count(*) FROM transcripts t WHERE t.call_id = c.id) <> 2`,
      );
      assert.equal(torn, 0, "calls without exactly two transcript turns");
    } finally {
      live.close();
      snap.close();
    }
    // Restoring is copying the file back: the store opens it, switches it to WAL and reads it.
    const restored = join(dir, "restored.db");
    Deno.copyFileSync(copy, restored);
    const store = openStore(restored);
    try {
      assert.deepEqual(store.appliedMigrations, []);
      assert.equal(
        (store.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
        "wal",
      );
      assert.ok(count(store.db, "SELECT count(*) AS n FROM transcripts") >= before.length * 2);
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function smallBackup(dir: string): Promise<string> {
  const store = openStore(join(dir, "tom.db"));
  const account = createAccount(store, { name: "Praxis", kind: "clinical" });
  for (let i = 0; i < 200; i++) createCall(store, account.id, { direction: "inbound", transport: "browser" });
  store.close();
  return (await backupDatabase(join(dir, "tom.db"), join(dir, "copy.db"))).path;
}

Deno.test("a copy with overwritten pages fails the check, naming integrity_check or the damage", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_backup_" });
  try {
    const copy = await smallBackup(dir);
    assert.deepEqual(checkDatabaseFile(copy).problems, []);
    const bytes = Deno.readFileSync(copy);
    // Garbage over the pages after the schema page: table and index b-trees.
    for (let i = 4096 * 2; i < bytes.length - 4096; i++) bytes[i] = (i * 131) & 0xff;
    Deno.writeFileSync(copy, bytes);
    const check = checkDatabaseFile(copy);
    assert.equal(check.problems.length, 1, check.problems.join("\n"));
    assert.match(check.problems[0], /integrity_check failed|malformed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a truncated copy and a file that is no database fail the check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_backup_" });
  try {
    const copy = await smallBackup(dir);
    Deno.truncateSync(copy, Math.floor(Deno.statSync(copy).size / 2));
    assert.notDeepEqual(checkDatabaseFile(copy).problems, []);
    Deno.writeTextFileSync(copy, "this is not a database, just text ".repeat(200));
    const check = checkDatabaseFile(copy);
    assert.match(check.problems.join("\n"), /not a database|not a readable SQLite database|cannot be opened/);
    assert.match(checkDatabaseFile(join(dir, "absent.db")).problems.join(), /does not exist/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a copy from a newer build (unknown schema version) fails the check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_backup_" });
  try {
    const copy = await smallBackup(dir);
    assert.equal(checkDatabaseFile(copy).schemaVersion, MIGRATIONS.length);
    const db = new DatabaseSync(copy);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)")
      .run(MIGRATIONS.length + 1);
    db.close();
    const check = checkDatabaseFile(copy);
    assert.equal(check.schemaVersion, MIGRATIONS.length + 1);
    assert.match(
      check.problems.join(),
      new RegExp(`schema version ${MIGRATIONS.length + 1} is newer than this build`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("backupDatabase refuses a missing source and an existing target", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_backup_" });
  try {
    await assert.rejects(backupDatabase(join(dir, "none.db"), join(dir, "c.db")), /no such database file/);
    const copy = await smallBackup(dir);
    await assert.rejects(backupDatabase(join(dir, "tom.db"), copy), /the file exists/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("databaseInUse sees another process that has the database open, and not a closed one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_backup_" });
  const path = join(dir, "tom.db");
  try {
    assert.equal(databaseInUse(path), false, "a missing file is not in use");
    const writer = startWriter(path, "tx", "holder");
    try {
      await writer.until(5);
      assert.equal(databaseInUse(path), true);
    } finally {
      await writer.stop();
    }
    // SIGKILL releases its locks; the probe (and nothing else) opens the crashed database.
    assert.equal(databaseInUse(path), false);
    openStore(path).close();
    assert.equal(databaseInUse(path), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("transcriptKeyIdsOfFile lists the transcript key ids of a file, none before the transcripts table", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom_keys_" });
  try {
    const empty = join(dir, "empty.db");
    new DatabaseSync(empty).close();
    assert.deepEqual(transcriptKeyIdsOfFile(empty), []);
    const path = join(dir, "tom.db");
    const store = openStore(path);
    const { account, call } = seedTenant(store, "A", "+4917000000001");
    const people = store.keyring.currentKeyId; // the person's name and number are sealed with it
    assert.deepEqual(transcriptKeyIdsOfFile(path), [people]);
    for (const [turnIndex, keyId] of [[0, "k1"], [1, "k1"], [2, "k2"]] as const) {
      const turn = { turnIndex, speaker: "caller" as const, ciphertext: bytes(1), iv: bytes(2), keyId };
      assert.ok(appendTranscriptTurn(store, account.id, { callId: call.id, ...turn }));
    }
    store.close();
    assert.deepEqual(transcriptKeyIdsOfFile(path).sort(), ["k1", "k2", people].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
