import assert from "node:assert/strict";
import { getCall, listAccounts } from "../../../store/mod.ts";
import { GREETING_TONE } from "../../../gateway/call/echo.ts";
import { goertzelPower } from "../../_rigs/levels.ts";
import { concatFrames, pcmBytes, startGateway, TestClient } from "../server_harness.ts";

/** Speech-like test signal: a gliding 110-230 Hz voice with harmonics, syllable envelope and some noise. */
function speechLike(samples: number, seed = 7): Int16Array {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) - 0.5;
  const out = new Int16Array(samples);
  let phase = 0;
  for (let i = 0; i < samples; i++) {
    const t = i / 16_000;
    const f0 = 170 + 60 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / 16_000;
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
    let v = 0;
    for (let h = 1; h <= 8; h++) v += Math.sin(h * phase) / h;
    out[i] = Math.round(6000 * env * v + 400 * rand());
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("a browser call with the echo answerer: greeting tone, echo, stop, completed record", async () => {
  const h = await startGateway();
  const callId = `e2e-${crypto.randomUUID()}`;
  const client = new TestClient(`${h.ws}/ws/stream/${callId}?token=${await h.token(callId)}`);
  try {
    const connected = await client.event("connected");
    assert.deepEqual(connected, {
      type: "connected",
      callId,
      protocol: 1,
      sampleRate: 16_000,
      encoding: "pcm16le",
      frameMs: 20,
    });
    client.send({ type: "start" });
    assert.deepEqual(await client.event("streaming_started"), { type: "streaming_started", callId });

    // The greeting: 1 s of 1 kHz at amplitude 8000, in 50 paced frames of 20 ms, then its mark.
    await client.event("mark", 10_000);
    const greetingFrames = client.frames.slice();
    assert.equal(greetingFrames.length, 50);
    assert.ok(greetingFrames.every((f) => f.pcm.length === 320), "every frame is 20 ms (640 bytes)");
    const greeting = concatFrames(greetingFrames);
    const amplitude = Math.sqrt(2 * goertzelPower(greeting, 16_000, GREETING_TONE.hz));
    assert.ok(Math.abs(amplitude - GREETING_TONE.amplitude) < 400, `1 kHz amplitude ${amplitude.toFixed(0)}`);
    for (const off of [500, 2000, 3000]) {
      const other = Math.sqrt(2 * goertzelPower(greeting, 16_000, off));
      assert.ok(other < amplitude / 100, `${off} Hz is 40 dB down (${other.toFixed(1)})`);
    }
    // Paced, not burst: 50 frames span about 980 ms of wall time. Only a lower bound is asserted (a slow,
    // shared machine can only make it longer; the pacer bursts at most 3 frames to catch up, so even a
    // late first frame leaves at least ~900 ms).
    const span = greetingFrames[49].at - greetingFrames[0].at;
    assert.ok(span >= 800, `greeting spread over ${span.toFixed(0)} ms`);

    // Speech in odd-sized chunks (also split mid-sample), sent in real time, comes back bit-exact.
    const speech = speechLike(16_000 * 2 + 123);
    const bytes = pcmBytes(speech);
    const sizes = [1, 591, 1280, 333, 640, 2047, 7, 960];
    const t0 = performance.now();
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const n = Math.min(sizes[i % sizes.length], bytes.length - at);
      client.send(bytes.slice(at, at + n));
      at += n;
      const due = t0 + (at / 32); // 32 bytes per ms at 16 kHz
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const whole = Math.floor(speech.length / 320) * 320;
    await client.until(() => concatFrames(client.frames).length >= 16_000 + whole, "the echo", 15_000);
    const echoed = concatFrames(client.frames.slice(50));
    assert.equal(echoed.length, whole);
    assert.deepEqual(echoed, speech.subarray(0, whole));

    client.send({ type: "stop" });
    const end = await client.event("call_end");
    assert.equal(end.reason, "caller stop");
    assert.ok(typeof end.durationMs === "number" && end.durationMs >= 2000);
    const closed = await client.closed;
    assert.equal(closed.code, 1000);

    const account = listAccounts(h.store)[0];
    const call = getCall(h.store, account.id, callId);
    assert.equal(call?.status, "completed");
    assert.equal(call?.transport, "browser");
    assert.equal(h.calls.size, 0);
  } finally {
    await client.close();
    await h.close();
  }
});

Deno.test("dtmf reaches the answering stage and ping is answered with pong", async () => {
  const h = await startGateway();
  const callId = `dtmf-${crypto.randomUUID()}`;
  const client = new TestClient(`${h.ws}/ws/stream/${callId}`, {
    headers: { Authorization: `Bearer ${await h.token(callId)}` },
  });
  try {
    await client.event("connected");
    client.send({ type: "ping", id: "p1" });
    const pong = await client.event("pong");
    assert.equal(pong.id, "p1");
    client.send({ type: "start" });
    await client.event("streaming_started");
    // The echo answerer hangs up on '#': call_end, close 1000, record completed.
    client.send({ type: "dtmf", digit: "#" });
    const end = await client.event("call_end");
    assert.equal(end.reason, "caller pressed #");
    assert.equal((await client.closed).code, 1000);
    await client.until(() => h.calls.size === 0, "the call to end");
    const account = listAccounts(h.store)[0];
    assert.equal(getCall(h.store, account.id, callId)?.status, "completed");
  } finally {
    await client.close();
    await h.close();
  }
});
