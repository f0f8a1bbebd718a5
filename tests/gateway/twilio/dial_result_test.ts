/**
 * The way back on Twilio (gateway/twilio/dial_result.ts): a transfer nobody takes brings the caller back to
 * TOM. A whole round as Twilio runs it, against the REST stand-in and the Media Streams stand-in: the call's
 * stream starts, TOM transfers it (the stand-in receives the Calls update with `<Dial timeout action>`), the
 * stream stops, Twilio POSTs the documented Dial action request (signed), TOM answers `<Connect><Stream>`
 * with `tom_return`, and the new stream's `start` opens a call marked as returned (the pipeline then says
 * "Leider ist im Moment niemand erreichbar ..." instead of the greeting: tests/pipeline/call_pipeline_test.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Answerer, CallContext, CallEvent, TransferTo } from "../../../gateway/call/contract.ts";
import { mountTwilio } from "../../../gateway/twilio/webhook.ts";
import { startTwilioRestStandIn, type TwilioRestStandIn } from "../fixtures/twilio_rest_server.ts";
import { signLikeTwilio, TwilioStreamClient, twimlParameters } from "../fixtures/twilio_stream_client.ts";
import { type GatewayHarness, metricValue, startGateway, waitUntil } from "../server_harness.ts";

const TOKEN = "twilio-test-auth-token-0123456789";
const PUBLIC = "https://tom.praxis.example";
const ACCOUNT = "AC" + "0".repeat(32); // the stream stand-in's AccountSid
const CALLER = "+4930123456";
const PRACTICE = "+4989765432";
const RECEPTION: TransferTo = { kind: "number", target: "030 1234-567" };

type Start = Extract<CallEvent, { type: "start" }>;

interface Round {
  gw: GatewayHarness;
  rest: TwilioRestStandIn;
  /** The CallSids the REST stand-in can update. */
  liveCalls: string[];
  /** Every call TOM opened: its context and its start event. */
  calls: { ctx: CallContext; start?: Start; stop?: string }[];
  close(): Promise<void>;
}

async function setup(): Promise<Round> {
  const callSids: string[] = [];
  const rest = startTwilioRestStandIn({ accountSid: ACCOUNT, authToken: TOKEN, liveCalls: callSids });
  const calls: Round["calls"] = [];
  const answer: Answerer = (ctx) => {
    const call: Round["calls"][number] = { ctx };
    calls.push(call);
    return {
      handle(e) {
        if (e.type === "start") call.start = e;
        if (e.type === "stop") call.stop = e.reason;
      },
    };
  };
  const gw = await startGateway({
    answer,
    env: {
      TOM_TWILIO_PUBLIC_URL: PUBLIC,
      TOM_TWILIO_AUTH_TOKEN: TOKEN,
      TOM_TWILIO_API_BASE: rest.base,
      TOM_TWILIO_TRANSFER_RING_SECONDS: "20",
    },
    transports: [
      (app, deps, guard) =>
        mountTwilio(app, deps, guard, { transfer: { netAllowed: () => Promise.resolve(true) } }),
    ],
  });
  return {
    gw,
    rest,
    liveCalls: callSids,
    calls,
    close: async () => {
      await gw.close();
      await rest.close();
    },
  };
}

/** A signed form POST to `url` (TOM's public URL), sent to the gateway. */
async function postSigned(
  gw: GatewayHarness,
  url: string,
  params: Record<string, string>,
  signature?: string,
) {
  const u = new URL(url);
  return await fetch(`${gw.http}${u.pathname}${u.search}`, {
    method: "POST",
    body: new URLSearchParams(params).toString(),
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Twilio-Signature": signature ?? signLikeTwilio(TOKEN, url, params),
    },
  });
}

/** A Media Stream for `callSid`, its `start` carrying `parameters`. */
async function stream(gw: GatewayHarness, callSid: string, parameters: Record<string, string>) {
  const client = new TwilioStreamClient(`${gw.ws}/twilio/stream`, {
    callSid,
    headers: { "X-Twilio-Signature": signLikeTwilio(TOKEN, "wss://tom.praxis.example/twilio/stream") },
  });
  await client.opened;
  client.connected();
  client.start(parameters);
  return client;
}

/** The documented Dial action request for `callSid` whose `<Dial>` ended with `status`. */
function dialAction(callSid: string, status: string): Record<string, string> {
  return {
    AccountSid: ACCOUNT,
    CallSid: callSid,
    From: CALLER,
    To: PRACTICE,
    CallStatus: "in-progress",
    Direction: "inbound",
    ApiVersion: "2010-04-01",
    DialCallStatus: status,
    DialCallSid: "CA" + crypto.randomUUID().replaceAll("-", ""),
    DialCallDuration: status === "completed" ? "42" : "0",
  };
}

/**
 * A caller on TOM's stream whom TOM hands to the reception: the voice webhook, the stream, the transfer
 * (the REST stand-in gets the Calls update), Twilio's `stop`. Returns the `<Dial action>` URL.
 */
async function transferred(r: Round): Promise<{ callSid: string; action: string; first: Round["calls"][0] }> {
  const callSid = "CA" + crypto.randomUUID().replaceAll("-", "");
  r.liveCalls.push(callSid);
  const voice = { CallSid: callSid, AccountSid: ACCOUNT, From: CALLER, To: PRACTICE };
  const res = await postSigned(r.gw, `${PUBLIC}/twilio/voice`, voice);
  assert.equal(res.status, 200);
  const client = await stream(r.gw, callSid, twimlParameters(await res.text()));
  const n = r.calls.length;
  await waitUntil(() => r.calls.length === n + 1 && r.calls[n].start !== undefined, "the call");
  const first = r.calls[n];
  assert.ok(first.ctx.output.transfer, "the Twilio output can transfer");
  const t0 = performance.now();
  const outcome = await first.ctx.output.transfer(RECEPTION, AbortSignal.timeout(5000));
  console.log(`  transfer handed over after ${(performance.now() - t0).toFixed(1)} ms`);
  assert.deepEqual(outcome, { ok: true }, "Twilio accepted the <Dial>: handed over");
  const update = r.rest.requests.at(-1);
  assert.ok(update, "the stand-in got the Calls update");
  assert.equal(update.path, `/2010-04-01/Accounts/${ACCOUNT}/Calls/${callSid}.json`);
  const m =
    /^<\?xml version="1\.0" encoding="UTF-8"\?><Response><Dial timeout="20" action="([^"]+)" method="POST"><Number>\+49301234567<\/Number><\/Dial><\/Response>$/
      .exec(update.form.Twiml);
  assert.ok(m, `Dial with timeout and action: ${update.form.Twiml}`);
  const action = m[1].replaceAll("&amp;", "&");
  assert.match(action, /^https:\/\/tom\.praxis\.example\/twilio\/dial\?return=[0-9a-f-]{36}$/);
  client.stop(); // Twilio leaves the stream to run the new TwiML
  await client.closed;
  await waitUntil(() => first.stop !== undefined, "the first leg's end");
  assert.equal(first.stop, "transferred to a person");
  return { callSid, action, first };
}

Deno.test("Twilio: nobody answers the transfer (no-answer) -> the caller is back at TOM, the call marked returned", async () => {
  const r = await setup();
  try {
    const { callSid, action, first } = await transferred(r);
    const t0 = performance.now();
    const res = await postSigned(r.gw, action, dialAction(callSid, "no-answer"));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/xml/);
    const twiml = await res.text();
    assert.match(twiml, /<Response><Connect><Stream url="wss:\/\/tom\.praxis\.example\/twilio\/stream">/);
    const parameters = twimlParameters(twiml);
    const returnId = new URL(action).searchParams.get("return");
    assert.equal(parameters.tom_return, returnId, "the stream carries the return id");
    assert.equal(parameters.from, CALLER);
    assert.ok(parameters.tom_stream_token, "with the call token (covering tom_return)");
    // Twilio opens the new stream of the same call.
    const back = await stream(r.gw, callSid, parameters);
    await waitUntil(() => r.calls.length === 2 && r.calls[1].start !== undefined, "the returned call");
    console.log(`  back at TOM ${(performance.now() - t0).toFixed(1)} ms after the Dial action request`);
    const again = r.calls[1];
    assert.equal(
      again.start?.meta.returnedFromTransfer,
      true,
      "opens as returned: no greeting, 'niemand erreichbar'",
    );
    assert.equal(again.start?.meta.previousCallId, first.ctx.callId, "linked to the transferred call");
    assert.equal(again.start?.meta.callSid, callSid);
    assert.equal(again.ctx.accountId, first.ctx.accountId, "the same practice");
    assert.equal(again.ctx.callerId, CALLER, "the caller's number for the callback question");
    assert.notEqual(again.ctx.callId, first.ctx.callId);
    const metrics = await r.gw.metrics();
    assert.equal(metricValue(metrics, "tom_twilio_transfer_results_total", { result: "no_answer" }), 1);
    back.stop();
    await back.closed;
  } finally {
    await r.close();
  }
});

Deno.test("Twilio: a busy reception brings the caller back too; a repeated transfer gets a fresh way back", async () => {
  const r = await setup();
  try {
    const { callSid, action } = await transferred(r);
    const res = await postSigned(r.gw, action, dialAction(callSid, "busy"));
    assert.equal(res.status, 200);
    const back = await stream(r.gw, callSid, twimlParameters(await res.text()));
    await waitUntil(() => r.calls[1]?.start !== undefined, "the returned call");
    const again = r.calls[1];
    assert.equal(again.start?.meta.returnedFromTransfer, true);
    // The caller asks again; this time the reception picks up (the Dial action says completed).
    assert.ok(again.ctx.output.transfer);
    assert.deepEqual(await again.ctx.output.transfer(RECEPTION, AbortSignal.timeout(5000)), { ok: true });
    const second = /action="([^"]+)"/.exec(r.rest.requests.at(-1)?.form.Twiml ?? "")?.[1];
    assert.ok(second, "the second transfer has a way back too");
    assert.notEqual(second, action, "a new return id");
    back.stop();
    await back.closed;
    const done = await postSigned(r.gw, second, dialAction(callSid, "completed"));
    assert.equal(await done.text(), '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
    const metrics = await r.gw.metrics();
    assert.equal(metricValue(metrics, "tom_twilio_transfer_results_total", { result: "busy" }), 1);
    assert.equal(metricValue(metrics, "tom_twilio_transfer_results_total", { result: "answered" }), 1);
  } finally {
    await r.close();
  }
});

Deno.test("Twilio: the reception answered (completed) -> <Hangup/>, and the return id is spent", async () => {
  const r = await setup();
  try {
    const { callSid, action } = await transferred(r);
    const res = await postSigned(r.gw, action, dialAction(callSid, "completed"));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
    // Should the same action still bring a stream (a confused retry), the spent id opens an ordinary call.
    const late = await postSigned(r.gw, action, dialAction(callSid, "no-answer"));
    const parameters = twimlParameters(await late.text());
    assert.ok(parameters.tom_return);
    const client = await stream(r.gw, callSid, parameters);
    await waitUntil(() => r.calls[1]?.start !== undefined, "the call");
    assert.equal(r.calls[1].start?.meta.returnedFromTransfer, undefined, "greeted like a new call");
    client.stop();
    await client.closed;
  } finally {
    await r.close();
  }
});

Deno.test("Twilio: a replayed return start is refused (1008) and opens nothing; an unknown return id opens an ordinary call", async () => {
  const r = await setup();
  try {
    const { callSid, action } = await transferred(r);
    const res = await postSigned(r.gw, action, dialAction(callSid, "no-answer"));
    const parameters = twimlParameters(await res.text());
    const back = await stream(r.gw, callSid, parameters);
    await waitUntil(() => r.calls[1]?.start !== undefined, "the returned call");
    // The same start again on a second socket (a replay): refused like any replayed start.
    const replay = await stream(r.gw, callSid, parameters);
    const code = await Promise.race([
      replay.closed.then((e) => e.code),
      new Promise((res) => setTimeout(() => res("still open"), 5000)),
    ]);
    assert.equal(code, 1008);
    assert.equal(r.calls.length, 2, "no third call");
    back.stop();
    await back.closed;
    // A return id TOM does not know (expired, or TOM restarted in between) on a signed Dial action: the
    // caller still gets TOM, greeted as a new call.
    const unknown = `${PUBLIC}/twilio/dial?return=${crypto.randomUUID()}`;
    const res2 = await postSigned(r.gw, unknown, dialAction(callSid, "no-answer"));
    assert.equal(res2.status, 200);
    const c = await stream(r.gw, callSid, twimlParameters(await res2.text()));
    await waitUntil(() => r.calls[2]?.start !== undefined, "the ordinary call");
    assert.equal(r.calls[2].start?.meta.returnedFromTransfer, undefined);
    c.stop();
    await c.closed;
  } finally {
    await r.close();
  }
});

Deno.test("Twilio Dial action: a forged, missing or moved signature is 403; a malformed return id is 400", async () => {
  const r = await setup();
  try {
    const { callSid, action } = await transferred(r);
    const params = dialAction(callSid, "no-answer");
    const forged = await postSigned(r.gw, action, params, signLikeTwilio("another-token", action, params));
    assert.equal(forged.status, 403);
    await forged.body?.cancel();
    const u = new URL(action);
    const missing = await fetch(`${r.gw.http}${u.pathname}${u.search}`, {
      method: "POST",
      body: new URLSearchParams(params).toString(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    assert.equal(missing.status, 403);
    await missing.body?.cancel();
    // A genuine signature for another return id does not cover this one.
    const other = `${PUBLIC}/twilio/dial?return=${crypto.randomUUID()}`;
    const moved = await postSigned(r.gw, action, params, signLikeTwilio(TOKEN, other, params));
    assert.equal(moved.status, 403);
    await moved.body?.cancel();
    const bad = await postSigned(r.gw, `${PUBLIC}/twilio/dial?return=x`, params);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    const metrics = await r.gw.metrics();
    assert.equal(
      metricValue(metrics, "tom_twilio_signature_failures_total", { route: "dial", reason: "invalid" }),
      2,
    );
    assert.equal(
      metricValue(metrics, "tom_twilio_signature_failures_total", { route: "dial", reason: "missing" }),
      1,
    );
    // The id was not spent by the refused requests: the genuine one still brings the caller back.
    const ok = await postSigned(r.gw, action, params);
    const back = await stream(r.gw, callSid, twimlParameters(await ok.text()));
    await waitUntil(() => r.calls[1]?.start !== undefined, "the returned call");
    assert.equal(r.calls[1].start?.meta.returnedFromTransfer, true);
    back.stop();
    await back.closed;
  } finally {
    await r.close();
  }
});
