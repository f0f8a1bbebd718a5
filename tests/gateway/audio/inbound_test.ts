import assert from "node:assert/strict";
import { dominantFrequency, rmsDbfs, sineWave, toneDbfs } from "../../_rigs/levels.ts";
import { encodeMulaw } from "../../../gateway/audio/g711.ts";
import { InboundAudio, type InboundAudioOptions, MediaClock } from "../../../gateway/audio/inbound.ts";
import { int16ToBytes } from "../../../gateway/audio/pcm.ts";
import { loadResampler } from "../../../gateway/audio/resample.ts";

await loadResampler();

function join(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An inbound path that collects its frames and their call times. */
function collect(options: Omit<InboundAudioOptions, "onFrame">) {
  const frames: { pcm: Int16Array; atMs: number }[] = [];
  const inbound = new InboundAudio({ ...options, onFrame: (pcm, atMs) => frames.push({ pcm, atMs }) });
  return { inbound, frames, pcm: () => frames.map((f) => f.pcm) };
}

Deno.test("InboundAudio turns odd-sized mu-law chunks at 8 kHz into 320-sample frames at 16 kHz", () => {
  const tone = sineWave({ freq: 1000, rate: 8000, samples: 8000, peakDb: -10 });
  const bytes = encodeMulaw(tone);
  const { inbound, pcm } = collect({ codec: "mulaw", rate: 8000 });
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = [1, 159, 160, 333, 7][k % 5];
    inbound.push(bytes.subarray(at, at + size));
    at += size;
  }
  inbound.dispose();
  const frames = pcm();
  assert.ok(frames.every((f) => f.length === 320));
  assert.equal(frames.length, 50);
  const out = join(frames).subarray(1600);
  assert.ok(Math.abs(dominantFrequency(out, 16000) - 1000) <= 1);
  assert.ok(Math.abs(toneDbfs(out, 16000, 1000) - rmsDbfs(tone)) < 0.5);
});

Deno.test("InboundAudio keeps the caller's channel of stereo L16 split across odd byte boundaries", () => {
  const caller = sineWave({ freq: 500, rate: 16000, samples: 3200, peakDb: -6 });
  const bot = sineWave({ freq: 2500, rate: 16000, samples: 3200, peakDb: -6 });
  const stereo = new Int16Array(6400);
  for (let i = 0; i < 3200; i++) [stereo[2 * i], stereo[2 * i + 1]] = [caller[i], bot[i]];
  const bytes = int16ToBytes(stereo);
  const pick = collect({ codec: "l16", rate: 16000, channels: 2, channel: 0 });
  const mix = collect({ codec: "l16", rate: 16000, channels: 2, channel: "mix" });
  for (let at = 0; at < bytes.length; at += 333) {
    pick.inbound.push(bytes.subarray(at, at + 333));
    mix.inbound.push(bytes.subarray(at, at + 333));
  }
  const picked = pick.pcm();
  assert.deepEqual(join(picked), caller.subarray(0, picked.length * 320)); // 16k in, 16k out: exact
  const m = join(mix.pcm());
  assert.equal(m[100], Math.round((caller[100] + bot[100]) / 2));
  assert.throws(
    () => new InboundAudio({ codec: "l16", rate: 16000, channels: 2, channel: 2, onFrame: () => {} }),
    RangeError,
  );
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
  const { inbound, frames } = collect({ codec: "mulaw", rate: 8000, timing: "arrival" });
  let arrival = 0;
  for (let at = 0; at < bytes.length; at += 137) {
    const chunk = bytes.subarray(at, at + 137);
    arrival += (chunk.length * 1000) / 8000;
    inbound.push(chunk, arrival);
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
  const a = collect({ codec: "l16", rate: 16000, timing: "arrival" });
  const b = collect({ codec: "l16", rate: 16000, timing: "arrival" });
  a.inbound.push(bytes, 100);
  for (let at = 0; at < bytes.length; at += 333) b.inbound.push(bytes.subarray(at, at + 333), 100);
  const whole = a.pcm();
  const split = b.pcm();
  assert.equal(split.length, 5);
  assert.deepEqual(split, whole);
  a.inbound.dispose();
  b.inbound.dispose();
});

Deno.test("inbound: after a gap the frames' call time jumps with the clock", () => {
  const { inbound, frames } = collect({ codec: "l16", rate: 16000, timing: "arrival" });
  inbound.pushPcm(new Int16Array(640), 40);
  inbound.pushPcm(new Int16Array(640), 1040);
  inbound.dispose();
  assert.deepEqual(frames.map((f) => f.atMs), [0, 20, 1000, 1020]);
});
