// Login abuse: a `next` that would send the browser to another site after login, a lockout that hits the
// whole practice behind the TLS proxy, and concurrent guesses that all got checked.
import assert from "node:assert/strict";
import type { Hono } from "hono";
import { sameSitePath } from "../../ui/auth/next.ts";
import { clientIp } from "../../ui/auth/client_ip.ts";
import { Client, login, PASSWORD, setupAndLogin, startTestUi, type TestUi } from "./_harness.ts";

const EMAIL = "admin@praxis.test";

Deno.test("a next parameter that leads off-site or breaks the Location header becomes /", () => {
  const table: [string | null, string][] = [
    ["/%09/evil.example/", "/%09/evil.example/"], // still encoded: a harmless path on TOM
    ["/\t/evil.example/", "/"],
    ["/\t\\evil.example/", "/"],
    ["/\r\n/evil.example/", "/"],
    ["/\nSet-Cookie: x=y", "/"],
    ["//evil.example/", "/"],
    ["/\\evil.example/", "/"],
    ["\\\\evil.example", "/"],
    ["/.//evil.example/", "/"],
    ["/%2e%2e//evil.example/", "/"],
    ["/a/../..//evil.example/", "/"],
    ["https://evil.example/", "/"],
    ["http:evil.example", "/"],
    ["javascript:alert(1)", "/"],
    ["evil.example", "/"],
    ["/\u0000x", "/"],
    ["/\u007f", "/"],
    [" /people", "/"],
    ["", "/"],
    [null, "/"],
    ["/" + "a".repeat(3000), "/"],
    ["/people/42?tab=calls#x", "/people/42?tab=calls#x"],
    ["/calls?q=M%C3%BCller", "/calls?q=M%C3%BCller"],
    ["/Müller/€", "/M%C3%BCller/%E2%82%AC"],
    ["/a/./b/../c", "/a/c"],
  ];
  for (const [raw, want] of table) assert.equal(sameSitePath(raw), want, JSON.stringify(raw));
});

Deno.test("after login with a nasty next the answer is a redirect to a path on TOM, never a 500", async () => {
  const t = await startTestUi();
  try {
    await setupAndLogin(t);
    for (
      const [next, want] of [
        ["/\t/evil.example/", "/"],
        ["/\r\n/evil.example/", "/"],
        ["/\u20ac-\u4e2d", "/%E2%82%AC-%E4%B8%AD"],
        ["/.//evil.example/", "/"],
      ]
    ) {
      const c = new Client(t.app);
      const page = await c.page(`/login?next=${encodeURIComponent(next)}`);
      assert.equal(page.res.status, 200);
      const res = await c.post("/login", { email: EMAIL, password: PASSWORD, next }, page.csrf);
      assert.equal(res.status, 303, JSON.stringify(next));
      assert.equal(res.headers.get("location"), want, JSON.stringify(next));
    }
  } finally {
    await t.close();
  }
});

/** A TOM UI on a real loopback socket, so the peer address is the socket's (as behind the TLS proxy). */
async function served(env: Record<string, string> = {}) {
  const t = await startTestUi({ env });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, t.app.fetch);
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  return {
    t,
    url,
    async close() {
      await server.shutdown();
      await t.close();
    },
  };
}

/** A browser behind the proxy: every request comes from loopback with the proxy's X-Forwarded-For. */
function viaProxy(url: string, forwardedFor: string): Client {
  const app = {
    request: (input: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      headers.set("x-forwarded-for", forwardedFor);
      return fetch(input, { ...init, headers });
    },
  } as unknown as Hono;
  return new Client(app, url);
}

async function setUp(t: TestUi, url: string): Promise<void> {
  const c = viaProxy(url, "192.168.1.10");
  const res = await c.post("/setup", {
    code: Deno.readTextFileSync(`${t.dataDir}/secrets/setup.code`).trim(),
    accountName: "Praxis Dr. Weber",
    kind: "clinical",
    adminName: "Anna Admin",
    email: EMAIL,
    password: PASSWORD,
    password2: PASSWORD,
  });
  assert.equal(res.status, 303);
  await res.body?.cancel();
}

Deno.test("behind the TLS proxy, 20 bad logins with random e-mails from one client do not lock out the practice's PC", async () => {
  const s = await served();
  try {
    await setUp(s.t, s.url);
    const attacker = viaProxy(s.url, "203.0.113.7");
    for (let i = 0; i < 25; i++) {
      const r = await attacker.post("/login", {
        email: `x${crypto.randomUUID()}@evil.test`,
        password: "falsch",
      });
      assert.equal(r.status, i < 20 ? 401 : 429, `attempt ${i + 1}`);
      await r.body?.cancel();
    }
    const staff = viaProxy(s.url, "192.168.1.23");
    assert.equal((await login(staff, EMAIL)).status, 303, "the practice's PC still logs in");
  } finally {
    await s.close();
  }
});

Deno.test("X-Forwarded-For from a peer that is not a trusted proxy is ignored: rotating it does not dodge the lockout", async () => {
  const s = await served({ TOM_UI_TRUSTED_PROXIES: "10.9.9.9" });
  try {
    await setUp(s.t, s.url);
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const r = await viaProxy(s.url, `198.51.100.${i}`).post("/login", {
        email: `x${i}@evil.test`,
        password: "falsch",
      });
      statuses.push(r.status);
      await r.body?.cancel();
    }
    assert.deepEqual(statuses, [...new Array(20).fill(401), 429]);
  } finally {
    await s.close();
  }
});

Deno.test("19 concurrent wrong passwords for one e-mail: five are checked, the rest refused with 429 in German", async () => {
  const t = await startTestUi();
  try {
    await setupAndLogin(t);
    const clients = Array.from({ length: 19 }, () => new Client(t.app));
    const pages = await Promise.all(clients.map((c) => c.page("/login")));
    const answers = await Promise.all(
      clients.map((c, i) => c.post("/login", { email: EMAIL, password: `falsch-${i}` }, pages[i].csrf)),
    );
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [...new Array(5).fill(401), ...new Array(14).fill(429)]);
    for (const r of answers.filter((r) => r.status === 429)) {
      assert.match(await r.text(), /Zu viele Fehlversuche\. Bitte warten Sie 15 Minuten/);
      assert.ok(Number(r.headers.get("retry-after")) > 0);
    }
    for (const r of answers) await r.body?.cancel().catch(() => {});
  } finally {
    await t.close();
  }
});

Deno.test("the client address is the proxy's forwarded one only when the peer is a trusted proxy", () => {
  const trusted = ["127.0.0.1/8", "::1", "10.0.0.5"];
  const h = (init: Record<string, string>) => new Headers(init);
  assert.equal(clientIp("127.0.0.1", h({ "x-forwarded-for": "203.0.113.7" }), trusted), "203.0.113.7");
  assert.equal(clientIp("::ffff:127.0.0.1", h({ "x-forwarded-for": "203.0.113.7" }), trusted), "203.0.113.7");
  // The client's own header, appended to by the proxy: the right-most untrusted hop counts.
  assert.equal(
    clientIp("127.0.0.1", h({ "x-forwarded-for": "1.1.1.1, 203.0.113.7" }), trusted),
    "203.0.113.7",
  );
  assert.equal(
    clientIp("127.0.0.1", h({ "x-forwarded-for": "203.0.113.7, 10.0.0.5" }), trusted),
    "203.0.113.7",
  );
  assert.equal(clientIp("192.0.2.1", h({ "x-forwarded-for": "203.0.113.7" }), trusted), "192.0.2.1");
  assert.equal(clientIp("127.0.0.1", h({}), trusted), "127.0.0.1");
  assert.equal(clientIp("127.0.0.1", h({ "x-forwarded-for": "garbage" }), trusted), "127.0.0.1");
  assert.equal(
    clientIp("::1", h({ forwarded: 'for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"' }), trusted),
    "2001:db8:0:0:0:0:0:17",
  );
  assert.equal(
    clientIp("::1", h({ forwarded: "for=6.6.6.6", "x-forwarded-for": "203.0.113.7" }), trusted),
    "203.0.113.7",
    "X-Forwarded-For wins",
  );
});
