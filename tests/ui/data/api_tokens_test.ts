// API tokens with a scope and an expiry, created on the settings page and used on /api: "read" may only GET,
// "requests" only the requests API, "full" what the user's role may; an expired token gets 401 saying so.
import assert from "node:assert/strict";
import { listAccounts, listApiTokens } from "../../../store/mod.ts";
import { Client, setupAndLogin, startTestUi, type TestUi } from "../_harness.ts";

async function newToken(
  admin: Client,
  fields: Record<string, string>,
): Promise<{ status: number; token: string; html: string }> {
  const res = await admin.post("/settings", { op: "token-create", name: "Skript", ...fields });
  const html = await res.text();
  return { status: res.status, token: /data-testid="new-token">([^<]+)</.exec(html)?.[1] ?? "", html };
}

function api(t: TestUi, token: string) {
  const c = new Client(t.app);
  return (path: string, init: RequestInit = {}) =>
    c.fetch(path, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...init.headers },
    });
}

const PERSON = JSON.stringify({
  kind: "patient",
  displayName: "Paul Probe",
  phoneE164: "+49 170 1234567",
  retentionDays: 14,
});

Deno.test("a read token may GET but not change anything", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const { token } = await newToken(admin, { scope: "read", days: "30" });
    const call = api(t, token);
    assert.equal((await call("/api/people")).status, 200);
    assert.equal((await call("/api/requests")).status, 200);
    const post = await call("/api/people", { method: "POST", body: PERSON });
    assert.equal(post.status, 403);
    assert.match((await post.json()).error, /darf nur lesen/);
    const [row] = listApiTokens(t.store, listAccounts(t.store)[0].id);
    assert.equal(row.scope, "read");
    const days = ((row.expiresAt ?? 0) - row.createdAt) / 86_400_000;
    assert.equal(days, 30);
    assert.match((await admin.page("/settings")).html, /Nur lesen/, "the list shows the scope");
  } finally {
    await t.close();
  }
});

Deno.test("a requests token may use the requests API only", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const { token } = await newToken(admin, { scope: "requests" });
    const call = api(t, token);
    assert.equal((await call("/api/requests")).status, 200);
    const people = await call("/api/people");
    assert.equal(people.status, 403);
    assert.match((await people.json()).error, /nur die Anliegen-API/);
    assert.equal((await call("/api/me")).status, 403);
  } finally {
    await t.close();
  }
});

Deno.test("a full token acts with the user's role; without days it lives 90 days", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const { token } = await newToken(admin, { scope: "full" });
    const call = api(t, token);
    assert.equal((await call("/api/people", { method: "POST", body: PERSON })).status, 201);
    assert.equal((await call("/api/audit")).status, 200, "the administrator's role");
    const [row] = listApiTokens(t.store, listAccounts(t.store)[0].id);
    assert.equal(((row.expiresAt ?? 0) - row.createdAt) / 86_400_000, 90);
  } finally {
    await t.close();
  }
});

Deno.test("an expired token gets 401 with a clear message; scope and days are checked at creation", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const { token } = await newToken(admin, { scope: "full", days: "1" });
    const call = api(t, token);
    assert.equal((await call("/api/me")).status, 200);
    // A day later (the expiry moved into the past):
    t.store.prepare("UPDATE ui_api_tokens SET expires_at = ?").run(Date.now() - 1);
    const expired = await call("/api/me");
    assert.equal(expired.status, 401);
    assert.match((await expired.json()).error, /API-Token ist am .* abgelaufen/);
    const tooLong = await newToken(admin, { scope: "read", days: "400" });
    assert.equal(tooLong.status, 422);
    assert.match(tooLong.html, /Ein Token gilt 1 bis 365 Tage/);
    const noScope = await newToken(admin, {});
    assert.equal(noScope.status, 422);
    assert.match(noScope.html, /Bitte einen Umfang wählen/);
    assert.equal(listApiTokens(t.store, listAccounts(t.store)[0].id).length, 1, "no token for invalid input");
  } finally {
    await t.close();
  }
});
