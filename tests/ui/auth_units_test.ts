import assert from "node:assert/strict";
import { hashPassword, needsRehash, verifyPassword } from "../../ui/auth/password.ts";
import { LoginThrottle } from "../../ui/auth/throttle.ts";
import { csrfTokenFor } from "../../ui/auth/sessions.ts";

Deno.test("scrypt hashes verify, carry their parameters and differ per salt", async () => {
  const a = await hashPassword("richtig-langes-passwort");
  const b = await hashPassword("richtig-langes-passwort");
  assert.notEqual(a, b);
  assert.equal(await verifyPassword("richtig-langes-passwort", a), true);
  assert.equal(await verifyPassword("falsch", a), false);
  assert.equal(await verifyPassword("x", "not-a-hash"), false);
  assert.equal(needsRehash(a), false);
  assert.equal(needsRehash(await hashPassword("p", { logN: 12, r: 8, p: 1, keyLen: 32 })), true);
});

Deno.test("the throttle counts per address and per client in a sliding window", () => {
  let now = 0;
  const t = new LoginThrottle({ perAccount: 2, perClient: 3, windowMs: 1000, now: () => now });
  assert.ok(t.reserve("a@x", "1.2.3.4").ok);
  assert.equal(t.retryAfterMs("a@x", "1.2.3.4"), 0);
  assert.ok(t.reserve("A@X", "1.2.3.4").ok);
  assert.equal(t.retryAfterMs("a@x", "9.9.9.9"), 1000);
  assert.deepEqual(t.reserve("a@x", "9.9.9.9"), { ok: false, retryAfterMs: 1000 });
  assert.equal(t.retryAfterMs("b@x", "1.2.3.4"), 0);
  assert.ok(t.reserve("c@x", "1.2.3.4").ok);
  assert.equal(t.retryAfterMs("d@x", "1.2.3.4"), 1000, "the client is blocked for every address");
  now = 600;
  assert.equal(t.retryAfterMs("a@x", "9.9.9.9"), 400);
  now = 1001;
  assert.equal(t.retryAfterMs("d@x", "1.2.3.4"), 0);
});

Deno.test("a right password gives its reserved attempt back and clears the address's failures", () => {
  const t = new LoginThrottle({ perAccount: 2, perClient: 2, windowMs: 1000, now: () => 0 });
  assert.ok(t.reserve("a@x", "1.2.3.4").ok);
  const right = t.reserve("a@x", "1.2.3.4");
  assert.ok(right.ok);
  assert.equal(t.retryAfterMs("a@x", "5.5.5.5"), 1000, "both attempts count while being checked");
  t.succeed(right.attempt);
  assert.equal(t.retryAfterMs("a@x", "5.5.5.5"), 0);
  assert.equal(t.retryAfterMs("b@x", "1.2.3.4"), 0, "the successful attempt no longer counts for the client");
});

Deno.test("CSRF tokens are bound to the session id and the server key", () => {
  assert.equal(csrfTokenFor("k", "s1"), csrfTokenFor("k", "s1"));
  assert.notEqual(csrfTokenFor("k", "s1"), csrfTokenFor("k", "s2"));
  assert.notEqual(csrfTokenFor("k", "s1"), csrfTokenFor("k2", "s1"));
});
