/**
 * The appliance's own secrets (JWT key, log salt) are readable by TOM's user only: a 0600 file in a 0700
 * directory, also when the umask is permissive or an older version left them readable by others.
 */
import assert from "node:assert/strict";
import { loadOrCreateSecret } from "../../infra/secrets.ts";

const mode = (p: string) => (Deno.statSync(p).mode ?? 0) & 0o777;

Deno.test({
  name: "a generated secret is 0600 in a 0700 directory, and an old world-readable one is narrowed",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tom-secrets-" });
    const oldMask = Deno.umask(0);
    try {
      const fresh = loadOrCreateSecret(dataDir, "jwt.key");
      assert.ok(fresh.length >= 32);
      assert.equal(mode(`${dataDir}/secrets`), 0o700);
      assert.equal(mode(`${dataDir}/secrets/jwt.key`), 0o600);
      // An older version's files: another user on the box could read the salt and the signing key.
      Deno.chmodSync(`${dataDir}/secrets`, 0o755);
      Deno.writeTextFileSync(`${dataDir}/secrets/log.salt`, "x".repeat(40) + "\n", { mode: 0o644 });
      Deno.chmodSync(`${dataDir}/secrets/log.salt`, 0o644);
      assert.equal(loadOrCreateSecret(dataDir, "log.salt"), "x".repeat(40), "the existing secret is kept");
      assert.equal(mode(`${dataDir}/secrets`), 0o700);
      assert.equal(mode(`${dataDir}/secrets/log.salt`), 0o600);
    } finally {
      Deno.umask(oldMask);
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
