/**
 * The answering stage's side of the browser transport: pipeline events through the sink, barge-in
 * `clear` (queued audio dropped, pending marks cleared, the client told to flush), marks in order,
 * `queuedMs`, and the message schemas.
 */
import assert from "node:assert/strict";
import type { Answerer, CallContext, CallEvent, CallOutput } from "../../../gateway/call/contract.ts";
import {
  ClientMessage,
  emitPipelineEvent,
  hasEventSink,
  parseClientMessage,
  type PipelineEvent,
  ServerEvent,
} from "../../../gateway/call/messages.ts";
import { createAccount } from "../../../store/mod.ts";
import { ownerOf, startGateway, TestClient } from "../server_harness.ts";

/** An answerer that records its events and lets the test drive its output. */
function scripted(): { answer: Answerer; ctx: Promise<CallContext>; events: CallEvent[] } {
  const events: CallEvent[] = [];
  let resolve: (c: CallContext) => void;
  const ctx = new Promise<CallContext>((r) => (resolve = r));
  return {
    events,
    ctx,
    answer: (c) => {
      resolve(c);
      return { handle: (e) => void events.push(e) };
    },
  };
}

const until = async (cond: () => boolean, what: string) => {
  const deadline = performance.now() + 5000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

Deno.test("pipeline events reach the browser through the output's event sink; invalid ones are dropped", async () => {
  const s = scripted();
  const h = await startGateway({ answer: s.answer });
  const c = new TestClient(`${h.ws}/ws/stream/ev-1?token=${await h.token("ev-1")}`);
  try {
    await c.event("connected");
    c.send({ type: "start" });
    const ctx = await s.ctx;
    assert.ok(hasEventSink(ctx.output));
    const sent: PipelineEvent[] = [
      { type: "vad", state: "speech_start", atMs: 1200, probability: 0.93 },
      { type: "stt_final", turn: 1, text: "Ich möchte einen Termin" },
      { type: "llm_token", turn: 1, token: "Gern" },
      { type: "tts_audio", turn: 1, text: "Gern.", durationMs: 480 },
      { type: "barge_in", turn: 1, atMs: 2100, heardText: "Gern" },
      { type: "turn_end", turn: 1, interrupted: true, latencies: { stt: 180, llm_first_token: 210 } },
      { type: "error", code: "llm_timeout", message: "The language model did not answer" },
    ];
    for (const e of sent) emitPipelineEvent(ctx.output, e);
    emitPipelineEvent(ctx.output, { type: "llm_token", turn: -1, token: "x" } as PipelineEvent);
    await c.until(() => c.events.some((e) => e.type === "error"), "the last event");
    const got = c.events.filter((e) => !["connected", "streaming_started"].includes(String(e.type)));
    assert.deepEqual(got, sent);
    assert.ok(h.logs.some((l) => l.message === "invalid pipeline event dropped" && l.event === "llm_token"));
  } finally {
    await c.close();
    await h.close();
  }
});

Deno.test("clear drops queued audio, fires pending marks as cleared and tells the browser to flush", async () => {
  const s = scripted();
  const h = await startGateway({ answer: s.answer });
  const c = new TestClient(`${h.ws}/ws/stream/clr-1?token=${await h.token("clr-1")}`);
  try {
    await c.event("connected");
    c.send({ type: "start" });
    await c.event("streaming_started");
    const ctx = await s.ctx;
    // 2 s of audio in odd-sized pieces, then a mark; the queue says how much is waiting.
    for (let i = 0; i < 10; i++) ctx.output.audio(new Int16Array(3200).fill(1000 + i));
    ctx.output.mark("answer");
    assert.ok(ctx.output.queuedMs > 1900 && ctx.output.queuedMs <= 2000, `queued ${ctx.output.queuedMs} ms`);
    await c.until(() => c.frames.length >= 5, "some audio");
    ctx.output.clear();
    assert.equal(ctx.output.queuedMs, 0);
    await until(() => s.events.some((e) => e.type === "mark"), "the cleared mark");
    assert.deepEqual(s.events.find((e) => e.type === "mark"), {
      type: "mark",
      name: "answer",
      cleared: true,
    });
    await c.event("clear");
    const framesAtClear = c.frames.length;
    assert.ok(framesAtClear < 100, "most of the 2 s were never sent");
    // After a clear, new audio plays and its mark fires in order, not cleared.
    ctx.output.audio(new Int16Array(500).fill(7)); // 31.25 ms: padded to two frames by the mark
    ctx.output.mark("after");
    await until(() => s.events.filter((e) => e.type === "mark").length === 2, "the second mark");
    assert.deepEqual(s.events.filter((e) => e.type === "mark")[1], {
      type: "mark",
      name: "after",
      cleared: false,
    });
    await c.until(() => c.events.some((e) => e.type === "mark" && e.name === "after"), "the browser's mark");
    const tail = c.frames.slice(-2).map((f) => f.pcm);
    assert.equal(tail[0][0], 7);
    assert.equal(tail[1][179], 7);
    assert.equal(tail[1][180], 0, "the last frame is padded with silence");
  } finally {
    await c.close();
    await h.close();
  }
});

Deno.test("audio events carry 20 ms frames with their call time; a closed socket ends the call", async () => {
  const s = scripted();
  const h = await startGateway({ answer: s.answer });
  const c = new TestClient(`${h.ws}/ws/stream/au-1?token=${await h.token("au-1")}`);
  try {
    await c.event("connected");
    c.send({ type: "start" });
    await c.event("streaming_started");
    c.send(new Uint8Array(640 * 3 + 100));
    await until(() => s.events.filter((e) => e.type === "audio").length === 3, "three frames");
    const audio = s.events.filter((e) => e.type === "audio") as Extract<CallEvent, { type: "audio" }>[];
    assert.deepEqual(audio.map((a) => [a.pcm.length, a.atMs]), [[320, 0], [320, 20], [320, 40]]);
    await c.close();
    await until(() => s.events.some((e) => e.type === "stop"), "stop");
    assert.equal(h.calls.size, 0);
  } finally {
    await h.close();
  }
});

Deno.test("client messages are validated strictly; every server event has a schema", () => {
  assert.deepEqual(parseClientMessage('{"type":"start"}'), { ok: true, message: { type: "start" } });
  assert.deepEqual(parseClientMessage('{"type":"dtmf","digit":"#"}'), {
    ok: true,
    message: { type: "dtmf", digit: "#" },
  });
  for (
    const bad of [
      "",
      "[]",
      '{"type":"dtmf","digit":"12"}',
      '{"type":"start","sampleRate":8000}',
      '{"type":"start","extra":1}',
      '{"type":"hello"}',
      '{"type":"ping","id":{"a":1}}',
    ]
  ) {
    const r = parseClientMessage(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.error, /^Cannot (parse|accept) message/);
  }
  assert.equal(ClientMessage.options.length, 4);
  for (
    const e of [
      { type: "connected", callId: "c", protocol: 1, sampleRate: 16000, encoding: "pcm16le", frameMs: 20 },
      { type: "streaming_started", callId: "c" },
      { type: "mark", name: "greeting" },
      { type: "clear" },
      { type: "pong", id: 3, serverTime: 1 },
      { type: "call_end", reason: "caller stop", durationMs: 1000 },
    ]
  ) assert.ok(ServerEvent.safeParse(e).success, e.type);
  // A plain telephony output has no sink: emitting is a no-op.
  const phone: CallOutput = { audio() {}, mark() {}, clear() {}, hangup() {}, queuedMs: 0 };
  assert.equal(hasEventSink(phone), false);
  emitPipelineEvent(phone, { type: "llm_token", turn: 0, token: "x" });
});

Deno.test("a browser call's context carries its owner: the account chosen for its token, inbound", async () => {
  const s = scripted();
  let accountId = "";
  const subjects: unknown[] = [];
  const h = await startGateway({
    answer: s.answer,
    accountFor: (info) => (subjects.push(info.meta?.subject), accountId),
  });
  accountId = createAccount(h.store, { name: "Familie", kind: "private" }).id;
  const c = new TestClient(`${h.ws}/ws/stream/own-1?token=${await h.token("own-1", { subject: "ui:x" })}`);
  try {
    await c.event("connected");
    c.send({ type: "start" });
    const ctx = await s.ctx;
    assert.deepEqual(subjects, ["ui:x"]);
    assert.deepEqual(ownerOf(h.store, ctx), {
      callId: "own-1",
      accountId,
      personId: null,
      direction: "inbound",
    });
  } finally {
    await c.close();
    await h.close();
  }
});
