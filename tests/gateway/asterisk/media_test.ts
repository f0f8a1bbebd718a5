import assert from "node:assert/strict";
import { encodeMulaw, loadResampler, sineWave, toneDbfs } from "../../../gateway/audio/mod.ts";
import {
  formatByName,
  InboundAudio,
  MediaClock,
  OutboundAudio,
  slinFormat,
} from "../../../gateway/asterisk/media.ts";

await loadResampler();

Deno.test("chan_websocket format names map to TOM's formats", () => {
  assert.equal(formatByName("ulaw")?.rate, 8000);
  assert.equal(formatByName("ulaw")?.bytesPerSample, 1);
  assert.equal(formatByName("alaw")?.silenceByte, 0xd5);
  assert.equal(formatByName("slin")?.rate, 8000);
  assert.equal(formatByName("slin16")?.rate, 16000);
  assert.equal(formatByName("sln16")?.rate, 16000);
  assert.equal(formatByName("slin44")?.rate, 44100);
  assert.equal(formatByName("SLIN48")?.name, "slin48");
  assert.equal(formatByName("opus"), undefined);
  assert.equal(formatByName("g722"), undefined);
  assert.equal(slinFormat(44100).name, "slin44");
});

Deno.test("media clock: a continuous stream keeps its own time, a gap re-anchors it at the arrival", () => {
  const c = new MediaClock(60);
  assert.equal(c.place(0, 20, 35), 15, "the first chunk: arrival less its duration");
  assert.equal(c.place(20, 20, 70), 35, "jitter does not move the stream");
  assert.equal(c.place(40, 20, 50), 55, "early arrival neither");
  assert.equal(c.place(60, 20, 1000), 980, "nothing for 900 ms: re-anchored");
  assert.equal(c.place(80, 20, 1020), 1000);
});

Deno.test("inbound: mu-law 8 kHz in odd chunks becomes 20 ms frames at 16 kHz with their call time", () => {
  const tone = sineWave({ freq: 1000, rate: 8000, durationMs: 400, peakDb: -12 });
  const bytes = encodeMulaw(tone);
  const frames: { pcm: Int16Array; atMs: number }[] = [];
  const inbound = new InboundAudio(
    formatByName("ulaw") ?? assert.fail(),
    (pcm, atMs) => frames.push({ pcm, atMs }),
  );
  let arrival = 0;
  for (let at = 0; at < bytes.length; at += 137) {
    const chunk = bytes.subarray(at, at + 137);
    arrival += (chunk.length * 1000) / 8000;
    inbound.pushBytes(chunk, arrival);
  }
  inbound.dispose();
  assert.ok(frames.length >= 19 && frames.length <= 20, `${frames.length} frames`);
  assert.ok(frames.every((f) => f.pcm.length === 320));
  assert.deepEqual(frames.map((f) => f.atMs), frames.map((_, i) => i * 20));
  const all = new Int16Array(frames.length * 320);
  frames.forEach((f, i) => all.set(f.pcm, i * 320));
  const level = toneDbfs(all.subarray(1600), 16000, 1000);
  assert.ok(Math.abs(level - (-12 - 3.01)) < 0.5, `level ${level}`);
});

Deno.test("inbound: slin split at odd byte offsets decodes like the whole", () => {
  const pcm = sineWave({ freq: 440, rate: 16000, durationMs: 100 });
  const bytes = new Uint8Array(pcm.buffer);
  const whole: Int16Array[] = [];
  const split: Int16Array[] = [];
  const a = new InboundAudio(slinFormat(16000), (f) => whole.push(f));
  const b = new InboundAudio(slinFormat(16000), (f) => split.push(f));
  a.pushBytes(bytes, 100);
  for (let at = 0; at < bytes.length; at += 333) b.pushBytes(bytes.subarray(at, at + 333), 100);
  assert.equal(split.length, 5);
  assert.deepEqual(split, whole);
  a.dispose();
  b.dispose();
});

Deno.test("inbound: after a gap the frames' call time jumps with the clock", () => {
  const times: number[] = [];
  const inbound = new InboundAudio(slinFormat(16000), (_f, at) => times.push(at));
  inbound.pushPcm(new Int16Array(640), 40);
  inbound.pushPcm(new Int16Array(640), 1040);
  inbound.dispose();
  assert.deepEqual(times, [0, 20, 1000, 1020]);
});

Deno.test("outbound: 16 kHz audio becomes encoded peer frames; flush pads the last one", () => {
  const frames: Uint8Array[] = [];
  const out = new OutboundAudio(formatByName("ulaw") ?? assert.fail(), 20, (f) => frames.push(f));
  out.push(sineWave({ freq: 1000, rate: 16000, durationMs: 70 }));
  assert.equal(frames.length, 3);
  assert.ok(frames.every((f) => f.length === 160));
  assert.ok(out.pendingMs > 0 && out.pendingMs < 20, `${out.pendingMs} ms pending`);
  out.flush();
  assert.equal(frames.length, 4);
  assert.equal(out.pendingMs, 0);
  out.push(new Int16Array(100));
  out.clear();
  assert.equal(out.pendingMs, 0);
  out.dispose();
});

Deno.test("outbound: AudioSocket frames are wrapped with their header", () => {
  const frames: Uint8Array[] = [];
  const out = new OutboundAudio(
    slinFormat(8000),
    20,
    (f) => frames.push(f),
    (b) => new Uint8Array([0x10, ...b]),
  );
  out.push(new Int16Array(320));
  assert.equal(frames.length, 1);
  assert.equal(frames[0].length, 321);
  assert.equal(out.encode(new Int16Array(160)).length, 321);
  out.dispose();
});
