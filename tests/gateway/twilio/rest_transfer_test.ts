/**
 * Cold transfer on Twilio: the live call updated through the REST API (`POST .../Calls/{CallSid}.json` with
 * `<Dial>` TwiML), against a local stand-in of that documented endpoint.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Answerer, CallContext, TransferOutcome, TransferTo } from "../../../gateway/call/contract.ts";
import {
  TRANSFER_NOBODY_TEXT,
  transferTwiml,
  twilioDialNoun,
  twilioTransfer,
} from "../../../gateway/twilio/rest_transfer.ts";
import { mountTwilio } from "../../../gateway/twilio/webhook.ts";
import { startTwilioRestStandIn, type TwilioRestStandIn } from "../fixtures/twilio_rest_server.ts";
import { signLikeTwilio, TwilioStreamClient, twimlParameters } from "../fixtures/twilio_stream_client.ts";
import { startGateway } from "../server_harness.ts";

const ACCOUNT = "AC" + "a".repeat(32);
const TOKEN = "twilio-test-auth-token-0123456789";
const CALL = "CA" + "b".repeat(32);
const NUMBER: TransferTo = { kind: "number", target: "030 1234-567" };

function api(rest: TwilioRestStandIn) {
  return { accountSid: ACCOUNT, authToken: TOKEN, apiBase: rest.base };
}

async function timed(p: Promise<TransferOutcome>): Promise<TransferOutcome> {
  const t0 = performance.now();
  const o = await p;
  console.log(`  outcome ${JSON.stringify(o)} after ${(performance.now() - t0).toFixed(1)} ms`);
  return o;
}

const allowed = { ringSeconds: 25, netAllowed: () => Promise.resolve(true) };

Deno.test("Twilio transfer: POST Calls/{CallSid}.json, basic auth, form-encoded <Dial> TwiML; 200 is ok", async () => {
  const rest = startTwilioRestStandIn({ accountSid: ACCOUNT, authToken: TOKEN, liveCalls: [CALL] });
  const asked: string[] = [];
  try {
    const o = await timed(twilioTransfer(api(rest), CALL, NUMBER, AbortSignal.timeout(5000), {
      ...allowed,
      netAllowed: (hp) => (asked.push(hp), Promise.resolve(true)),
    }));
    assert.deepEqual(o, { ok: true });
    assert.equal(
      asked[0],
      `127.0.0.1:${new URL(rest.base).port}`,
      "the egress policy is asked for the API host",
    );
    assert.equal(rest.requests.length, 1);
    const r = rest.requests[0];
    assert.equal(r.method, "POST");
    assert.equal(r.path, `/2010-04-01/Accounts/${ACCOUNT}/Calls/${CALL}.json`);
    assert.equal(r.authorization, "Basic " + btoa(`${ACCOUNT}:${TOKEN}`));
    assert.equal(r.contentType, "application/x-www-form-urlencoded");
    assert.deepEqual(Object.keys(r.form), ["Twiml"]);
    assert.equal(
      r.form.Twiml,
      '<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="25"><Number>+49301234567</Number></Dial>' +
        `<Say language="de-DE">${TRANSFER_NOBODY_TEXT}</Say></Response>`,
    );
  } finally {
    await rest.close();
  }
});

Deno.test("Twilio transfer: 4xx and 5xx are failed with Twilio's error code, numbers scrubbed", async () => {
  const cases = [
    { status: 400, code: 21220, message: "Call is not in-progress. Cannot redirect." },
    { status: 400, code: 13223, message: "Dial: Invalid phone number format +4930111222333" },
    { status: 503, code: 20503, message: "Service unavailable" },
  ];
  for (const updateError of cases) {
    const rest = startTwilioRestStandIn({
      accountSid: ACCOUNT,
      authToken: TOKEN,
      liveCalls: [CALL],
      updateError,
    });
    try {
      const o = await timed(twilioTransfer(api(rest), CALL, NUMBER, AbortSignal.timeout(5000), allowed));
      assert.ok(!o.ok && o.reason === "failed");
      assert.ok(
        o.detail?.startsWith(`Twilio API ${updateError.status} code ${updateError.code}`),
        String(o.detail),
      );
      assert.ok(!/\d{7}/.test(o.detail ?? ""), "no phone numbers in the detail");
    } finally {
      await rest.close();
    }
  }
  const rest = startTwilioRestStandIn({ accountSid: ACCOUNT, authToken: TOKEN, liveCalls: [] });
  try {
    const unknown = await twilioTransfer(api(rest), CALL, NUMBER, AbortSignal.timeout(5000), allowed);
    assert.ok(!unknown.ok && unknown.detail?.startsWith("Twilio API 404 code 20404"));
    const wrongToken = await twilioTransfer(
      { ...api(rest), authToken: "other" },
      CALL,
      NUMBER,
      AbortSignal.timeout(5000),
      allowed,
    );
    assert.ok(!wrongToken.ok && wrongToken.detail?.startsWith("Twilio API 401 code 20003"));
  } finally {
    await rest.close();
  }
});

Deno.test("Twilio transfer: refused by the egress policy, unconfigured or undialable: failed, nothing sent", async () => {
  const rest = startTwilioRestStandIn({ accountSid: ACCOUNT, authToken: TOKEN, liveCalls: [CALL] });
  try {
    const signal = AbortSignal.timeout(5000);
    const denied = await twilioTransfer(api(rest), CALL, NUMBER, signal, {
      ringSeconds: 25,
      netAllowed: () => Promise.resolve(false),
    });
    assert.deepEqual(denied, {
      ok: false,
      reason: "failed",
      detail: "Twilio API not allowed by egress policy (TOM_EGRESS_ALLOW_HOSTS)",
    });
    const noSid = await twilioTransfer({ ...api(rest), accountSid: "" }, CALL, NUMBER, signal, allowed);
    assert.ok(!noSid.ok && noSid.reason === "failed");
    const ext = await twilioTransfer(api(rest), CALL, { kind: "extension", target: "21" }, signal, allowed);
    assert.deepEqual(ext, {
      ok: false,
      reason: "failed",
      detail: "Twilio cannot dial this extension target",
    });
    assert.equal(rest.requests.length, 0);
  } finally {
    await rest.close();
  }
});

Deno.test("Twilio transfer: an API that does not answer before the signal is timeout; one that is down is failed", async () => {
  const hanging: typeof fetch = (_url, init) =>
    new Promise((_, reject) =>
      init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))
    );
  const slow = await timed(twilioTransfer(
    { accountSid: ACCOUNT, authToken: TOKEN, apiBase: "http://127.0.0.1:9" },
    CALL,
    NUMBER,
    AbortSignal.timeout(200),
    { ...allowed, fetch: hanging },
  ));
  assert.equal(!slow.ok && slow.reason, "timeout");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const down = await timed(twilioTransfer(
    { accountSid: ACCOUNT, authToken: TOKEN, apiBase: `http://127.0.0.1:${port}` },
    CALL,
    NUMBER,
    AbortSignal.timeout(5000),
    allowed,
  ));
  assert.ok(!down.ok && down.reason === "failed" && down.detail?.startsWith("Twilio API unreachable"));
});

Deno.test("Twilio dial targets: E.164, German national digits, SIP; extensions and markup refused", () => {
  assert.equal(twilioDialNoun({ kind: "number", target: "+49 30 1234567" }), "<Number>+49301234567</Number>");
  assert.equal(
    twilioDialNoun({ kind: "number", target: "0049 (30) 1234567" }),
    "<Number>+49301234567</Number>",
  );
  assert.equal(twilioDialNoun({ kind: "voicemail", target: "030/1234567" }), "<Number>+49301234567</Number>");
  assert.equal(
    twilioDialNoun({ kind: "extension", target: "sip:21@pbx.praxis.example" }),
    "<Sip>sip:21@pbx.praxis.example</Sip>",
  );
  assert.equal(twilioDialNoun({ kind: "extension", target: "21" }), undefined);
  assert.equal(twilioDialNoun({ kind: "number", target: "+49301234</Number><Play>x" }), undefined);
  assert.equal(twilioDialNoun({ kind: "extension", target: 'sip:a@b"><Hangup/>' }), undefined);
  assert.ok(transferTwiml("<Number>+49301234567</Number>", 30).includes('<Dial timeout="30">'));
});

Deno.test("Twilio call output: transfer uses the stream's CallSid (and its AccountSid when none is configured); stop ends the call as transferred", async () => {
  const callSid = "CA" + crypto.randomUUID().replaceAll("-", "");
  const client0 = "AC" + "0".repeat(32); // the stand-in stream client's AccountSid
  const rest = startTwilioRestStandIn({ accountSid: client0, authToken: TOKEN, liveCalls: [callSid] });
  let ctx: CallContext | undefined;
  const stops: string[] = [];
  const answer: Answerer = (c) => {
    ctx = c;
    return { handle: (e) => e.type === "stop" && stops.push(e.reason) };
  };
  const gw = await startGateway({
    answer,
    env: {
      TOM_TWILIO_PUBLIC_URL: "https://tom.praxis.example",
      TOM_TWILIO_AUTH_TOKEN: TOKEN,
      TOM_TWILIO_API_BASE: rest.base,
      TOM_TWILIO_TRANSFER_RING_SECONDS: "20",
    },
    transports: [
      (app, deps, guard) =>
        mountTwilio(app, deps, guard, { transfer: { netAllowed: () => Promise.resolve(true) } }),
    ],
  });
  try {
    const params = { CallSid: callSid, AccountSid: client0, From: "+4930123456", To: "+4989765432" };
    const body = new URLSearchParams(params).toString();
    const res = await fetch(`${gw.http}/twilio/voice`, {
      method: "POST",
      body,
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signLikeTwilio(TOKEN, "https://tom.praxis.example/twilio/voice", params),
      },
    });
    assert.equal(res.status, 200);
    const parameters = twimlParameters(await res.text());
    const client = new TwilioStreamClient(`${gw.ws}/twilio/stream`, {
      callSid,
      headers: { "X-Twilio-Signature": signLikeTwilio(TOKEN, "wss://tom.praxis.example/twilio/stream") },
    });
    await client.opened;
    client.connected();
    client.start(parameters);
    const deadline = Date.now() + 10_000;
    while (!ctx && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.ok(ctx?.output.transfer, "the Twilio output can transfer");
    const o = await timed(ctx.output.transfer(NUMBER, AbortSignal.timeout(5000)));
    assert.deepEqual(o, { ok: true });
    assert.equal(rest.requests[0].path, `/2010-04-01/Accounts/${client0}/Calls/${callSid}.json`);
    assert.ok(
      rest.requests[0].form.Twiml.includes(
        '<Dial timeout="20" action="https://tom.praxis.example/twilio/dial?return=',
      ),
    );
    client.stop(); // Twilio ends the stream once the new TwiML runs
    await client.closed;
    const until = Date.now() + 5000;
    while (stops.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(stops, ["transferred to a person"]);
  } finally {
    await gw.close();
    await rest.close();
  }
});

Deno.test("Twilio transfer under the real egress policy: the API host not allowed means nothing is sent", async () => {
  const module = new URL("../../../gateway/twilio/rest_transfer.ts", import.meta.url).href;
  const script = `import { twilioTransfer } from ${JSON.stringify(module)};
const api = { accountSid: "${ACCOUNT}", authToken: "t", apiBase: "https://api.twilio.com" };
const o = await twilioTransfer(api, "${CALL}", { kind: "number", target: "+49301234567" },
  AbortSignal.timeout(5000), { ringSeconds: 25 });
console.log(JSON.stringify(o));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-net=127.0.0.1", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(script));
  await w.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(JSON.parse(text), {
    ok: false,
    reason: "failed",
    detail: "Twilio API not allowed by egress policy (TOM_EGRESS_ALLOW_HOSTS)",
  });
});
