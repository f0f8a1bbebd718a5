/**
 * 16-bit PCM helpers: little-endian bytes to samples and back, channel downmix and pick, float
 * conversion with clipping.
 *
 * @module
 */

/** Whether this machine stores multi-byte numbers little-endian (every platform Deno ships for). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Little-endian 16-bit samples from bytes. Returns a view on the same memory when the bytes start on an
 * even offset (no copy), a copy otherwise; copy the result if the caller reuses its buffer.
 */
export function bytesToInt16(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0) {
    throw new RangeError(`Cannot read 16-bit samples from ${bytes.length} bytes: the length is odd`);
  }
  const n = bytes.length >> 1;
  if (LITTLE_ENDIAN) {
    if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, n);
    const copy = new Int16Array(n);
    new Uint8Array(copy.buffer).set(bytes);
    return copy;
  }
  const out = new Int16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** Little-endian bytes of 16-bit samples: a view on the same memory (no copy) on little-endian machines. */
export function int16ToBytes(pcm: Int16Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const out = new Uint8Array(pcm.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i], true);
  return out;
}

function checkChannels(interleaved: Int16Array, channels: number): number {
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`Cannot split audio into ${channels} channels: need a positive integer`);
  }
  if (interleaved.length % channels !== 0) {
    throw new RangeError(
      `Cannot split ${interleaved.length} samples into ${channels} channels: not a whole number of frames`,
    );
  }
  return interleaved.length / channels;
}

/** Mono from interleaved channels: the mean of each frame, rounded to nearest. */
export function downmix(interleaved: Int16Array, channels: number): Int16Array {
  const frames = checkChannels(interleaved, channels);
  if (channels === 1) return interleaved.slice();
  const out = new Int16Array(frames);
  for (let f = 0, i = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[i++];
    out[f] = Math.round(sum / channels);
  }
  return out;
}

/** One channel (0-based) out of interleaved channels (mod_audio_fork `stereo`: 0 = caller, 1 = bot). */
export function pickChannel(interleaved: Int16Array, channels: number, channel: number): Int16Array {
  const frames = checkChannels(interleaved, channels);
  if (!Number.isInteger(channel) || channel < 0 || channel >= channels) {
    throw new RangeError(`Cannot pick channel ${channel} of ${channels}`);
  }
  const out = new Int16Array(frames);
  for (let f = 0, i = channel; f < frames; f++, i += channels) out[f] = interleaved[i];
  return out;
}

/** 16-bit samples from floats in [-1, 1): x * 32768, rounded, clipped to [-32768, 32767]; NaN becomes 0. */
export function floatToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i] * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v || 0;
  }
  return out;
}

/** Floats in [-1, 1) from 16-bit samples: s / 32768. */
export function int16ToFloat(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 32768;
  return out;
}
