// A real full disk under a real `tom serve`: its data directory is a small tmpfs mounted for the test
// (needs root, i.e. CAP_SYS_ADMIN; ignored elsewhere), filled up with a file while TOM runs. The practice
// sees a German page that says the server's storage is full (not a bare 500), `/readyz` answers 503 with
// "database: disk full", and both recover as soon as there is room again, without a restart.
import assert from "node:assert/strict";
import { loadConfig } from "../../infra/config.ts";
import { databasePath } from "../../app/commands/migrate.ts";
import { createAccount, createUser, openStore } from "../../store/mod.ts";
import { hashPassword } from "../../ui/auth/password.ts";
import { Jar, login, startServe } from "./_serve.ts";

const PASSWORD = "geheim-und-lang-genug";

function sh(cmd: string, args: string[]): { ok: boolean; err: string } {
  const out = new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).outputSync();
  return { ok: out.success, err: new TextDecoder().decode(out.stderr) };
}

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN). */
function canMount(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const dir = Deno.makeTempDirSync({ prefix: "tom_mount_probe_" });
  try {
    return sh("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]).ok && sh("umount", [dir]).ok;
  } catch {
    return false;
  } finally {
    Deno.removeSync(dir);
  }
}

async function readiness(base: string): Promise<{ status: number; reasons: string[] }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, reasons: (await res.json()).reasons };
}

/** Write `path` until the file system says ENOSPC; returns the bytes written. */
function fill(path: string): number {
  const file = Deno.openSync(path, { write: true, createNew: true });
  let written = 0;
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
      const chunk = new Uint8Array(size);
      for (;;) {
        try {
          written += file.writeSync(chunk);
        } catch (e) {
          if (e instanceof Error && /no space left/i.test(e.message)) break;
          throw e;
        }
      }
    }
  } finally {
    file.close();
  }
  return written;
}

Deno.test({
  name: "with the data disk full, pages say so in German (507) and /readyz reports database: disk full",
  ignore: !canMount(),
  async fn() {
    const dataDir = Deno.makeTempDirSync({ prefix: "tom_disk_full_" });
    const mounted = sh("mount", ["-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", dataDir]);
    assert.ok(mounted.ok, mounted.err);
    let serve: Awaited<ReturnType<typeof startServe>> | undefined;
    try {
      const store = openStore(databasePath(loadConfig({ env: { TOM_DATA_DIR: dataDir } })));
      try {
        const account = createAccount(store, { name: "Praxis Dr. Weber", kind: "clinical" });
        createUser(store, account.id, {
          email: "admin@praxis.test",
          displayName: "Anna Admin",
          role: "admin",
          passwordHash: await hashPassword(PASSWORD),
        });
      } finally {
        store.close();
      }
      serve = await startServe(dataDir);
      const base = serve.base;
      const jar = new Jar();
      await login(base, jar, "admin@praxis.test", PASSWORD);
      const calls = () => fetch(`${base}/calls`, { headers: { cookie: jar.header() } });
      const before = await calls();
      assert.equal(before.status, 200, await before.text());
      assert.ok(!(await readiness(base)).reasons.some((r) => r.startsWith("database")));

      const filler = `${dataDir}/filler`;
      assert.ok(fill(filler) > 0);
      const full = await calls();
      const html = await full.text();
      assert.equal(full.status, 507, html.slice(0, 500));
      assert.match(html, /Der Speicher des TOM-Servers ist voll/);
      assert.match(html, /Bitte informieren Sie Ihre IT/);
      const ready = await readiness(base);
      assert.equal(ready.status, 503);
      assert.ok(ready.reasons.some((r) => r.startsWith("database: disk full")), ready.reasons.join("; "));

      Deno.removeSync(filler);
      const after = await calls();
      assert.equal(after.status, 200, "the page works again once there is room");
      await after.body?.cancel();
      assert.ok(!(await readiness(base)).reasons.some((r) => r.startsWith("database")));
    } finally {
      try {
        Deno.removeSync(`${dataDir}/filler`);
      } catch { /* removed above */ }
      await serve?.stop();
      await serve?.stderr;
      const unmounted = sh("umount", [dataDir]);
      if (!unmounted.ok) sh("umount", ["-l", dataDir]);
      Deno.removeSync(dataDir, { recursive: true });
    }
  },
});
