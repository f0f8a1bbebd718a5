import assert from "node:assert/strict";
import { generateKeyPair } from "jose";
import { hmacKey, mintCallToken, verifyCallToken } from "../../../gateway/mod.ts";
import { runTom } from "../../_helpers.ts";

const key = hmacKey("k".repeat(32));
const T0 = Date.UTC(2026, 10, 21, 12);

Deno.test("a minted token verifies for its call id and carries the required claims", async () => {
  const token = await mintCallToken(key, { callId: "call-1", ttlSeconds: 600, now: () => T0 });
  const claims = await verifyCallToken(token, key, {
    algorithms: ["HS256"],
    callId: "call-1",
    now: () => T0 + 1000,
  });
  assert.equal(claims.call_id, "call-1");
  assert.equal(claims.exp - claims.iat, 600);
  assert.equal(claims.sub, "tom-cli");
  assert.match(claims.nonce, /^[0-9a-f-]{36}$/);
});

Deno.test("a token for another call, an expired one or a forbidden algorithm is refused", async () => {
  const token = await mintCallToken(key, { callId: "call-1", ttlSeconds: 60, now: () => T0 });
  await assert.rejects(
    verifyCallToken(token, key, { algorithms: ["HS256"], callId: "call-2", now: () => T0 }),
    /call_id does not match the URL/,
  );
  await assert.rejects(
    verifyCallToken(token, key, { algorithms: ["HS256"], callId: "call-1", now: () => T0 + 61_000 }),
    /"exp" claim timestamp check failed/,
  );
  await assert.rejects(
    verifyCallToken(token, key, { algorithms: ["ES256"], callId: "call-1", now: () => T0 }),
  );
  await assert.rejects(
    verifyCallToken(token, hmacKey("x".repeat(32)), {
      algorithms: ["HS256"],
      callId: "call-1",
      now: () => T0,
    }),
    /signature verification failed/,
  );
});

Deno.test("lifetimes over one hour and short secrets are refused", async () => {
  await assert.rejects(
    mintCallToken(key, { callId: "c", ttlSeconds: 3601 }),
    /ttl must be an integer from 1 to 3600/,
  );
  assert.throws(() => hmacKey("short"), /at least 32 bytes/);
});

Deno.test("ES256 tokens verify with the public key", async () => {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const token = await mintCallToken(privateKey, { callId: "c-9", algorithm: "ES256" });
  const claims = await verifyCallToken(token, publicKey, { algorithms: ["ES256"], callId: "c-9" });
  assert.equal(claims.call_id, "c-9");
});

Deno.test("tom token prints a JWT that verifies with the appliance's generated key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runTom(["token", "--call-id", "abc-123", "--ttl", "120"], { TOM_DATA_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    const secret = (await Deno.readTextFile(`${dir}/secrets/jwt.key`)).trim();
    assert.equal(((await Deno.stat(`${dir}/secrets/jwt.key`)).mode ?? 0) & 0o777, 0o600);
    const claims = await verifyCallToken(r.stdout.trim(), hmacKey(secret), {
      algorithms: ["HS256"],
      callId: "abc-123",
    });
    assert.equal(claims.exp - claims.iat, 120);
    const bad = await runTom(["token", "--call-id", "abc", "--ttl", "7200"], { TOM_DATA_DIR: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--ttl must be a whole number of seconds from 1 to 3600/);
    const missing = await runTom(["token"], { TOM_DATA_DIR: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--call-id is required/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
