import assert from "node:assert/strict";
import { dominantFrequency, rmsDbfs, sineWave, toneDbfs } from "../../../gateway/audio/analysis.ts";
import { encodeMulaw } from "../../../gateway/audio/g711.ts";
import { InboundAudio } from "../../../gateway/audio/inbound.ts";
import { OutboundAudio } from "../../../gateway/audio/outbound.ts";
import { int16ToBytes } from "../../../gateway/audio/pcm.ts";
import { loadResampler } from "../../../gateway/audio/resample.ts";

await loadResampler();

function join<T extends Int16Array | Uint8Array>(parts: T[]): T {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = (parts[0] instanceof Int16Array ? new Int16Array(n) : new Uint8Array(n)) as T;
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("InboundAudio turns odd-sized mu-law chunks at 8 kHz into 320-sample frames at 16 kHz", () => {
  const tone = sineWave({ freq: 1000, rate: 8000, samples: 8000, peakDb: -10 });
  const bytes = encodeMulaw(tone);
  const inbound = new InboundAudio({ codec: "mulaw", rate: 8000 });
  const frames: Int16Array[] = [];
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = [1, 159, 160, 333, 7][k % 5];
    frames.push(...inbound.push(bytes.subarray(at, at + size)));
    at += size;
  }
  inbound.dispose();
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
  const pick = new InboundAudio({ codec: "l16", rate: 16000, channels: 2, channel: 0 });
  const mix = new InboundAudio({ codec: "l16", rate: 16000, channels: 2, channel: "mix" });
  const picked: Int16Array[] = [];
  const mixed: Int16Array[] = [];
  for (let at = 0; at < bytes.length; at += 333) {
    picked.push(...pick.push(bytes.subarray(at, at + 333)));
    mixed.push(...mix.push(bytes.subarray(at, at + 333)));
  }
  assert.deepEqual(join(picked), caller.subarray(0, picked.length * 320)); // 16k in, 16k out: exact
  const m = join(mixed);
  assert.equal(m[100], Math.round((caller[100] + bot[100]) / 2));
  assert.throws(() => new InboundAudio({ codec: "l16", rate: 16000, channels: 2, channel: 2 }), RangeError);
});

Deno.test("OutboundAudio makes 160-byte mu-law frames at 8 kHz and pads the last one with silence", () => {
  const tone = sineWave({ freq: 700, rate: 16000, samples: 16000 + 123, peakDb: -10 });
  const outbound = new OutboundAudio({ codec: "mulaw", rate: 8000 });
  assert.equal(outbound.frameBytes, 160);
  const frames: Uint8Array[] = [];
  for (let at = 0; at < tone.length; at += 441) frames.push(...outbound.push(tone.subarray(at, at + 441)));
  frames.push(...outbound.flush());
  outbound.dispose();
  assert.ok(frames.every((f) => f.length === 160));
  assert.ok(frames.length >= 50 && frames.length <= 52, `${frames.length} frames`);
  assert.equal(frames.at(-1)?.at(-1), 0xff);
  assert.ok(new Set(frames.map((f) => f.buffer)).size === frames.length, "every frame has its own memory");
});

Deno.test("OutboundAudio.clear drops the partial frame and starts the next audio clean", () => {
  const outbound = new OutboundAudio({ codec: "l16", rate: 16000 });
  assert.equal(outbound.frameBytes, 640);
  assert.equal(outbound.push(new Int16Array(100).fill(1000)).length, 0);
  outbound.clear();
  const frames = outbound.push(new Int16Array(320).fill(-5));
  assert.equal(frames.length, 1);
  assert.deepEqual(new Int16Array(frames[0].buffer), new Int16Array(320).fill(-5));
  assert.throws(() => new OutboundAudio({ codec: "mulaw", rate: 11025 }), /whole number/);
});
