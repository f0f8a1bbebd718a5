import assert from "node:assert/strict";
import {
  bytesToInt16,
  downmix,
  floatToInt16,
  int16ToBytes,
  int16ToFloat,
  pickChannel,
} from "../../../gateway/audio/pcm.ts";

Deno.test("bytesToInt16 reads little-endian samples at even and odd byte offsets", () => {
  const raw = new Uint8Array([0xaa, 0x34, 0x12, 0xff, 0xff, 0x00, 0x80]);
  const even = bytesToInt16(raw.subarray(1, 7).slice());
  assert.deepEqual(Array.from(even), [0x1234, -1, -32768]);
  const odd = bytesToInt16(raw.subarray(1, 7)); // byteOffset 1: Int16Array cannot view it, so it copies
  assert.deepEqual(Array.from(odd), [0x1234, -1, -32768]);
  raw[1] = 0;
  assert.equal(odd[0], 0x1234, "the odd-offset result is a copy");
});

Deno.test("bytesToInt16 views aligned bytes without copying and rejects odd lengths", () => {
  const raw = new Uint8Array([1, 0, 2, 0]);
  const view = bytesToInt16(raw);
  raw[0] = 5;
  assert.equal(view[0], 5);
  assert.throws(() => bytesToInt16(new Uint8Array(3)), /odd/);
});

Deno.test("int16ToBytes writes little-endian and round-trips", () => {
  const pcm = new Int16Array([0x1234, -2, 32767, -32768]);
  assert.deepEqual(Array.from(int16ToBytes(pcm)), [0x34, 0x12, 0xfe, 0xff, 0xff, 0x7f, 0x00, 0x80]);
  assert.deepEqual(bytesToInt16(int16ToBytes(pcm.subarray(1))), pcm.subarray(1));
});

Deno.test("downmix averages channels with rounding; pickChannel takes one", () => {
  const stereo = new Int16Array([100, 300, -1, -2, 32767, 32767, -32768, -32768]);
  assert.deepEqual(Array.from(downmix(stereo, 2)), [200, -1, 32767, -32768]);
  assert.deepEqual(Array.from(pickChannel(stereo, 2, 0)), [100, -1, 32767, -32768]);
  assert.deepEqual(Array.from(pickChannel(stereo, 2, 1)), [300, -2, 32767, -32768]);
  assert.deepEqual(Array.from(downmix(new Int16Array([1, 2, 3]), 1)), [1, 2, 3]);
  assert.throws(() => downmix(new Int16Array(3), 2), /whole number/);
  assert.throws(() => pickChannel(stereo, 2, 2), RangeError);
  assert.throws(() => downmix(stereo, 0), RangeError);
});

Deno.test("floatToInt16 scales by 32768, rounds and clips; int16ToFloat inverts it", () => {
  const f = new Float32Array([0, 0.5, -0.5, 1, -1, 2, -2, NaN, 1 / 32768]);
  assert.deepEqual(Array.from(floatToInt16(f)), [0, 16384, -16384, 32767, -32768, 32767, -32768, 0, 1]);
  const pcm = new Int16Array([-32768, -1, 0, 1, 32767]);
  assert.deepEqual(floatToInt16(int16ToFloat(pcm)), pcm);
});
