// The live parts of "Anliegen": the open count in every page's navigation (rendered by the server, so it
// shows without JavaScript), the inbox's server-sent events scoped to the account (account B never sees
// account A's request), the UiHandle's requestNoted as the pipeline's entry point, and staff changes
// (PATCH and form posts) publishing the new count.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createAccount, createRequest, createUser, listAccounts, type NewRequest } from "../../store/mod.ts";
import { TranscriptKeyring } from "../../store/crypto/mod.ts";
import { hashPassword } from "../../ui/auth/password.ts";
import { Client, login, PASSWORD, setupAndLogin, startTestUi, type TestUi } from "./_harness.ts";

const REQ: NewRequest = {
  callId: null,
  kind: "callback",
  urgency: "urgent",
  callerName: "Hildegard Zwiebelmeier",
  callbackNumber: "+4917099887766",
  forWhom: "",
  preferredTimes: "",
  medication: "",
  summary: "Bitte um Rückruf",
  source: "call",
};

/** Store a request and announce it, as the lead's wiring in app/serve.ts does. */
async function noteRequest(t: TestUi, accountId: string, r: Partial<NewRequest> = {}) {
  const keyring = await TranscriptKeyring.open(join(t.dataDir, "secrets", "transcripts.key"));
  const req = await createRequest(t.store, keyring, accountId, { ...REQ, ...r });
  t.ui.requestNoted(accountId, { id: req.id, kind: req.kind, urgency: req.urgency });
  return req;
}

/** An open inbox stream: read until a frame matches. */
async function openInbox(c: Client) {
  const ac = new AbortController();
  const res = await c.fetch("/api/live/inbox", { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.ok(res.body);
  const reader = res.body.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    .getReader();
  let text = "";
  const events: { type: string; data: Record<string, unknown> }[] = [];
  return {
    events,
    /** Read frames until one of `type` arrives (after those seen); returns it. */
    async until(type: string, from = 0) {
      for (;;) {
        const hit = events.slice(from).find((e) => e.type === type);
        if (hit) return hit;
        text += (await reader.read()).value ?? "";
        let i;
        while ((i = text.indexOf("\n\n")) >= 0) {
          const frame = text.slice(0, i);
          text = text.slice(i + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (/^event: event$/m.test(frame) && data) events.push(JSON.parse(data));
        }
      }
    },
    async close() {
      ac.abort();
      await reader.cancel().catch(() => {});
    },
  };
}

const badge = (html: string) => /data-testid="requests-badge"[^>]*>(\d+)</.exec(html)?.[1];

Deno.test("the navigation shows the open count on every page, without JavaScript", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const accountId = listAccounts(t.store)[0].id;
    assert.equal(badge((await c.page("/")).html), "0");
    await noteRequest(t, accountId);
    const done = await noteRequest(t, accountId, { kind: "message" });
    t.store.prepare("UPDATE requests SET status = 'done', done_at = 1 WHERE id = ?").run(done.id);
    for (const path of ["/", "/people", "/requests", "/live"]) {
      const { html } = await c.page(path);
      assert.equal(badge(html), "1", `the open count on ${path}`);
      assert.match(html, /aria-live="polite"/);
      assert.match(html, /<span class="sr-only"> offen<\/span>/);
    }
    assert.match((await c.page("/requests")).html, /href="\/requests" aria-current="page"/);
  } finally {
    await t.close();
  }
});

Deno.test("the inbox stream is the account's own: B never sees A's request; no session, no stream", async () => {
  const t = await startTestUi();
  try {
    const a = await setupAndLogin(t);
    const accountA = listAccounts(t.store)[0].id;
    const accountB = createAccount(t.store, { name: "Praxis B", kind: "clinical" }).id;
    createUser(t.store, accountB, {
      email: "bea@b.test",
      displayName: "Bea",
      role: "staff",
      passwordHash: await hashPassword(PASSWORD),
    });
    const b = new Client(t.app);
    await login(b, "bea@b.test");

    const anon = await new Client(t.app).fetch("/api/live/inbox");
    assert.equal(anon.status, 401, "no session: no stream");
    await anon.body?.cancel();

    const sa = await openInbox(a);
    const sb = await openInbox(b);
    assert.deepEqual((await sa.until("request_count")).data, { open: 0 });
    assert.deepEqual((await sb.until("request_count")).data, { open: 0 });
    assert.equal(t.ui.inbox.subscribers, 2);

    const ra = await noteRequest(t, accountA);
    const seenA = await sa.until("request_noted");
    assert.deepEqual(seenA.data, { id: ra.id, kind: "callback", urgency: "urgent", open: 1 });
    assert.doesNotMatch(JSON.stringify(sa.events), /Zwiebelmeier|4917099887766|Rückruf/, "no personal data");

    // B's own request is B's first event after its count: A's never reached it.
    const rb = await noteRequest(t, accountB, { kind: "prescription", urgency: "normal" });
    const seenB = await sb.until("request_noted");
    assert.deepEqual(seenB.data, { id: rb.id, kind: "prescription", urgency: "normal", open: 1 });
    assert.deepEqual(sb.events.map((e) => e.type), ["request_count", "request_noted"]);
    assert.ok(!sb.events.some((e) => e.data.id === ra.id));

    await sa.close();
    await sb.close();
    assert.equal(t.ui.inbox.subscribers, 0, "a closed page unsubscribes");
  } finally {
    await t.close();
  }
});

Deno.test("staff changes publish the open count: PATCH done, form posts in progress and reopen", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const accountId = listAccounts(t.store)[0].id;
    const r1 = await noteRequest(t, accountId);
    const r2 = await noteRequest(t, accountId, { kind: "appointment" });
    const s = await openInbox(c);
    assert.deepEqual((await s.until("request_count")).data, { open: 2 });

    const { csrf } = await c.page("/requests");
    let n = s.events.length;
    const res = await c.fetch(`/api/requests/${r1.id}`, {
      method: "PATCH",
      body: JSON.stringify({ status: "done" }),
      headers: { "content-type": "application/json", "x-csrf-token": csrf, origin: c.origin },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.deepEqual((await s.until("request_count", n)).data, { open: 1 }, "PATCH done: one fewer");

    n = s.events.length;
    assert.equal(
      (await c.post(`/requests/${r2.id}`, { action: "status", status: "in_progress" })).status,
      303,
    );
    assert.deepEqual((await s.until("request_count", n)).data, { open: 0 }, "form: in progress");

    n = s.events.length;
    assert.equal((await c.post(`/requests/${r1.id}`, { action: "status", status: "open" })).status, 303);
    assert.deepEqual((await s.until("request_count", n)).data, { open: 1 }, "form: reopened");

    // A change of the notes alone leaves the count as it is: no event.
    n = s.events.length;
    assert.equal((await c.post(`/requests/${r1.id}`, { action: "notes", notes: "x" })).status, 303);
    assert.equal(badge((await c.page("/")).html), "1");
    await noteRequest(t, accountId, { kind: "question" });
    assert.equal((await s.until("request_noted", n)).data.open, 2);
    assert.deepEqual(s.events.slice(n).map((e) => e.type), ["request_noted"]);
    await s.close();
  } finally {
    await t.close();
  }
});
