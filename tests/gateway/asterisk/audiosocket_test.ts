import assert from "node:assert/strict";
import type { Answerer, CallContext, CallEvent, CallOutput } from "../../../gateway/call/contract.ts";
import { defaultAccountId } from "../../../gateway/call/session.ts";
import { echoAnswerer, GREETING_TONE } from "../../../gateway/call/echo.ts";
import { rmsDbfs, sineWave, toneDbfs } from "../../_rigs/levels.ts";
import { FakeAsterisk, msg, startAudioSocketGateway } from "./audiosocket_client.ts";
import { metricValue, ownerOf } from "../server_harness.ts";
import { PIPELINE_RATE } from "../../../gateway/call/contract.ts";
import type { AmiMessage } from "../../../gateway/asterisk/ami_wire.ts";
import type { AsteriskTransferer } from "../../../gateway/asterisk/ami_transfer.ts";
import { WarmTransfers } from "../../../gateway/asterisk/ami_warm.ts";
import { createLogger } from "../../../infra/mod.ts";

const UUID = "d59d3eb9-621c-4490-b23b-a7bc9d48de41";

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An answerer that records the events it gets and hands its output to `onStart`. */
function spy(events: CallEvent[], onStart?: (out: CallOutput) => void): Answerer {
  return (ctx) => ({
    handle(e) {
      events.push(e);
      if (e.type === "start") onStart?.(ctx.output);
    },
  });
}

Deno.test("an AudioSocket call: the UUID opens it, the greeting comes back as paced slin, # hangs up with 0x00", async () => {
  const gw = await startAudioSocketGateway({ answer: echoAnswerer() });
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await ast.send(msg.uuid(UUID));
    await ast.until(() => ast.audio.length >= 52, "the greeting");
    assert.ok(ast.audio.every((m) => m.type === 0x10 && m.pcm.length === 160), "20 ms of slin 8 kHz each");
    const pcm = concat(ast.audio.map((m) => m.pcm));
    const level = toneDbfs(pcm, 8000, GREETING_TONE.hz);
    assert.ok(level > -16 && level < -14, `greeting at ${level} dBFS`);
    const row = gw.store.db.prepare("SELECT transport, external_id, status FROM calls").get() as Record<
      string,
      string
    >;
    assert.deepEqual({ ...row }, { transport: "audiosocket", external_id: UUID, status: "active" });
    assert.equal(gw.calls.size, 1);
    await ast.send(msg.dtmf("#"));
    await ast.closed;
    assert.ok(ast.hungUp, "TOM sent the hang-up message before closing");
    const ended = gw.store.db.prepare("SELECT status FROM calls").get() as { status: string };
    assert.equal(ended.status, "completed");
    assert.equal(gw.calls.size, 0);
  } finally {
    await gw.close();
  }
});

Deno.test("TOM answers in the caller's kind and rate: 0x12 in, 0x12 out, audio and DTMF delivered", async () => {
  const events: CallEvent[] = [];
  const echo = echoAnswerer({ greeting: false });
  const gw = await startAudioSocketGateway({
    answer: (ctx) => {
      const inner = echo(ctx);
      return { handle: (e) => (events.push(e), inner.handle(e)) };
    },
  });
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    const tone = sineWave({ freq: 700, rate: 16000, durationMs: 400, peakDb: -10 });
    await ast.send(msg.uuid(UUID));
    for (let i = 0; i < 20; i++) await ast.send(msg.audio(0x12, tone.subarray(i * 320, (i + 1) * 320)));
    await ast.send(msg.dtmf("4"));
    await ast.until(
      () => ast.audio.filter((m) => m.type === 0x12 && rmsDbfs(m.pcm) > -20).length >= 15,
      "the echo",
    );
    const echoed = ast.audio.filter((m) => m.type === 0x12);
    assert.ok(echoed.every((m) => m.pcm.length === 320 && m.rate === 16000));
    const level = toneDbfs(concat(echoed.map((m) => m.pcm)), 16000, 700);
    assert.ok(level > -20, `echo at ${level} dBFS`);
    const audio = events.filter((e) => e.type === "audio");
    assert.equal(audio.length, 20);
    assert.ok(audio.every((e) => e.type === "audio" && e.pcm.length === 320));
    assert.deepEqual(events.filter((e) => e.type === "dtmf"), [{ type: "dtmf", digit: "4" }]);
    const start = events[0];
    assert.equal(start.type === "start" && start.transport, "audiosocket");
    await ast.send(msg.hangup());
    await ast.closed;
    assert.equal(events.at(-1)?.type, "stop");
    assert.ok(!ast.hungUp, "a call Asterisk hung up gets no hang-up back");
  } finally {
    await gw.close();
  }
});

Deno.test("silence frames keep the call alive while TOM has nothing to say", async () => {
  const gw = await startAudioSocketGateway({ answer: echoAnswerer({ greeting: false }) });
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await ast.send(msg.uuid(UUID));
    await ast.until(() => ast.audio.length >= 5, "silence frames");
    assert.ok(ast.audio.every((m) => m.pcm.length === 160 && m.pcm.every((s) => s === 0)));
    await ast.close();
  } finally {
    await gw.close();
  }
});

Deno.test("a mark fires when the paced sender passes it; clear drops the rest and fires pending marks cleared", async () => {
  const events: CallEvent[] = [];
  let output: CallOutput | undefined;
  const gw = await startAudioSocketGateway({
    answer: spy(events, (out) => {
      output = out;
      out.audio(sineWave({ freq: 500, rate: 16000, durationMs: 100, peakDb: -6 }));
      out.mark("short");
      out.audio(sineWave({ freq: 500, rate: 16000, durationMs: 5000, peakDb: -6 }));
      out.mark("long");
    }),
  });
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await ast.send(msg.uuid(UUID));
    await ast.until(() => events.some((e) => e.type === "mark"), "the first mark");
    const sent = ast.audio.filter((m) => rmsDbfs(m.pcm) > -20).length;
    assert.ok(sent >= 5, `the mark fired after ${sent} loud frames, not before its 100 ms`);
    assert.ok((output?.queuedMs ?? 0) > 3000, `${output?.queuedMs} ms still queued`);
    output?.clear();
    assert.equal(output?.queuedMs, 0);
    await ast.until(() => events.filter((e) => e.type === "mark").length === 2, "the cleared mark");
    assert.deepEqual(events.filter((e) => e.type === "mark"), [
      { type: "mark", name: "short", cleared: false },
      { type: "mark", name: "long", cleared: true },
    ]);
    const before = ast.audio.length;
    await ast.until(() => ast.audio.length >= before + 5, "frames after the clear");
    assert.ok(
      ast.audio.slice(before + 1).every((m) => m.pcm.every((s) => s === 0)),
      "silence after the clear",
    );
    await ast.close();
  } finally {
    await gw.close();
  }
});

Deno.test("malformed streams are closed, counted and logged; the server keeps serving", async () => {
  const gw = await startAudioSocketGateway({ answer: echoAnswerer(), audioSocket: { uuidTimeoutMs: 300 } });
  try {
    const port = gw.audioSocket.addr.port;
    const cases: [string, Uint8Array[]][] = [
      ["unknown kind", [msg.uuid(UUID), new Uint8Array([0x42, 0, 1, 0])]],
      ["oversize length", [msg.uuid(UUID), new Uint8Array([0x10, 0xff, 0xff])]],
      ["oversize UUID", [new Uint8Array([0x01, 0, 17])]],
      ["audio before the UUID", [msg.audio(0x10, new Int16Array(160))]],
      ["no UUID in time", []],
    ];
    for (const [what, parts] of cases) {
      const ast = await FakeAsterisk.connect(port);
      await ast.send(...parts);
      await ast.closed;
      assert.ok(ast.ended, what);
    }
    const metrics = await gw.metrics();
    assert.equal(metricValue(metrics, "tom_audiosocket_protocol_errors_total"), 4);
    assert.ok(
      gw.logs.some((l) =>
        l.message === "AudioSocket connection closed" && l.reason === "no UUID message in time"
      ),
    );
    // Calls that did open ended as failed; none is left live.
    assert.equal(gw.calls.size, 0);
    const ok = await FakeAsterisk.connect(port);
    await ok.send(msg.uuid(UUID));
    await ok.until(() => ok.audio.length > 0, "a frame on a good connection");
    await ok.close();
  } finally {
    await gw.close();
  }
});

Deno.test("a UUID the dialplan reuses does not refuse the next call: it is recorded without it", async () => {
  const gw = await startAudioSocketGateway({ answer: echoAnswerer({ greeting: false }) });
  try {
    for (let i = 0; i < 2; i++) {
      const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
      await ast.send(msg.uuid(UUID));
      await ast.until(() => ast.audio.length > 0, `call ${i + 1} answered`);
      await ast.close();
    }
    const rows = gw.store.db.prepare("SELECT external_id FROM calls ORDER BY rowid").all() as {
      external_id: string | null;
    }[];
    assert.deepEqual(rows.map((r) => r.external_id), [UUID, null]);
    assert.ok(gw.logs.some((l) => String(l.message).startsWith("Asterisk reused a call id")));
  } finally {
    await gw.close();
  }
});

Deno.test("a peer outside gateway.telephonyPeers is closed before a byte is read", async () => {
  const gw = await startAudioSocketGateway({
    answer: echoAnswerer(),
    env: { TOM_GATEWAY_TELEPHONY_PEERS: "10.0.0.0/8" },
  });
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await ast.send(msg.uuid(UUID));
    await ast.closed;
    assert.equal(ast.messages.length, 0);
    assert.equal(gw.calls.size, 0);
    const m = await gw.metrics();
    assert.equal(
      metricValue(m, "tom_gateway_rejected_connections_total", { transport: "audiosocket", reason: "peer" }),
      1,
    );
  } finally {
    await gw.close();
  }
});

Deno.test("the token bucket closes a flooding connection with a hang-up", async () => {
  const gw = await startAudioSocketGateway({ answer: echoAnswerer({ greeting: false }) });
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    const flood = Array.from({ length: 300 }, () => msg.dtmf("1"));
    await ast.send(msg.uuid(UUID), ...flood);
    await ast.closed;
    assert.ok(ast.hungUp);
    const row = gw.store.db.prepare("SELECT status, failure_reason FROM calls").get() as Record<
      string,
      string
    >;
    assert.deepEqual({ ...row }, { status: "failed", failure_reason: "message rate limit" });
    const m = await gw.metrics();
    assert.equal(metricValue(m, "tom_gateway_rate_limited_total", { transport: "audiosocket" }), 1);
  } finally {
    await gw.close();
  }
});

Deno.test("error 0x01 from Asterisk ends the call; other errors are logged and the call goes on", async () => {
  const events: CallEvent[] = [];
  const gw = await startAudioSocketGateway({ answer: spy(events) });
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await ast.send(msg.uuid(UUID), msg.error(0x02));
    await ast.until(
      () => gw.logs.some((l) => l.message === "Asterisk reported an AudioSocket error"),
      "the log",
    );
    assert.ok(!events.some((e) => e.type === "stop"));
    await ast.send(msg.error(0x01));
    await ast.closed;
    assert.deepEqual(events.at(-1), { type: "stop", reason: "caller hung up" });
  } finally {
    await gw.close();
  }
});

Deno.test("shutdown hangs up open calls with 0x00; while draining new connections are refused (0xff: the dialplan falls back)", async () => {
  const gw = await startAudioSocketGateway({ answer: echoAnswerer({ greeting: false }) });
  let closed = false;
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await ast.send(msg.uuid(UUID));
    await ast.until(() => gw.calls.size === 1, "the call");
    const drained = gw.calls.drain(50);
    await ast.closed;
    assert.ok(ast.hungUp, "the live call was ended by the drain");
    assert.equal(await drained, 1);
    const late = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await late.send(msg.uuid(UUID));
    await late.closed;
    assert.ok(!late.hungUp, "a refusal is no hang-up: AudioSocket() would succeed and the dialplan hang up");
    assert.ok(late.messages.some((m) => m.kind === "error"), "the refusal (0xff) fails AudioSocket()");
    assert.equal(late.audio.length, 0);
    await gw.close();
    closed = true;
    assert.equal(gw.audioSocket.size, 0);
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: gw.audioSocket.addr.port }));
  } finally {
    if (!closed) await gw.close();
  }
});

Deno.test("an AudioSocket call's context carries its owner: the account it is recorded in, inbound, no person", async () => {
  const contexts: CallContext[] = [];
  const echo = echoAnswerer();
  const gw = await startAudioSocketGateway({ answer: (ctx) => (contexts.push(ctx), echo(ctx)) });
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await ast.send(msg.uuid(UUID));
    await ast.until(() => contexts.length === 1, "the call");
    const ctx = contexts[0];
    assert.deepEqual(ownerOf(gw.store, ctx), {
      callId: ctx.callId,
      accountId: defaultAccountId(gw.store),
      personId: null,
      direction: "inbound",
    });
    await ast.send(msg.dtmf("#"));
    await ast.closed;
  } finally {
    await gw.close();
  }
});

Deno.test("at TOM_MAX_CALLS a new AudioSocket call is refused at its UUID with 0xff, before audio, and counted", async () => {
  const gw = await startAudioSocketGateway({
    answer: echoAnswerer({ greeting: false }),
    env: { TOM_MAX_CALLS: "1" },
  });
  try {
    const first = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await first.send(msg.uuid(UUID));
    await first.until(() => gw.calls.size === 1, "the first call");
    const next = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await next.send(msg.uuid(crypto.randomUUID()));
    await next.closed;
    assert.deepEqual(next.messages.map((m) => m.kind), ["error"]);
    assert.equal(gw.calls.size, 1);
    assert.equal(gw.calls.started, 1);
    const metrics = await gw.metrics();
    assert.equal(
      metricValue(metrics, "tom_calls_refused_total", { transport: "audiosocket", reason: "full" }),
      1,
    );
    assert.ok(!JSON.stringify(gw.logs).includes("127.0.0.1"), "no address in the logs");
    // The first call ends: the next one is taken again.
    await first.send(msg.hangup());
    await first.closed;
    await first.until(() => gw.calls.size === 0, "the first call's end");
    const again = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await again.send(msg.uuid(crypto.randomUUID()));
    await again.until(() => gw.calls.size === 1, "the call after");
    await again.send(msg.hangup());
    await again.closed;
  } finally {
    await gw.close();
  }
});

/** An AMI link for warm transfers: every Originate is answered; `bridge` reports both legs in one bridge. */
function answeringAmi() {
  const listeners = new Set<(e: AmiMessage) => void>();
  const originates: AmiMessage[] = [];
  const emit = (e: AmiMessage) => queueMicrotask(() => listeners.forEach((f) => f(e)));
  return {
    originates,
    onEvent(fn: (e: AmiMessage) => void) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    action(a: Record<string, string>) {
      const ActionID = String(originates.length + 1);
      if (a.Action === "Originate") {
        originates.push(a);
        emit({ Event: "OriginateResponse", ActionID, Response: "Success", Reason: "4" });
      }
      return Promise.resolve({ response: { Response: "Success", ActionID }, events: [] });
    },
    bridge(caller: string) {
      const staff = originates.at(-1)?.ChannelId ?? "";
      emit({
        Event: "BridgeEnter",
        Uniqueid: staff,
        Channel: "Local/21@tom-transfer-1;1",
        BridgeUniqueid: "b1",
      });
      emit({ Event: "BridgeEnter", Uniqueid: "c", Channel: caller, BridgeUniqueid: "b1" });
    },
  };
}

Deno.test("at TOM_MAX_CALLS a warm transfer's staff leg is still briefed; a stranger with a made-up id is refused", async () => {
  const CALLER = "PJSIP/caller-00000001";
  const ami = answeringAmi();
  const warm = new WarmTransfers(
    ami,
    { context: "tom-warm", ringSeconds: 5 },
    createLogger({
      salt: "s",
      level: "error",
      sink: () => {},
    }),
  );
  const transfer: AsteriskTransferer = {
    transfer: (_call, to, signal) => warm.transfer(CALLER, "tom-transfer", "21", to, signal),
    takeWarm: (id) => warm.take(id),
  };
  const outputs: CallOutput[] = [];
  const gw = await startAudioSocketGateway({
    answer: spy([], (out) => outputs.push(out)),
    env: { TOM_MAX_CALLS: "1" },
    audioSocket: { transfer },
  });
  try {
    const caller = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await caller.send(msg.uuid(UUID));
    await caller.until(() => outputs.length === 1 && gw.calls.full, "the one call TOM may hold");
    const words = sineWave({ freq: 800, rate: PIPELINE_RATE, durationMs: 300, peakDb: -10 });
    const briefing = {
      text: "Hier ist TOM. Ich verbinde Sie mit einem Anrufer.",
      audio: () => Promise.resolve(words),
    };
    const outcome = outputs[0].transfer?.(
      { kind: "extension", target: "21", briefing },
      AbortSignal.timeout(10_000),
    );
    await caller.until(() => ami.originates.length === 1, "TOM calls the staff member");
    const warmId = /TOM_WARM_ID=([0-9a-f-]{36})/.exec(ami.originates[0].Variable)?.[1] ?? "";
    // Someone who is not the staff leg TOM originated: refused like any new call (the PBX falls back).
    const stranger = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await stranger.send(msg.uuid(crypto.randomUUID()));
    await stranger.closed;
    assert.deepEqual(stranger.messages.map((m) => m.kind), ["error"], "a stranger is refused (0xff)");
    // The staff member picks up: they hear TOM say who is calling, then TOM leaves the leg to the bridge.
    const staff = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await staff.send(msg.uuid(warmId));
    await staff.closed;
    assert.ok(staff.hungUp, "TOM hung up its leg after the briefing (the dialplan bridges), no refusal");
    assert.ok(!staff.messages.some((m) => m.kind === "error"), "the staff leg was not refused");
    const heard = concat(staff.audio.map((m) => m.pcm));
    assert.ok(toneDbfs(heard, 8000, 800) > -16, "the staff member heard the briefing");
    ami.bridge(CALLER);
    assert.deepEqual(await outcome, { ok: true }, "the caller is put through, announced");
    assert.equal(gw.calls.started, 1, "the staff leg opened no call of its own");
    // The id was for one use: replayed, it is a new call again, and refused.
    const replay = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await replay.send(msg.uuid(warmId));
    await replay.closed;
    assert.deepEqual(replay.messages.map((m) => m.kind), ["error"], "a replayed warm id is refused");
    const metrics = await gw.metrics();
    assert.equal(
      metricValue(metrics, "tom_calls_refused_total", { transport: "audiosocket", reason: "full" }),
      2,
    );
    await caller.send(msg.hangup());
    await caller.closed;
  } finally {
    await gw.close();
  }
});
