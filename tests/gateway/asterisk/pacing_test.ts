/**
 * What a caller on an Asterisk phone hears of TOM's pacing (issue 11, item 8): a long answer converted a
 * few frames at a time (no event-loop stall, no gaps), a continuous stream of silence frames on
 * chan_websocket while TOM is silent, the first audio stamped when it is written to the socket, and an
 * AudioSocket hang-up reported as the caller's.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Answerer, CallEvent, CallOutput } from "../../../gateway/call/contract.ts";
import { FakeClock, loadResampler, OutboundAudio, Pacer, Ticker } from "../../../gateway/audio/mod.ts";
import { sineWave } from "../../_rigs/levels.ts";
import { FakeAsterisk, msg, startAudioSocketGateway } from "./audiosocket_client.ts";
import { FakeChanWebSocket, mediaStart, startAsteriskWsGateway } from "./websocket_client.ts";

const UUID = "3f8a3c51-9e0b-4c55-8d7e-0b7c1e2f6a10";

function spy(events: CallEvent[], onStart?: (out: CallOutput) => void): Answerer {
  return (ctx) => ({
    handle(e) {
      events.push(e);
      if (e.type === "start") onStart?.(ctx.output);
    },
  });
}

function join(frames: Uint8Array[]): number[] {
  return frames.flatMap((f) => [...f]);
}

Deno.test("a 20 s answer is converted a few frames at a time, as the sender asks, into the same bytes", async () => {
  await loadResampler();
  const speech = sineWave({ freq: 440, rate: 16000, durationMs: 20_000 });
  const eager: Uint8Array[] = [];
  const all = new OutboundAudio({ codec: "mulaw", rate: 8000, onFrame: (f) => eager.push(f) });
  all.push(speech);
  all.flush();
  const lazy: Uint8Array[] = [];
  const events: string[] = [];
  const out = new OutboundAudio({
    codec: "mulaw",
    rate: 8000,
    onFrame: (f) => lazy.push(f),
    sliceFrames: 5,
    onMark: (name) => events.push(`${name}@${lazy.length}`),
  });
  out.push(speech);
  // The caller would hear a gap if all 1000 frames were made here: only the first few are.
  assert.ok(lazy.length >= 5 && lazy.length <= 6, `${lazy.length} frames converted at once`);
  assert.ok(out.pendingMs > 19_800, `${out.pendingMs} ms still waiting`);
  out.mark("end");
  assert.deepEqual(events, [], "the mark waits behind its audio");
  let steps = 0;
  while (out.pendingMs > 0 || events.length === 0) {
    out.fill(3);
    steps++;
    assert.ok(steps < 1000, "conversion makes progress");
  }
  assert.deepEqual(events, [`end@${lazy.length}`]);
  assert.deepEqual(join(lazy), join(eager), "lazily converted audio is byte for byte the eager one");
  all.dispose();
  out.dispose();
});

Deno.test("barge-in drops audio not converted yet and hands back its marks", async () => {
  await loadResampler();
  const out = new OutboundAudio({ codec: "l16", rate: 8000, onFrame: () => {}, sliceFrames: 5 });
  out.push(new Int16Array(16000 * 5));
  out.mark("a");
  out.push(new Int16Array(16000));
  out.mark("b");
  assert.deepEqual(out.clear(), ["a", "b"]);
  assert.equal(out.pendingMs, 0);
  out.dispose();
});

Deno.test("chan_websocket pacing: silence goes out on the real-time schedule, TOM's answer starts at once", () => {
  const clock = new FakeClock(0);
  const ticker = new Ticker({ clock, periodMs: 10 });
  const SILENCE = new Uint8Array([0]);
  const log: string[] = [];
  const playout = new Pacer<Uint8Array>({
    ticker,
    leadMs: 100,
    silence: SILENCE,
    send: (frames) => log.push(`${clock.now()}:${frames.map((f) => (f === SILENCE ? "s" : f[0])).join(",")}`),
    onMark: () => {},
  });
  clock.advance(60);
  // One silence frame per 20 ms, none ahead of the listener.
  assert.deepEqual(log, ["0:s", "20:s", "40:s", "60:s"]);
  clock.advance(5);
  for (let i = 1; i <= 8; i++) playout.enqueue(new Uint8Array([i]));
  clock.advance(5);
  // Audio may run the lead ahead: five frames (100 ms) plus the one due now go at the next tick.
  assert.deepEqual(log.slice(4), ["70:1,2,3,4,5"]);
  playout.stop();
});

Deno.test("a cue fires once its frame has been written, not when it was queued", async () => {
  const clock = new FakeClock(0);
  const ticker = new Ticker({ clock, periodMs: 10 });
  const SILENCE = new Uint8Array([0]);
  const written: string[] = [];
  let release: () => void = () => {};
  const playout = new Pacer<Uint8Array>({
    ticker,
    silence: SILENCE,
    send: (frames) =>
      new Promise<void>((r) => {
        release = () => {
          written.push(frames.map((f) => (f === SILENCE ? "s" : f[0])).join(","));
          r();
        };
      }),
    onMark: () => {},
  });
  const fired: string[] = [];
  clock.advance(0);
  release();
  playout.cue(() => fired.push(`cue after ${written.join("|")}`));
  playout.enqueue(new Uint8Array([7]));
  clock.advance(20);
  await Promise.resolve();
  assert.deepEqual(fired, [], "the frame is handed over but not written yet");
  release();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(fired, ["cue after s|7"]);
  playout.stop();
});

Deno.test("chan_websocket: while TOM is silent the caller's line still gets a 20 ms silence frame stream", async () => {
  const gw = await startAsteriskWsGateway({ answer: spy([]) });
  try {
    const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
    await ast.opened;
    ast.send(mediaStart());
    await ast.until(() => ast.frames.length >= 5, "silence frames while TOM says nothing");
    assert.ok(ast.frames.every((f) => f.length % 160 === 0 && f.every((b) => b === 0xff)), "mu-law silence");
    await ast.close();
  } finally {
    await gw.close();
  }
});

Deno.test("chan_websocket: the first audio of an answer is reported when it goes on the wire", async () => {
  let sentFired = 0;
  let firedAtQueue = -1;
  const gw = await startAsteriskWsGateway({
    answer: spy([], (out) => {
      out.audio(sineWave({ freq: 500, rate: 16000, durationMs: 500 }), () => sentFired++);
      firedAtQueue = sentFired;
    }),
  });
  try {
    const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
    await ast.opened;
    ast.send(mediaStart());
    await ast.until(() => ast.frames.some((f) => f.some((b) => b !== 0xff)), "TOM's audio");
    await ast.until(() => sentFired === 1, "the sent report");
    assert.equal(firedAtQueue, 0, "not reported when queued");
    await ast.close();
  } finally {
    await gw.close();
  }
});

Deno.test("AudioSocket: the caller hanging up (Asterisk closes the socket) ends the call as the caller's", async () => {
  const events: CallEvent[] = [];
  const gw = await startAudioSocketGateway({ answer: spy(events) });
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await ast.send(msg.uuid(UUID));
    await ast.until(() => ast.audio.length >= 2, "the call runs");
    await ast.close();
    for (let i = 0; i < 100 && !events.some((e) => e.type === "stop"); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(events.at(-1), { type: "stop", reason: "caller hung up" });
    assert.ok(
      gw.logs.some((l) => l.message === "call ended" && l.reason === "caller hung up"),
      "the log says the caller hung up",
    );
  } finally {
    await gw.close();
  }
});

Deno.test("AudioSocket: the first audio of an answer is reported when it is written, not when queued", async () => {
  let sentFired = 0;
  let firedAtQueue = -1;
  const gw = await startAudioSocketGateway({
    answer: spy([], (out) => {
      out.audio(sineWave({ freq: 500, rate: 16000, durationMs: 500 }), () => sentFired++);
      firedAtQueue = sentFired;
    }),
  });
  try {
    const ast = await FakeAsterisk.connect(gw.audioSocket.addr.port);
    await ast.send(msg.uuid(UUID));
    await ast.until(() => ast.audio.some((m) => m.pcm.some((s) => s !== 0)), "TOM's audio");
    await ast.until(() => sentFired === 1, "the sent report");
    assert.equal(firedAtQueue, 0, "not reported when queued");
    await ast.close();
  } finally {
    await gw.close();
  }
});
