import assert from "node:assert/strict";
import { createPerson, createUser, getPasswordHash, listAccounts } from "../../store/mod.ts";
import { hashPassword } from "../../ui/auth/password.ts";
import { Client, login, PASSWORD, setupAndLogin, setupCode, startTestUi } from "./_harness.ts";

Deno.test("first-run setup needs the one-time code and runs only once", async () => {
  const t = await startTestUi();
  try {
    const c = new Client(t.app);
    const first = await c.fetch("/");
    assert.equal(first.status, 303);
    assert.equal(first.headers.get("location"), "/login?next=%2F");
    assert.equal((await c.fetch("/login")).headers.get("location"), "/setup");
    const fields = {
      accountName: "Praxis",
      kind: "clinical",
      adminName: "Anna",
      email: "a@praxis.test",
      password: PASSWORD,
      password2: PASSWORD,
    };
    const wrong = await c.post("/setup", { ...fields, code: "falsch" });
    assert.equal(wrong.status, 422);
    assert.match(await wrong.text(), /Einrichtungscode stimmt nicht/);
    assert.equal(listAccounts(t.store).length, 0);
    const ok = await c.post("/setup", { ...fields, code: setupCode(t) });
    assert.equal(ok.status, 303);
    assert.equal(listAccounts(t.store).length, 1);
    // The code is used up and the form is gone.
    assert.equal((await c.fetch("/setup")).headers.get("location"), "/login");
    await c.post("/setup", { ...fields, code: "x", email: "b@praxis.test" });
    assert.equal(listAccounts(t.store).length, 1);
  } finally {
    await t.close();
  }
});

Deno.test("passwords are stored as scrypt hashes, never in clear", async () => {
  const t = await startTestUi();
  try {
    await setupAndLogin(t);
    const [account] = listAccounts(t.store);
    const row = t.store.prepare("SELECT id FROM users").get() as { id: string };
    const hash = getPasswordHash(t.store, account.id, row.id) ?? "";
    assert.match(hash, /^scrypt\$15\$8\$1\$/);
    assert.ok(!hash.includes(PASSWORD));
  } finally {
    await t.close();
  }
});

Deno.test("a POST without the CSRF token is refused, also for a logged-in user and the JSON API", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const form = new URLSearchParams({
      kind: "senior",
      displayName: "Erna",
      phoneE164: "+4930111111",
      retentionDays: "30",
    });
    const noToken = await c.fetch("/people/new", {
      method: "POST",
      body: form,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(noToken.status, 403);
    const badToken = await c.post("/people/new", Object.fromEntries(form), "a".repeat(43));
    assert.equal(badToken.status, 403);
    const api = await c.fetch("/api/people", {
      method: "POST",
      body: JSON.stringify({
        kind: "senior",
        displayName: "Erna",
        phoneE164: "+4930111111",
        retentionDays: 30,
      }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(api.status, 403);
    assert.equal((await api.json()).error, "CSRF-Token fehlt oder ist falsch");
    const logout = await c.fetch("/logout", { method: "POST" });
    assert.equal(logout.status, 403);
    assert.equal((await c.fetch("/api/people")).status, 200, "still logged in");
    const accountId = listAccounts(t.store)[0].id;
    assert.equal(
      t.store.prepare("SELECT count(*) AS n FROM people WHERE account_id = ?").get(accountId)?.n,
      0,
    );
    // The login form itself is protected too (login CSRF).
    const anon = new Client(t.app);
    const loginNoToken = await anon.fetch("/login", {
      method: "POST",
      body: new URLSearchParams({ email: "admin@praxis.test", password: PASSWORD }),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(loginNoToken.status, 403);
  } finally {
    await t.close();
  }
});

Deno.test("a form posted from another site is refused even with a valid token", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const { csrf } = await c.page("/people/new");
    const res = await c.fetch("/people/new", {
      method: "POST",
      body: new URLSearchParams({
        _csrf: csrf,
        kind: "senior",
        displayName: "Erna",
        phoneE164: "+4930111111",
        retentionDays: "30",
      }),
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "https://evil.example",
        "sec-fetch-site": "cross-site",
      },
    });
    assert.equal(res.status, 403);
  } finally {
    await t.close();
  }
});

Deno.test("behind a TLS reverse proxy the https Origin of the practice's own host is accepted", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const post = async (origin: string) => {
      const { csrf } = await c.page("/people/new");
      return await c.fetch("/people/new", {
        method: "POST",
        body: new URLSearchParams({
          _csrf: csrf,
          kind: "senior",
          displayName: "Erna",
          phoneE164: "+4930111112",
          retentionDays: "30",
        }),
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin,
          host: "tom.praxis.example",
          "sec-fetch-site": "same-origin",
        },
      });
    };
    // The browser addressed https://tom.praxis.example; TOM sees plain HTTP from the proxy.
    const ok = await post("https://tom.praxis.example");
    assert.notEqual(ok.status, 403, "own host over https is not cross-site");
    assert.ok(ok.status < 400, `status ${ok.status}`);
    const evil = await post("https://evil.example");
    assert.equal(evil.status, 403);
  } finally {
    await t.close();
  }
});

Deno.test("the session id changes at login and the old one is worthless", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const first = c.cookies.get("tom_sid");
    assert.ok(first && first.length >= 43);
    // Log in again in the same browser: a new id, the old session is gone.
    const res = await c.post(
      "/login",
      { email: "admin@praxis.test", password: PASSWORD },
      (await c.page("/people")).csrf,
    );
    assert.equal(res.status, 303);
    const cookies = res.headers.getSetCookie().join("\n");
    assert.match(cookies, /tom_sid=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    const second = c.cookies.get("tom_sid");
    assert.ok(second && second !== first);
    const stale = new Client(t.app);
    stale.cookies.set("tom_sid", first);
    assert.equal((await stale.fetch("/api/me")).status, 401);
    // A session id planted before login (fixation) is never adopted.
    const victim = new Client(t.app);
    victim.cookies.set("tom_sid", "planted-by-attacker-000000000000000000000000");
    await login(victim, "admin@praxis.test");
    assert.notEqual(victim.cookies.get("tom_sid"), "planted-by-attacker-000000000000000000000000");
    // Only hashes of session ids are stored.
    const ids = (t.store.prepare("SELECT id_hash FROM ui_sessions").all() as { id_hash: string }[]).map((r) =>
      r.id_hash
    );
    assert.ok(!ids.includes(second));
  } finally {
    await t.close();
  }
});

Deno.test("cookies are Secure with __Host- names behind TLS", async () => {
  const t = await startTestUi({ env: { TOM_UI_SECURE_COOKIES: "true" } });
  try {
    const c = new Client(t.app, "https://tom.test");
    const res = await c.fetch("/login");
    assert.match(
      res.headers.getSetCookie().join("\n"),
      /__Host-tom_pre=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure/,
    );
  } finally {
    await t.close();
  }
});

Deno.test("login is throttled after five failures, even for the right password", async () => {
  let now = 1_700_000_000_000;
  const t = await startTestUi({ throttle: { now: () => now } });
  try {
    await setupAndLogin(t);
    const c = new Client(t.app);
    for (let i = 0; i < 5; i++) {
      const r = await c.post("/login", { email: "admin@praxis.test", password: "falsch-falsch" });
      assert.equal(r.status, 401);
      assert.match(await r.text(), /E-Mail-Adresse oder Passwort ist falsch/);
    }
    const blocked = await c.post("/login", { email: "admin@praxis.test", password: PASSWORD });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get("retry-after")) > 0);
    assert.match(await blocked.text(), /Zu viele Fehlversuche/);
    assert.equal(c.cookies.has("tom_sid"), false);
    now += 15 * 60_000 + 1;
    assert.equal((await c.post("/login", { email: "admin@praxis.test", password: PASSWORD })).status, 303);
  } finally {
    await t.close();
  }
});

Deno.test("account A cannot read or change account B through pages or the API", async () => {
  const t = await startTestUi();
  try {
    const a = await setupAndLogin(t, { email: "a@praxis.test" });
    // Account B is created by A's admin as a separate tenant with its own administrator.
    assert.equal(
      (await a.post("/users", {
        op: "account",
        a_accountName: "Familie Schulz",
        a_kind: "private",
        a_displayName: "Bert",
        a_email: "b@familie.test",
        a_password: PASSWORD,
      })).status,
      303,
    );
    const accounts = listAccounts(t.store);
    assert.equal(accounts.length, 2);
    const accountB = accounts[1];
    const personB = createPerson(t.store, accountB.id, {
      kind: "senior",
      displayName: "Berta Geheim",
      phoneE164: "+4989222222",
    });
    const b = new Client(t.app);
    await login(b, "b@familie.test");
    assert.match(await (await b.fetch("/people")).text(), /Berta Geheim/);

    for (
      const path of [
        `/people/${personB.id}`,
        `/people/${personB.id}/edit`,
        `/people/${personB.id}/export`,
        `/people/${personB.id}/erase`,
      ]
    ) {
      const r = await a.fetch(path);
      assert.equal(r.status, 404, path);
      assert.ok(!(await r.text()).includes("Berta"), path);
    }
    for (
      const path of [
        `/api/people/${personB.id}`,
        `/api/people/${personB.id}/export`,
        `/api/people/${personB.id}/memory`,
      ]
    ) {
      assert.equal((await a.fetch(path)).status, 404, path);
    }
    assert.ok(!(await (await a.fetch("/people")).text()).includes("Berta"));
    assert.ok(!(await (await a.fetch("/api/people?q=Berta")).text()).includes("Berta"));
    assert.ok(!(await (await a.fetch("/")).text()).includes("Berta"));
    const { csrf } = await a.page("/people");
    const erase = await a.fetch(`/api/people/${personB.id}`, {
      method: "DELETE",
      headers: { "x-csrf-token": csrf },
    });
    assert.equal(erase.status, 404);
    const patch = await a.fetch(`/api/people/${personB.id}`, {
      method: "PATCH",
      body: JSON.stringify({ displayName: "Gekapert" }),
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
    });
    assert.equal(patch.status, 404);
    const sched = await a.fetch("/api/schedules", {
      method: "POST",
      body: JSON.stringify({ personId: personB.id, weekdays: [0], windowStart: "10:00", windowEnd: "11:00" }),
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
    });
    assert.equal(sched.status, 404);
    assert.match(await (await b.fetch(`/people/${personB.id}`)).text(), /Berta Geheim/);
    // An API token of A sees only A.
    const tokenPage = await a.post(
      "/settings",
      { op: "token-create", name: "Test", scope: "full" },
      (await a.page("/settings")).csrf,
    );
    const token = /data-testid="new-token">([^<]+)</.exec(await tokenPage.text())?.[1] ?? "";
    assert.match(token, /^tomapi_/);
    const api = new Client(t.app);
    assert.equal(
      (await api.fetch(`/api/people/${personB.id}`, { headers: { authorization: `Bearer ${token}` } }))
        .status,
      404,
    );
    const list = await api.fetch("/api/people", { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual((await list.json()).people, []);
  } finally {
    await t.close();
  }
});

Deno.test("API tokens work without cookies or CSRF; unknown tokens get 401", async () => {
  const t = await startTestUi();
  try {
    const a = await setupAndLogin(t);
    const res = await a.post(
      "/settings",
      { op: "token-create", name: "Skript", scope: "full" },
      (await a.page("/settings")).csrf,
    );
    const token = /data-testid="new-token">([^<]+)</.exec(await res.text())?.[1] ?? "";
    const api = new Client(t.app);
    const created = await api.fetch("/api/people", {
      method: "POST",
      body: JSON.stringify({
        kind: "patient",
        displayName: "Paul Probe",
        phoneE164: "+49 170 1234567",
        retentionDays: 14,
      }),
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    assert.equal(created.status, 201);
    assert.equal((await created.json()).person.phoneE164, "+491701234567");
    const invalid = await api.fetch("/api/people", {
      method: "POST",
      body: JSON.stringify({ kind: "patient", displayName: "X", phoneE164: "0170", retentionDays: 400 }),
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    assert.equal(invalid.status, 400);
    const issues = (await invalid.json()).detail.map((i: { path: string }) => i.path);
    assert.deepEqual(issues.sort(), ["phoneE164", "retentionDays"]);
    assert.equal(
      (await api.fetch("/api/me", { headers: { authorization: "Bearer tomapi_nope" } })).status,
      401,
    );
    assert.equal((await new Client(t.app).fetch("/api/me")).status, 401);
  } finally {
    await t.close();
  }
});

Deno.test("staff cannot open administrator pages or erase people", async () => {
  const t = await startTestUi();
  try {
    await setupAndLogin(t);
    const account = listAccounts(t.store)[0];
    createUser(t.store, account.id, {
      email: "s@praxis.test",
      displayName: "Sam",
      role: "staff",
      passwordHash: await hashPassword(PASSWORD),
    });
    const p = createPerson(t.store, account.id, {
      kind: "patient",
      displayName: "Paula",
      phoneE164: "+4930123123",
    });
    const s = new Client(t.app);
    await login(s, "s@praxis.test");
    for (const path of ["/settings", "/users", "/audit", "/system", `/people/${p.id}/erase`, "/api/audit"]) {
      assert.equal((await s.fetch(path)).status, 403, path);
    }
    const { csrf } = await s.page("/people");
    assert.equal(
      (await s.fetch(`/api/people/${p.id}`, { method: "DELETE", headers: { "x-csrf-token": csrf } })).status,
      403,
    );
    assert.equal((await s.fetch(`/people/${p.id}`)).status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("no personal data reaches the logs", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t, { email: "anna.admin@praxis.test" });
    const res = await c.post("/people/new", {
      kind: "patient",
      displayName: "Hildegard Vertraulich",
      phoneE164: "+4930987654321",
      retentionDays: "30",
      consentTranscript: "on",
      notes: "Diabetes Typ 2",
    });
    const id = res.headers.get("location")?.split("/")[2]?.split("?")[0] ?? "";
    await c.fetch(`/people/${id}`);
    await c.fetch(`/people/${id}/export`);
    await c.post("/people/new", {
      kind: "patient",
      displayName: "Doppelt",
      phoneE164: "+4930987654321",
      retentionDays: "30",
    });
    await c.post("/people/new", {
      kind: "patient",
      displayName: "Falsch",
      phoneE164: "030 98765",
      retentionDays: "30",
    });
    await new Client(t.app).post("/login", {
      email: "anna.admin@praxis.test",
      password: "falsches-passwort",
    });
    await c.post(`/people/${id}/erase`, { confirm: "Hildegard Vertraulich" });
    const all = t.logLines.join("\n");
    assert.ok(t.logLines.length > 0);
    for (
      const secret of [
        "Hildegard",
        "Vertraulich",
        "+4930987654321",
        "4930987654321",
        "anna.admin",
        "Diabetes",
        "030 98765",
        PASSWORD,
      ]
    ) {
      assert.ok(!all.includes(secret), `log contains ${secret}`);
    }
  } finally {
    await t.close();
  }
});
