/**
 * The streamed Art. 15 export (ui/data/person_export.ts): every call of a person however many (no cap at
 * 1000), calls that arrive while it streams are neither repeated nor torn, the access log of the person and of
 * each call (and nothing about anyone else), the ZIP with each recording's exact bytes, and the memory it
 * takes for a large person (measured and printed).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { unzipSync } from "fflate";
import {
  appendAudit,
  appendTranscriptTurn,
  attachRecording,
  createAccount,
  createCall,
  createPerson,
  createUser,
  endCall,
  markCallAnswered,
  openStore,
  setBirthDate,
  setPin,
  type Store,
} from "../../../store/mod.ts";
import { TranscriptKeyring, turnAad } from "../../../store/crypto/mod.ts";
import { streamPersonExport } from "../../../ui/data/person_export.ts";

interface Fixture {
  store: Store;
  keyring: TranscriptKeyring;
  dir: string;
  accountId: string;
  personId: string;
  close(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "tom-export-" });
  const store = openStore(":memory:");
  const keyring = await TranscriptKeyring.open(join(dir, "transcripts.key"));
  const account = createAccount(store, { name: "Praxis Dr. Weber", kind: "clinical" });
  const person = createPerson(store, account.id, {
    kind: "patient",
    displayName: "Erna Export",
    phoneE164: "+4940111222",
    consentRecording: true,
    consentTranscript: true,
  });
  return {
    store,
    keyring,
    dir,
    accountId: account.id,
    personId: person.id,
    async close() {
      store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * `n` ended calls of a person, one a minute, each with a two-turn transcript of `textBytes` characters per
 * turn: sealed first (async), then written in one transaction through the store functions.
 */
async function addCalls(
  f: Fixture,
  personId: string,
  n: number,
  textBytes = 40,
  accountId = f.accountId,
): Promise<string[]> {
  const t0 = Date.UTC(2026, 0, 1);
  const ids = Array.from({ length: n }, () => crypto.randomUUID());
  const sealed = await Promise.all(
    ids.flatMap((callId) =>
      (["assistant", "caller"] as const).map(async (speaker, turnIndex) => ({
        callId,
        turnIndex,
        speaker,
        interrupted: false,
        ...await f.keyring.seal(
          new TextEncoder().encode(`${speaker} ${callId} `.padEnd(textBytes, "x")),
          turnAad({ accountId, callId, turnIndex, speaker }),
        ),
      }))
    ),
  );
  f.store.transaction(() => {
    ids.forEach((id, i) => {
      const at = t0 + i * 60_000;
      createCall(f.store, accountId, {
        id,
        direction: "inbound",
        transport: "twilio",
        personId,
        startedAt: at,
      });
      markCallAnswered(f.store, accountId, id, at + 1000);
      endCall(f.store, accountId, id, { status: "completed", at: at + 30_000 });
    });
    for (const turn of sealed) appendTranscriptTurn(f.store, accountId, turn);
  });
  return ids;
}

interface ExportedCall {
  id: string;
  transcript: { text: string }[];
  recordingFile?: string | null;
  accessLog: { action: string; actorUserId: string | null; actorName: string | null }[];
}

interface Exported {
  format: string;
  person: { displayName: string };
  calls: ExportedCall[];
  accessLog: { at: string; action: string; actorUserId: string | null; actorName: string | null }[];
}

function exportOf(f: Fixture, kind: "json" | "zip", personId = f.personId) {
  const exp = streamPersonExport(
    { store: f.store, keyring: f.keyring, dataDir: f.dir },
    f.accountId,
    personId,
    kind,
  );
  assert.ok(exp, "the person is in the account");
  return exp;
}

Deno.test("a person with 1,200 calls gets all 1,200 in the export, each with its transcript", async () => {
  const f = await fixture();
  try {
    const ids = await addCalls(f, f.personId, 1200);
    const other = createPerson(f.store, f.accountId, {
      kind: "patient",
      displayName: "Otto",
      phoneE164: "+4940999",
    });
    await addCalls(f, other.id, 3);
    const data = await new Response(exportOf(f, "json").body).json() as Exported;
    assert.equal(data.format, "tom-person-export/1");
    assert.equal(data.calls.length, 1200);
    assert.deepEqual(new Set(data.calls.map((c) => c.id)), new Set(ids));
    assert.equal(data.calls[0].id, ids[ids.length - 1], "newest first");
    for (const c of data.calls) assert.match(c.transcript[1].text, new RegExp(`^caller ${c.id}`));
  } finally {
    await f.close();
  }
});

Deno.test("a call that starts while the export streams repeats no call and tears no page", async () => {
  const f = await fixture();
  try {
    await addCalls(f, f.personId, 450);
    const reader = exportOf(f, "json").body.getReader();
    const dec = new TextDecoder();
    let text = "";
    // Read until the first page of calls is out, then a new (newest) call arrives.
    while (!text.includes('"turnTimings"')) {
      const r = await reader.read();
      assert.ok(!r.done);
      text += dec.decode(r.value, { stream: true });
    }
    createCall(f.store, f.accountId, { direction: "inbound", transport: "twilio", personId: f.personId });
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      text += dec.decode(r.value, { stream: true });
    }
    const ids = (JSON.parse(text) as Exported).calls.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, "no call twice");
    assert.equal(ids.length, 450);
  } finally {
    await f.close();
  }
});

Deno.test("the access log has the person's and each call's entries with the actor's name, nothing else", async () => {
  const f = await fixture();
  try {
    const [callId, otherCallOfHers] = await addCalls(f, f.personId, 2);
    const staff = createUser(f.store, f.accountId, {
      email: "s@praxis.test",
      displayName: "Sam Staff",
      role: "staff",
      passwordHash: "x",
    });
    const otto = createPerson(f.store, f.accountId, {
      kind: "patient",
      displayName: "Otto",
      phoneE164: "+4940999",
    });
    const [ottosCall] = await addCalls(f, otto.id, 1);
    const b = createAccount(f.store, { name: "Familie Schulz", kind: "private" });
    // 450 entries in one millisecond: the pages (200) must continue within equal times.
    for (let i = 0; i < 450; i++) {
      appendAudit(f.store, f.accountId, {
        actorUserId: staff.id,
        action: "person.view",
        subjectType: "person",
        subjectId: f.personId,
      });
    }
    appendAudit(f.store, f.accountId, {
      actorUserId: staff.id,
      action: "transcript.view",
      subjectType: "call",
      subjectId: callId,
    });
    appendAudit(f.store, f.accountId, {
      actorUserId: null,
      action: "retention.purge",
      subjectType: "call",
      subjectId: callId,
    });
    appendAudit(f.store, f.accountId, {
      actorUserId: staff.id,
      action: "transcript.view",
      subjectType: "call",
      subjectId: ottosCall,
    });
    appendAudit(f.store, f.accountId, {
      actorUserId: staff.id,
      action: "person.view",
      subjectType: "person",
      subjectId: otto.id,
    });
    // Another account writing about the same ids (it cannot see them, but the log must not mix them in).
    appendAudit(f.store, b.id, {
      actorUserId: null,
      action: "person.view",
      subjectType: "person",
      subjectId: f.personId,
    });
    appendAudit(f.store, b.id, {
      actorUserId: null,
      action: "transcript.view",
      subjectType: "call",
      subjectId: callId,
    });

    const data = await new Response(exportOf(f, "json").body).json() as Exported;
    assert.equal(data.accessLog.length, 450);
    assert.ok(data.accessLog.every((a) => a.actorName === "Sam Staff" && a.action === "person.view"));
    const call = data.calls.find((c) => c.id === callId);
    assert.deepEqual(call?.accessLog.map((a) => [a.action, a.actorUserId, a.actorName]), [
      ["transcript.view", staff.id, "Sam Staff"],
      ["retention.purge", null, null],
    ]);
    assert.deepEqual(data.calls.find((c) => c.id === otherCallOfHers)?.accessLog, []);
    assert.ok(!data.calls.some((c) => c.id === ottosCall));
  } finally {
    await f.close();
  }
});

Deno.test("the ZIP holds person.json and each recording byte for byte, nothing outside the recordings", async () => {
  const f = await fixture();
  try {
    const ids = await addCalls(f, f.personId, 3);
    const recorded = ids.slice(0, 2);
    const bytes = new Map<string, Uint8Array>();
    await Deno.mkdir(join(f.dir, "recordings", f.accountId), { recursive: true });
    for (const [i, id] of recorded.entries()) {
      const b = crypto.getRandomValues(new Uint8Array(60_000 + i * 1001));
      bytes.set(id, b);
      await Deno.writeFile(join(f.dir, "recordings", f.accountId, `${id}.wav`), b, { mode: 0o600 });
      assert.ok(attachRecording(f.store, f.accountId, id, `${f.accountId}/${id}.wav`));
    }
    // A path that leaves the recordings folder is never read.
    await Deno.writeTextFile(join(f.dir, "secret.txt"), "nicht exportieren");
    assert.ok(attachRecording(f.store, f.accountId, ids[2], "../secret.txt"));

    const exp = exportOf(f, "zip");
    assert.equal(exp.contentType, "application/zip");
    const files = unzipSync(new Uint8Array(await new Response(exp.body).arrayBuffer()));
    assert.deepEqual(
      Object.keys(files).sort(),
      ["person.json", ...recorded.map((id) => `recordings/${id}.wav`)].sort(),
    );
    for (const id of recorded) assert.deepEqual(files[`recordings/${id}.wav`], bytes.get(id));
    const data = JSON.parse(new TextDecoder().decode(files["person.json"])) as Exported;
    assert.equal(data.person.displayName, "Erna Export");
    assert.equal(data.calls.length, 3);
    for (const c of data.calls) {
      assert.equal(c.recordingFile, recorded.includes(c.id) ? `recordings/${c.id}.wav` : null);
    }
  } finally {
    await f.close();
  }
});

Deno.test("the export names the date of birth and that a PIN is set, never the PIN or its hash", async () => {
  const f = await fixture();
  try {
    const bare = await new Response(exportOf(f, "json").body).json();
    assert.equal(bare.person.birthDate, null, "no date of birth stored: null");
    assert.equal(bare.person.pinSet, false);
    setBirthDate(f.store, f.keyring, f.accountId, f.personId, "1941-05-17");
    setPin(f.store, f.accountId, f.personId, "730519");
    const text = await new Response(exportOf(f, "json").body).text();
    const data = JSON.parse(text);
    // What the person reads in person.json: "birthDate": "1941-05-17", "pinSet": true.
    assert.equal(data.person.birthDate, "1941-05-17");
    assert.equal(data.person.pinSet, true);
    assert.ok(!text.includes("730519"), "the PIN is not in the export");
    assert.ok(!text.includes("scrypt$"), "nor its hash");
  } finally {
    await f.close();
  }
});

Deno.test("a person of another account has no export", async () => {
  const f = await fixture();
  try {
    const b = createAccount(f.store, { name: "Familie Schulz", kind: "private" });
    const exp = streamPersonExport(
      { store: f.store, keyring: f.keyring, dataDir: f.dir },
      b.id,
      f.personId,
      "json",
    );
    assert.equal(exp, undefined);
  } finally {
    await f.close();
  }
});

Deno.test("memory while exporting 3,000 calls with transcripts is measured and printed", async () => {
  const f = await fixture();
  try {
    await addCalls(f, f.personId, 3000, 1500);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    // "kept": the chunks are held until the end, as a response built in one string would hold them.
    for (const [kind, keep] of [["json", false], ["zip", false], ["json", true]] as const) {
      const before = Deno.memoryUsage();
      const js = (m: Deno.MemoryUsage) => m.heapUsed + m.external;
      let peakHeap = js(before);
      let peakRss = before.rss;
      let bytes = 0;
      const kept: Uint8Array[] = [];
      for await (const chunk of exportOf(f, kind).body) {
        bytes += chunk.byteLength;
        if (keep) kept.push(chunk);
        const m = Deno.memoryUsage();
        peakHeap = Math.max(peakHeap, js(m));
        peakRss = Math.max(peakRss, m.rss);
      }
      console.log(
        `export ${kind}${keep ? " (chunks kept, for comparison)" : ", streamed"} of 3,000 calls: ${
          mb(bytes)
        } MB; ` +
          `peak heap+external growth ${mb(peakHeap - js(before))} MB, peak RSS growth ${
            mb(peakRss - before.rss)
          } MB`,
      );
      assert.ok(bytes > 3000 * 3000, "every transcript is in it");
    }
  } finally {
    await f.close();
  }
});
