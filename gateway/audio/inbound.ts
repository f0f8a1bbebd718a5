/**
 * The inbound half of a call's media path: a peer's bytes (any chunking) -> decode -> one channel ->
 * resample to the pipeline's rate -> exact 20 ms frames. Reuses its buffers, so the only allocation per
 * frame is the frame handed to the pipeline.
 *
 * @module
 */
import { type AudioCodec, bytesPerSample, decodeInto } from "./codec.ts";
import { FrameAssembler } from "./reframe.ts";
import { createResampler, type Resampler } from "./resample.ts";

/** Options of {@linkcode InboundAudio}. */
export interface InboundAudioOptions {
  /** The peer's sample format. */
  codec: AudioCodec;
  /** The peer's sample rate in Hz. */
  rate: number;
  /** Interleaved channels in the peer's stream (default 1; mod_audio_fork `stereo` sends 2). */
  channels?: number;
  /** Which channel to keep (0-based), or "mix" to average them (default 0: the caller). */
  channel?: number | "mix";
  /** Output rate (default 16000, the pipeline's). */
  outRate?: number;
  /** Samples per output frame (default 20 ms at `outRate`). */
  frameSamples?: number;
  /** Speex quality of the resampler. */
  quality?: number;
}

/** Turns a peer's audio bytes into pipeline frames; needs `loadResampler()` first unless no resampling. */
export class InboundAudio {
  readonly codec: AudioCodec;
  readonly rate: number;
  readonly channels: number;
  #channel: number | "mix";
  #resampler: Resampler;
  #frames: FrameAssembler;
  #align: number;
  #carry: Uint8Array;
  #carried = 0;
  #bytes = new Uint8Array(0);
  #pcm = new Int16Array(0);
  #wide = new Int16Array(0);

  /** @param options the peer's format and what the pipeline wants */
  constructor(options: InboundAudioOptions) {
    const { codec, rate, channels = 1, channel = 0, outRate = 16_000 } = options;
    if (!Number.isInteger(channels) || channels < 1 || channels > 8) {
      throw new RangeError(`Cannot take ${channels} channels: need an integer from 1 to 8`);
    }
    if (channel !== "mix" && !(Number.isInteger(channel) && channel >= 0 && channel < channels)) {
      throw new RangeError(`Cannot keep channel ${channel} of ${channels}`);
    }
    this.codec = codec;
    this.rate = rate;
    this.channels = channels;
    this.#channel = channel;
    this.#resampler = createResampler(rate, outRate, options.quality);
    this.#frames = new FrameAssembler(options.frameSamples ?? Math.round(outRate / 50));
    this.#align = bytesPerSample(codec) * channels;
    this.#carry = new Uint8Array(this.#align);
  }

  /** Add a chunk from the peer (any size, split anywhere); returns the pipeline frames it completed. */
  push(chunk: Uint8Array): Int16Array[] {
    let bytes = chunk;
    if (this.#carried > 0 || chunk.length % this.#align !== 0) {
      // Join a sample split across chunks; keep the new split remainder for the next chunk.
      const total = this.#carried + chunk.length;
      const whole = total - (total % this.#align);
      this.#bytes = grow(this.#bytes, total);
      this.#bytes.set(this.#carry.subarray(0, this.#carried));
      this.#bytes.set(chunk, this.#carried);
      this.#carry.set(this.#bytes.subarray(whole, total));
      this.#carried = total - whole;
      bytes = this.#bytes.subarray(0, whole);
    }
    if (bytes.length === 0) return [];
    const n = bytes.length / bytesPerSample(this.codec);
    this.#pcm = grow(this.#pcm, n);
    let pcm = decodeInto(this.codec, bytes, this.#pcm);
    if (this.channels > 1) pcm = this.#mono(pcm);
    this.#wide = grow(this.#wide, this.#resampler.maxOutput(pcm.length));
    return this.#frames.push(this.#resampler.process(pcm, this.#wide));
  }

  /** Free the resampler. */
  dispose(): void {
    this.#resampler.dispose();
  }

  /** One channel out of interleaved samples, in place. */
  #mono(pcm: Int16Array): Int16Array {
    const ch = this.channels;
    const frames = pcm.length / ch;
    for (let f = 0, i = 0; f < frames; f++, i += ch) {
      if (this.#channel === "mix") {
        let sum = 0;
        for (let c = 0; c < ch; c++) sum += pcm[i + c];
        pcm[f] = Math.round(sum / ch);
      } else pcm[f] = pcm[i + this.#channel];
    }
    return pcm.subarray(0, frames);
  }
}

/** `buf` if it holds `n`, else a bigger one (contents not kept). */
function grow<T extends Int16Array | Uint8Array>(buf: T, n: number): T {
  if (buf.length >= n) return buf;
  const size = Math.max(n, buf.length * 2, 64);
  return (buf instanceof Int16Array ? new Int16Array(size) : new Uint8Array(size)) as T;
}
