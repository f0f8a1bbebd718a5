// The "Anliegen" page and /api/requests: list, filters, detail, assign, status, notes, audit, German
// messages, and account B sees nothing of account A's requests.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createAccount,
  createCall,
  createPerson,
  createRequest,
  createUser,
  getRequest,
  listAccounts,
  listAudit,
  type NewRequest,
} from "../../store/mod.ts";
import { TranscriptKeyring } from "../../store/crypto/mod.ts";
import { hashPassword } from "../../ui/auth/password.ts";
import { Client, login, PASSWORD, setupAndLogin, startTestUi, type TestUi } from "./_harness.ts";

const REQ: NewRequest = {
  callId: null,
  kind: "callback",
  urgency: "normal",
  callerName: "Hildegard Zwiebelmeier",
  callbackNumber: "+4917099887766",
  forWhom: "",
  preferredTimes: "vormittags",
  medication: "",
  summary: "Bitte um Rückruf wegen Befund",
  source: "call",
};

// The UI's keyring: the same key file the harness's UI opened.
async function keyringOf(t: TestUi): Promise<TranscriptKeyring> {
  return await TranscriptKeyring.open(join(t.dataDir, "secrets", "transcripts.key"));
}

async function userIn(t: TestUi, accountId: string, email: string, role: "staff" | "admin"): Promise<Client> {
  createUser(t.store, accountId, {
    email,
    displayName: email.split("@")[0],
    role,
    passwordHash: await hashPassword(PASSWORD),
  });
  const c = new Client(t.app);
  await login(c, email);
  return c;
}

async function patch(c: Client, id: string, body: unknown): Promise<Response> {
  const { csrf } = await c.page("/requests");
  return await c.fetch(`/api/requests/${id}`, {
    method: "PATCH",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", "x-csrf-token": csrf, origin: c.origin },
  });
}

async function seed(t: TestUi) {
  const keyring = await keyringOf(t);
  const accountId = listAccounts(t.store)[0].id;
  const call = createCall(t.store, accountId, { direction: "inbound", transport: "browser" });
  const callback = await createRequest(t.store, keyring, accountId, { ...REQ, callId: call.id });
  const rx = await createRequest(t.store, keyring, accountId, {
    ...REQ,
    kind: "prescription",
    callerName: "Otto Rezeptler",
    medication: "Ramipril 5 mg",
    summary: "Folgerezept",
  });
  const emergency = await createRequest(t.store, keyring, accountId, {
    ...REQ,
    kind: "emergency",
    urgency: "urgent",
    callerName: "Nora Notfall",
    summary: "Atemnot",
  });
  // Distinct creation times (they may fall into one millisecond): callback, then rx, then emergency.
  [callback, rx, emergency].forEach((r, i) =>
    t.store.prepare("UPDATE requests SET created_at = ? WHERE id = ?").run(Date.UTC(2026, 0, 1, 8, i), r.id)
  );
  return { keyring, accountId, call, callback, rx, emergency };
}

Deno.test("requests page: list with filters, detail, assign, in progress, done, notes, all audited", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const { keyring, accountId, call, callback, rx, emergency } = await seed(t);
    const staff = await userIn(t, accountId, "sam@praxis.test", "staff");
    const staffId = (await (await staff.fetch("/api/me")).json()).user.id as string;

    const list = await staff.page("/requests");
    assert.equal(list.res.status, 200);
    assert.match(list.html, /href="\/requests"[^>]*aria-current="page"/, "in the navigation");
    const order = [...list.html.matchAll(/data-request="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(order[0], emergency.id, "the emergency is on top");
    assert.deepEqual(order.slice(1), [rx.id, callback.id], "then newest first");
    assert.match(list.html, /Nora Notfall/);
    assert.match(list.html, /Notfall/);

    const filtered = await staff.page("/requests?kind=prescription");
    assert.deepEqual([...filtered.html.matchAll(/data-request="([^"]+)"/g)].map((m) => m[1]), [rx.id]);
    assert.match(filtered.html, /<option value="prescription" selected/);
    const none = await staff.page("/requests?status=done");
    assert.match(none.html, /Keine Anliegen\./);
    const junk = await staff.page("/requests?status=kaputt&kind=%3Cx%3E");
    assert.equal(junk.res.status, 200, "an unknown filter shows everything");

    const detail = await staff.page(`/requests/${callback.id}`);
    assert.equal(detail.res.status, 200);
    assert.match(detail.html, /Hildegard Zwiebelmeier/);
    assert.match(detail.html, /\+4917099887766/);
    assert.match(detail.html, new RegExp(`href="/calls/${call.id}"`), "the call is linked");
    assert.match(detail.html, /In Bearbeitung nehmen/);

    const path = `/requests/${callback.id}`;
    let res = await staff.post(path, { action: "assign", assigneeUserId: staffId });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), `${path}?ok=requestSaved`);
    res = await staff.post(path, { action: "status", status: "in_progress" });
    assert.equal(res.status, 303);
    assert.equal((await getRequest(t.store, keyring, accountId, callback.id))?.status, "in_progress");
    res = await admin.post(path, { action: "notes", notes: "Rückruf um 10 Uhr vereinbart" });
    assert.equal(res.status, 303);
    res = await staff.post(path, { action: "status", status: "done" });
    assert.equal(res.status, 303);
    const r = await getRequest(t.store, keyring, accountId, callback.id);
    assert.equal(r?.status, "done");
    assert.ok(r?.doneAt);
    assert.equal(r?.assigneeUserId, staffId);
    assert.equal(r?.notes, "Rückruf um 10 Uhr vereinbart");
    const after = await staff.page(`${path}?ok=requestSaved`);
    assert.match(after.html, /Das Anliegen wurde gespeichert\./);
    assert.match(after.html, /Rückruf um 10 Uhr vereinbart<\/textarea>/);
    assert.match(after.html, /Wieder öffnen/);

    const bad = await staff.post(path, { action: "assign", assigneeUserId: "niemand" });
    assert.equal(bad.status, 422);
    assert.match(
      await bad.text(),
      /Zuständig: Bitte eine Benutzerin oder einen Benutzer dieses Kontos wählen/,
    );
    const noCsrf = await staff.post(path, { action: "status", status: "open" }, "falsch");
    assert.equal(noCsrf.status, 403);
    assert.equal((await getRequest(t.store, keyring, accountId, callback.id))?.status, "done");

    const audit = listAudit(t.store, accountId, { limit: 1000 });
    const actions = audit.filter((a) => a.subjectType === "request").map((a) => a.action);
    assert.ok(actions.includes("request.list"));
    assert.ok(actions.includes("request.view"));
    assert.equal(actions.filter((a) => a === "request.update").length, 4);
    assert.ok(!JSON.stringify(audit).includes("10 Uhr vereinbart"), "the audit log never holds the notes");
    assert.ok(!JSON.stringify(audit).includes("Zwiebelmeier"));
  } finally {
    await t.close();
  }
});

Deno.test("requests API: GET with filters, GET one, PATCH, invalid PATCH with German messages", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const { keyring, accountId, callback, rx, emergency } = await seed(t);
    const all = await (await admin.fetch("/api/requests")).json();
    assert.deepEqual(all.requests.map((r: { id: string }) => r.id), [emergency.id, rx.id, callback.id]);
    assert.equal(all.requests[0].callerName, "Nora Notfall");
    assert.equal(all.requests[0].accountId, undefined);
    const rxOnly = await (await admin.fetch("/api/requests?kind=prescription&status=open")).json();
    assert.deepEqual(rxOnly.requests.map((r: { id: string }) => r.id), [rx.id]);
    assert.equal(rxOnly.requests[0].medication, "Ramipril 5 mg");
    assert.equal((await admin.fetch("/api/requests?status=kaputt")).status, 400);

    const one = await admin.fetch(`/api/requests/${callback.id}`);
    assert.equal(one.status, 200);
    assert.equal((await one.json()).request.callbackNumber, "+4917099887766");
    assert.equal((await admin.fetch("/api/requests/gibt-es-nicht")).status, 404);

    const ok = await patch(admin, rx.id, { status: "done", notes: "Rezept liegt bereit" });
    assert.equal(ok.status, 200);
    const body = await ok.json();
    assert.equal(body.request.status, "done");
    assert.ok(body.request.doneAt);
    assert.equal((await getRequest(t.store, keyring, accountId, rx.id))?.notes, "Rezept liegt bereit");

    for (
      const [input, message] of [
        [{ status: "fertig" }, /Stand: erlaubt sind/],
        [{ assigneeUserId: "fremd" }, /Zuständig: Bitte eine Benutzerin/],
        [{ notes: "x".repeat(4001) }, /Notizen: höchstens 4000 Zeichen/],
        [{}, /Bitte mindestens eine Änderung angeben/],
        [{ status: "done", callerName: "X" }, /Unbekanntes Feld: callerName/],
      ] as const
    ) {
      const res = await patch(admin, callback.id, input);
      assert.equal(res.status, 400, JSON.stringify(input));
      assert.match(JSON.stringify(await res.json()), message);
    }
    assert.equal(
      (await getRequest(t.store, keyring, accountId, callback.id))?.status,
      "open",
      "nothing changed",
    );
    const audit = listAudit(t.store, accountId, { limit: 1000 }).filter((a) => a.subjectType === "request");
    assert.deepEqual(
      audit.filter((a) => a.action === "request.update").map((a) => a.subjectId),
      [rx.id],
      "only the valid change is audited",
    );
    assert.ok(audit.some((a) => a.action === "request.view" && a.subjectId === callback.id));
    assert.ok(audit.some((a) => a.action === "request.list"));
  } finally {
    await t.close();
  }
});

Deno.test("requests: account B sees nothing of account A's requests (page, API, changes)", async () => {
  const t = await startTestUi();
  try {
    await setupAndLogin(t);
    const { keyring, accountId, callback } = await seed(t);
    const b = createAccount(t.store, { name: "Praxis B", kind: "clinical" });
    const other = await userIn(t, b.id, "b@praxis-b.test", "admin");
    const list = await other.page("/requests");
    assert.equal(list.res.status, 200);
    assert.doesNotMatch(list.html, /Zwiebelmeier|Nora Notfall|data-request=/);
    assert.equal((await other.fetch(`/requests/${callback.id}`)).status, 404);
    assert.deepEqual((await (await other.fetch("/api/requests")).json()).requests, []);
    assert.equal((await other.fetch(`/api/requests/${callback.id}`)).status, 404);
    assert.equal((await patch(other, callback.id, { status: "done" })).status, 404);
    assert.equal(
      (await other.post(`/requests/${callback.id}`, { action: "status", status: "done" }, list.csrf)).status,
      404,
    );
    assert.equal((await getRequest(t.store, keyring, accountId, callback.id))?.status, "open");
  } finally {
    await t.close();
  }
});

Deno.test("requests: part of a person's Art. 15 export and deleted with their Art. 17 erasure", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const keyring = await keyringOf(t);
    const accountId = listAccounts(t.store)[0].id;
    const person = createPerson(t.store, accountId, {
      kind: "patient",
      displayName: "Erna",
      phoneE164: "+4930111444",
    });
    const call = createCall(t.store, accountId, {
      direction: "inbound",
      transport: "browser",
      personId: person.id,
    });
    const theirs = await createRequest(t.store, keyring, accountId, {
      ...REQ,
      callId: call.id,
      callerName: "Erna",
    });
    const staffNote = await createRequest(t.store, keyring, accountId, { ...REQ, source: "staff" });
    const exp = await (await admin.fetch(`/api/people/${person.id}/export`)).json();
    assert.deepEqual(exp.requests.map((r: { id: string }) => r.id), [theirs.id]);
    assert.equal(exp.requests[0].callerName, "Erna");
    assert.equal(exp.requests[0].callbackNumber, "+4917099887766");
    const { csrf } = await admin.page("/requests");
    const del = await admin.fetch(`/api/people/${person.id}`, {
      method: "DELETE",
      headers: { "x-csrf-token": csrf, origin: admin.origin },
    });
    assert.equal(del.status, 200);
    assert.equal(await getRequest(t.store, keyring, accountId, theirs.id), undefined);
    assert.ok(await getRequest(t.store, keyring, accountId, staffNote.id), "a request of no call stays");
  } finally {
    await t.close();
  }
});
