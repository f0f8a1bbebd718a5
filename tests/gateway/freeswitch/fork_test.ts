import assert from "node:assert/strict";
import type { Answerer, CallEvent } from "../../../gateway/call/contract.ts";
import { echoAnswerer, GREETING_TONE, tone } from "../../../gateway/call/echo.ts";
import {
  type FreeswitchOptions,
  type FreeswitchTransport,
  mountFreeswitch,
  TAKEN_VARIABLE,
} from "../../../gateway/freeswitch/fork.ts";
import { dominantFrequency, toneDbfs } from "../../_rigs/levels.ts";
import { createAccount, createCall, createPerson, getCall } from "../../../store/mod.ts";
import { defaultAccountId } from "../../../gateway/call/session.ts";
import {
  type GatewayHarness,
  metricValue,
  ownerOf,
  rawHandshake,
  recorder,
  startGateway,
  waitUntil,
} from "../server_harness.ts";
import { type EslStandIn, type EslStandInOptions, startEslStandIn } from "../fixtures/fs_esl_server.ts";
import { AudioForkClient, interleave, readWav } from "../fixtures/fs_audio_fork_client.ts";

interface Rig {
  gw: GatewayHarness;
  esl: EslStandIn;
  fs: FreeswitchTransport;
  url: string;
  close(): Promise<void>;
}

async function rig(
  answer: Answerer,
  opts: { esl?: EslStandInOptions; fs?: FreeswitchOptions; eslPort?: number } = {},
): Promise<Rig> {
  const esl = startEslStandIn({ playbackSpeed: 0.02, ...opts.esl });
  let fs: FreeswitchTransport | undefined;
  const gw = await startGateway({
    answer,
    env: { TOM_FREESWITCH_ESL_PORT: String(opts.eslPort ?? esl.port) },
    transports: [(app, deps, guard) => (fs = mountFreeswitch(app, deps, guard, opts.fs))],
  });
  assert.ok(fs);
  if (opts.eslPort === undefined) await fs.esl.ready();
  return {
    gw,
    esl,
    fs,
    url: `${gw.ws}/ws/freeswitch`,
    async close() {
      await gw.close();
      await esl.close();
    },
  };
}

function meta(uuid: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { uuid, caller: "+4930123456", callee: "100", rate: 16000, mix: "mono", ...extra };
}

function audioOf(events: CallEvent[]): Int16Array[] {
  return events.filter((e): e is Extract<CallEvent, { type: "audio" }> => e.type === "audio").map((e) =>
    e.pcm
  );
}

function concat(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

Deno.test("mod_audio_fork: the subprotocol is echoed; coalesced and odd-sized L16 frames arrive as exact 20 ms frames at 16 kHz", async () => {
  const rec = recorder();
  const r = await rig(rec.answer);
  try {
    const fork = new AudioForkClient(r.url);
    await fork.opened;
    assert.equal(fork.socket.protocol, "audio.drachtio.org");
    const uuid = crypto.randomUUID();
    fork.metadata(meta(uuid));
    const caller = tone(440, 6000, 1000); // 16000 samples
    // Nominal, coalesced (3 frames), odd sizes that split samples, single bytes.
    fork.pcm(caller, [640, 1920, 333, 1, 1, 7, 640, 1283]);
    await waitUntil(() => audioOf(rec.events).length === 50, "50 audio frames");
    const frames = audioOf(rec.events);
    assert.ok(frames.every((f) => f.length === 320), "every frame is 320 samples");
    const ats = rec.events.filter((e) => e.type === "audio").map((e) => (e as { atMs: number }).atMs);
    assert.deepEqual(ats, Array.from({ length: 50 }, (_, i) => i * 20));
    assert.deepEqual(concat(frames), caller, "16 kHz mono passes through bit for bit");
    const start = rec.events[0];
    assert.equal(start.type, "start");
    if (start.type === "start") {
      assert.equal(start.transport, "freeswitch");
      assert.equal(start.from, "+4930123456");
      assert.equal(start.to, "100");
      assert.equal(start.peerRate, 16000);
    }
    const callId = rec.contexts[0].callId;
    const row = getCall(r.gw.store, accountOf(r.gw, callId), callId);
    assert.equal(row?.externalId, uuid);
    assert.equal(row?.transport, "freeswitch");
    assert.equal(row?.direction, "inbound");
    fork.close();
    await fork.closed;
    await waitUntil(() => rec.events.some((e) => e.type === "stop"), "stop");
  } finally {
    await r.close();
  }
});

function accountOf(gw: GatewayHarness, callId: string): string {
  const row = gw.store.db.prepare("SELECT account_id AS a FROM calls WHERE id = ?").get(callId) as {
    a: string;
  };
  return row.a;
}

Deno.test("mod_audio_fork stereo at 8 kHz: TOM takes the caller's channel and resamples it to 16 kHz", async () => {
  const rec = recorder();
  const r = await rig(rec.answer);
  try {
    const fork = new AudioForkClient(r.url);
    await fork.opened;
    fork.metadata(meta(crypto.randomUUID(), { rate: "8k", mix: "stereo" }));
    const caller = tone(440, 8000, 1000, 8000);
    const bot = tone(1700, 8000, 1000, 8000);
    fork.pcm(interleave(caller, bot), [640, 640, 2560, 77, 3, 640]);
    await waitUntil(() => audioOf(rec.events).length >= 45, "audio frames");
    const frames = audioOf(rec.events);
    assert.ok(frames.every((f) => f.length === 320));
    const pcm = concat(frames).subarray(1600); // skip the resampler's start-up
    assert.ok(Math.abs(dominantFrequency(pcm, 16000) - 440) < 3, "the caller's 440 Hz");
    assert.ok(toneDbfs(pcm, 16000, 1700) < toneDbfs(pcm, 16000, 440) - 50, "TOM's own channel is not in it");
    fork.close();
    await fork.closed;
  } finally {
    await r.close();
  }
});

Deno.test("mod_audio_fork + echo: the greeting plays via uuid_broadcast of a WAV of the tone, then the caller is echoed", async () => {
  const echo = echoAnswerer();
  const events: CallEvent[] = [];
  const r = await rig((ctx) => {
    const inner = echo(ctx);
    return {
      handle(e) {
        events.push(e);
        inner.handle(e);
      },
    };
  });
  try {
    const fork = new AudioForkClient(r.url);
    await fork.opened;
    const uuid = crypto.randomUUID();
    fork.metadata(meta(uuid));
    await waitUntil(() => r.esl.broadcasts.length >= 1, "the greeting's uuid_broadcast");
    const greeting = r.esl.broadcasts[0];
    assert.equal(greeting.uuid, uuid);
    const cmd = r.esl.commands.find((c) => c.command.startsWith("uuid_broadcast"));
    assert.equal(cmd?.command, `uuid_broadcast ${uuid} ${greeting.path} aleg`);
    assert.ok(greeting.bytes, "the file existed when FreeSWITCH was asked to play it");
    const wav = readWav(greeting.bytes);
    assert.equal(wav.rate, 16000);
    assert.equal(wav.channels, 1);
    assert.equal(wav.bits, 16);
    assert.deepEqual(wav.pcm, tone(GREETING_TONE.hz, GREETING_TONE.amplitude, GREETING_TONE.ms));
    assert.ok(Math.abs(dominantFrequency(wav.pcm, 16000) - 1000) < 2);

    // The stand-in raises PLAYBACK_STOP for the file: the greeting mark fires and echo begins.
    await waitUntil(
      () => events.some((e) => e.type === "mark" && e.name === "greeting" && !e.cleared),
      "greeting mark",
    );
    const caller = tone(600, 7000, 600);
    fork.pcm(caller, [640]);
    await waitUntil(() => r.esl.broadcasts.length >= 2, "an echo file");
    await waitUntil(
      () =>
        r.esl.broadcasts.slice(1).reduce((n, b) => n + (b.bytes ? readWav(b.bytes).pcm.length : 0), 0) >=
          9600,
      "all of the echo",
    );
    const echoed = concat(r.esl.broadcasts.slice(1).map((b) => readWav(b.bytes as Uint8Array).pcm));
    assert.deepEqual(echoed, caller, "the echo files hold exactly what the caller said");
    fork.close();
    await fork.closed;
  } finally {
    await r.close();
  }
});

Deno.test("barge-in on FreeSWITCH: clear sends killAudio over the socket and uuid_break over ESL; the mark is cleared", async () => {
  const rec = recorder((e, ctx) => {
    if (e.type === "start") {
      ctx.output.audio(tone(300, 5000, 1500));
      ctx.output.mark("reply");
    }
    if (e.type === "dtmf" && e.digit === "5") ctx.output.clear();
  });
  const r = await rig(rec.answer, { esl: { playbackSpeed: 1 } });
  try {
    const fork = new AudioForkClient(r.url);
    await fork.opened;
    const uuid = crypto.randomUUID();
    fork.metadata(meta(uuid));
    await waitUntil(() => r.esl.broadcasts.length === 1, "the reply's broadcast");
    assert.ok((rec.contexts[0].output.queuedMs ?? 0) > 0, "TOM knows audio is queued");
    r.esl.emit({ "Event-Name": "DTMF", "Unique-ID": uuid, "DTMF-Digit": "5", "DTMF-Duration": "2000" });
    await fork.waitFor((m) => m.type === "killAudio");
    await r.esl.waitFor((c) => c.command === `uuid_break ${uuid} all`);
    await waitUntil(() => rec.events.some((e) => e.type === "mark"), "the mark");
    assert.deepEqual(rec.events.find((e) => e.type === "mark"), {
      type: "mark",
      name: "reply",
      cleared: true,
    });
    assert.ok(rec.events.some((e) => e.type === "dtmf" && e.digit === "5"), "DTMF from ESL reaches the call");
    assert.equal(rec.contexts[0].output.queuedMs, 0);
    fork.close();
    await fork.closed;
  } finally {
    await r.close();
  }
});

Deno.test("hang-up on FreeSWITCH: TOM sends uuid_kill and disconnect, closes the fork, and records the call completed", async () => {
  const rec = recorder((e, ctx) => {
    if (e.type === "dtmf") ctx.output.hangup("caller pressed #");
  });
  const r = await rig(rec.answer);
  try {
    const fork = new AudioForkClient(r.url);
    await fork.opened;
    const uuid = crypto.randomUUID();
    fork.metadata(meta(uuid));
    await waitUntil(() => rec.events.length > 0, "start");
    r.esl.emit({ "Event-Name": "DTMF", "Unique-ID": uuid, "DTMF-Digit": "#" });
    await r.esl.waitFor((c) => c.command === `uuid_kill ${uuid}`);
    const closed = await fork.closed;
    assert.equal(closed.code, 1000);
    assert.ok(fork.received.some((m) => m.type === "disconnect"));
    const callId = rec.contexts[0].callId;
    await waitUntil(
      () => getCall(r.gw.store, accountOf(r.gw, callId), callId)?.status === "completed",
      "completed",
    );
    assert.ok(rec.events.some((e) => e.type === "stop"));
  } finally {
    await r.close();
  }
});

Deno.test("mod_audio_fork graceful-shutdown (zero-length frame) ends the call cleanly", async () => {
  const rec = recorder();
  const r = await rig(rec.answer);
  try {
    const fork = new AudioForkClient(r.url);
    await fork.opened;
    fork.metadata(meta(crypto.randomUUID()));
    fork.pcm(tone(440, 3000, 100), [640]);
    fork.gracefulShutdown();
    const closed = await fork.closed;
    assert.equal(closed.code, 1000);
    const stop = rec.events.find((e) => e.type === "stop");
    assert.ok(stop && stop.type === "stop" && /graceful/.test(stop.reason));
    const callId = rec.contexts[0].callId;
    assert.equal(getCall(r.gw.store, accountOf(r.gw, callId), callId)?.status, "completed");
    assert.equal(r.gw.calls.size, 0);
  } finally {
    await r.close();
  }
});

Deno.test("CHANNEL_HANGUP_COMPLETE from ESL ends the FreeSWITCH call and closes its fork", async () => {
  const rec = recorder();
  const r = await rig(rec.answer);
  try {
    const fork = new AudioForkClient(r.url);
    await fork.opened;
    const uuid = crypto.randomUUID();
    fork.metadata(meta(uuid));
    await waitUntil(() => rec.events.length > 0, "start");
    r.esl.emit({
      "Event-Name": "CHANNEL_HANGUP_COMPLETE",
      "Unique-ID": uuid,
      "Hangup-Cause": "NORMAL_CLEARING",
    });
    await fork.closed;
    const stop = rec.events.find((e) => e.type === "stop");
    assert.ok(stop && stop.type === "stop" && /NORMAL_CLEARING/.test(stop.reason));
  } finally {
    await r.close();
  }
});

Deno.test("mod_audio_fork connections without usable metadata are refused with 1008 and leave no call", async () => {
  const rec = recorder();
  const r = await rig(rec.answer, { fs: { metadataTimeoutMs: 300 } });
  try {
    for (
      const first of [
        "not json",
        JSON.stringify({ caller: "+4930123456" }),
        JSON.stringify({ uuid: "x y;uuid_kill all" }),
        JSON.stringify({ uuid: crypto.randomUUID(), rate: 11025 }),
      ]
    ) {
      const fork = new AudioForkClient(r.url);
      await fork.opened;
      fork.metadata(first);
      assert.equal((await fork.closed).code, 1008, first);
    }
    const silent = new AudioForkClient(r.url);
    await silent.opened;
    assert.equal((await silent.closed).code, 1008, "no metadata in time");
    assert.equal(rec.contexts.length, 0);
    // A client that does not offer audio.drachtio.org (but another one) is refused before the upgrade.
    const refused = await rawHandshake(r.gw.port, "/ws/freeswitch", { "Sec-WebSocket-Protocol": "other" });
    assert.equal(refused.status, 400);
  } finally {
    await r.close();
  }
});

Deno.test("a fork for a call TOM placed continues that call's row (tom_call_id in the metadata)", async () => {
  const rec = recorder();
  const r = await rig(rec.answer);
  try {
    const account = createAccount(r.gw.store, { name: "Familie", kind: "private" });
    const callee = createPerson(r.gw.store, account.id, {
      kind: "senior",
      displayName: "Oma",
      phoneE164: "+4930999888",
    });
    const placed = createCall(r.gw.store, account.id, {
      direction: "outbound",
      transport: "freeswitch",
      personId: callee.id,
    });
    const fork = new AudioForkClient(r.url);
    await fork.opened;
    fork.metadata(meta(placed.id, { tom_call_id: placed.id, tom_account_id: account.id, callee: "tom" }));
    await waitUntil(() => rec.events.length > 0, "start");
    const start = rec.events[0];
    assert.ok(start.type === "start" && start.direction === "outbound");
    // The context names the placed call's account and callee: the pipeline looks nothing up.
    assert.deepEqual(ownerOf(r.gw.store, rec.contexts[0]), {
      callId: placed.id,
      accountId: account.id,
      personId: callee.id,
      direction: "outbound",
    });
    await waitUntil(
      () => getCall(r.gw.store, account.id, placed.id)?.status === "active",
      "placed call answered",
    );
    fork.close();
    await fork.closed;
    await waitUntil(
      () => getCall(r.gw.store, account.id, placed.id)?.status === "completed",
      "placed call completed",
    );
  } finally {
    await r.close();
  }
});

Deno.test("without ESL the FreeSWITCH call still runs: audio arrives, marks fire (cleared) instead of hanging", async () => {
  const rec = recorder((e, ctx) => {
    if (e.type === "start") {
      ctx.output.audio(tone(300, 5000, 200));
      ctx.output.mark("m");
    }
  });
  const dead = startEslStandIn();
  const port = dead.port;
  await dead.close();
  const r = await rig(rec.answer, { eslPort: port });
  try {
    assert.equal(r.fs.esl.connected, false);
    const fork = new AudioForkClient(r.url);
    await fork.opened;
    fork.metadata(meta(crypto.randomUUID()));
    fork.pcm(tone(440, 3000, 100), [640]);
    await waitUntil(() => audioOf(rec.events).length === 5, "audio");
    await waitUntil(() => rec.events.some((e) => e.type === "mark"), "mark");
    assert.deepEqual(rec.events.find((e) => e.type === "mark"), { type: "mark", name: "m", cleared: true });
    fork.close();
    await fork.closed;
  } finally {
    await r.close();
  }
});

Deno.test("an inbound fork's context carries the call's owner: the account and the person the caller's number names", async () => {
  const rec = recorder();
  const r = await rig(rec.answer);
  try {
    const accountId = defaultAccountId(r.gw.store);
    const caller = createPerson(r.gw.store, accountId, {
      kind: "patient",
      displayName: "Erika",
      phoneE164: "+4930123456",
    });
    const fork = new AudioForkClient(r.url);
    await fork.opened;
    fork.metadata(meta(crypto.randomUUID()));
    await waitUntil(() => rec.contexts.length === 1, "the call");
    const ctx = rec.contexts[0];
    assert.deepEqual(ownerOf(r.gw.store, ctx), {
      callId: ctx.callId,
      accountId,
      personId: caller.id,
      direction: "inbound",
    });
    fork.close();
    await fork.closed;
    await waitUntil(() => rec.events.some((e) => e.type === "stop"), "stop");
  } finally {
    await r.close();
  }
});

Deno.test("fail-open: TOM marks a call it took (uuid_setvar tom_taken true); at TOM_MAX_CALLS the next fork is refused with 503 and not marked", async () => {
  const rec = recorder();
  const esl = startEslStandIn({ playbackSpeed: 0.02 });
  let fs: FreeswitchTransport | undefined;
  const gw = await startGateway({
    answer: rec.answer,
    env: { TOM_FREESWITCH_ESL_PORT: String(esl.port), TOM_MAX_CALLS: "1" },
    transports: [(app, deps, guard) => (fs = mountFreeswitch(app, deps, guard))],
  });
  try {
    await fs?.esl.ready();
    const fork = new AudioForkClient(`${gw.ws}/ws/freeswitch`);
    await fork.opened;
    const uuid = crypto.randomUUID();
    fork.metadata(meta(uuid));
    await esl.waitFor((c) => c.command === `uuid_setvar ${uuid} ${TAKEN_VARIABLE} true`);
    const refused = await rawHandshake(gw.port, "/ws/freeswitch", {
      "Sec-WebSocket-Protocol": "audio.drachtio.org",
    });
    assert.equal(refused.status, 503);
    const metrics = await gw.metrics();
    assert.equal(
      metricValue(metrics, "tom_calls_refused_total", { transport: "freeswitch", reason: "full" }),
      1,
    );
    assert.equal(esl.commands.filter((c) => c.command.startsWith("uuid_setvar")).length, 1);
    fork.close();
    await fork.closed;
  } finally {
    await gw.close();
    await esl.close();
  }
});
