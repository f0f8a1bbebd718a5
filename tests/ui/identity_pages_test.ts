/**
 * The admin UI's side of the identity levels (issue 15): the privacy section of the settings explains the
 * levels and lets the practice choose the check (none, date of birth, PIN); a person's edit page stores
 * the date of birth (sealed) and a PIN (hashed, never shown again), and the audit says a PIN changed
 * without its digits.
 */
import assert from "node:assert/strict";
import { getCallerCheck, identityData, listAccounts, listAudit, pinMatches } from "../../store/mod.ts";
import { setupAndLogin, startTestUi } from "./_harness.ts";

Deno.test("settings: the identity levels are explained and the practice chooses the check", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t, { kind: "clinical" });
    const page = await (await c.fetch("/settings")).text();
    assert.match(page, /Wer ist am Telefon\?/);
    assert.match(page, /Nummer erkannt: Die Nummer gehört einer Person, bewiesen ist das nicht/);
    assert.match(page, /name="callerCheck"/);
    const accountId = listAccounts(t.store)[0].id;
    assert.equal(getCallerCheck(t.store, accountId).method, "none");
    const ok = await c.post("/settings", {
      op: "privacy",
      defaultRetentionDays: "30",
      callerCheck: "birth_date",
    });
    assert.equal(ok.status, 303);
    assert.equal(getCallerCheck(t.store, accountId).method, "birth_date");
    const bad = await c.post("/settings", { op: "privacy", defaultRetentionDays: "30", callerCheck: "name" });
    assert.equal(bad.status, 422);
    assert.equal(getCallerCheck(t.store, accountId).method, "birth_date");
  } finally {
    await t.close();
  }
});

Deno.test("person edit: date of birth and PIN for the check; the PIN is never shown or audited", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t, { kind: "clinical" });
    const created = await c.post("/people/new", {
      kind: "patient",
      displayName: "Erika Mustermann",
      phoneE164: "+4930123456",
      retentionDays: "30",
      consentTranscript: "on",
    });
    const id = created.headers.get("location")?.split("/")[2]?.split("?")[0] ?? "";
    const accountId = listAccounts(t.store)[0].id;
    const base = { displayName: "Erika Mustermann", phoneE164: "+4930123456", retentionDays: "30" };
    const badPin = await c.post(`/people/${id}/edit`, { ...base, birthDate: "1950-03-01", pin: "12" });
    assert.equal(badPin.status, 422);
    const ok = await c.post(`/people/${id}/edit`, { ...base, birthDate: "1950-03-01", pin: "4711" });
    assert.equal(ok.status, 303);
    assert.deepEqual(identityData(t.store, accountId, id), { birthDate: true, pin: true });
    assert.ok(pinMatches(t.store, accountId, id, "4711"));
    const form = await (await c.fetch(`/people/${id}/edit`)).text();
    assert.match(form, /value="1950-03-01"/);
    assert.doesNotMatch(form, /4711/);
    assert.match(form, /Eine PIN ist gespeichert/);
    // An empty PIN field leaves it; the box clears it.
    await c.post(`/people/${id}/edit`, { ...base, birthDate: "1950-03-01", pin: "" });
    assert.ok(pinMatches(t.store, accountId, id, "4711"));
    await c.post(`/people/${id}/edit`, { ...base, birthDate: "", pin: "", pinClear: "on" });
    assert.deepEqual(identityData(t.store, accountId, id), { birthDate: false, pin: false });
    assert.doesNotMatch(JSON.stringify(listAudit(t.store, accountId)), /4711|1950-03-01/);
  } finally {
    await t.close();
  }
});
