import assert from "node:assert/strict";
import { sineWave } from "../../_rigs/levels.ts";
import { OutboundAudio, type OutboundAudioOptions } from "../../../gateway/audio/outbound.ts";
import { loadResampler } from "../../../gateway/audio/resample.ts";

await loadResampler();

/** An outbound path that collects its frames. */
function collect(options: Omit<OutboundAudioOptions, "onFrame">) {
  const frames: Uint8Array[] = [];
  const outbound = new OutboundAudio({ ...options, onFrame: (f) => frames.push(f) });
  return { outbound, frames };
}

Deno.test("OutboundAudio makes 160-byte mu-law frames at 8 kHz and pads the last one with silence", () => {
  const tone = sineWave({ freq: 700, rate: 16000, samples: 16000 + 123, peakDb: -10 });
  const { outbound, frames } = collect({ codec: "mulaw", rate: 8000 });
  assert.equal(outbound.frameBytes, 160);
  for (let at = 0; at < tone.length; at += 441) outbound.push(tone.subarray(at, at + 441));
  outbound.flush();
  outbound.dispose();
  assert.ok(frames.every((f) => f.length === 160));
  assert.ok(frames.length >= 50 && frames.length <= 52, `${frames.length} frames`);
  assert.equal(frames.at(-1)?.at(-1), 0xff);
  assert.ok(new Set(frames.map((f) => f.buffer)).size === frames.length, "every frame has its own memory");
});

Deno.test("OutboundAudio.clear drops the partial frame and starts the next audio clean", () => {
  const { outbound, frames } = collect({ codec: "l16", rate: 16000 });
  assert.equal(outbound.frameBytes, 640);
  outbound.push(new Int16Array(100).fill(1000));
  assert.equal(frames.length, 0);
  outbound.clear();
  outbound.push(new Int16Array(320).fill(-5));
  assert.equal(frames.length, 1);
  assert.deepEqual(new Int16Array(frames[0].buffer), new Int16Array(320).fill(-5));
  assert.throws(() => new OutboundAudio({ codec: "mulaw", rate: 11025, onFrame: () => {} }), /whole number/);
});

Deno.test("outbound: 16 kHz audio becomes encoded peer frames; flush pads the last one", () => {
  const { outbound: out, frames } = collect({ codec: "mulaw", rate: 8000, frameMs: 20 });
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
  const { outbound: out, frames } = collect({
    codec: "l16",
    rate: 8000,
    frameMs: 20,
    wrap: (b) => new Uint8Array([0x10, ...b]),
  });
  out.push(new Int16Array(320));
  assert.equal(frames.length, 1);
  assert.equal(frames[0].length, 321);
  assert.equal(out.encode(new Int16Array(160)).length, 321);
  out.dispose();
});
