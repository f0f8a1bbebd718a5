import assert from "node:assert/strict";
import { bytesPerSample, decodeInto, encodeInto, silenceByte } from "../../../gateway/audio/codec.ts";
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from "../../../gateway/audio/g711.ts";

const PCM = new Int16Array([0, 1, -1, 1000, -1000, 32767, -32768]);

Deno.test("encodeInto and decodeInto agree with the G.711 functions and write into the given buffer", () => {
  const bytes = new Uint8Array(16);
  const mu = encodeInto("mulaw", PCM, bytes);
  assert.equal(mu.buffer, bytes.buffer);
  assert.deepEqual(mu, encodeMulaw(PCM));
  assert.deepEqual(encodeInto("alaw", PCM, bytes), encodeAlaw(PCM));
  const out = new Int16Array(16);
  assert.deepEqual(decodeInto("mulaw", encodeMulaw(PCM), out), decodeMulaw(encodeMulaw(PCM)));
  assert.deepEqual(decodeInto("alaw", encodeAlaw(PCM), out), decodeAlaw(encodeAlaw(PCM)));
});

Deno.test("L16 is little-endian 16-bit and round-trips, also from an odd byte offset", () => {
  const bytes = encodeInto("l16", PCM, new Uint8Array(PCM.length * 2 + 1).subarray(1));
  assert.deepEqual(Array.from(bytes.subarray(0, 4)), [0, 0, 1, 0]);
  assert.deepEqual(decodeInto("l16", bytes, new Int16Array(PCM.length)), PCM);
  assert.throws(() => encodeInto("l16", PCM, new Uint8Array(3)), RangeError);
});

Deno.test("bytes per sample and silence per codec", () => {
  assert.deepEqual([bytesPerSample("mulaw"), bytesPerSample("alaw"), bytesPerSample("l16")], [1, 1, 2]);
  assert.deepEqual([silenceByte("mulaw"), silenceByte("alaw"), silenceByte("l16")], [0xff, 0xd5, 0]);
  assert.throws(() => encodeMulaw(PCM, new Uint8Array(2)), RangeError);
});
