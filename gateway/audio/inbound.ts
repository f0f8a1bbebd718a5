/**
 * The inbound half of every call's media path (browser, Twilio, mod_audio_fork, AudioSocket,
 * chan_websocket): a peer's bytes (any chunking, split anywhere, even mid-sample) -> decode (mu-law,
 * A-law, L16) -> one channel -> resample to the pipeline's rate -> exact 20 ms frames -> each stamped
 * with its call time. Reuses its buffers, so the only allocation per frame is the frame handed on.
 *
 * Call time is counted in samples (`timing: "samples"`: frame n is at n x 20 ms, so a burst of
 * coalesced frames keeps its true timing) or placed by arrival (`timing: "arrival"`, see
 * {@linkcode MediaClock}) for peers that send nothing while the far side is silent.
 *
 * @module
 */
import { type AudioCodec, bytesPerSample, decodeInto } from "./codec.ts";
import { FrameAssembler } from "./reframe.ts";
import { createResampler, type Resampler } from "./resample.ts";

/**
 * Call time for inbound audio of a peer that may go quiet. Asterisk sends nothing while the far side is
 * silent on some channels (a Local channel in `Wait()`, discontinuous transmission), so the sample count
 * alone would fall behind the clock: a chunk that arrives more than `gapMs` after the stream's own time
 * re-anchors the stream at its arrival (less its duration); otherwise the stream's time goes on sample
 * by sample, so arrival jitter never moves it. The default 250 ms is above the bursts a busy Asterisk
 * produces (up to 160 ms measured on 2 shared cores) and below any pause worth placing.
 */
export class MediaClock {
  readonly #gapMs: number;
  #offsetMs: number | undefined;

  /** @param gapMs how far behind its arrival a chunk may be before the stream is re-anchored */
  constructor(gapMs = 250) {
    this.#gapMs = gapMs;
  }

  /**
   * The call time of a chunk's first sample.
   *
   * @param streamMs position of the chunk in the stream (samples so far / rate)
   * @param durationMs the chunk's duration
   * @param arrivalMs call time when it arrived
   */
  place(streamMs: number, durationMs: number, arrivalMs: number): number {
    const start = arrivalMs - durationMs;
    if (this.#offsetMs === undefined || start - (streamMs + this.#offsetMs) > this.#gapMs) {
      this.#offsetMs = Math.max(0, start) - streamMs;
    }
    return streamMs + this.#offsetMs;
  }
}

/** Options of {@linkcode InboundAudio}. */
export interface InboundAudioOptions {
  /** The peer's sample format. */
  codec: AudioCodec;
  /** The peer's sample rate in Hz. */
  rate: number;
  /** Receives each frame at `outRate` and its call time in ms (see `timing`). */
  onFrame: (pcm: Int16Array, atMs: number) => void;
  /** Interleaved channels in the peer's stream (default 1; mod_audio_fork `stereo` sends 2). */
  channels?: number;
  /** Which channel to keep (0-based), or "mix" to average them (default 0: the caller). */
  channel?: number | "mix";
  /**
   * How frames get their call time: "samples" (default) counts them, n x frame duration; "arrival"
   * follows the arrival times given to `push` through a {@linkcode MediaClock} (and rounds to whole ms).
   */
  timing?: "samples" | "arrival";
  /** With `timing: "arrival"`: the gap that re-anchors the stream (default 250 ms). */
  gapMs?: number;
  /** Output rate (default 16000, the pipeline's). */
  outRate?: number;
  /** Samples per output frame (default 20 ms at `outRate`). */
  frameSamples?: number;
  /** Speex quality of the resampler. */
  quality?: number;
}

/** Turns a peer's audio into pipeline frames; needs `loadResampler()` first unless no resampling. */
export class InboundAudio {
  readonly codec: AudioCodec;
  readonly rate: number;
  readonly channels: number;
  readonly #channel: number | "mix";
  readonly #resampler: Resampler;
  readonly #frames: FrameAssembler;
  readonly #frameMs: number;
  readonly #onFrame: (pcm: Int16Array, atMs: number) => void;
  readonly #clock: MediaClock | undefined;
  readonly #align: number;
  readonly #carry: Uint8Array;
  #carried = 0;
  #bytes = new Uint8Array(0);
  #pcm = new Int16Array(0);
  #wide = new Int16Array(0);
  /** Sample frames (one sample per channel) taken in, and frames handed on. */
  #samplesIn = 0;
  #framesOut = 0;

  /** @param options the peer's format, where frames go, and how they are timed */
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
    this.#frameMs = (this.#frames.samples * 1000) / outRate;
    this.#onFrame = options.onFrame;
    this.#clock = options.timing === "arrival" ? new MediaClock(options.gapMs) : undefined;
    this.#align = bytesPerSample(codec) * channels;
    this.#carry = new Uint8Array(this.#align);
  }

  /**
   * Add a chunk of the peer's bytes (any size, split anywhere: a split sample waits for its rest).
   *
   * @param arrivalMs call time of its arrival (used with `timing: "arrival"`)
   */
  push(chunk: Uint8Array, arrivalMs = 0): void {
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
    if (bytes.length === 0) return;
    this.#pcm = grow(this.#pcm, bytes.length / bytesPerSample(this.codec));
    this.#take(decodeInto(this.codec, bytes, this.#pcm), arrivalMs);
  }

  /**
   * Add samples already decoded (interleaved when `channels` > 1), at the peer's rate.
   *
   * @param arrivalMs call time of their arrival (used with `timing: "arrival"`)
   */
  pushPcm(pcm: Int16Array, arrivalMs = 0): void {
    if (pcm.length === 0) return;
    if (this.channels > 1) {
      this.#pcm = grow(this.#pcm, pcm.length);
      this.#pcm.set(pcm);
      pcm = this.#pcm.subarray(0, pcm.length);
    }
    this.#take(pcm, arrivalMs);
  }

  /** Free the resampler. */
  dispose(): void {
    this.#resampler.dispose();
  }

  #take(interleaved: Int16Array, arrivalMs: number): void {
    const pcm = this.channels > 1 ? this.#mono(interleaved) : interleaved;
    let offset = 0;
    if (this.#clock) {
      // Frames this chunk completes take its offset (a frame begun before a gap is placed after it).
      const streamMs = (this.#samplesIn * 1000) / this.rate;
      offset = this.#clock.place(streamMs, (pcm.length * 1000) / this.rate, arrivalMs) - streamMs;
    }
    this.#samplesIn += pcm.length;
    this.#wide = grow(this.#wide, this.#resampler.maxOutput(pcm.length));
    for (const frame of this.#frames.push(this.#resampler.process(pcm, this.#wide))) {
      const atMs = this.#framesOut * this.#frameMs;
      this.#framesOut++;
      this.#onFrame(frame, this.#clock ? Math.max(0, Math.round(atMs + offset)) : atMs);
    }
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
