/**
 * The outbound half of a call's media path: pipeline PCM (any length) -> resample to the peer's rate ->
 * encode -> exact frames for the pacer. Reuses its buffers, so the only allocation per frame is the frame
 * itself.
 *
 * @module
 */
import { type AudioCodec, bytesPerSample, encodeInto, silenceByte } from "./codec.ts";
import { Reframer } from "./reframe.ts";
import { createResampler, type Resampler } from "./resample.ts";

/** Options of {@linkcode OutboundAudio}. */
export interface OutboundAudioOptions {
  /** The peer's sample format. */
  codec: AudioCodec;
  /** The peer's sample rate in Hz. */
  rate: number;
  /** Input rate (default 16000, the pipeline's). */
  inRate?: number;
  /** Frame duration in ms (default 20). */
  frameMs?: number;
  /** Speex quality of the resampler. */
  quality?: number;
}

/** Turns pipeline audio into a peer's frames; needs `loadResampler()` first unless no resampling. */
export class OutboundAudio {
  readonly codec: AudioCodec;
  readonly rate: number;
  /** Bytes per frame (160 for 20 ms of mu-law at 8 kHz). */
  readonly frameBytes: number;
  #resampler: Resampler;
  #frames: Reframer;
  #pcm = new Int16Array(0);
  #bytes = new Uint8Array(0);

  /** @param options the peer's format */
  constructor(options: OutboundAudioOptions) {
    const { codec, rate, inRate = 16_000, frameMs = 20 } = options;
    const samples = rate * frameMs / 1000;
    if (!Number.isInteger(samples) || samples < 1) {
      throw new RangeError(`Cannot make ${frameMs} ms frames at ${rate} Hz: not a whole number of samples`);
    }
    this.codec = codec;
    this.rate = rate;
    this.frameBytes = samples * bytesPerSample(codec);
    this.#resampler = createResampler(inRate, rate, options.quality);
    this.#frames = new Reframer(this.frameBytes);
  }

  /** Add pipeline samples; returns the peer frames they completed, each a fresh array. */
  push(pcm: Int16Array): Uint8Array[] {
    if (this.#pcm.length < this.#resampler.maxOutput(pcm.length)) {
      this.#pcm = new Int16Array(Math.max(this.#resampler.maxOutput(pcm.length), this.#pcm.length * 2));
    }
    return this.#encode(this.#resampler.process(pcm, this.#pcm));
  }

  /** End of an utterance: the resampler's tail and the last partial frame padded with silence. */
  flush(): Uint8Array[] {
    const frames = this.#encode(this.#resampler.flush());
    const last = this.#frames.flush(silenceByte(this.codec));
    if (last) frames.push(last);
    return frames;
  }

  /** Barge-in: drop the partial frame and the resampler's history, so the next audio starts clean. */
  clear(): void {
    this.#resampler.flush();
    this.#frames.clear();
  }

  /** Free the resampler. */
  dispose(): void {
    this.#resampler.dispose();
  }

  #encode(pcm: Int16Array): Uint8Array[] {
    const need = pcm.length * bytesPerSample(this.codec);
    if (this.#bytes.length < need) this.#bytes = new Uint8Array(Math.max(need, this.#bytes.length * 2));
    return this.#frames.push(encodeInto(this.codec, pcm, this.#bytes));
  }
}
