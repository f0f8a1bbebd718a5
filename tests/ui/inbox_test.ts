// A call being transferred to staff reaches the account's "Anliegen" inbox (ui/inbox.ts) through the live
// feed, the one tap on calls: the real Hono app's inbox stream of account A gets `transfer` {callId,
// reason, outcome, summary} when the transfer starts and as it ends, and `transfer_end` when the call ends;
// account B's stream gets nothing of it. /requests has the status region the notices appear in.
import assert from "node:assert/strict";
import { createAccount, createUser, listAccounts } from "../../store/mod.ts";
import type { CallOutput } from "../../gateway/call/contract.ts";
import { emitPipelineEvent } from "../../gateway/call/messages.ts";
import { hashPassword } from "../../ui/auth/password.ts";
import { Client, login, PASSWORD, setupAndLogin, startTestUi } from "./_harness.ts";

/** A phone line's output: audio only, no event sink. */
function phoneOutput(): CallOutput {
  return { audio() {}, mark() {}, clear() {}, hangup() {}, queuedMs: 0 };
}

type Ev = { type: string; data: Record<string, unknown> };

/** An open inbox stream: read until a frame matches. */
async function openInbox(c: Client) {
  const ac = new AbortController();
  const res = await c.fetch("/api/live/inbox", { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.ok(res.body);
  const reader = res.body.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
    .getReader();
  let text = "";
  const events: Ev[] = [];
  return {
    events,
    /** Read frames until one matching `ok` arrives (after the first `from`); returns it, or fails in 10 s. */
    async until(ok: (e: Ev) => boolean, from = 0): Promise<Ev> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no such event; got ${JSON.stringify(events)}`)), 10_000);
      });
      try {
        for (;;) {
          const hit = events.slice(from).find(ok);
          if (hit) return hit;
          text += (await Promise.race([reader.read(), late])).value ?? "";
          let i;
          while ((i = text.indexOf("\n\n")) >= 0) {
            const frame = text.slice(0, i);
            text = text.slice(i + 2);
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (/^event: event$/m.test(frame) && data) events.push(JSON.parse(data));
          }
        }
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      ac.abort();
      await reader.cancel().catch(() => {});
    },
  };
}

const type = (t: string) => (e: Ev) => e.type === t;

Deno.test("a call's transfer reaches its account's inbox, with reason and summary; B sees nothing", async () => {
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
    const page = (await a.page("/requests")).html;
    assert.match(page, /<div role="status" aria-label="Anrufer, die gerade verbunden werden"/);
    assert.match(page, /data-testid="transfer-notices"/);

    const sa = await openInbox(a);
    const sb = await openInbox(b);
    await sa.until(type("request_count"));
    await sb.until(type("request_count"));

    const watch = t.ui.feed(
      {
        accountId: accountA,
        callId: "call-a1",
        transport: "audiosocket",
        direction: "inbound",
        startedAt: 0,
      },
      phoneOutput(),
    );
    emitPipelineEvent(watch.output, { type: "stt_final", turn: 1, text: "Ich will einen Menschen" });
    emitPipelineEvent(watch.output, {
      type: "transfer",
      reason: "caller_asked",
      targetKind: "extension",
      outcome: "started",
      summary: "Fragt nach dem Befund vom Dienstag",
      caller: { number: "+4930123456", name: "Anna Muster", identity: "number_match" },
    });
    const started = await sa.until(type("transfer"));
    assert.deepEqual(
      started.data,
      {
        callId: "call-a1",
        reason: "caller_asked",
        outcome: "started",
        summary: "Fragt nach dem Befund vom Dienstag",
        caller: { number: "+4930123456", name: "Anna Muster", identity: "number_match" },
      },
      "what the inbox carries: call, caller (unproven), reason, outcome, summary (no target, no transcript)",
    );

    let n = sa.events.length;
    emitPipelineEvent(watch.output, {
      type: "transfer",
      reason: "caller_asked",
      targetKind: "extension",
      outcome: "failed",
      detail: "busy",
    });
    assert.deepEqual((await sa.until(type("transfer"), n)).data, {
      callId: "call-a1",
      reason: "caller_asked",
      outcome: "failed",
    });
    n = sa.events.length;
    watch.end({ reason: "hangup", status: "completed", durationMs: 1000 });
    assert.deepEqual((await sa.until(type("transfer_end"), n)).data, { callId: "call-a1" });
    assert.deepEqual(sa.events.map((e) => e.type), ["request_count", "transfer", "transfer", "transfer_end"]);

    // A call without a transfer leaves the inbox alone, its end too.
    const quiet = t.ui.feed(
      {
        accountId: accountA,
        callId: "call-a2",
        transport: "audiosocket",
        direction: "inbound",
        startedAt: 0,
      },
      phoneOutput(),
    );
    quiet.end({ reason: "hangup", status: "completed", durationMs: 1 });

    // B's own transfer is B's first event after its count: A's never reached it.
    const wb = t.ui.feed(
      {
        accountId: accountB,
        callId: "call-b1",
        transport: "audiosocket",
        direction: "inbound",
        startedAt: 0,
      },
      phoneOutput(),
    );
    emitPipelineEvent(wb.output, {
      type: "transfer",
      reason: "dtmf_0",
      targetKind: "number",
      outcome: "started",
    });
    assert.deepEqual((await sb.until(type("transfer"))).data, {
      callId: "call-b1",
      reason: "dtmf_0",
      outcome: "started",
    });
    assert.deepEqual(sb.events.map((e) => e.type), ["request_count", "transfer"]);
    assert.doesNotMatch(JSON.stringify(sb.events), /call-a1|Befund/);
    wb.end({ reason: "hangup", status: "completed", durationMs: 1 });
    await sb.until(type("transfer_end"));
    assert.equal(sa.events.length, 4, "A saw nothing of the quiet call nor of B's");

    await sa.close();
    await sb.close();
  } finally {
    await t.close();
  }
});
