/**
 * G.711 mu-law and A-law, table-driven, bit for bit equal to sox 14.4 (`sox -D`, i.e. without dither).
 *
 * sox rounds each 16-bit sample to nearest at 14 bits (mu-law) or 13 bits (A-law), saturating at the
 * top, and then applies the classic CCITT segment coding. The bare formula in protocols.md section 5
 * (truncating the low bits of the magnitude) differs from sox in 383 of the 65,536 inputs, all by one
 * step; the tables below follow sox. Decoding is the standard expansion (protocols.md) and equals sox for
 * all 256 codes.
 *
 * @module
 */

/** Mu-law byte of digital silence. */
export const MULAW_SILENCE = 0xff;
/** A-law byte of digital silence. */
export const ALAW_SILENCE = 0xd5;

/** Round a 16-bit sample to `bits` bits, half up, saturating at the top (sox's SOX_SAMPLE_TO_UNSIGNED). */
function roundTo(sample: number, bits: number): number {
  const shift = 16 - bits;
  const half = 1 << (shift - 1);
  if (sample > 32767 - half) return (1 << (bits - 1)) - 1;
  return (sample + half) >> shift;
}

/** Mu-law code of a 14-bit two's complement value (CCITT G.711, bias 33, clip 8159). */
function mulawOf14(value: number): number {
  let mask = 0xff;
  let mag = value;
  if (mag < 0) {
    mag = -mag;
    mask = 0x7f;
  }
  if (mag > 8159) mag = 8159;
  mag += 33;
  if (mag > 0x1fff) return 0x7f ^ mask;
  let seg = 0;
  while (seg < 7 && mag > (0x40 << seg) - 1) seg++;
  return ((seg << 4) | ((mag >> (seg + 1)) & 0x0f)) ^ mask;
}

/** A-law code of a 13-bit two's complement value (CCITT G.711). */
function alawOf13(value: number): number {
  let mask = 0xd5;
  let mag = value;
  if (mag < 0) {
    mask = 0x55;
    mag = -mag - 1;
  }
  if (mag > 0xfff) return 0x7f ^ mask;
  let seg = 0;
  while (seg < 7 && mag > (0x20 << seg) - 1) seg++;
  const mant = seg < 2 ? (mag >> 1) & 0x0f : (mag >> seg) & 0x0f;
  return ((seg << 4) | mant) ^ mask;
}

/** Standard mu-law expansion (protocols.md section 5). */
function mulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** Standard A-law expansion. */
function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  if (seg === 0) t += 8;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

function buildEncodeTable(encode: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  for (let s = -32768; s < 32768; s++) table[s & 0xffff] = encode(s);
  return table;
}

function buildDecodeTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let c = 0; c < 256; c++) table[c] = decode(c);
  return table;
}

const MULAW_ENCODE = buildEncodeTable((s) => mulawOf14(roundTo(s, 14)));
const ALAW_ENCODE = buildEncodeTable((s) => alawOf13(roundTo(s, 13)));
const MULAW_DECODE = buildDecodeTable(mulawToLinear);
const ALAW_DECODE = buildDecodeTable(alawToLinear);

function encodeWith(table: Uint8Array, pcm: Int16Array, out?: Uint8Array): Uint8Array {
  const n = pcm.length;
  const dst = out ?? new Uint8Array(n);
  if (dst.length < n) throw new RangeError(`Cannot encode ${n} samples into ${dst.length} bytes`);
  for (let i = 0; i < n; i++) dst[i] = table[pcm[i] & 0xffff];
  return out === undefined || out.length === n ? dst : dst.subarray(0, n);
}

function decodeWith(table: Int16Array, codes: Uint8Array, out?: Int16Array): Int16Array {
  const n = codes.length;
  const dst = out ?? new Int16Array(n);
  if (dst.length < n) throw new RangeError(`Cannot decode ${n} bytes into ${dst.length} samples`);
  for (let i = 0; i < n; i++) dst[i] = table[codes[i]];
  return out === undefined || out.length === n ? dst : dst.subarray(0, n);
}

/**
 * Encode 16-bit PCM as mu-law, one byte per sample.
 *
 * @param pcm samples
 * @param out where to write (at least `pcm.length` bytes) instead of a new array; the result is then a
 *   view of it
 * @returns one mu-law byte per sample
 * @example
 * ```ts
 * encodeMulaw(new Int16Array([0, 1000, -1000])); // Uint8Array [255, 206, 78]
 * ```
 */
export function encodeMulaw(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  return encodeWith(MULAW_ENCODE, pcm, out);
}

/**
 * Decode mu-law bytes to 16-bit PCM.
 *
 * @param codes mu-law bytes
 * @param out where to write (at least `codes.length` samples) instead of a new array
 * @returns one sample per byte
 */
export function decodeMulaw(codes: Uint8Array, out?: Int16Array): Int16Array {
  return decodeWith(MULAW_DECODE, codes, out);
}

/**
 * Encode 16-bit PCM as A-law, one byte per sample.
 *
 * @param pcm samples
 * @param out where to write (at least `pcm.length` bytes) instead of a new array
 * @returns one A-law byte per sample
 */
export function encodeAlaw(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  return encodeWith(ALAW_ENCODE, pcm, out);
}

/**
 * Decode A-law bytes to 16-bit PCM.
 *
 * @param codes A-law bytes
 * @param out where to write (at least `codes.length` samples) instead of a new array
 * @returns one sample per byte
 */
export function decodeAlaw(codes: Uint8Array, out?: Int16Array): Int16Array {
  return decodeWith(ALAW_DECODE, codes, out);
}
