import assert from "node:assert/strict";
import { join } from "node:path";
import {
  attachRecording,
  completeAnalysis,
  createCall,
  endCall,
  enqueueAnalysis,
  getMemory,
  getPerson,
  listAccounts,
  listAudit,
  markCallAnswered,
  recordFeedback,
  saveMemory,
} from "../../store/mod.ts";
import { readTranscript, storeTranscriptTurn } from "../../store/crypto/mod.ts";
import { recordTurnMetrics } from "../../store/mod.ts";
import { setupAndLogin, startTestUi, type TestUi } from "./_harness.ts";

function idFrom(res: Response): string {
  return res.headers.get("location")?.split("/")[2]?.split("?")[0] ?? "";
}

async function callWithTranscript(t: TestUi, accountId: string, personId: string, startedAt: number) {
  const call = createCall(t.store, accountId, {
    direction: "inbound",
    transport: "freeswitch",
    personId,
    startedAt,
  });
  markCallAnswered(t.store, accountId, call.id, startedAt + 1000);
  await storeTranscriptTurn(t.store, t.ui.keyring, accountId, {
    callId: call.id,
    turnIndex: 0,
    speaker: "assistant",
    text: "Guten Tag, hier ist TOM. Wie geht es Ihnen heute?",
    interrupted: true,
  });
  await storeTranscriptTurn(t.store, t.ui.keyring, accountId, {
    callId: call.id,
    turnIndex: 1,
    speaker: "caller",
    text: "Mir geht es gut, danke.",
  });
  recordTurnMetrics(t.store, accountId, call.id, {
    turnIndex: 0,
    vadMs: 210,
    sttMs: 180,
    llmFirstTokenMs: 320,
    ttsFirstAudioMs: 90,
    totalMs: 800,
    bargeIn: true,
  });
  endCall(t.store, accountId, call.id, { status: "completed", at: startedAt + 61_000 });
  enqueueAnalysis(t.store, accountId, call.id);
  completeAnalysis(t.store, accountId, call.id, {
    sentimentLabel: "positiv",
    sentimentScore: 0.6,
    confidence: 0.9,
    reason: "freundlich",
    summary: ["Geht gut"],
  });
  recordFeedback(t.store, accountId, { callId: call.id, rating: 5, source: "dtmf" });
  return call;
}

Deno.test("people: create with E.164 check, consent and retention; list, search, edit", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t, { kind: "private" });
    const bad = await c.post("/people/new", {
      kind: "senior",
      displayName: "",
      phoneE164: "030 123",
      retentionDays: "400",
    });
    assert.equal(bad.status, 422);
    const html = await bad.text();
    assert.match(html, /Bitte geben Sie einen Namen an/);
    assert.match(html, /im Format \+49/);
    assert.match(html, /zwischen 1 und 365 Tagen/);
    assert.match(html, /aria-invalid="true"/);
    const ok = await c.post("/people/new", {
      kind: "senior",
      displayName: "Erna Schmidt",
      phoneE164: "+49 30 1234567",
      retentionDays: "90",
      consentTranscript: "on",
    });
    assert.equal(ok.status, 303);
    const id = idFrom(ok);
    const accountId = listAccounts(t.store)[0].id;
    const p = getPerson(t.store, accountId, id);
    assert.equal(p?.phoneE164, "+49301234567");
    assert.equal(p?.consentTranscript, true);
    assert.equal(p?.consentRecording, false);
    assert.equal(p?.retentionDays, 90);
    const dup = await c.post("/people/new", {
      kind: "senior",
      displayName: "Doppelt",
      phoneE164: "+49301234567",
      retentionDays: "30",
    });
    assert.equal(dup.status, 409);
    assert.match(await (await c.fetch("/people?q=erna")).text(), /Erna Schmidt/);
    assert.match(await (await c.fetch("/people?q=%2B49301234567")).text(), /Erna Schmidt/);
    assert.doesNotMatch(await (await c.fetch("/people?q=niemand")).text(), /Erna Schmidt/);
    const edit = await c.post(`/people/${id}/edit`, {
      displayName: "Erna Schmidt-Meyer",
      phoneE164: "+49301234567",
      retentionDays: "7",
    });
    assert.equal(edit.status, 303);
    assert.equal(getPerson(t.store, accountId, id)?.retentionDays, 7);
    assert.equal(
      getPerson(t.store, accountId, id)?.consentTranscript,
      false,
      "unchecked box withdraws consent",
    );
    const dash = await (await c.fetch("/")).text();
    assert.match(dash, /Erna Schmidt-Meyer/);
    assert.match(dash, /data-testid="stat-people"><span class="v">1</);
    const actions = listAudit(t.store, accountId).map((a) => a.action);
    for (const a of ["person.create", "person.update", "person.list", "dashboard.view"]) {
      assert.ok(actions.includes(a), a);
    }
  } finally {
    await t.close();
  }
});

Deno.test("person and call pages show transcripts with barge-ins, latencies, rating and sentiment", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const id = idFrom(
      await c.post("/people/new", {
        kind: "patient",
        displayName: "Hans Huber",
        phoneE164: "+4989111222",
        retentionDays: "30",
        consentTranscript: "on",
      }),
    );
    const accountId = listAccounts(t.store)[0].id;
    const call = await callWithTranscript(t, accountId, id, Date.now() - 3_600_000);
    const person = await (await c.fetch(`/people/${id}`)).text();
    assert.match(person, /Mir geht es gut, danke\./);
    assert.match(person, /unterbrochen/);
    assert.match(person, /\+0,60/);
    const detail = await (await c.fetch(`/calls/${call.id}`)).text();
    assert.match(detail, /Wie geht es Ihnen heute\?/);
    assert.match(detail, /turn assistant interrupted/);
    assert.match(detail, /<td class="num">320<\/td>/);
    assert.match(detail, /data-testid="rating">5 \/ 5/);
    assert.match(detail, /Keine Aufnahme/);
    const api = await (await c.fetch(`/api/calls/${call.id}`)).json();
    assert.equal(api.transcript.length, 2);
    assert.equal(api.turns[0].bargeIn, true);
    // Stored as ciphertext only.
    const raw = t.store.prepare("SELECT ciphertext FROM transcripts WHERE call_id = ?").all(call.id) as {
      ciphertext: Uint8Array;
    }[];
    assert.ok(raw.every((r) => !new TextDecoder().decode(r.ciphertext).includes("gut")));
    const actions = listAudit(t.store, accountId).map((a) => a.action);
    assert.ok(actions.includes("transcript.view"));
    assert.ok(actions.includes("person.view"));
  } finally {
    await t.close();
  }
});

Deno.test("without consent no transcript is stored at all", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const id = idFrom(
      await c.post("/people/new", {
        kind: "patient",
        displayName: "Ohne Einwilligung",
        phoneE164: "+4989333444",
        retentionDays: "30",
      }),
    );
    const accountId = listAccounts(t.store)[0].id;
    const call = createCall(t.store, accountId, { direction: "inbound", transport: "twilio", personId: id });
    const stored = await storeTranscriptTurn(t.store, t.ui.keyring, accountId, {
      callId: call.id,
      turnIndex: 0,
      speaker: "caller",
      text: "Hallo",
    });
    assert.equal(stored, null);
    assert.equal(t.store.prepare("SELECT count(*) AS n FROM transcripts").get()?.n, 0);
    assert.match(
      await (await c.fetch(`/people/${id}`)).text(),
      /ohne Einwilligung werden Gespräche nicht gespeichert/,
    );
  } finally {
    await t.close();
  }
});

Deno.test("export (Art. 15) has everything about the person, decrypted, and is audited", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const id = idFrom(
      await c.post("/people/new", {
        kind: "patient",
        displayName: "Eva Export",
        phoneE164: "+4940555666",
        retentionDays: "30",
        consentTranscript: "on",
      }),
    );
    const accountId = listAccounts(t.store)[0].id;
    await callWithTranscript(t, accountId, id, Date.now() - 60_000);
    saveMemory(t.store, accountId, id, { facts: ["Hat einen Hund namens Bello"] }, 0);
    const res = await c.fetch(`/people/${id}/export`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-disposition") ?? "", /attachment; filename="person-/);
    const data = await res.json();
    assert.equal(data.format, "tom-person-export/1");
    assert.equal(data.person.displayName, "Eva Export");
    assert.equal(data.person.phoneHash, undefined);
    assert.deepEqual(data.memory, { facts: ["Hat einen Hund namens Bello"] });
    assert.equal(data.calls[0].transcript[1].text, "Mir geht es gut, danke.");
    assert.equal(data.calls[0].rating, 5);
    assert.ok(data.accessLog.some((a: { action: string }) => a.action === "person.create"));
    assert.ok(
      listAudit(t.store, accountId, { subjectType: "person", subjectId: id }).some((a) =>
        a.action === "person.export"
      ),
    );
  } finally {
    await t.close();
  }
});

Deno.test("erasure (Art. 17) removes the person, transcripts, analyses, memory and recording files", async () => {
  const t = await startTestUi({ env: { TOM_RECORDING_ENABLED: "true" } });
  try {
    const c = await setupAndLogin(t);
    const id = idFrom(
      await c.post("/people/new", {
        kind: "patient",
        displayName: "Lena Löschen",
        phoneE164: "+4940777888",
        retentionDays: "30",
        consentTranscript: "on",
        consentRecording: "on",
      }),
    );
    const accountId = listAccounts(t.store)[0].id;
    const call = await callWithTranscript(t, accountId, id, Date.now() - 60_000);
    const recDir = join(t.dataDir, "recordings");
    Deno.mkdirSync(recDir, { recursive: true });
    Deno.writeFileSync(join(recDir, `${call.id}.wav`), new Uint8Array(44));
    assert.ok(attachRecording(t.store, accountId, call.id, `${call.id}.wav`));
    assert.equal((await c.fetch(`/calls/${call.id}/recording`)).headers.get("content-type"), "audio/wav");
    saveMemory(t.store, accountId, id, { facts: ["x"] }, 0);
    const wrong = await c.post(`/people/${id}/erase`, { confirm: "Jemand anders" });
    assert.equal(wrong.status, 422);
    const ok = await c.post(`/people/${id}/erase`, { confirm: "lena löschen" });
    assert.equal(ok.status, 303);
    assert.equal(getPerson(t.store, accountId, id), undefined);
    assert.equal(getMemory(t.store, accountId, id), undefined);
    assert.equal(t.store.prepare("SELECT count(*) AS n FROM transcripts").get()?.n, 0);
    assert.equal(t.store.prepare("SELECT count(*) AS n FROM call_analysis").get()?.n, 0);
    assert.throws(() => Deno.statSync(join(recDir, `${call.id}.wav`)), Deno.errors.NotFound);
    assert.equal(t.store.prepare("SELECT person_id FROM calls WHERE id = ?").get(call.id)?.person_id, null);
    const entry = listAudit(t.store, accountId, { subjectId: id }).find((a) => a.action === "person.erase");
    assert.deepEqual(entry?.detail, { anonymisedCalls: 1, recordings: 1 });
    assert.ok(!JSON.stringify(listAudit(t.store, accountId)).includes("Lena"));
  } finally {
    await t.close();
  }
});

Deno.test("memory facts can be corrected, deleted and forgotten", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const id = idFrom(
      await c.post("/people/new", {
        kind: "patient",
        displayName: "Max Memo",
        phoneE164: "+4940123123",
        retentionDays: "30",
      }),
    );
    const accountId = listAccounts(t.store)[0].id;
    saveMemory(t.store, accountId, id, { facts: ["Hat Katze", "Wohnt allein"], mood_indicator: "gut" }, 0);
    const page = await c.page(`/people/${id}`);
    assert.match(page.html, /value="Hat Katze"/);
    await c.post(`/people/${id}/memory`, {
      op: "update",
      category: "facts",
      index: "0",
      text: "Hat zwei Katzen",
      version: "1",
    }, page.csrf);
    await c.post(
      `/people/${id}/memory`,
      { op: "delete", category: "facts", index: "1", version: "2" },
      page.csrf,
    );
    assert.deepEqual(getMemory(t.store, accountId, id)?.memory, {
      facts: ["Hat zwei Katzen"],
      mood_indicator: "gut",
    });
    const stale = await c.post(`/people/${id}/memory`, {
      op: "add",
      category: "preferences",
      text: "Tee",
      version: "1",
    }, page.csrf);
    assert.equal(stale.status, 409);
    await c.post(`/people/${id}/memory`, { op: "clear" }, page.csrf);
    assert.equal(getMemory(t.store, accountId, id), undefined);
  } finally {
    await t.close();
  }
});

Deno.test("schedules: create with weekdays and window, refuse bad windows, delete", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const id = idFrom(
      await c.post("/people/new", {
        kind: "patient",
        displayName: "Sina Plan",
        phoneE164: "+4940999000",
        retentionDays: "30",
      }),
    );
    const bad = await c.post("/schedules", {
      personId: id,
      day: [],
      windowStart: "12:00",
      windowEnd: "11:00",
    });
    assert.equal(bad.status, 422);
    assert.match(await bad.text(), /mindestens einen Wochentag/);
    assert.equal(
      (await c.post("/schedules", {
        personId: id,
        day: ["0", "2", "4"],
        windowStart: "10:00",
        windowEnd: "11:30",
      })).status,
      303,
    );
    const list = await (await c.fetch("/api/schedules")).json();
    assert.deepEqual(list.schedules[0].weekdays, [0, 2, 4]);
    assert.match(await (await c.fetch("/schedules")).text(), /Mo, Mi, Fr/);
    assert.equal((await c.post("/schedules", { op: "delete", id: list.schedules[0].id })).status, 303);
    assert.deepEqual((await (await c.fetch("/api/schedules")).json()).schedules, []);
  } finally {
    await t.close();
  }
});

Deno.test("dashboard and stats show counts, average duration, sentiment and the 7-day trend", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const id = idFrom(
      await c.post("/people/new", {
        kind: "patient",
        displayName: "Dora Dash",
        phoneE164: "+4940111000",
        retentionDays: "30",
        consentTranscript: "on",
      }),
    );
    const accountId = listAccounts(t.store)[0].id;
    await callWithTranscript(t, accountId, id, Date.now() - 86_400_000);
    const s = await (await c.fetch("/api/stats")).json();
    assert.equal(s.people, 1);
    assert.equal(s.calls, 1);
    assert.equal(s.avgDurationMs, 60_000);
    assert.equal(s.avgSentimentScore, 0.6);
    assert.equal(s.trend.length, 7);
    assert.equal(s.trend.filter((p: { score: number | null }) => p.score === 0.6).length, 1);
    const html = await (await c.fetch("/")).text();
    assert.match(html, /1:00 min/);
    assert.match(html, /<circle/);
    assert.match(html, /data-island="SentimentChart"/);
  } finally {
    await t.close();
  }
});

Deno.test("settings: retention run deletes expired data and recordings; key rotation keeps transcripts readable", async () => {
  const t = await startTestUi({ env: { TOM_RECORDING_ENABLED: "true" } });
  try {
    const c = await setupAndLogin(t);
    const id = idFrom(
      await c.post("/people/new", {
        kind: "patient",
        displayName: "Rita Retention",
        phoneE164: "+4940222000",
        retentionDays: "1",
        consentTranscript: "on",
        consentRecording: "on",
      }),
    );
    const fresh = idFrom(
      await c.post("/people/new", {
        kind: "patient",
        displayName: "Frida Frisch",
        phoneE164: "+4940222001",
        retentionDays: "30",
        consentTranscript: "on",
      }),
    );
    const accountId = listAccounts(t.store)[0].id;
    const old = await callWithTranscript(t, accountId, id, Date.now() - 3 * 86_400_000);
    const recent = await callWithTranscript(t, accountId, fresh, Date.now() - 60_000);
    Deno.mkdirSync(join(t.dataDir, "recordings"), { recursive: true });
    Deno.writeFileSync(join(t.dataDir, "recordings", "old.wav"), new Uint8Array(44));
    attachRecording(t.store, accountId, old.id, "old.wav");
    const keyBefore = t.ui.keyring.currentKeyId;
    assert.equal((await c.post("/settings", { op: "rotate-transcripts" })).status, 303);
    assert.notEqual(t.ui.keyring.currentKeyId, keyBefore);
    const keys = (t.store.prepare("SELECT DISTINCT key_id FROM transcripts").all() as { key_id: string }[])
      .map((r) => r.key_id);
    assert.deepEqual(keys, [t.ui.keyring.currentKeyId]);
    assert.deepEqual(t.ui.keyring.retiredKeyIds, []);
    assert.equal(
      (await readTranscript(t.store, t.ui.keyring, accountId, recent.id))[1].text,
      "Mir geht es gut, danke.",
    );
    assert.equal((await c.post("/settings", { op: "retention" })).status, 303);
    assert.equal((await readTranscript(t.store, t.ui.keyring, accountId, old.id)).length, 0);
    assert.equal((await readTranscript(t.store, t.ui.keyring, accountId, recent.id)).length, 2);
    assert.throws(() => Deno.statSync(join(t.dataDir, "recordings", "old.wav")), Deno.errors.NotFound);
    assert.ok(listAudit(t.store, accountId).some((a) => a.action === "retention.purge"));
    const bad = await c.post("/settings", { op: "privacy", defaultRetentionDays: "0" });
    assert.equal(bad.status, 422);
    assert.equal((await c.post("/settings", { op: "privacy", defaultRetentionDays: "60" })).status, 303);
    assert.match(
      await (await c.fetch("/people/new")).text(),
      /name="retentionDays"[^>]*value="60"|value="60"[^>]*name="retentionDays"/,
    );
    const settings = await (await c.fetch("/settings")).text();
    assert.match(settings, /127\.0\.0\.1/);
    assert.match(settings, /TOM_EGRESS_ALLOW_HOSTS/);
  } finally {
    await t.close();
  }
});

Deno.test("system page shows the doctor report; the live event stream opens with the call list and closes with the page", async () => {
  // What a real call publishes (and that another account's staff see none of it) is tested through the
  // live feed (tests/ui/live_feed_test.ts) and in Chromium with real calls (tests/e2e/ui_live_test.ts).
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const sys = await (await c.fetch("/system")).text();
    assert.match(sys, /Bereit/);
    assert.match(sys, /whisper-server/);
    const ac = new AbortController();
    const res = await c.fetch("/api/live/events", { signal: ac.signal });
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.ok(res.body);
    const reader = res.body.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
      .getReader();
    let text = "";
    while (!/event: calls\n/.test(text)) text += (await reader.read()).value ?? "";
    assert.match(text, /event: calls\ndata: \[\]/);
    assert.equal(t.ui.live.subscribers, 1);
    ac.abort();
    await reader.cancel().catch(() => {});
    assert.equal(t.ui.live.subscribers, 0);
  } finally {
    await t.close();
  }
});
