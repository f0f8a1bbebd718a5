/**
 * The sample formats peers speak, behind one switch: G.711 mu-law and A-law, and 16-bit linear PCM
 * (L16 little-endian, "slin").
 *
 * @module
 */
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from "./g711.ts";
import { bytesToInt16, int16ToBytes } from "./pcm.ts";

/** A peer's sample format. */
export type AudioCodec = "mulaw" | "alaw" | "l16";

/** Bytes per sample of one channel. */
export function bytesPerSample(codec: AudioCodec): number {
  return codec === "l16" ? 2 : 1;
}

/** The byte that fills silence in this format (0 for L16). */
export function silenceByte(codec: AudioCodec): number {
  return codec === "mulaw" ? 0xff : codec === "alaw" ? 0xd5 : 0;
}

/**
 * Decode bytes into `out` (room for `bytes.length / bytesPerSample(codec)` samples).
 *
 * @returns the view of `out` that holds the samples
 */
export function decodeInto(codec: AudioCodec, bytes: Uint8Array, out: Int16Array): Int16Array {
  if (codec === "mulaw") return decodeMulaw(bytes, out);
  if (codec === "alaw") return decodeAlaw(bytes, out);
  const pcm = bytesToInt16(bytes);
  if (out.length < pcm.length) throw new RangeError(`Cannot decode ${pcm.length} samples into ${out.length}`);
  out.set(pcm);
  return out.subarray(0, pcm.length);
}

/**
 * Encode samples into `out` (room for `pcm.length * bytesPerSample(codec)` bytes).
 *
 * @returns the view of `out` that holds the bytes
 */
export function encodeInto(codec: AudioCodec, pcm: Int16Array, out: Uint8Array): Uint8Array {
  if (codec === "mulaw") return encodeMulaw(pcm, out);
  if (codec === "alaw") return encodeAlaw(pcm, out);
  const bytes = int16ToBytes(pcm);
  if (out.length < bytes.length) {
    throw new RangeError(`Cannot encode ${bytes.length} bytes into ${out.length}`);
  }
  out.set(bytes);
  return out.subarray(0, bytes.length);
}
