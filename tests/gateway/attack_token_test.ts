/**
 * Attacks on the handshake token: every bad token is refused with HTTP 401 before the upgrade, counted
 * by reason, and logged without the token or the peer's address.
 */
import assert from "node:assert/strict";
import { base64url, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { hmacKey, mintCallToken } from "../../gateway/auth/token.ts";
import { KEY, metricValue, rawHandshake, startGateway } from "./server_harness.ts";

const nowS = () => Math.floor(Date.now() / 1000);
const path = (callId: string, token?: string) =>
  `/ws/stream/${callId}${token === undefined ? "" : `?token=${encodeURIComponent(token)}`}`;

function claims(callId: string, extra: Record<string, unknown> = {}) {
  return { call_id: callId, nonce: crypto.randomUUID(), sub: "attacker", ...extra };
}

async function hs256(payload: Record<string, unknown>, key: Uint8Array = KEY): Promise<string> {
  return await new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key);
}

Deno.test("bad tokens are refused with 401 before the upgrade and counted by reason", async () => {
  const h = await startGateway();
  try {
    const id = "call-attack-1";
    const t = nowS();
    const cases: [string, string | undefined, string][] = [
      ["missing token", undefined, "missing"],
      ["garbage", "not.a.jwt", "malformed"],
      [
        "expired",
        await mintCallToken(KEY, { callId: id, ttlSeconds: 60, now: () => Date.now() - 7200_000 }),
        "expired",
      ],
      [
        "issued in the future",
        await mintCallToken(KEY, { callId: id, now: () => Date.now() + 3600_000 }),
        "not_yet_valid",
      ],
      [
        "not valid before (nbf) a future time",
        await hs256(claims(id, { iat: t, nbf: t + 600, exp: t + 900 })),
        "not_yet_valid",
      ],
      [
        "signed with another secret",
        await mintCallToken(hmacKey("x".repeat(40)), { callId: id }),
        "signature",
      ],
      ["lifetime over the limit", await hs256(claims(id, { iat: t, exp: t + 7200 })), "lifetime"],
      ["for another call", await h.token("call-other"), "call_id"],
      ["without a nonce", await hs256({ call_id: id, sub: "x", iat: t, exp: t + 60 }), "claims"],
    ];
    // alg "none": an unsigned token with valid claims.
    const none = `${base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }))}.${
      base64url.encode(JSON.stringify(claims(id, { iat: t, exp: t + 60 })))
    }.`;
    cases.push(["alg none", none, "algorithm"]);
    // A valid token whose payload was changed after signing.
    const [head, , sig] = (await h.token(id)).split(".");
    cases.push([
      "tampered payload",
      `${head}.${base64url.encode(JSON.stringify(claims(id, { iat: t, exp: t + 60, sub: "admin" })))}.${sig}`,
      "signature",
    ]);

    for (const [what, token, reason] of cases) {
      const r = await rawHandshake(h.port, path(id, token));
      assert.equal(r.status, 401, `${what}: ${r.head.split("\r\n")[0]}`);
      assert.match(r.head, /WWW-Authenticate: Bearer/i, what);
      const m = await h.metrics();
      assert.ok(
        metricValue(m, "tom_gateway_auth_failures_total", { transport: "browser", reason }) >= 1,
        `${what} counted as ${reason}`,
      );
    }
    // Nothing was upgraded, no call was started, nothing personal or secret was logged.
    assert.equal(h.calls.size, 0);
    assert.equal(metricValue(await h.metrics(), "tom_gateway_connections", { transport: "browser" }), 0);
    const text = JSON.stringify(h.logs);
    for (const [, token] of cases) if (token && token.length > 20) assert.ok(!text.includes(token));
    assert.ok(!text.includes("127.0.0.1"), "peer addresses are not logged");
    assert.ok(h.logs.some((l) => l.message === "handshake refused: token" && l.reason === "expired"));
  } finally {
    await h.close();
  }
});

Deno.test("a replayed token is refused: its nonce was spent by the first handshake", async () => {
  const h = await startGateway();
  try {
    const token = await h.token("call-replay");
    const first = await rawHandshake(h.port, path("call-replay", token));
    assert.equal(first.status, 101);
    const again = await rawHandshake(h.port, path("call-replay", token));
    assert.equal(again.status, 401);
    const viaHeader = await rawHandshake(h.port, path("call-replay"), { Authorization: `Bearer ${token}` });
    assert.equal(viaHeader.status, 401);
    assert.equal(
      metricValue(await h.metrics(), "tom_gateway_auth_failures_total", { reason: "replay" }),
      2,
    );
    // A refused token does not spend its nonce: one refused for the wrong call still works for its own.
    const other = await h.token("call-own");
    assert.equal((await rawHandshake(h.port, path("call-wrong", other))).status, 401);
    assert.equal((await rawHandshake(h.port, path("call-own", other))).status, 101);
    // Peers that upgraded and then dropped the TCP connection give their slots back.
    const deadline = performance.now() + 5000;
    while (metricValue(await h.metrics(), "tom_gateway_connections", { transport: "browser" }) !== 0) {
      assert.ok(performance.now() < deadline, "slots of dropped connections are released");
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await h.close();
  }
});

Deno.test("algorithm confusion: HS256 signed with the RS256 public key is refused", async () => {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const pem = await exportSPKI(publicKey);
  const dir = await Deno.makeTempDir();
  const pemFile = `${dir}/public.pem`;
  await Deno.writeTextFile(pemFile, pem);
  const t = nowS();
  const forge = (callId: string) =>
    hs256(claims(callId, { iat: t, exp: t + 60 }), new TextEncoder().encode(pem));
  const rs256 = (callId: string) =>
    new SignJWT(claims(callId, { iat: t, exp: t + 60 })).setProtectedHeader({ alg: "RS256" }).sign(
      privateKey,
    );
  // Only RS256 allowed: the forged HS256 header is off the allow-list.
  const rsOnly = await startGateway({
    env: { TOM_JWT_ALGORITHMS: "RS256", TOM_JWT_PUBLIC_KEY_FILE: pemFile },
  });
  try {
    assert.equal((await rawHandshake(rsOnly.port, path("c1", await forge("c1")))).status, 401);
    assert.equal(
      metricValue(await rsOnly.metrics(), "tom_gateway_auth_failures_total", { reason: "algorithm" }),
      1,
    );
    assert.equal((await rawHandshake(rsOnly.port, path("c2", await rs256("c2")))).status, 101);
  } finally {
    await rsOnly.close();
  }
  // Both allowed: HS256 is checked with the appliance secret, never with the public key.
  const both = await startGateway({
    env: { TOM_JWT_ALGORITHMS: "HS256,RS256", TOM_JWT_PUBLIC_KEY_FILE: pemFile },
  });
  try {
    assert.equal((await rawHandshake(both.port, path("c3", await forge("c3")))).status, 401);
    assert.equal(
      metricValue(await both.metrics(), "tom_gateway_auth_failures_total", { reason: "signature" }),
      1,
    );
    assert.equal((await rawHandshake(both.port, path("c4", await rs256("c4")))).status, 101);
    assert.equal((await rawHandshake(both.port, path("c5", await both.token("c5")))).status, 101);
  } finally {
    await both.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an asymmetric algorithm without a usable public key stops start-up with a config error", async () => {
  await assert.rejects(
    startGateway({ env: { TOM_JWT_ALGORITHMS: "ES256" } }),
    (e: Error) =>
      e.name === "ConfigError" &&
      /jwt.publicKeyFile .*required when jwt.algorithms includes ES256/.test(e.message),
  );
});
