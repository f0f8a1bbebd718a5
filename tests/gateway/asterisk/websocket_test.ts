import assert from "node:assert/strict";
import type { Answerer, CallContext, CallEvent, CallOutput } from "../../../gateway/call/contract.ts";
import { defaultAccountId } from "../../../gateway/call/session.ts";
import { echoAnswerer, GREETING_TONE } from "../../../gateway/call/echo.ts";
import { decodeMulaw, encodeMulaw } from "../../../gateway/audio/mod.ts";
import { sineWave, toneDbfs } from "../../_rigs/levels.ts";
import { FakeChanWebSocket, mediaStart, startAsteriskWsGateway } from "./websocket_client.ts";
import { ownerOf, rawHandshake } from "../server_harness.ts";

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Wraps an answerer (default: none) to record its events and hand out its output. */
function spy(events: CallEvent[], inner?: Answerer, onStart?: (out: CallOutput) => void): Answerer {
  return (ctx) => {
    const h = inner?.(ctx);
    return {
      handle(e) {
        events.push(e);
        if (e.type === "start") onStart?.(ctx.output);
        h?.handle(e);
      },
    };
  };
}

Deno.test("chan_websocket call: MEDIA_START opens it, TOM answers and greets in ulaw, marks by MARK_MEDIA, # hangs up", async () => {
  const events: CallEvent[] = [];
  const gw = await startAsteriskWsGateway({ answer: spy(events, echoAnswerer()) });
  try {
    const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
    await ast.opened;
    assert.equal(ast.socket.protocol, "media", "the subprotocol is echoed");
    ast.send(mediaStart());
    await ast.until(() => ast.commands.includes("ANSWER"), "ANSWER");
    await ast.until(() => ast.commands.includes("MARK_MEDIA m1"), "the greeting's mark");
    assert.ok(ast.frames.every((f) => f.length % 160 === 0), "whole frames of optimal_frame_size");
    const greeting = decodeMulaw(concat(ast.frames));
    assert.equal(greeting.length, 8000, "1 s of mu-law, sent before the mark");
    const level = toneDbfs(greeting, 8000, GREETING_TONE.hz);
    assert.ok(level > -16 && level < -14.5, `greeting at ${level} dBFS`);
    assert.ok(!events.some((e) => e.type === "mark"), "the mark waits for Asterisk");
    ast.send("MEDIA_MARK_PROCESSED m1");
    await ast.until(() => events.some((e) => e.type === "mark"), "the mark event");
    assert.deepEqual(events.find((e) => e.type === "mark"), {
      type: "mark",
      name: "greeting",
      cleared: false,
    });
    // Caller audio in: delivered as 20 ms frames at 16 kHz, echoed back as mu-law.
    const tone = encodeMulaw(sineWave({ freq: 600, rate: 8000, durationMs: 200, peakDb: -10 }));
    for (let i = 0; i < 10; i++) ast.send(tone.subarray(i * 160, (i + 1) * 160));
    // 200 ms in: ten 20 ms frames at 16 kHz, less the resampler's delay.
    await ast.until(() => events.filter((e) => e.type === "audio").length >= 9, "20 ms frames at 16 kHz");
    assert.ok(events.every((e) => e.type !== "audio" || e.pcm.length === 320));
    await ast.until(() => ast.mediaBytes >= 8000 + 1440, "the echo");
    ast.send("DTMF_END digit:# channel_id:1795280779.4");
    await ast.until(() => ast.commands.includes("HANGUP"), "HANGUP");
    await ast.close(); // Asterisk closes the socket after HANGUP
    const row = gw.store.db.prepare("SELECT transport, external_id, status FROM calls").get() as Record<
      string,
      string
    >;
    assert.deepEqual({ ...row }, {
      transport: "chan_websocket",
      external_id: "1795280779.4",
      status: "completed",
    });
    const start = events[0];
    assert.equal(start.type === "start" && start.meta.format, "ulaw");
    assert.deepEqual(events.filter((e) => e.type === "dtmf"), [{ type: "dtmf", digit: "#" }]);
    assert.equal(gw.calls.size, 0);
  } finally {
    await gw.close();
  }
});

Deno.test("JSON control: slin16 frames of 640 bytes, commands as JSON, Asterisk closing ends the call", async () => {
  const events: CallEvent[] = [];
  const gw = await startAsteriskWsGateway({ answer: spy(events, echoAnswerer()) });
  try {
    const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
    await ast.opened;
    ast.send(mediaStart("slin16", 640, true));
    await ast.until(() => ast.commands.includes('{"command":"ANSWER"}'), "ANSWER in JSON");
    await ast.until(
      () => ast.commands.includes('{"command":"MARK_MEDIA","correlation_id":"m1"}'),
      "MARK_MEDIA in JSON",
    );
    assert.ok(ast.frames.every((f) => f.length % 640 === 0));
    assert.equal(ast.mediaBytes, 32000);
    ast.send('{"event":"MEDIA_MARK_PROCESSED","channel_id":"1795280779.4","correlation_id":"m1"}');
    ast.send('{"event":"DTMF_END","channel_id":"1795280779.4","digit":"7"}');
    await ast.until(() => events.some((e) => e.type === "dtmf"), "DTMF");
    assert.deepEqual(events.filter((e) => e.type === "mark" || e.type === "dtmf"), [
      { type: "mark", name: "greeting", cleared: false },
      { type: "dtmf", digit: "7" },
    ]);
    await ast.close();
    // The fake's socket is closed already: wait for TOM's side of the close by polling.
    for (let i = 0; i < 200 && gw.calls.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(events.at(-1), { type: "stop", reason: "caller hung up" });
  } finally {
    await gw.close();
  }
});

Deno.test("clear sends FLUSH_MEDIA; marks queued or still in Asterisk fire cleared; late confirmations are ignored", async () => {
  const events: CallEvent[] = [];
  let output: CallOutput | undefined;
  const gw = await startAsteriskWsGateway({
    answer: spy(events, undefined, (out) => {
      output = out;
      out.audio(sineWave({ freq: 500, rate: 16000, durationMs: 100 }));
      out.mark("a");
      out.audio(sineWave({ freq: 500, rate: 16000, durationMs: 3000 }));
      out.mark("b");
    }),
  });
  try {
    const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
    await ast.opened;
    ast.send(mediaStart());
    await ast.until(() => ast.commands.includes("MARK_MEDIA m1"), "mark a sent to Asterisk");
    assert.ok((output?.queuedMs ?? 0) > 2000, `${output?.queuedMs} ms queued`);
    output?.clear();
    assert.equal(output?.queuedMs, 0);
    await ast.until(() => ast.commands.includes("FLUSH_MEDIA"), "FLUSH_MEDIA");
    await ast.until(() => events.filter((e) => e.type === "mark").length === 2, "both marks");
    assert.deepEqual(events.filter((e) => e.type === "mark"), [
      { type: "mark", name: "a", cleared: true },
      { type: "mark", name: "b", cleared: true },
    ]);
    assert.ok(!ast.commands.includes("MARK_MEDIA m2"), "mark b never reached Asterisk");
    ast.send("MEDIA_MARK_PROCESSED m1");
    const sent = ast.frames.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(events.filter((e) => e.type === "mark").length, 2);
    const after = ast.frames.slice(sent);
    assert.ok(after.every((f) => f.every((b) => b === 0xff)), "only silence is sent after the clear");
    await ast.close();
  } finally {
    await gw.close();
  }
});

Deno.test("MEDIA_XOFF stops the media until MEDIA_XON", async () => {
  const gw = await startAsteriskWsGateway({
    answer: spy([], undefined, (out) => out.audio(new Int16Array(16000 * 3))),
    asterisk: { leadMs: 100 },
  });
  try {
    const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
    await ast.opened;
    ast.send(mediaStart());
    await ast.until(() => ast.frames.length > 0, "media");
    ast.send("MEDIA_XOFF");
    await new Promise((r) => setTimeout(r, 60));
    const paused = ast.mediaBytes;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(ast.mediaBytes, paused, "nothing sent while paused");
    ast.send("MEDIA_XON");
    await ast.until(() => ast.mediaBytes > paused, "media after XON");
    await ast.close();
  } finally {
    await gw.close();
  }
});

Deno.test("without MEDIA_MARK_PROCESSED (Asterisk before 22.8) a mark fires by TOM's estimate", async () => {
  const events: CallEvent[] = [];
  const gw = await startAsteriskWsGateway({
    answer: spy(events, undefined, (out) => {
      out.audio(new Int16Array(1600));
      out.mark("x");
    }),
    asterisk: { markTimeoutMs: 50 },
  });
  try {
    const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
    await ast.opened;
    ast.send(mediaStart());
    await ast.until(() => events.some((e) => e.type === "mark"), "the mark");
    assert.deepEqual(events.find((e) => e.type === "mark"), { type: "mark", name: "x", cleared: false });
    await ast.close();
  } finally {
    await gw.close();
  }
});

Deno.test("calls TOM cannot take and broken peers are closed with 1008, without a call left behind", async () => {
  const gw = await startAsteriskWsGateway({
    answer: echoAnswerer(),
    asterisk: { startTimeoutMs: 200, maxInvalidMessages: 3 },
  });
  try {
    const url = `${gw.ws}/ws/asterisk`;
    const opus = new FakeChanWebSocket(url);
    await opus.opened;
    opus.send(mediaStart("opus", 0));
    opus.send(mediaStart("g722", 160));
    assert.equal((await opus.closed).code, 1008);
    const g722 = new FakeChanWebSocket(url);
    await g722.opened;
    g722.send(mediaStart("g722", 160));
    await g722.until(() => g722.commands.includes("HANGUP"), "HANGUP");
    assert.equal((await g722.closed).code, 1008);
    const silent = new FakeChanWebSocket(url);
    await silent.opened;
    silent.send(new Uint8Array(160)); // media before MEDIA_START is ignored
    assert.equal((await silent.closed).code, 1008, "no MEDIA_START in time");
    const junk = new FakeChanWebSocket(url);
    await junk.opened;
    for (const t of ["hello", "{]", "DTMF_END digit:1"]) junk.send(t);
    assert.equal((await junk.closed).code, 1008, "too many invalid messages");
    assert.equal(gw.calls.size, 0);
    assert.equal((gw.store.db.prepare("SELECT count(*) AS n FROM calls").get() as { n: number }).n, 0);
  } finally {
    await gw.close();
  }
});

Deno.test("the handshake: telephony peers only (403), another subprotocol (400), plain GET (426)", async () => {
  const closed = await startAsteriskWsGateway({
    answer: echoAnswerer(),
    env: { TOM_GATEWAY_TELEPHONY_PEERS: "10.0.0.0/8" },
  });
  try {
    const r = await rawHandshake(closed.port, "/ws/asterisk", { "Sec-WebSocket-Protocol": "media" });
    assert.equal(r.status, 403);
  } finally {
    await closed.close();
  }
  const gw = await startAsteriskWsGateway({ answer: echoAnswerer() });
  try {
    assert.equal(
      (await rawHandshake(gw.port, "/ws/asterisk", { "Sec-WebSocket-Protocol": "ari" })).status,
      400,
    );
    const ok = await rawHandshake(gw.port, "/ws/asterisk", { "Sec-WebSocket-Protocol": "media" });
    assert.equal(ok.status, 101);
    assert.match(ok.head, /sec-websocket-protocol: media/i);
    const plain = await fetch(`${gw.http}/ws/asterisk`);
    assert.equal(plain.status, 426);
    await plain.body?.cancel();
  } finally {
    await gw.close();
  }
});

Deno.test("shutdown hangs up open calls with HANGUP", async () => {
  const gw = await startAsteriskWsGateway({ answer: echoAnswerer({ greeting: false }) });
  let closed = false;
  try {
    const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
    await ast.opened;
    ast.send(mediaStart());
    await ast.until(() => gw.calls.size === 1, "the call");
    const drained = gw.calls.drain(10);
    await ast.until(() => ast.commands.includes("HANGUP"), "HANGUP");
    await ast.close();
    assert.equal(await drained, 1);
    await gw.close();
    closed = true;
  } finally {
    if (!closed) await gw.close();
  }
});

Deno.test("a chan_websocket call's context carries its owner: the account it is recorded in, inbound, no person", async () => {
  const contexts: CallContext[] = [];
  const echo = echoAnswerer();
  const gw = await startAsteriskWsGateway({ answer: (ctx) => (contexts.push(ctx), echo(ctx)) });
  try {
    const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
    await ast.opened;
    ast.send(mediaStart());
    await ast.until(() => contexts.length === 1, "the call");
    const ctx = contexts[0];
    assert.deepEqual(ownerOf(gw.store, ctx), {
      callId: ctx.callId,
      accountId: defaultAccountId(gw.store),
      personId: null,
      direction: "inbound",
    });
    await ast.close();
  } finally {
    await gw.close();
  }
});
