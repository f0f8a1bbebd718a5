// `tom backup` and `tom restore`: what the folder holds, its modes, verification of damaged copies, and
// restore refusing while a real `tom serve` (or any process holding the database) runs.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type Config, loadConfig } from "../../../infra/config.ts";
import { backupMain, type BackupManifest, restoreMain } from "../../../app/commands/backup.ts";
import { databasePath } from "../../../app/commands/migrate.ts";
import { loadOrCreateSecret } from "../../../infra/secrets.ts";
import { readTranscript, storeTranscriptTurn, TranscriptKeyring } from "../../../store/crypto/mod.ts";
import {
  createAccount,
  createCall,
  createPerson,
  erasePerson,
  findPersonByPhone,
  getPerson,
  openStore,
  readErasures,
} from "../../../store/mod.ts";
import { cleanEnv, freePort, MAIN, ROOT } from "../../_helpers.ts";

const TEXTS = ["Guten Tag, hier ist die Praxis.", "Ich brauche einen Termin.", "Gern, am Dienstag?"];

function configFor(dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig({ env: { TOM_DATA_DIR: dataDir, TOM_HTTP_PORT: String(freePort()), ...env } });
}

const keyFileOf = (c: Config) => c.ui.transcriptKeyFile || join(c.dataDir, "secrets", "transcripts.key");

/** A data dir with a call whose transcript is encrypted under two keys (one retired by a rotation). */
async function seed(config: Config): Promise<{ accountId: string; callId: string }> {
  // The configured key file, as tom serve opens it: people's names and numbers are sealed with it.
  const store = openStore(databasePath(config), { keyFile: keyFileOf(config) });
  try {
    const account = createAccount(store, { name: "Praxis Dr. Weber", kind: "clinical" });
    const person = createPerson(store, account.id, {
      kind: "patient",
      displayName: "Hans Müller",
      phoneE164: "+4917012345678",
      consentTranscript: true,
    });
    const call = createCall(store, account.id, {
      direction: "inbound",
      transport: "browser",
      personId: person.id,
    });
    const keyring = await TranscriptKeyring.open(keyFileOf(config));
    for (const [i, text] of TEXTS.entries()) {
      if (i === 2) await keyring.rotate();
      await storeTranscriptTurn(store, keyring, account.id, {
        callId: call.id,
        turnIndex: i,
        speaker: i % 2 === 0 ? "assistant" : "caller",
        text,
      });
    }
    loadOrCreateSecret(config.dataDir, "jwt.key", 32);
    loadOrCreateSecret(config.dataDir, "log.salt", 32);
    return { accountId: account.id, callId: call.id };
  } finally {
    store.close();
  }
}

/** Runs `fn` with console.log/console.error captured. */
async function captured(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await fn();
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const mode = (path: string) => (Deno.statSync(path).mode ?? 0) & 0o777;
const sha256 = (path: string) => createHash("sha256").update(Deno.readFileSync(path)).digest("hex");
const readManifest = (dir: string): BackupManifest =>
  JSON.parse(Deno.readTextFileSync(join(dir, "manifest.json")));

function rewriteManifest(dir: string, edit: (m: BackupManifest) => void): void {
  const m = readManifest(dir);
  edit(m);
  for (const f of m.files) {
    f.bytes = Deno.statSync(join(dir, f.path)).size;
    f.sha256 = sha256(join(dir, f.path));
  }
  Deno.writeTextFileSync(join(dir, "manifest.json"), JSON.stringify(m));
}

async function withDirs(fn: (root: string, config: Config) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "tom_backup_cmd_" });
  try {
    await fn(root, configFor(join(root, "data")));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("tom backup writes tom.db, the secrets (0700/0600) and a manifest; restore brings transcripts back readable", async () => {
  await withDirs(async (root, config) => {
    const { accountId, callId } = await seed(config);
    const out = join(root, "backup");
    const made = await captured(() => backupMain(config, { output: out }));
    assert.equal(made.code, 0, made.err);
    assert.match(
      made.out,
      /Backup written to .*backup: tom\.db \(\d+ bytes, schema version \d+\) and \d+ key files/,
    );

    const m = readManifest(out);
    assert.equal(m.format, "tom-backup");
    assert.ok(m.schemaVersion >= 1);
    assert.ok(!Number.isNaN(Date.parse(m.createdAt)));
    const paths = m.files.map((f) => f.path);
    for (const p of ["tom.db", "secrets/transcripts.key", "secrets/jwt.key", "secrets/log.salt"]) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(", ")}`);
    }
    assert.ok(paths.some((p) => p.startsWith("secrets/transcripts.key.retired/")), "the retired key too");
    for (const f of m.files) {
      assert.equal(sha256(join(out, f.path)), f.sha256, f.path);
      assert.equal(mode(join(out, f.path)), 0o600, f.path);
    }
    for (const d of [out, join(out, "secrets"), join(out, "secrets", "transcripts.key.retired")]) {
      assert.equal(mode(d), 0o700, d);
    }
    assert.equal(mode(join(out, "manifest.json")), 0o600);
    assert.deepEqual(
      [...Deno.readDirSync(root)].map((e) => e.name).sort(),
      ["backup", "data"],
      "no leftovers",
    );

    const verified = await captured(() => backupMain(config, { verify: out }));
    assert.equal(verified.code, 0, verified.err);
    assert.match(verified.out, /is good: .*integrity_check ok/);

    // A new box: empty data dir, restore, then the transcript decrypts with the restored keys.
    const fresh = configFor(join(root, "fresh"));
    const restored = await captured(() => restoreMain(fresh, [out]));
    assert.equal(restored.code, 0, restored.err);
    assert.equal(mode(join(fresh.dataDir, "secrets")), 0o700);
    assert.equal(mode(join(fresh.dataDir, "tom.db")), 0o600);
    const store = openStore(databasePath(fresh));
    try {
      const keyring = await TranscriptKeyring.open(join(fresh.dataDir, "secrets", "transcripts.key"));
      const turns = await readTranscript(store, keyring, accountId, callId);
      assert.deepEqual(turns.map((t) => t.text), TEXTS);
    } finally {
      store.close();
    }
    assert.equal(
      Deno.readTextFileSync(join(fresh.dataDir, "secrets", "jwt.key")),
      Deno.readTextFileSync(join(config.dataDir, "secrets", "jwt.key")),
    );
  });
});

Deno.test("a damaged backup is refused by --verify and by restore, which leaves the data dir as it was", async () => {
  await withDirs(async (root, config) => {
    await seed(config);
    const out = join(root, "backup");
    assert.equal((await captured(() => backupMain(config, { output: out }))).code, 0);
    const before = sha256(databasePath(config));

    // A flipped byte: the SHA-256 in the manifest no longer matches.
    const bytes = Deno.readFileSync(join(out, "tom.db"));
    bytes[bytes.length - 100] ^= 0xff;
    Deno.writeFileSync(join(out, "tom.db"), bytes);
    const flipped = await captured(() => backupMain(config, { verify: out }));
    assert.equal(flipped.code, 1);
    assert.match(
      flipped.err,
      /failed verification:\n {2}- tom\.db does not match its SHA-256 in manifest\.json/,
    );

    // Damage that was there before the manifest was written: SQLite's own check catches it.
    for (let i = 4096 * 2; i < bytes.length - 4096; i++) bytes[i] = (i * 131) & 0xff;
    Deno.writeFileSync(join(out, "tom.db"), bytes);
    rewriteManifest(out, () => {});
    const corrupt = await captured(() => restoreMain(config, [out]));
    assert.equal(corrupt.code, 1);
    assert.match(
      corrupt.err,
      /Cannot restore: the backup in .* failed verification:\n {2}- tom\.db: .*(integrity_check failed|malformed)/,
    );
    assert.equal(sha256(databasePath(config)), before, "the data dir's database is untouched");
    assert.deepEqual(
      [...Deno.readDirSync(config.dataDir)].map((e) => e.name).filter((n) => n.includes("restore")),
      [],
      "no temporary or kept files",
    );
  });
});

Deno.test("a backup without the key its transcripts need fails verification and names the key", async () => {
  await withDirs(async (root, config) => {
    await seed(config);
    const out = join(root, "backup");
    assert.equal((await captured(() => backupMain(config, { output: out }))).code, 0);
    Deno.removeSync(join(out, "secrets", "transcripts.key.retired"), { recursive: true });
    rewriteManifest(out, (m) => (m.files = m.files.filter((f) => !f.path.includes(".retired/"))));
    const r = await captured(() => backupMain(config, { verify: out }));
    assert.equal(r.code, 1);
    assert.match(r.err, /transcripts use key k[0-9a-f]{16}, which the backup does not contain/);
  });
});

Deno.test("restore refuses while a real tom serve runs on the configured port, and restores after it stopped", async () => {
  await withDirs(async (root, config) => {
    await seed(config);
    const out = join(root, "backup");
    assert.equal((await captured(() => backupMain(config, { output: out }))).code, 0);
    const port = config.http.port;
    const serve = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "serve"],
      cwd: ROOT,
      clearEnv: true,
      env: cleanEnv({
        TOM_DATA_DIR: config.dataDir,
        TOM_HTTP_PORT: String(port),
        TOM_AUDIOSOCKET_PORT: String(freePort()),
        TOM_MANAGE_ENGINES: "false",
        TOM_STT_KIND: "none",
        TOM_LLM_KIND: "none",
        TOM_TTS_KIND: "none",
        TOM_ANSWER: "echo",
        TOM_RL_ANALYSIS: "false",
      }),
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(serve.stderr).text();
    try {
      let up = false;
      for (let i = 0; i < 600 && !up; i++) {
        up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          async (r) => (await r.body?.cancel(), r.ok),
          () => false,
        );
        if (!up) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(up, "tom serve did not answer /healthz");
      const refused = await captured(() => restoreMain(config, [out]));
      assert.equal(refused.code, 1);
      assert.match(
        refused.err,
        new RegExp(
          `Cannot restore while TOM is running: TOM \\S+ answers at http://127\\.0\\.0\\.1:${port}/healthz`,
        ),
      );
      // A backup is fine while it runs.
      assert.equal((await captured(() => backupMain(config, { output: join(root, "live") }))).code, 0);
    } finally {
      serve.kill("SIGTERM");
      const status = await serve.status;
      const log = await stderr;
      assert.equal(status.code, 0, log);
    }
    const restored = await captured(() => restoreMain(config, [out]));
    assert.equal(restored.code, 0, restored.err);
    assert.match(restored.out, /Replaced files were kept:\n {2}.*tom\.db\.before-restore-\d{8}T\d{6}Z/);
  });
});

Deno.test("restore refuses while another process has the database open, even with nothing on the HTTP port", async () => {
  await withDirs(async (root, config) => {
    await seed(config);
    const out = join(root, "backup");
    assert.equal((await captured(() => backupMain(config, { output: out }))).code, 0);
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(ROOT, "tests/store/fixtures/writer.ts"),
        databasePath(config),
        "tx",
        "holder",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = holder.stdout.getReader();
      await reader.read(); // the first acknowledged write: it has the database open
      reader.releaseLock();
      const r = await captured(() => restoreMain(config, [out]));
      assert.equal(r.code, 1);
      assert.match(r.err, /Cannot restore while TOM is running: another process has .*tom\.db open/);
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
      await holder.stdout.cancel().catch(() => {});
    }
  });
});

Deno.test("a backup folder outside the write sandbox is refused with a message saying where to write", async () => {
  await withDirs(async (_root, config) => {
    await seed(config);
    const elsewhere = await Deno.makeTempDir({ prefix: "tom_backup_out_" });
    try {
      const script = `import { loadConfig } from ${JSON.stringify(join(ROOT, "infra/config.ts"))};
import { backupMain } from ${JSON.stringify(join(ROOT, "app/commands/backup.ts"))};
Deno.exit(await backupMain(loadConfig(), { output: Deno.args[0] }));`;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          "--allow-read",
          "--allow-env",
          `--allow-write=${config.dataDir}`,
          "-",
          join(elsewhere, "b"),
        ],
        cwd: ROOT,
        clearEnv: true,
        env: cleanEnv({ TOM_DATA_DIR: config.dataDir }),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(script));
      await w.close();
      const res = await child.output();
      const err = new TextDecoder().decode(res.stderr);
      assert.equal(res.code, 1, err);
      assert.match(err, /may write only to the data directory .* Back up to a folder under /);
      assert.deepEqual([...Deno.readDirSync(elsewhere)], []);
    } finally {
      await Deno.remove(elsewhere, { recursive: true });
    }
  });
});

Deno.test("backup and restore arguments: exactly one of --output/--verify, exactly one folder", async () => {
  await withDirs(async (root, config) => {
    assert.equal((await captured(() => backupMain(config, {}))).code, 2);
    assert.equal((await captured(() => backupMain(config, { output: root, verify: root }))).code, 2);
    assert.equal((await captured(() => restoreMain(config, []))).code, 2);
    assert.equal((await captured(() => restoreMain(config, ["a", "b"]))).code, 2);
    const none = await captured(() => backupMain(config, { output: join(root, "b") }));
    assert.equal(none.code, 1);
    assert.match(none.err, /Cannot back up .*tom\.db: no such database file/);
    const notBackup = await captured(() => backupMain(config, { verify: root }));
    assert.equal(notBackup.code, 1);
    assert.match(notBackup.err, /manifest\.json cannot be read/);
  });
});

Deno.test("a transcript key file outside the data dir (TOM_UI_TRANSCRIPT_KEY_FILE) is backed up and restored to the configured place", async () => {
  await withDirs(async (root) => {
    const config = configFor(join(root, "data"), { TOM_UI_TRANSCRIPT_KEY_FILE: join(root, "keys", "t.key") });
    const { accountId, callId } = await seed(config);
    const out = join(root, "backup");
    assert.equal((await captured(() => backupMain(config, { output: out }))).code, 0);
    const m = readManifest(out);
    assert.equal(m.transcriptKey, "transcript-key/t.key");
    assert.ok(m.files.some((f) => f.path.startsWith("transcript-key/t.key.retired/")));
    assert.equal((await captured(() => backupMain(config, { verify: out }))).code, 0);

    const fresh = configFor(join(root, "fresh"), {
      TOM_UI_TRANSCRIPT_KEY_FILE: join(root, "keys2", "x.key"),
    });
    const r = await captured(() => restoreMain(fresh, [out]));
    assert.equal(r.code, 0, r.err);
    assert.equal(mode(join(root, "keys2", "x.key")), 0o600);
    const store = openStore(databasePath(fresh));
    try {
      const keyring = await TranscriptKeyring.open(keyFileOf(fresh));
      assert.deepEqual((await readTranscript(store, keyring, accountId, callId)).map((t) => t.text), TEXTS);
    } finally {
      store.close();
    }
  });
});

Deno.test("backup, erase, restore the old backup: tom restore erases the person again from the erasure log", async () => {
  await withDirs(async (root, config) => {
    const { accountId } = await seed(config);
    const store = openStore(databasePath(config), { keyFile: keyFileOf(config) });
    const person = createPerson(store, accountId, {
      kind: "patient",
      displayName: "Erika Gelöscht",
      phoneE164: "+4917099999999",
      notes: "Asthma",
    });
    store.close();
    const out = join(root, "before-erasure");
    assert.equal((await captured(() => backupMain(config, { output: out }))).code, 0);
    const live = openStore(databasePath(config), { keyFile: keyFileOf(config) });
    assert.ok(erasePerson(live, accountId, person.id));
    live.close();

    const restored = await captured(() => restoreMain(config, [out]));
    assert.equal(restored.code, 0, restored.err);
    assert.match(restored.out, /Erased again from the erasure log: 1 person/);
    const after = openStore(databasePath(config), { keyFile: keyFileOf(config) });
    try {
      assert.equal(
        getPerson(after, accountId, person.id),
        undefined,
        "the old backup did not bring her back",
      );
      assert.equal(findPersonByPhone(after, accountId, "+4917099999999"), undefined);
      assert.equal(readErasures(after.path).length, 1, "the log survived the restore");
    } finally {
      after.close();
    }
  });
});
