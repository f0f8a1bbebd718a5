/**
 * The person's export downloads (routes/people/[id]/export.ts, export.zip.ts, routes/api/people/[id]/export.ts)
 * as a practice uses them: the person page offers JSON and ZIP; the ZIP holds person.json and the recordings;
 * what a staff member opened shows in the call's access log; each download is audited with its format;
 * another account gets 404; the API documents `format`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { unzipSync } from "fflate";
import {
  attachRecording,
  createCall,
  createPerson,
  createUser,
  endCall,
  listAccounts,
  listAudit,
  markCallAnswered,
} from "../../../store/mod.ts";
import { storeTranscriptTurn } from "../../../store/crypto/mod.ts";
import { hashPassword } from "../../../ui/auth/password.ts";
import { Client, login, PASSWORD, setupAndLogin, startTestUi, type TestUi } from "../../ui/_harness.ts";

interface Exported {
  calls: {
    id: string;
    recordingFile: string | null;
    accessLog: { action: string; actorUserId: string | null; actorName: string | null }[];
  }[];
  accessLog: { action: string }[];
}

/** A person of the first account with one recorded call (transcript and WAV file) and one plain call. */
async function personWithRecording(t: TestUi) {
  const accountId = listAccounts(t.store)[0].id;
  const person = createPerson(t.store, accountId, {
    kind: "patient",
    displayName: "Erna Export",
    phoneE164: "+4940111222",
    consentRecording: true,
    consentTranscript: true,
  });
  const recorded = createCall(t.store, accountId, {
    direction: "inbound",
    transport: "twilio",
    personId: person.id,
    startedAt: Date.now() - 120_000,
  });
  markCallAnswered(t.store, accountId, recorded.id);
  await storeTranscriptTurn(t.store, t.ui.keyring, accountId, {
    callId: recorded.id,
    turnIndex: 0,
    speaker: "caller",
    text: "Ich brauche ein neues Rezept.",
  });
  endCall(t.store, accountId, recorded.id, { status: "completed" });
  const wav = crypto.getRandomValues(new Uint8Array(48_000));
  await Deno.mkdir(join(t.dataDir, "recordings", accountId), { recursive: true });
  await Deno.writeFile(join(t.dataDir, "recordings", accountId, `${recorded.id}.wav`), wav);
  assert.ok(attachRecording(t.store, accountId, recorded.id, `${accountId}/${recorded.id}.wav`));
  const plain = createCall(t.store, accountId, {
    direction: "outbound",
    transport: "twilio",
    personId: person.id,
  });
  return { accountId, person, recorded, plain, wav };
}

Deno.test("the person page offers JSON and ZIP; the ZIP has the recording and the staff's access", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const { accountId, person, recorded, plain, wav } = await personWithRecording(t);
    const sam = createUser(t.store, accountId, {
      email: "s@praxis.test",
      displayName: "Sam Staff",
      role: "staff",
      passwordHash: await hashPassword(PASSWORD),
    });
    const staff = new Client(t.app);
    await login(staff, "s@praxis.test");
    // Sam opens the transcript of the recorded call.
    const opened = await staff.fetch(`/calls/${recorded.id}`);
    assert.equal(opened.status, 200);
    assert.match(await opened.text(), /neues Rezept/);

    const page = await (await admin.fetch(`/people/${person.id}`)).text();
    assert.match(page, new RegExp(`href="/people/${person.id}/export"`));
    assert.match(page, new RegExp(`href="/people/${person.id}/export.zip"`));
    assert.match(page, /mit Aufnahmen exportieren \(ZIP/);

    const res = await admin.fetch(`/people/${person.id}/export.zip`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/zip");
    assert.equal(res.headers.get("content-disposition"), `attachment; filename="person-${person.id}.zip"`);
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual(Object.keys(files).sort(), ["person.json", `recordings/${recorded.id}.wav`]);
    assert.deepEqual(files[`recordings/${recorded.id}.wav`], wav);
    const data = JSON.parse(new TextDecoder().decode(files["person.json"])) as Exported;
    const call = data.calls.find((c) => c.id === recorded.id);
    assert.equal(call?.recordingFile, `recordings/${recorded.id}.wav`);
    assert.ok(
      call?.accessLog.some((a) =>
        a.action === "transcript.view" && a.actorUserId === sam.id && a.actorName === "Sam Staff"
      ),
      "the call's access log names who opened the transcript",
    );
    assert.equal(data.calls.find((c) => c.id === plain.id)?.recordingFile, null);
    assert.ok(data.accessLog.some((a) => a.action === "person.export"), "the export itself is in the log");

    const json = await admin.fetch(`/people/${person.id}/export`);
    assert.equal(json.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(((await json.json()) as Exported).calls.length, 2);
    const formats = listAudit(t.store, accountId, { subjectType: "person", subjectId: person.id })
      .filter((a) => a.action === "person.export").map((a) => a.detail.format).sort();
    assert.deepEqual(formats, ["json", "zip"]);
  } finally {
    await t.close();
  }
});

Deno.test("GET /api/people/:id/export streams JSON, or the ZIP with format=zip; both audited", async () => {
  const t = await startTestUi();
  try {
    const admin = await setupAndLogin(t);
    const { accountId, person, recorded, wav } = await personWithRecording(t);
    const json = await admin.fetch(`/api/people/${person.id}/export`);
    assert.equal(json.status, 200);
    const data = await json.json() as Exported & { format: string };
    assert.equal(data.format, "tom-person-export/1");
    assert.equal(data.calls.length, 2);
    assert.equal(data.calls[0].recordingFile, undefined, "the JSON names no files");
    const zip = await admin.fetch(`/api/people/${person.id}/export?format=zip`);
    assert.equal(zip.headers.get("content-type"), "application/zip");
    assert.deepEqual(
      unzipSync(new Uint8Array(await zip.arrayBuffer()))[`recordings/${recorded.id}.wav`],
      wav,
    );
    assert.equal((await admin.fetch(`/api/people/${person.id}/export?format=tar`)).status, 400);
    const audited = listAudit(t.store, accountId, { subjectType: "person", subjectId: person.id })
      .filter((a) => a.action === "person.export").map((a) => a.detail);
    assert.deepEqual(audited.reverse(), [{ format: "json", api: true }, { format: "zip", api: true }]);
    const spec = await (await admin.fetch("/api/openapi.json")).json();
    const params = spec.paths["/api/people/{id}/export"].get.parameters as { name: string }[];
    assert.ok(params.some((p) => p.name === "format"), "the OpenAPI document lists format");
  } finally {
    await t.close();
  }
});

Deno.test("account B cannot download account A's export, neither JSON nor ZIP (404)", async () => {
  const t = await startTestUi();
  try {
    const a = await setupAndLogin(t, { email: "a@praxis.test" });
    const { person } = await personWithRecording(t);
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
    const b = new Client(t.app);
    await login(b, "b@familie.test");
    for (
      const path of [
        `/people/${person.id}/export`,
        `/people/${person.id}/export.zip`,
        `/api/people/${person.id}/export`,
        `/api/people/${person.id}/export?format=zip`,
      ]
    ) {
      const r = await b.fetch(path);
      assert.equal(r.status, 404, path);
      assert.ok(!(await r.text()).includes("Erna"), path);
    }
  } finally {
    await t.close();
  }
});
