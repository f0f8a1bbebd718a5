// The "Praxis" page and /api/practice: staff read, administrators edit, German messages, audit, accounts apart.
import assert from "node:assert/strict";
import { createUser, getPractice, listAccounts, listAudit } from "../../store/mod.ts";
import { hashPassword } from "../../ui/auth/password.ts";
import { Client, login, PASSWORD, setupAndLogin, startTestUi, type TestUi } from "./_harness.ts";

const FORM = {
  name: "Praxis Dr. Weber",
  assistantName: "Lotte",
  address: "Hauptstraße 1, 10115 Berlin",
  phone: "+49 30 123456",
  timeZone: "Europe/Berlin",
  hours_mon: "8:00-12:00, 14:00-18:00",
  hours_tue: "08:00-12:00",
  hours_wed: "",
  hours_thu: "08:00 - 12:00; 15.00-19.00",
  hours_fri: "08:00-12:00",
  hours_sat: "",
  hours_sun: "",
  closures: "2026-12-24 bis 2026-12-26 Weihnachten\n\n31.12.2026 Silvester",
  team: "Dr. Anna Weber | Ärztin\nBerta Kurz | MFA",
  services: "Impfungen\nHausbesuche",
  faq: "Brauche ich einen Termin? | Ja, bitte rufen Sie an.",
  mustNot: "Keine Diagnosen stellen",
  transferDuringKind: "extension",
  transferDuringTarget: "21",
  transferAfterKind: "none",
  transferAfterTarget: "",
};

async function staffOf(t: TestUi, accountId: string): Promise<Client> {
  createUser(t.store, accountId, {
    email: "s@praxis.test",
    displayName: "Sam",
    role: "staff",
    passwordHash: await hashPassword(PASSWORD),
  });
  const staff = new Client(t.app);
  await login(staff, "s@praxis.test");
  return staff;
}

async function putJson(c: Client, body: unknown): Promise<Response> {
  const { csrf } = await c.page("/people");
  return await c.fetch("/api/practice", {
    method: "PUT",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", "x-csrf-token": csrf, origin: c.origin },
  });
}

Deno.test("practice page: the administrator edits, the input is parsed, audited and shown", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const accountId = listAccounts(t.store)[0].id;
    const first = await admin.page("/practice");
    assert.equal(first.res.status, 200);
    assert.match(first.html, /href="\/practice"[^>]*aria-current="page"/, "in the navigation");
    assert.match(first.html, /value="Europe\/Berlin"/, "the default time zone");
    assert.match(first.html, /value="TOM"/, "the default assistant name");

    const res = await admin.post("/practice", FORM);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/practice?ok=saved");
    const p = getPractice(t.store, accountId);
    assert.ok(p);
    assert.equal(p.assistantName, "Lotte");
    assert.deepEqual(p.hours.mon, [{ from: "08:00", to: "12:00" }, { from: "14:00", to: "18:00" }]);
    assert.deepEqual(p.hours.thu, [{ from: "08:00", to: "12:00" }, { from: "15:00", to: "19:00" }]);
    assert.deepEqual(p.closures, [
      { from: "2026-12-24", to: "2026-12-26", note: "Weihnachten" },
      { from: "2026-12-31", to: "2026-12-31", note: "Silvester" },
    ]);
    assert.deepEqual(p.team, [{ name: "Dr. Anna Weber", role: "Ärztin" }, {
      name: "Berta Kurz",
      role: "MFA",
    }]);
    assert.deepEqual(p.faq, [{ question: "Brauche ich einen Termin?", answer: "Ja, bitte rufen Sie an." }]);
    assert.deepEqual(p.transfer.duringHours, { kind: "extension", target: "21" });

    const audit = listAudit(t.store, accountId).filter((a) => a.action === "practice.update");
    assert.equal(audit.length, 1);
    assert.match(String(audit[0].detail.changed), /hours/);
    assert.match(String(audit[0].detail.changed), /faq/);

    const again = await admin.page("/practice");
    assert.match(again.html, /value="08:00-12:00, 14:00-18:00"/);
    assert.match(again.html, /2026-12-24 bis 2026-12-26 Weihnachten/);
  } finally {
    await t.close();
  }
});

Deno.test("practice page: invalid input keeps the form, shows German messages and saves nothing", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const accountId = listAccounts(t.store)[0].id;
    const bad = await admin.post("/practice", {
      ...FORM,
      hours_mon: "08:00-12:00, 11:00-13:00",
      hours_tue: "morgens",
      timeZone: "Europe/Nirgendwo",
      closures: "2026-02-30 Fasching",
      faq: "Nur eine Frage ohne Antwort",
      transferDuringKind: "extension",
      transferDuringTarget: "zwei-eins",
    });
    assert.equal(bad.status, 422);
    const html = await bad.text();
    assert.match(html, /Montag: Die Zeiten überschneiden sich/);
    assert.match(html, /Dienstag: Bitte Zeiten wie/);
    assert.match(html, /Zeitzone: Diese Zeitzone ist unbekannt/);
    assert.match(html, /Schließzeiten und Feiertage, Zeile 1: Bitte ein gültiges Datum angeben/);
    assert.match(html, /Häufige Fragen, Zeile 1: Bitte Frage und Antwort durch/);
    assert.match(html, /Bei „Durchwahl“ nur Ziffern/);
    assert.match(html, /value="morgens"/, "the user's input is kept");
    assert.match(html, /Nur eine Frage ohne Antwort<\/textarea>/);
    assert.match(html, /aria-invalid="true"/);
    assert.equal(getPractice(t.store, accountId), undefined, "nothing saved");
    assert.equal(listAudit(t.store, accountId).filter((a) => a.action === "practice.update").length, 0);

    const big = await admin.post("/practice", {
      ...FORM,
      faq: Array.from({ length: 90 }, (_, i) => `Frage ${i}? | ${"Antwort ".repeat(120)}`).join("\n"),
    });
    assert.equal(big.status, 422);
    assert.match(await big.text(), /Die Angaben sind zu umfangreich/);
    assert.equal(getPractice(t.store, accountId), undefined);

    const huge = await admin.post("/practice", { ...FORM, services: "x".repeat(1_100_000) });
    assert.equal(huge.status, 413);
    assert.match(await huge.text(), /Inhalt zu groß/);
  } finally {
    await t.close();
  }
});

Deno.test("practice: staff read the page and the API but cannot change it", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const accountId = listAccounts(t.store)[0].id;
    assert.equal((await admin.post("/practice", FORM)).status, 303);
    const staff = await staffOf(t, accountId);
    const page = await staff.page("/practice");
    assert.equal(page.res.status, 200);
    assert.match(page.html, /Dr\. Anna Weber \(Ärztin\)/);
    assert.match(page.html, /08:00-12:00, 14:00-18:00/);
    assert.doesNotMatch(page.html, /<form method="post" action="\/practice"/, "no edit form for staff");
    const { csrf } = await staff.page("/people");
    assert.equal((await staff.post("/practice", { ...FORM, name: "Gekapert" }, csrf)).status, 403);
    const api = await staff.fetch("/api/practice");
    assert.equal(api.status, 200);
    assert.equal((await api.json()).practice.name, "Praxis Dr. Weber");
    const put = await putJson(staff, { ...getPractice(t.store, accountId), name: "Gekapert" });
    assert.equal(put.status, 403);
    assert.equal(getPractice(t.store, accountId)?.name, "Praxis Dr. Weber");
  } finally {
    await t.close();
  }
});

Deno.test("api/practice: GET the default, PUT validates with German messages per path and audits", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const accountId = listAccounts(t.store)[0].id;
    const got = await (await admin.fetch("/api/practice")).json();
    assert.equal(got.practice.timeZone, "Europe/Berlin");
    assert.equal(got.practice.assistantName, "TOM");

    const bad = await putJson(admin, {
      ...got.practice,
      timeZone: "Nirgendwo",
      hours: { ...got.practice.hours, mon: [{ from: "08:00", to: "12:00" }, { from: "10:00", to: "11:00" }] },
    });
    assert.equal(bad.status, 400);
    const err = await bad.json();
    const byPath = Object.fromEntries(err.detail.map((d: { path: string; message: string }) => [d.path, d]));
    assert.equal(byPath.timeZone.code, "bad_zone");
    assert.match(byPath.timeZone.message, /Zeitzone/);
    assert.equal(byPath["hours.mon.1"].code, "overlap");
    assert.match(byPath["hours.mon.1"].message, /Montag: Die Zeiten überschneiden sich/);
    assert.equal(getPractice(t.store, accountId), undefined);

    const next = { ...got.practice, services: ["Impfungen"], phone: "+49 30 1" };
    const ok = await putJson(admin, next);
    assert.equal(ok.status, 200);
    assert.deepEqual(getPractice(t.store, accountId), next);
    const audit = listAudit(t.store, accountId).filter((a) => a.action === "practice.update");
    assert.equal(audit.length, 1);
    assert.equal(audit[0].detail.api, true);
    assert.equal(audit[0].detail.changed, "phone,services");

    const docs = await (await admin.fetch("/api/openapi.json")).json();
    assert.ok(docs.paths["/api/practice"]?.put, "documented in openapi.json");
  } finally {
    await t.close();
  }
});

Deno.test("practice: account B cannot see account A's practice", async () => {
  const t = await startTestUi();
  try {
    const a = await setupAndLogin(t, { email: "a@praxis.test" });
    assert.equal((await a.post("/practice", { ...FORM, mustNot: "Geheimer Hinweis A" })).status, 303);
    assert.equal(
      (await a.post("/users", {
        op: "account",
        a_accountName: "Praxis Zwei",
        a_kind: "clinical",
        a_displayName: "Bert",
        a_email: "b@zwei.test",
        a_password: PASSWORD,
      })).status,
      303,
    );
    const b = new Client(t.app);
    await login(b, "b@zwei.test");
    const page = await (await b.fetch("/practice")).text();
    assert.doesNotMatch(page, /Geheimer Hinweis A/);
    assert.match(page, /value="Praxis Zwei"/, "B sees its own default");
    const api = await (await b.fetch("/api/practice")).json();
    assert.equal(api.practice.name, "Praxis Zwei");
    assert.deepEqual(api.practice.mustNot, []);
    assert.equal((await putJson(b, { ...api.practice, name: "B neu" })).status, 200);
    const [accA, accB] = listAccounts(t.store);
    assert.equal(getPractice(t.store, accA.id)?.name, "Praxis Dr. Weber");
    assert.equal(getPractice(t.store, accB.id)?.name, "B neu");
  } finally {
    await t.close();
  }
});
