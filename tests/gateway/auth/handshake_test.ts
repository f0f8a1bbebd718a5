import assert from "node:assert/strict";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { type Config, loadConfig } from "../../../infra/config.ts";
import { applianceHmacKey } from "../../../app/commands/token.ts";
import { openStore, type Store } from "../../../store/mod.ts";
import { mintCallToken } from "../../../gateway/auth/token.ts";
import {
  createAuthenticator,
  loadVerificationKeys,
  tokenFromRequest,
} from "../../../gateway/auth/handshake.ts";

const T0 = Date.UTC(2026, 10, 21, 12);

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function config(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({ env: { TOM_DATA_DIR: dir, ...env }, cwd: dir });
}

function request(path: string, headers: Record<string, string> = {}): Request {
  return new Request(`http://127.0.0.1:8080${path}`, { headers: { Host: "127.0.0.1:8080", ...headers } });
}

function nonceCount(store: Store): number {
  return (store.db.prepare("SELECT COUNT(*) AS n FROM nonces").get() as { n: number }).n;
}

Deno.test("the token comes from Authorization: Bearer first, else from ?token=", () => {
  assert.equal(tokenFromRequest(request("/x?token=q", { Authorization: "Bearer h" })), "h");
  assert.equal(tokenFromRequest(request("/x?token=q", { Authorization: "bearer  h2 " })), "h2");
  assert.equal(tokenFromRequest(request("/x?token=q", { Authorization: "Basic abc" })), "q");
  assert.equal(tokenFromRequest(request("/x?token=")), undefined);
  assert.equal(tokenFromRequest(request("/x")), undefined);
});

Deno.test("the gateway verifies with the same HS256 key `tom token` signs with", async () => {
  await withDir(async (dir) => {
    const c = config(dir);
    const keys = await loadVerificationKeys(c);
    assert.deepEqual(keys.hmac, applianceHmacKey(c));
    const store = openStore(":memory:");
    try {
      const auth = createAuthenticator(c, store, keys);
      const token = await mintCallToken(applianceHmacKey(c), { callId: "k1" });
      const r = await auth.authenticate(request(`/ws/stream/k1?token=${token}`), "k1", "127.0.0.1");
      assert.ok(r.ok && !r.bypass && r.claims.call_id === "k1");
    } finally {
      store.close();
    }
  });
});

Deno.test("a configured maximum lifetime below 1 h is enforced", async () => {
  await withDir(async (dir) => {
    const c = config(dir, { TOM_JWT_SECRET: "s".repeat(32), TOM_JWT_MAX_TTL_SECONDS: "300" });
    const store = openStore(":memory:");
    try {
      const auth = createAuthenticator(c, store, await loadVerificationKeys(c));
      const key = applianceHmacKey(c);
      const long = await mintCallToken(key, { callId: "l", ttlSeconds: 600 });
      assert.deepEqual(await auth.authenticate(request(`/?token=${long}`), "l"), {
        ok: false,
        reason: "lifetime",
      });
      const short = await mintCallToken(key, { callId: "l", ttlSeconds: 300 });
      assert.equal((await auth.authenticate(request(`/?token=${short}`), "l")).ok, true);
    } finally {
      store.close();
    }
  });
});

Deno.test("spent nonces are kept until the token's expiry, then purged", async () => {
  await withDir(async (dir) => {
    const c = config(dir, { TOM_JWT_SECRET: "s".repeat(32) });
    const store = openStore(":memory:");
    let now = T0;
    try {
      const auth = createAuthenticator(c, store, await loadVerificationKeys(c), { now: () => now });
      const key = applianceHmacKey(c);
      const first = await mintCallToken(key, { callId: "n1", ttlSeconds: 60, now: () => now });
      assert.equal((await auth.authenticate(request(`/?token=${first}`), "n1")).ok, true);
      assert.equal(nonceCount(store), 1);
      now += 30_000;
      assert.deepEqual(await auth.authenticate(request(`/?token=${first}`), "n1"), {
        ok: false,
        reason: "replay",
      });
      now += 120_000; // the first token has expired; the next handshake purges its nonce
      const second = await mintCallToken(key, { callId: "n2", ttlSeconds: 60, now: () => now });
      assert.equal((await auth.authenticate(request(`/?token=${second}`), "n2")).ok, true);
      assert.equal(nonceCount(store), 1);
      assert.deepEqual(await auth.authenticate(request(`/?token=${first}`), "n1"), {
        ok: false,
        reason: "expired",
      });
    } finally {
      store.close();
    }
  });
});

Deno.test("the dev bypass needs the setting, HTTP on loopback, a loopback peer and a loopback Host", async () => {
  await withDir(async (dir) => {
    const store = openStore(":memory:");
    try {
      const on = config(dir, { TOM_GATEWAY_DEV_BYPASS: "1" });
      const auth = createAuthenticator(on, store, await loadVerificationKeys(on));
      const ok = await auth.authenticate(request("/"), "d1", "127.0.0.1");
      assert.ok(ok.ok && ok.bypass && ok.claims.call_id === "d1");
      assert.ok((await auth.authenticate(request("/", { Host: "localhost:8080" }), "d1", "::1")).ok);
      const miss = { ok: false, reason: "missing" };
      assert.deepEqual(await auth.authenticate(request("/"), "d1", "192.168.1.5"), miss);
      assert.deepEqual(await auth.authenticate(request("/"), "d1", undefined), miss);
      assert.deepEqual(
        await auth.authenticate(request("/", { Host: "evil.example:8080" }), "d1", "127.0.0.1"),
        miss,
      );
      const off = config(dir);
      const strict = createAuthenticator(off, store, await loadVerificationKeys(off));
      assert.deepEqual(await strict.authenticate(request("/"), "d1", "127.0.0.1"), miss);
    } finally {
      store.close();
    }
  });
});

Deno.test("public keys: ES256 and EdDSA files load; a key of the wrong type or a missing file is a config error", async () => {
  await withDir(async (dir) => {
    const es = await generateKeyPair("ES256", { extractable: true });
    const ed = await generateKeyPair("EdDSA", { extractable: true });
    const rsa = await generateKeyPair("RS256", { extractable: true });
    await Deno.writeTextFile(`${dir}/es.pem`, await exportSPKI(es.publicKey));
    await Deno.writeTextFile(`${dir}/ed.pem`, await exportSPKI(ed.publicKey));
    await Deno.writeTextFile(`${dir}/rsa.pem`, await exportSPKI(rsa.publicKey));
    const esConfig = config(dir, {
      TOM_JWT_ALGORITHMS: "ES256,RS256",
      TOM_JWT_PUBLIC_KEY_FILE: `${dir}/es.pem`,
    });
    const keys = await loadVerificationKeys(esConfig);
    assert.deepEqual(Object.keys(keys.publicKeys), ["ES256"]);
    assert.equal(keys.hmac, undefined, "HS256 not allowed: no secret is loaded");
    const store = openStore(":memory:");
    try {
      const auth = createAuthenticator(esConfig, store, keys);
      const iat = Math.floor(Date.now() / 1000);
      const claims = { call_id: "e1", nonce: crypto.randomUUID(), sub: "ui", iat, exp: iat + 60 };
      const es256 = await new SignJWT(claims).setProtectedHeader({ alg: "ES256" }).sign(es.privateKey);
      assert.equal((await auth.authenticate(request(`/?token=${es256}`), "e1")).ok, true);
      // RS256 is allowed but the file holds no RSA key: such tokens cannot be checked and are refused.
      const rs256 = await new SignJWT({ ...claims, nonce: crypto.randomUUID() }).setProtectedHeader({
        alg: "RS256",
      })
        .sign(rsa.privateKey);
      assert.deepEqual(await auth.authenticate(request(`/?token=${rs256}`), "e1"), {
        ok: false,
        reason: "algorithm",
      });
    } finally {
      store.close();
    }
    const edKeys = await loadVerificationKeys(
      config(dir, { TOM_JWT_ALGORITHMS: "EdDSA", TOM_JWT_PUBLIC_KEY_FILE: `${dir}/ed.pem` }),
    );
    assert.deepEqual(Object.keys(edKeys.publicKeys), ["EdDSA"]);
    await assert.rejects(
      loadVerificationKeys(
        config(dir, { TOM_JWT_ALGORITHMS: "ES256", TOM_JWT_PUBLIC_KEY_FILE: `${dir}/rsa.pem` }),
      ),
      /jwt.publicKeyFile .*not a PEM public key \(SPKI\) usable for ES256/,
    );
    await assert.rejects(
      loadVerificationKeys(
        config(dir, { TOM_JWT_ALGORITHMS: "RS256", TOM_JWT_PUBLIC_KEY_FILE: `${dir}/none.pem` }),
      ),
      /jwt.publicKeyFile .*cannot read/,
    );
  });
});
