/**
 * 10,000 random and malformed messages on `/twilio/stream` (garbage, broken JSON, events with wrong
 * types, media with bad base64 and odd sizes, marks and DTMF out of place, binary frames) crash nothing:
 * `/healthz` answers throughout, every call that started also ended, and a proper stream still works.
 */
import assert from "node:assert/strict";
import { echoAnswerer } from "../../../gateway/call/echo.ts";
import { mountTwilio } from "../../../gateway/twilio/webhook.ts";
import { startGateway } from "../server_harness.ts";
import { assertCallsSettled, fuzzInRounds } from "../_fuzz.ts";
import { signLikeTwilio, TwilioStreamClient, twimlParameters } from "../fixtures/twilio_stream_client.ts";

const TOTAL = 10_000;
const TOKEN = "twilio-fuzz-auth-token";
const PUBLIC = "https://tom.praxis.example";
const UPGRADE = { "X-Twilio-Signature": signLikeTwilio(TOKEN, "wss://tom.praxis.example/twilio/stream") };

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fuzzMessage(
  rnd: () => number,
  client: TwilioStreamClient,
  first: boolean,
  issued: Record<string, string>,
): string | Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  const junk = () => String.fromCharCode(...Array.from({ length: int(60) }, () => int(0x2fff)));
  const b64 = (n: number) => btoa(String.fromCharCode(...Array.from({ length: n }, () => int(256))));
  const any = (): unknown => [null, 1, -1e308, "", junk(), [], {}, true, { a: [junk()] }][int(9)];
  const sid = client.streamSid;
  const shapes: (() => unknown)[] = [
    () => ({
      event: "start",
      streamSid: sid,
      start: {
        streamSid: rnd() < 0.8 ? sid : any(),
        callSid: rnd() < 0.8 ? client.callSid : any(),
        // Mostly the parameters TOM's TwiML issued for this call (so calls start), else junk.
        customParameters: rnd() < 0.7
          ? issued
          : rnd() < 0.5
          ? { ...issued, from: junk(), tom_call_id: junk(), tom_account_id: any() }
          : any(),
        mediaFormat: rnd() < 0.8 ? { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 } : any(),
      },
    }),
    () => ({
      event: "media",
      streamSid: sid,
      media: { track: "inbound", payload: b64([0, 1, 159, 160, 161, 800][int(6)]) },
    }),
    () => ({ event: "media", streamSid: sid, media: { payload: rnd() < 0.5 ? junk() : any() } }),
    () => ({ event: "media", media: { track: "outbound", payload: b64(160) } }),
    () => ({ event: "dtmf", dtmf: { digit: rnd() < 0.5 ? "0123456789*#ABCD"[int(16)] : any() } }),
    () => ({ event: "mark", mark: { name: rnd() < 0.5 ? `m${int(5)}` : any() } }),
    () => ({ event: "connected", protocol: "Call", version: any() }),
    () => ({ event: ["stop", "clear", "unknown", "START", ""][int(5)], sequenceNumber: any() }),
    () => any(),
  ];
  const r = rnd();
  if (first && r < 0.7) return JSON.stringify(shapes[0]());
  if (r < 0.03) return Uint8Array.from({ length: int(400) }, () => int(256)); // binary: 1003
  if (r < 0.15) return junk();
  if (r < 0.2) {
    const t = JSON.stringify(shapes[int(shapes.length)]());
    return t.slice(0, int(t.length + 1));
  }
  // Mostly media: a started call keeps running through the junk.
  return JSON.stringify(rnd() < 0.6 ? shapes[1]() : shapes[int(shapes.length)]());
}

Deno.test("10,000 random and malformed messages on /twilio/stream crash nothing and /healthz answers throughout", async () => {
  const gw = await startGateway({
    answer: echoAnswerer(),
    env: { TOM_TWILIO_AUTH_TOKEN: TOKEN, TOM_TWILIO_PUBLIC_URL: PUBLIC },
    transports: [(app, deps, guard) => mountTwilio(app, deps, guard, { startTimeoutMs: 2000 })],
  });
  try {
    const rnd = prng(0x7a11);
    let sent = 0;
    /** The TwiML parameters of a new call, as Twilio's voice webhook gets them. */
    const voice = async (callSid: string) => {
      const params = { CallSid: callSid, From: "+4930123456" };
      const res = await fetch(`${gw.http}/twilio/voice`, {
        method: "POST",
        body: new URLSearchParams(params),
        headers: { "X-Twilio-Signature": signLikeTwilio(TOKEN, `${PUBLIC}/twilio/voice`, params) },
      });
      return twimlParameters(await res.text());
    };
    const connection = async () => {
      const callSid = "CA" + crypto.randomUUID().replaceAll("-", "");
      const issued = await voice(callSid);
      const client = new TwilioStreamClient(`${gw.ws}/twilio/stream`, {
        echoMarks: rnd() < 0.5,
        headers: UPGRADE,
        callSid,
      });
      await client.opened;
      const n = 20 + Math.floor(rnd() * 80);
      for (let i = 0; i < n && sent < TOTAL && client.socket.readyState === WebSocket.OPEN; i++) {
        client.socket.send(fuzzMessage(rnd, client, i === 0, issued));
        sent++;
      }
      client.close();
      await client.closed;
    };
    const health = await fuzzInRounds(gw, () => sent >= TOTAL, connection);
    assert.ok(health > 10);
    const rows = await assertCallsSettled(gw);
    assert.ok(rows.reduce((n, r) => n + r.n, 0) > 20, "the fuzz also started calls");

    // Webhooks take junk too: unsigned it is refused, signed it is answered (400 without a CallSid).
    for (let i = 0; i < 50; i++) {
      const path = `/twilio/${i % 2 ? "voice" : "status"}`;
      const junk = String.fromCharCode(...Array.from({ length: 200 }, () => Math.floor(rnd() * 0x2fff)));
      const unsigned = await fetch(`${gw.http}${path}`, { method: "POST", body: junk });
      assert.equal(unsigned.status, 403);
      await unsigned.body?.cancel();
      const params: Record<string, string> = { [junk.slice(0, 20)]: junk.slice(20) };
      const res = await fetch(`${gw.http}${path}`, {
        method: "POST",
        body: new URLSearchParams(params),
        headers: { "X-Twilio-Signature": signLikeTwilio(TOKEN, PUBLIC + path, params) },
      });
      assert.ok([200, 204, 400].includes(res.status), `status ${res.status}`);
      await res.body?.cancel();
    }

    // And a proper stream still works.
    const callSid = "CA" + crypto.randomUUID().replaceAll("-", "");
    const issued = await voice(callSid);
    const client = new TwilioStreamClient(`${gw.ws}/twilio/stream`, { headers: UPGRADE, callSid });
    await client.opened;
    client.connected();
    client.start(issued);
    await client.until(() => client.media.length >= 5, "greeting frames");
    client.stop();
    await client.closed;
  } finally {
    await gw.close();
  }
});
