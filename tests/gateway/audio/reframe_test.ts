import assert from "node:assert/strict";
import { FrameAssembler, Reframer } from "../../../gateway/audio/reframe.ts";

/** A seeded xorshift source, so a failing chunking can be replayed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
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

Deno.test("Reframer yields exact frames and the same bytes for any random chunking", () => {
  const stream = new Uint8Array(160 * 57 + 33).map((_, i) => (i * 7 + 3) & 0xff);
  for (let seed = 1; seed <= 50; seed++) {
    const rnd = random(seed);
    const r = new Reframer(160);
    const frames: Uint8Array[] = [];
    for (let at = 0; at < stream.length;) {
      // Mostly odd sizes: single bytes, partial frames, coalesced runs of several frames.
      const pick = rnd();
      const size = pick < 0.2 ? 1 : pick < 0.5 ? Math.floor(rnd() * 160) : Math.floor(rnd() * 700);
      frames.push(...r.push(stream.subarray(at, at + size)));
      at += size;
    }
    assert.ok(frames.every((f) => f.length === 160), `seed ${seed}`);
    assert.equal(frames.length, 57);
    assert.equal(r.pendingBytes, 33);
    const tail = r.flush(0xff);
    assert.ok(tail);
    assert.equal(tail.length, 160);
    assert.deepEqual(tail.subarray(33), new Uint8Array(127).fill(0xff));
    assert.deepEqual(concat([...frames, tail.subarray(0, 33)]), stream, `seed ${seed}`);
    assert.equal(r.flush(), null);
  }
});

Deno.test("Reframer frames are fresh copies: reusing the input buffer does not change them", () => {
  const r = new Reframer(4);
  const buf = new Uint8Array([1, 2, 3, 4]);
  const [frame] = r.push(buf);
  buf.fill(9);
  assert.deepEqual(frame, new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual(r.push(new Uint8Array(0)), []);
});

Deno.test("Reframer.clear drops the pending partial frame", () => {
  const r = new Reframer(320);
  r.push(new Uint8Array(100));
  r.clear();
  assert.equal(r.pendingBytes, 0);
  assert.equal(r.push(new Uint8Array(320)).length, 1);
  assert.throws(() => new Reframer(0), RangeError);
});

Deno.test("FrameAssembler cuts samples into 320-sample frames for any random chunking", () => {
  const pcm = new Int16Array(320 * 40 + 5).map((_, i) => (i * 37) % 30000 - 15000);
  for (let seed = 1; seed <= 30; seed++) {
    const rnd = random(seed);
    const a = new FrameAssembler();
    const frames: Int16Array[] = [];
    for (let at = 0; at < pcm.length;) {
      const size = Math.floor(rnd() * 1000);
      frames.push(...a.push(pcm.subarray(at, at + size)));
      at += size;
    }
    assert.equal(frames.length, 40);
    assert.ok(frames.every((f) => f.length === 320));
    const joined = new Int16Array(40 * 320);
    frames.forEach((f, i) => joined.set(f, i * 320));
    assert.deepEqual(joined, pcm.subarray(0, 40 * 320));
    assert.equal(a.pendingSamples, 5);
    const tail = a.flush();
    assert.ok(tail);
    assert.deepEqual(Array.from(tail.subarray(0, 5)), Array.from(pcm.subarray(40 * 320)));
    assert.ok(tail.subarray(5).every((s) => s === 0));
  }
});

Deno.test("FrameAssembler with another frame size, clear and empty flush", () => {
  const a = new FrameAssembler(160);
  assert.equal(a.push(new Int16Array(159)).length, 0);
  assert.equal(a.push(new Int16Array(2)).length, 1);
  a.clear();
  assert.equal(a.flush(), null);
  assert.throws(() => new FrameAssembler(1.5), RangeError);
});

Deno.test("Reframer.pushEach yields the same frames as push without allocating per frame", () => {
  const stream = new Uint8Array(160 * 20 + 7).map((_, i) => i & 0xff);
  const a = new Reframer(160);
  const b = new Reframer(160);
  const viaEach: Uint8Array[] = [];
  const viaPush: Uint8Array[] = [];
  for (let at = 0, k = 0; at < stream.length; k++) {
    const size = [160, 1, 500, 99, 320][k % 5];
    a.pushEach(stream.subarray(at, at + size), (f) => viaEach.push(f.slice()));
    viaPush.push(...b.push(stream.subarray(at, at + size)));
    at += size;
  }
  assert.deepEqual(viaEach, viaPush);
  assert.equal(a.pendingBytes, b.pendingBytes);
});
