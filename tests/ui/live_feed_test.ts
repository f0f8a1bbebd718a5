/**
 * The live feed through the real CallSession and store: what staff of an account see on the Live page
 * while a phone call runs. The transport is a phone (its output cannot show events), the answering stage
 * emits pipeline events as the pipeline does; the feed, applied like the composition root applies it,
 * publishes them to the hub under the call's account only, with spoken text only for a caller who
 * consented to transcripts, and never a phone number.
 */
import assert from "node:assert/strict";
import { metrics } from "@opentelemetry/api";
import { loadConfig } from "../../infra/config.ts";
import { silentLogger } from "../../infra/log.ts";
import { CallRegistry } from "../../infra/call_registry.ts";
import {
  callConsent,
  createAccount,
  createPerson,
  findPersonByPhone,
  openStore,
  updatePerson,
} from "../../store/mod.ts";
import type { Answerer, CallContext, CallOutput } from "../../gateway/call/contract.ts";
import { emitPipelineEvent } from "../../gateway/call/messages.ts";
import { CallSession, defaultAccountId, type GatewayDeps } from "../../gateway/call/session.ts";
import { type LiveEvent, LiveHub, type LiveSubscription } from "../../ui/live.ts";
import { liveFeed } from "../../ui/live_feed.ts";

const PHONE = "+4917012345678";

/** A phone line's output: audio only, no event sink. */
function phoneOutput(): CallOutput {
  return { audio() {}, mark() {}, clear() {}, hangup() {}, queuedMs: 0 };
}

async function rig() {
  const dir = await Deno.makeTempDir({ prefix: "tom-live-feed-" });
  const store = openStore(":memory:");
  const a = defaultAccountId(store);
  const b = createAccount(store, { name: "Andere Praxis", kind: "clinical" }).id;
  createPerson(store, a, {
    kind: "patient",
    displayName: "Erika",
    phoneE164: PHONE,
    consentTranscript: true,
  });
  const hub = new LiveHub();
  let ctx: CallContext | undefined;
  const answer: Answerer = (c) => {
    ctx = c;
    return { handle() {} };
  };
  const deps: GatewayDeps = {
    config: loadConfig({ env: { TOM_DATA_DIR: dir }, cwd: dir }),
    store,
    log: silentLogger,
    meter: metrics.getMeter("test"),
    calls: new CallRegistry(),
    answer,
    watch: liveFeed(hub, {
      transcripts: (acc, call) => callConsent(store, acc, call)?.transcript === true,
    }),
  };
  return {
    store,
    hub,
    a,
    b,
    open(accountId: string, from?: string): { session: CallSession; out: CallOutput } {
      const session = CallSession.open(deps, {
        transport: "audiosocket",
        direction: "inbound",
        accountId,
        from,
        peerRate: 8000,
      }, phoneOutput());
      if (!ctx) throw new Error("The answering stage did not start");
      return { session, out: ctx.output };
    },
    async close() {
      store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** One turn as the pipeline reports it. */
function turn(out: CallOutput): void {
  emitPipelineEvent(out, { type: "vad", state: "speech_start", atMs: 100 });
  emitPipelineEvent(out, { type: "vad", state: "speech_end", atMs: 900 });
  emitPipelineEvent(out, { type: "stt_final", turn: 1, text: "Ich brauche einen Termin" });
  emitPipelineEvent(out, { type: "llm_token", turn: 1, token: "Gern" });
  emitPipelineEvent(out, { type: "llm_token", turn: 1, token: ", wann?" });
  emitPipelineEvent(out, { type: "tts_audio", turn: 1, text: "Gern, wann?", durationMs: 1200 });
  emitPipelineEvent(out, { type: "tts_audio", turn: 1, durationMs: 300 }); // the sentence's next chunk
  emitPipelineEvent(out, { type: "turn_end", turn: 1, interrupted: false, latencies: { stt: 300 } });
}

async function drain(sub: LiveSubscription): Promise<LiveEvent[]> {
  const got: LiveEvent[] = [];
  while (sub.queued > 0) {
    const e = await sub.next(1);
    if (e && e !== "idle") got.push(e);
  }
  return got;
}

Deno.test("staff of account B see none of account A's call; A's staff see its start, events and end", async () => {
  const r = await rig();
  try {
    const subA = r.hub.subscribe(r.a);
    const subB = r.hub.subscribe(r.b);
    const { session, out } = r.open(r.a, PHONE);
    turn(out);
    session.end("caller hung up");
    assert.equal(subB.queued, 0, "account B received nothing of account A's call");
    assert.deepEqual(r.hub.snapshot(r.b), []);
    const got = await drain(subA);
    assert.deepEqual(got.map((e) => e.type), [
      "connected",
      "vad",
      "vad",
      "stt_final",
      "llm_token",
      "tts_audio",
      "turn_end",
      "call_end",
    ]);
    assert.ok(got.every((e) => e.accountId === r.a && e.callId === session.id));
    assert.deepEqual(got[0].data, { transport: "audiosocket", direction: "inbound" });
    // The caller consented to transcripts: the text shows; the two tokens arrive as one event, the
    // sentence's two audio chunks as one (its audio never).
    assert.equal(got[3].data?.text, "Ich brauche einen Termin");
    assert.deepEqual(got[4].data, { turn: 1, tokens: 2, token: "Gern, wann?" });
    assert.deepEqual(got[5].data, { turn: 1, durationMs: 1500, chunks: 2, text: "Gern, wann?" });
    assert.deepEqual(got[7].data, {
      reason: "caller hung up",
      status: "completed",
      durationMs: got[7].data?.durationMs,
    });
    assert.doesNotMatch(JSON.stringify(got), /4917012345678/, "no phone number in live events");
    // B's own call reaches B, not A.
    const other = r.open(r.b);
    other.session.end("done");
    assert.equal(subA.queued, 0);
    assert.deepEqual((await drain(subB)).map((e) => e.type), ["connected", "call_end"]);
    // The call ended: its history is gone.
    assert.equal(r.hub.trackedCalls, 0);
  } finally {
    await r.close();
  }
});

Deno.test("the Live page shows no spoken text of a caller without transcript consent", async () => {
  const r = await rig();
  try {
    const sub = r.hub.subscribe(r.a);
    const { session, out } = r.open(r.a, "+4930999999"); // not a known person: no consent
    turn(out);
    emitPipelineEvent(out, { type: "barge_in", turn: 1, atMs: 2000, heardText: "Gern" });
    session.end("caller hung up");
    const got = await drain(sub);
    const text = JSON.stringify(got);
    assert.doesNotMatch(text, /Termin|Gern|wann/);
    assert.deepEqual(got.find((e) => e.type === "stt_final")?.data, { turn: 1 });
    assert.deepEqual(got.find((e) => e.type === "llm_token")?.data, { turn: 1, tokens: 2 });
    assert.deepEqual(got.find((e) => e.type === "barge_in")?.data, { turn: 1, atMs: 2000 });
  } finally {
    await r.close();
  }
});

Deno.test("a caller who withdraws transcript consent during the call has no text on the Live page from the next turn", async () => {
  const r = await rig();
  try {
    const sub = r.hub.subscribe(r.a);
    const { session, out } = r.open(r.a, PHONE);
    emitPipelineEvent(out, { type: "stt_final", turn: 1, text: "Erster Satz" });
    const erika = findPersonByPhone(r.store, r.a, PHONE);
    assert.ok(erika);
    updatePerson(r.store, r.a, erika.id, { consentTranscript: false });
    emitPipelineEvent(out, { type: "stt_final", turn: 2, text: "Zweiter Satz" });
    emitPipelineEvent(out, { type: "tts_audio", turn: 2, text: "Antwort", durationMs: 500 });
    session.end("caller hung up");
    const got = (await drain(sub)).filter((e) => e.type === "stt_final" || e.type === "tts_audio");
    assert.deepEqual(got.map((e) => e.data), [
      { turn: 1, text: "Erster Satz" },
      { turn: 2 },
      { turn: 2, durationMs: 500, chunks: 1 },
    ]);
  } finally {
    await r.close();
  }
});

Deno.test("TOM's tokens reach the Live page gathered, even when no other event follows", async () => {
  const hub = new LiveHub();
  const sub = hub.subscribe("acc");
  const watch = liveFeed(hub, { transcripts: () => true, tokenFlushMs: 5 })(
    { accountId: "acc", callId: "c1", transport: "browser", direction: "inbound", startedAt: 0 },
    phoneOutput(),
  );
  for (const t of ["Guten", " Tag", "!"]) {
    emitPipelineEvent(watch.output, { type: "llm_token", turn: 2, token: t });
  }
  assert.equal((await sub.next(1000) as LiveEvent).type, "connected");
  const e = await sub.next(5000) as LiveEvent;
  assert.deepEqual({ type: e.type, data: e.data }, {
    type: "llm_token",
    data: { turn: 2, tokens: 3, token: "Guten Tag!" },
  });
  watch.end({ reason: "x", status: "completed", durationMs: 1 });
  sub.close();
});

/** The tool-call path of one turn: TOM notes a request and reads it back. */
function toolTurn(out: CallOutput): void {
  emitPipelineEvent(out, {
    type: "tool_call",
    turn: 2,
    name: "note_request",
    accepted: false,
    reason: "Nummer fehlt",
  });
  emitPipelineEvent(out, { type: "tool_call", turn: 2, name: "note_request", accepted: true });
  emitPipelineEvent(out, { type: "request_noted", requestId: "req-1", kind: "callback", urgency: "urgent" });
  emitPipelineEvent(out, { type: "say", text: "Ich habe notiert: Rückruf unter 0170 12 34 56 78." });
}

Deno.test("the Live page shows TOM's fixed phrases (with consent), its tool calls and noted requests", async () => {
  const r = await rig();
  try {
    const sub = r.hub.subscribe(r.a);
    const consented = r.open(r.a, PHONE);
    toolTurn(consented.out);
    consented.session.end("done");
    const got = await drain(sub);
    assert.deepEqual(got.map((e) => e.type), [
      "connected",
      "tool_call",
      "tool_call",
      "request_noted",
      "say",
      "call_end",
    ]);
    assert.deepEqual(got[1].data, { turn: 2, name: "note_request", accepted: false, reason: "Nummer fehlt" });
    assert.deepEqual(got[2].data, { turn: 2, name: "note_request", accepted: true });
    assert.deepEqual(got[3].data, { requestId: "req-1", kind: "callback", urgency: "urgent" });
    assert.deepEqual(got[4].data, { text: "Ich habe notiert: Rückruf unter 0170 12 34 56 78." });

    // A caller without transcript consent: the phrase (which may read back the caller's number) has no text.
    const unknown = r.open(r.a, "+4930999999");
    toolTurn(unknown.out);
    unknown.session.end("done");
    const other = await drain(sub);
    assert.deepEqual(other.find((e) => e.type === "say")?.data, {});
    assert.doesNotMatch(JSON.stringify(other), /0170|notiert/);
    assert.equal(other.filter((e) => e.type === "request_noted").length, 1, "the noted request still shows");
  } finally {
    await r.close();
  }
});
