import assert from "node:assert/strict";
import type { Answerer, CallEvent } from "../../../gateway/call/contract.ts";
import { echoAnswerer, tone } from "../../../gateway/call/echo.ts";
import { mountTwilio } from "../../../gateway/twilio/webhook.ts";
import { decodeMulaw, encodeMulaw } from "../../../gateway/audio/mod.ts";
import { dominantFrequency } from "../../_rigs/levels.ts";
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
import {
  signLikeTwilio,
  type TwilioClientOptions,
  TwilioStreamClient,
  twimlParameters,
} from "../fixtures/twilio_stream_client.ts";

const TOKEN = "twilio-test-auth-token-0123456789";
const PUBLIC = "https://tom.praxis.example";

async function gateway(answer: Answerer, env: Record<string, string> = {}): Promise<GatewayHarness> {
  return await startGateway({
    answer,
    env: { TOM_TWILIO_PUBLIC_URL: PUBLIC, TOM_TWILIO_AUTH_TOKEN: TOKEN, ...env },
    transports: [(app, deps, guard) => mountTwilio(app, deps, guard)],
  });
}

function form(params: Record<string, string>): { body: string; headers: Record<string, string> } {
  return {
    body: new URLSearchParams(params).toString(),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  };
}

async function post(gw: GatewayHarness, path: string, params: Record<string, string>, signature?: string) {
  const f = form(params);
  return await fetch(`${gw.http}${path}`, {
    method: "POST",
    body: f.body,
    headers: { ...f.headers, ...(signature ? { "X-Twilio-Signature": signature } : {}) },
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const VOICE = {
  CallSid: "CA" + "1".repeat(32),
  AccountSid: "AC" + "2".repeat(32),
  From: "+4930123456",
  To: "+4989765432",
};

/** The close code of a stream, or "still open" after 5 s (a start TOM wrongly accepted). */
async function closeCode(client: TwilioStreamClient): Promise<number | "still open"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const code = await Promise.race([
    client.closed.then((e) => e.code),
    new Promise<"still open">((r) => timer = setTimeout(() => r("still open"), 5000)),
  ]);
  clearTimeout(timer);
  client.close();
  await client.closed;
  return code;
}

/** A stream as Twilio opens it: the upgrade signed over TOM's public stream URL. */
function streamClient(gw: GatewayHarness, opts: TwilioClientOptions = {}): TwilioStreamClient {
  return new TwilioStreamClient(`${gw.ws}/twilio/stream`, {
    headers: { "X-Twilio-Signature": signLikeTwilio(TOKEN, "wss://tom.praxis.example/twilio/stream") },
    ...opts,
  });
}

/**
 * A call as Twilio runs it: the signed voice webhook for a new CallSid, then that call's stream, whose
 * `start` is to carry the TwiML's `<Parameter>`s (`parameters`).
 */
async function answered(
  gw: GatewayHarness,
  voice: Record<string, string> = VOICE,
  path = "/twilio/voice",
  opts: TwilioClientOptions = {},
): Promise<{ client: TwilioStreamClient; parameters: Record<string, string> }> {
  const callSid = "CA" + crypto.randomUUID().replaceAll("-", "");
  const params = { ...voice, CallSid: callSid };
  const res = await post(gw, path, params, signLikeTwilio(TOKEN, PUBLIC + path, params));
  assert.equal(res.status, 200);
  const parameters = twimlParameters(await res.text());
  const client = streamClient(gw, { callSid, ...opts });
  await client.opened;
  client.connected();
  return { client, parameters };
}

Deno.test("Twilio voice webhook answers TwiML that connects the call to wss://<public host>/twilio/stream", async () => {
  const gw = await gateway(echoAnswerer());
  const signed = (path: string, params: Record<string, string>) =>
    post(gw, path, params, signLikeTwilio(TOKEN, PUBLIC + path, params));
  try {
    const res = await signed("/twilio/voice", { ...VOICE, CallStatus: "ringing", Direction: "inbound" });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/xml/);
    const xml = await res.text();
    assert.match(
      xml,
      /^<\?xml version="1\.0" encoding="UTF-8"\?><Response><Connect><Stream url="wss:\/\/tom\.praxis\.example\/twilio\/stream">.*<\/Stream><\/Connect><\/Response>$/,
    );
    assert.ok(xml.includes('<Parameter name="from" value="+4930123456"/>'));
    assert.ok(xml.includes('<Parameter name="to" value="+4989765432"/>'));
    // A call TOM placed: its ids travel as parameters to the stream.
    assert.match(xml, /<Parameter name="tom_stream_token" value="v1\.\d+\.[\w-]{43}"\/>/);
    const placed = await signed("/twilio/voice?call=c-1&account=a-1", VOICE);
    const x2 = await placed.text();
    assert.ok(x2.includes('<Parameter name="tom_call_id" value="c-1"/>'));
    assert.ok(x2.includes('<Parameter name="tom_account_id" value="a-1"/>'));
    const huge = await signed("/twilio/voice", { ...VOICE, Junk: "x".repeat(70_000) });
    assert.equal(huge.status, 413);
    await huge.body?.cancel();
  } finally {
    await gw.close();
  }
});

Deno.test("Twilio routes refuse peers outside gateway.telephonyPeers", async () => {
  const gw = await gateway(echoAnswerer(), { TOM_GATEWAY_TELEPHONY_PEERS: "10.0.0.0/8" });
  try {
    const res = await post(gw, "/twilio/voice", VOICE);
    assert.equal(res.status, 403);
    await res.body?.cancel();
    assert.equal((await rawHandshake(gw.port, "/twilio/stream")).status, 403);
  } finally {
    await gw.close();
  }
});

Deno.test("Twilio signatures: valid accepted, invalid and missing refused with 403, counted, logged without numbers", async () => {
  const gw = await gateway(echoAnswerer(), { TOM_TWILIO_AUTH_TOKEN: TOKEN });
  try {
    const url = `${PUBLIC}/twilio/voice`;
    const ok = await post(gw, "/twilio/voice", VOICE, signLikeTwilio(TOKEN, url, VOICE));
    assert.equal(ok.status, 200);
    await ok.text();
    const bad = await post(gw, "/twilio/voice", VOICE, signLikeTwilio("wrong-token", url, VOICE));
    assert.equal(bad.status, 403);
    await bad.text();
    const tampered = await post(
      gw,
      "/twilio/voice",
      { ...VOICE, From: "+4930999999" },
      signLikeTwilio(TOKEN, url, VOICE),
    );
    assert.equal(tampered.status, 403);
    await tampered.text();
    const missing = await post(gw, "/twilio/voice", VOICE);
    assert.equal(missing.status, 403);
    await missing.text();
    const statusMissing = await post(gw, "/twilio/status", { ...VOICE, CallStatus: "completed" });
    assert.equal(statusMissing.status, 403);
    await statusMissing.text();
    const metrics = await gw.metrics();
    assert.equal(
      metricValue(metrics, "tom_twilio_signature_failures_total", { route: "voice", reason: "invalid" }),
      2,
    );
    assert.equal(
      metricValue(metrics, "tom_twilio_signature_failures_total", { route: "voice", reason: "missing" }),
      1,
    );
    assert.equal(
      metricValue(metrics, "tom_twilio_signature_failures_total", { route: "status", reason: "missing" }),
      1,
    );
    const refusals = gw.logs.filter((l) => l.message === "Twilio request refused: signature");
    assert.ok(refusals.length >= 1);
    const text = JSON.stringify(gw.logs);
    assert.ok(
      !text.includes("4930123456") && !text.includes("4930999999"),
      "no phone number in any log line",
    );
    // The stream's upgrade is signed too: without a signature no socket.
    const ws = await rawHandshake(gw.port, "/twilio/stream");
    assert.equal(ws.status, 403);
    const signed = await rawHandshake(gw.port, "/twilio/stream", {
      "X-Twilio-Signature": signLikeTwilio(TOKEN, "wss://tom.praxis.example/twilio/stream"),
    });
    assert.equal(signed.status, 101);
  } finally {
    await gw.close();
  }
});

Deno.test("Twilio stream + echo: greeting as paced 160-byte mu-law frames, a mark after it, then the caller's audio echoed", async () => {
  const gw = await gateway(echoAnswerer(), { TOM_TWILIO_AUTH_TOKEN: TOKEN });
  try {
    const { client, parameters } = await answered(gw);
    client.start(parameters);
    await client.until(() => client.received.some((m) => m.event === "mark"), "the greeting's mark");
    const markAt = client.received.findIndex((m) => m.event === "mark");
    const greeting = client.media.slice(
      0,
      client.received.slice(0, markAt).filter((m) => m.event === "media").length,
    );
    assert.equal(greeting.length, 50, "1 s of greeting = 50 frames of 20 ms");
    assert.ok(greeting.every((f) => f.length === 160));
    assert.ok(
      client.received.filter((m) => m.event === "media").every((m) => m.streamSid === client.streamSid),
    );
    const pcm = decodeMulaw(concat(greeting));
    assert.ok(Math.abs(dominantFrequency(pcm.subarray(400, 7600), 8000) - 1000) < 3, "the 1 kHz greeting");
    // The stand-in echoed the mark: echo is on. The caller speaks.
    const before = client.media.length;
    client.mediaMulaw(encodeMulaw(tone(440, 8000, 1000, 8000)));
    await client.until(() => client.media.length >= before + 45, "the echo");
    const echo = decodeMulaw(concat(client.media.slice(before + 5, before + 45)));
    assert.ok(Math.abs(dominantFrequency(echo, 8000) - 440) < 3, "the caller's 440 Hz comes back");
    client.stop();
    assert.equal((await client.closed).code, 1000);
  } finally {
    await gw.close();
  }
});

Deno.test("Twilio stream: DTMF reaches the call, marks fire on Twilio's echo, clear empties the queue and clears marks", async () => {
  const rec = recorder((e, ctx) => {
    if (e.type === "start") {
      ctx.output.audio(tone(300, 5000, 200));
      ctx.output.mark("short");
      ctx.output.audio(tone(300, 5000, 3000));
      ctx.output.mark("long");
    }
    if (e.type === "dtmf" && e.digit === "1") ctx.output.clear();
  });
  const gw = await gateway(rec.answer);
  try {
    const { client, parameters } = await answered(gw);
    client.start(parameters);
    await waitUntil(() => rec.events.some((e) => e.type === "mark"), "the first mark");
    assert.deepEqual(rec.events.find((e) => e.type === "mark"), {
      type: "mark",
      name: "short",
      cleared: false,
    });
    const sentBeforeMark = client.received.findIndex((m) => m.event === "mark");
    assert.equal(client.received.slice(0, sentBeforeMark).filter((m) => m.event === "media").length, 10);
    assert.ok((rec.contexts[0].output.queuedMs ?? 0) > 2000);
    client.dtmf("1");
    await client.until(() => client.received.some((m) => m.event === "clear"), "clear");
    assert.deepEqual(client.received.find((m) => m.event === "clear"), {
      event: "clear",
      streamSid: client.streamSid,
    });
    await waitUntil(() => rec.events.filter((e) => e.type === "mark").length === 2, "the second mark");
    assert.deepEqual(rec.events.filter((e) => e.type === "mark")[1], {
      type: "mark",
      name: "long",
      cleared: true,
    });
    assert.ok(rec.events.some((e) => e.type === "dtmf" && e.digit === "1"));
    assert.equal(rec.contexts[0].output.queuedMs, 0);
    const afterClear = client.media.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(client.media.length <= afterClear + 1, "no audio after clear");
    client.stop();
    await client.closed;
  } finally {
    await gw.close();
  }
});

Deno.test("Twilio stream: caller audio arrives as 20 ms 16 kHz frames; stop ends the call; hang-up closes the stream", async () => {
  const rec = recorder((e, ctx) => {
    if (e.type === "dtmf" && e.digit === "#") ctx.output.hangup("caller pressed #");
  });
  const gw = await gateway(rec.answer);
  try {
    const { client, parameters } = await answered(gw);
    client.start(parameters);
    client.mediaMulaw(encodeMulaw(tone(500, 8000, 400, 8000)));
    await waitUntil(() => rec.events.filter((e) => e.type === "audio").length >= 19, "audio frames");
    const audio = rec.events.filter((e): e is Extract<CallEvent, { type: "audio" }> => e.type === "audio");
    assert.ok(audio.every((a) => a.pcm.length === 320));
    assert.deepEqual(audio.map((a) => a.atMs), audio.map((_, i) => i * 20));
    const start = rec.events[0];
    assert.ok(start.type === "start" && start.from === "+4930123456" && start.transport === "twilio");
    const callId = rec.contexts[0].callId;
    client.stop();
    assert.equal((await client.closed).code, 1000);
    const account = gw.store.db.prepare("SELECT account_id AS a FROM calls WHERE id = ?").get(callId) as {
      a: string;
    };
    assert.equal(getCall(gw.store, account.a, callId)?.status, "completed");
    assert.equal(getCall(gw.store, account.a, callId)?.externalId, client.callSid);

    const { client: second, parameters: p2 } = await answered(gw);
    second.start(p2);
    await waitUntil(() => rec.contexts.length === 2, "second call");
    second.dtmf("#");
    assert.equal(
      (await second.closed).code,
      1000,
      "TOM's hang-up closes the stream (Twilio then ends the call)",
    );
  } finally {
    await gw.close();
  }
});

Deno.test("Twilio stream: binary frames close with 1003; media before start is invalid", async () => {
  const rec = recorder();
  const gw = await gateway(rec.answer);
  try {
    const { client, parameters } = await answered(gw);
    client.start(parameters);
    await waitUntil(() => rec.contexts.length === 1, "call");
    client.socket.send(new Uint8Array(160));
    assert.equal((await client.closed).code, 1003);
    const early = streamClient(gw);
    await early.opened;
    for (let i = 0; i < 10; i++) early.mediaMulaw(new Uint8Array(160).fill(0xff));
    assert.equal((await early.closed).code, 1008);
    assert.equal(rec.contexts.length, 1);
  } finally {
    await gw.close();
  }
});

Deno.test("Twilio status callback records busy, no-answer and failed on the call TOM placed", async () => {
  const gw = await gateway(echoAnswerer(), { TOM_TWILIO_AUTH_TOKEN: TOKEN });
  try {
    const account = createAccount(gw.store, { name: "Praxis", kind: "clinical" });
    for (
      const [callStatus, status, reason] of [
        ["busy", "busy", "Twilio: busy"],
        ["no-answer", "no_answer", "Twilio: no answer"],
        ["failed", "failed", "Twilio: failed (code 32009)"],
      ] as const
    ) {
      const call = createCall(gw.store, account.id, { direction: "outbound", transport: "twilio" });
      const path = `/twilio/status?call=${call.id}&account=${account.id}`;
      const params = {
        ...VOICE,
        CallStatus: callStatus,
        ...(callStatus === "failed" ? { ErrorCode: "32009" } : {}),
      };
      const res = await post(gw, path, params, signLikeTwilio(TOKEN, PUBLIC + path, params));
      assert.equal(res.status, 204);
      const row = getCall(gw.store, account.id, call.id);
      assert.equal(row?.status, status);
      assert.equal(row?.failureReason, reason);
    }
  } finally {
    await gw.close();
  }
});

Deno.test("a Twilio stream for a call TOM placed continues that call's row", async () => {
  const rec = recorder();
  const gw = await gateway(rec.answer);
  try {
    const account = createAccount(gw.store, { name: "Familie", kind: "private" });
    const callee = createPerson(gw.store, account.id, {
      kind: "senior",
      displayName: "Oma",
      phoneE164: "+4930999888",
    });
    const call = createCall(gw.store, account.id, {
      direction: "outbound",
      transport: "twilio",
      personId: callee.id,
    });
    const { client, parameters } = await answered(
      gw,
      VOICE,
      `/twilio/voice?call=${call.id}&account=${account.id}`,
    );
    assert.equal(parameters.tom_call_id, call.id);
    client.start(parameters);
    await waitUntil(() => getCall(gw.store, account.id, call.id)?.status === "active", "answered");
    const start = rec.events[0];
    assert.ok(start.type === "start" && start.direction === "outbound");
    // The context names the placed call's account and callee: the pipeline looks nothing up.
    assert.deepEqual(ownerOf(gw.store, rec.contexts[0]), {
      callId: call.id,
      accountId: account.id,
      personId: callee.id,
      direction: "outbound",
    });
    client.stop();
    await client.closed;
    await waitUntil(() => getCall(gw.store, account.id, call.id)?.status === "completed", "completed");
  } finally {
    await gw.close();
  }
});

Deno.test("without an auth token Twilio is off: voice, status and the stream answer 404, no call opens", async () => {
  const rec = recorder();
  const gw = await gateway(rec.answer, { TOM_TWILIO_AUTH_TOKEN: "" });
  try {
    for (const path of ["/twilio/voice", "/twilio/status"]) {
      const res = await post(gw, path, { ...VOICE, CallStatus: "completed" });
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
    assert.equal((await rawHandshake(gw.port, "/twilio/stream")).status, 404);
    assert.equal(rec.contexts.length, 0);
  } finally {
    await gw.close();
  }
});

Deno.test("a stream's start must carry the call token of its own call: forged numbers, other CallSids, replays are refused", async () => {
  const rec = recorder();
  const gw = await gateway(rec.answer);
  const refusedStart = async (client: TwilioStreamClient, custom: Record<string, string>, why: string) => {
    client.start(custom);
    assert.equal(await closeCode(client), 1008, why);
  };
  try {
    // An unsigned-by-TwiML start: the signed upgrade alone (the same for every call) chooses nothing.
    const bare = streamClient(gw);
    await bare.opened;
    await refusedStart(bare, { from: "+4930666666" }, "no call token");
    // The caller's number changed after TOM issued the token.
    const a = await answered(gw);
    await refusedStart(a.client, { ...a.parameters, from: "+4930666666" }, "forged caller number");
    // Another call's token: valid, but for a different CallSid.
    const b = await answered(gw);
    const other = streamClient(gw);
    await other.opened;
    await refusedStart(other, b.parameters, "token of another CallSid");
    // A token for a call TOM placed cannot be moved to another call row.
    const c = await answered(gw, VOICE, "/twilio/voice?call=c-1&account=a-1");
    await refusedStart(c.client, { ...c.parameters, tom_call_id: "c-2" }, "another call row");
    assert.equal(rec.contexts.length, 0, "no call was opened");
    // The genuine start works once; replaying it on a second socket is refused.
    b.client.start(b.parameters);
    await waitUntil(() => rec.contexts.length === 1, "the genuine call");
    const start = rec.events[0];
    assert.ok(start.type === "start" && start.from === "+4930123456");
    const replay = streamClient(gw, { callSid: b.client.callSid });
    await replay.opened;
    await refusedStart(replay, b.parameters, "replayed start");
    assert.equal(rec.contexts.length, 1);
    b.client.stop();
    await b.client.closed;
    const metrics = await gw.metrics();
    assert.equal(
      metricValue(metrics, "tom_twilio_signature_failures_total", { route: "stream", reason: "missing" }),
      1,
    );
    assert.equal(
      metricValue(metrics, "tom_twilio_signature_failures_total", { route: "stream", reason: "invalid" }),
      3,
    );
    assert.equal(
      metricValue(metrics, "tom_twilio_signature_failures_total", { route: "stream", reason: "replayed" }),
      1,
    );
  } finally {
    await gw.close();
  }
});

Deno.test("a call token older than five minutes is refused (Twilio opens the stream at once)", async () => {
  let now = Date.now();
  const rec = recorder();
  const gw = await startGateway({
    answer: rec.answer,
    env: { TOM_TWILIO_PUBLIC_URL: PUBLIC, TOM_TWILIO_AUTH_TOKEN: TOKEN },
    transports: [(app, deps, guard) => mountTwilio(app, { ...deps, now: () => now }, guard)],
  });
  try {
    const { client, parameters } = await answered(gw);
    now += 5 * 60_000 + 1000;
    client.start(parameters);
    assert.equal(await closeCode(client), 1008);
    assert.equal(rec.contexts.length, 0);
  } finally {
    await gw.close();
  }
});

Deno.test("a Twilio stream's context carries the call's owner: the account and the person the caller's number names", async () => {
  const rec = recorder();
  const gw = await gateway(rec.answer);
  try {
    const accountId = defaultAccountId(gw.store);
    const caller = createPerson(gw.store, accountId, {
      kind: "patient",
      displayName: "Erika",
      phoneE164: "+4930123456",
    });
    const { client, parameters } = await answered(gw);
    client.start(parameters);
    await waitUntil(() => rec.contexts.length === 1, "the call");
    const ctx = rec.contexts[0];
    assert.deepEqual(ownerOf(gw.store, ctx), {
      callId: ctx.callId,
      accountId,
      personId: caller.id,
      direction: "inbound",
    });
    client.stop();
    await client.closed;
  } finally {
    await gw.close();
  }
});

Deno.test("Twilio voice webhook at TOM_MAX_CALLS: TwiML that dials twilio.fallbackNumber, or a busy reject without one", async () => {
  for (
    const [env, expected] of [
      [{ TOM_TWILIO_FALLBACK_NUMBER: "+4930999999" }, "<Response><Dial>+4930999999</Dial></Response>"],
      [{}, '<Response><Reject reason="busy"/></Response>'],
    ] as const
  ) {
    const gw = await gateway(echoAnswerer(), { TOM_MAX_CALLS: "1", ...env });
    try {
      const unregister = gw.calls.add({ id: "held", end: () => Promise.resolve() });
      const res = await post(
        gw,
        "/twilio/voice",
        VOICE,
        signLikeTwilio(TOKEN, `${PUBLIC}/twilio/voice`, VOICE),
      );
      assert.equal(res.status, 200);
      assert.ok((await res.text()).endsWith(expected));
      const metrics = await gw.metrics();
      assert.equal(
        metricValue(metrics, "tom_calls_refused_total", { transport: "twilio", reason: "full" }),
        1,
      );
      assert.ok(!JSON.stringify(gw.logs).includes("4930"), "no numbers in the logs");
      unregister();
    } finally {
      await gw.close();
    }
  }
});
