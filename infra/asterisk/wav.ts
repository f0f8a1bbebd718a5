/**
 * Just enough WAV for the Asterisk test rig: write a 16-bit mono file (the caller's test tone) and read
 * the ones Asterisk records (format_wav: 16-bit PCM, 8 kHz mono).
 *
 * @module
 */

/** Decoded PCM of a WAV file. */
export interface Wav {
  rate: number;
  channels: number;
  /** Samples (interleaved when `channels` > 1). */
  pcm: Int16Array;
}

/** A 16-bit PCM WAV file of mono `pcm` at `rate`. */
export function encodeWav(pcm: Int16Array, rate: number): Uint8Array {
  const out = new Uint8Array(44 + pcm.length * 2);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((ch, i) => (out[at + i] = ch.charCodeAt(0)));
  ascii(0, "RIFF");
  v.setUint32(4, 36 + pcm.length * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, "data");
  v.setUint32(40, pcm.length * 2, true);
  for (let i = 0; i < pcm.length; i++) v.setInt16(44 + i * 2, pcm[i], true);
  return out;
}

/**
 * Read a 16-bit PCM WAV file. A data chunk whose size field is 0 or too big (a file still being written)
 * is read to the end of the bytes.
 *
 * @throws {Error} when the bytes are not a 16-bit PCM WAV file
 */
export function decodeWav(bytes: Uint8Array): Wav {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") {
    throw new Error("Cannot read WAV: no RIFF/WAVE header");
  }
  let at = 12;
  let rate = 0;
  let channels = 0;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      const format = v.getUint16(body, true);
      channels = v.getUint16(body + 2, true);
      rate = v.getUint32(body + 4, true);
      const bits = v.getUint16(body + 14, true);
      if (format !== 1 || bits !== 16) {
        throw new Error(`Cannot read WAV: format ${format}, ${bits} bits (need PCM 16)`);
      }
    } else if (id === "data") {
      if (rate === 0) throw new Error("Cannot read WAV: data before fmt");
      const end = size === 0 || body + size > bytes.length ? bytes.length : body + size;
      const n = (end - body) >> 1;
      const pcm = new Int16Array(n);
      for (let i = 0; i < n; i++) pcm[i] = v.getInt16(body + i * 2, true);
      return { rate, channels, pcm };
    }
    at = body + size + (size & 1);
  }
  throw new Error("Cannot read WAV: no data chunk");
}
