/**
 * The outbound half of every paced call's media path (browser, Twilio, AudioSocket, chan_websocket):
 * pipeline PCM (any length) -> resample to the peer's rate -> encode -> exact frames (optionally wrapped
 * in the peer's header) for the {@linkcode Pacer}, with the answering stage's marks and `sent` cues kept
 * in stream order between them.
 *
 * Conversion can be lazy (`sliceFrames`): {@linkcode OutboundAudio.push} converts only a few frames and
 * keeps the rest as pipeline PCM until {@linkcode OutboundAudio.fill} asks for more (the pacer's
 * `refill` does, a few frames per tick). A TTS chunk can hold many seconds: converted at once, its
 * resampling and encoding hold the event loop for tens of ms and the pacer misses its slots.
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
  /** Receives each frame, encoded and wrapped, a fresh array (usually `pacer.enqueue`). */
  onFrame: (frame: Uint8Array) => void;
  /** Input rate (default 16000, the pipeline's). */
  inRate?: number;
  /** Frame duration in ms (default 20). */
  frameMs?: number;
  /** Speex quality of the resampler. */
  quality?: number;
  /** Adds the peer's header to an encoded frame (AudioSocket); default none. */
  wrap?: (encoded: Uint8Array) => Uint8Array;
  /**
   * Convert lazily: {@linkcode OutboundAudio.push} converts at most this many frames at once and keeps
   * the rest until {@linkcode OutboundAudio.fill} asks for more. Default: everything at once.
   */
  sliceFrames?: number;
  /** A mark's position was converted (the frames before it were emitted): queue it after them. */
  onMark?: (name: string) => void;
  /** Audio with a `sent` callback reached the converter: `sent` belongs to the next frame emitted. */
  onCue?: (sent: () => void) => void;
}

class OutMark {
  constructor(readonly name: string) {}
}
class OutCue {
  constructor(readonly sent: () => void) {}
}

/** Turns pipeline audio into a peer's frames; needs `loadResampler()` first unless no resampling. */
export class OutboundAudio {
  readonly codec: AudioCodec;
  readonly rate: number;
  /** Samples per frame at the peer's rate. */
  readonly frameSamples: number;
  /** Encoded bytes per frame, before `wrap` (160 for 20 ms of mu-law at 8 kHz). */
  readonly frameBytes: number;
  readonly #inRate: number;
  readonly #resampler: Resampler;
  readonly #frames: Reframer;
  readonly #onFrame: (frame: Uint8Array) => void;
  readonly #wrap: ((encoded: Uint8Array) => Uint8Array) | undefined;
  readonly #slice: number;
  readonly #onMark: (name: string) => void;
  readonly #onCue: (sent: () => void) => void;
  /** Audio, marks and cues not converted yet; `#at` = samples of the head chunk already taken. */
  #input: (Int16Array | OutMark | OutCue)[] = [];
  #head = 0;
  #at = 0;
  #inputSamples = 0;
  #pcm = new Int16Array(0);
  #bytes = new Uint8Array(0);

  /**
   * @param options the peer's format, where frames, marks and cues go, and how lazily to convert
   * @throws {RangeError} when a frame is not a whole number of samples, or `sliceFrames` is below 1
   */
  constructor(options: OutboundAudioOptions) {
    const { codec, rate, inRate = 16_000, frameMs = 20 } = options;
    const samples = rate * frameMs / 1000;
    if (!Number.isInteger(samples) || samples < 1) {
      throw new RangeError(`Cannot make ${frameMs} ms frames at ${rate} Hz: not a whole number of samples`);
    }
    this.codec = codec;
    this.rate = rate;
    this.frameSamples = samples;
    this.frameBytes = samples * bytesPerSample(codec);
    this.#inRate = inRate;
    this.#resampler = createResampler(inRate, rate, options.quality);
    this.#frames = new Reframer(this.frameBytes);
    this.#onFrame = options.onFrame;
    this.#wrap = options.wrap;
    this.#slice = options.sliceFrames ?? Infinity;
    if (!(this.#slice >= 1)) throw new RangeError(`Cannot convert slices of ${this.#slice} frames`);
    this.#onMark = options.onMark ?? (() => {});
    this.#onCue = options.onCue ?? ((sent) => sent());
  }

  /** Milliseconds of audio not yet emitted as frames (waiting for conversion or for the rest of its frame). */
  get pendingMs(): number {
    const pending = this.#frames.pendingBytes / bytesPerSample(this.codec);
    return (pending * 1000) / this.rate + (this.#inputSamples * 1000) / this.#inRate;
  }

  /**
   * Audio at the input rate, any length.
   *
   * @param sent handed to `onCue` just before the frame that holds the first of these samples
   */
  push(pcm: Int16Array, sent?: () => void): void {
    if (pcm.length === 0 && !sent) return;
    if (!sent && this.#slice === Infinity && this.#head >= this.#input.length) {
      this.#convert(pcm); // nothing waiting and no slices: straight through, no queue
      return;
    }
    if (sent) this.#input.push(new OutCue(sent));
    if (pcm.length > 0) {
      this.#input.push(pcm);
      this.#inputSamples += pcm.length;
    }
    this.fill(this.#slice);
  }

  /** A mark after the audio pushed so far: its partial frame is padded and sent first, then `onMark`. */
  mark(name: string): void {
    this.#input.push(new OutMark(name));
    this.fill(this.#slice);
  }

  /** Convert queued audio until `frames` frames were emitted (or nothing is left). */
  fill(frames: number): void {
    let emitted = 0;
    while (this.#head < this.#input.length && emitted < frames) {
      const item = this.#input[this.#head];
      if (item instanceof OutMark) {
        this.#head++;
        this.flush();
        this.#onMark(item.name);
      } else if (item instanceof OutCue) {
        this.#head++;
        this.#onCue(item.sent);
      } else {
        let take = item.length - this.#at;
        if (frames !== Infinity) {
          // Enough input to complete the frames wanted (a few samples more: the filter's rounding).
          const pending = this.#frames.pendingBytes / bytesPerSample(this.codec);
          const want = (frames - emitted) * this.frameSamples - pending;
          const half = Math.round(this.#inRate / 100);
          take = Math.min(take, Math.max(half, Math.ceil((want * this.#inRate) / this.rate) + 8));
        }
        const part = take === item.length ? item : item.subarray(this.#at, this.#at + take);
        this.#at += take;
        this.#inputSamples -= take;
        if (this.#at >= item.length) {
          this.#head++;
          this.#at = 0;
        }
        emitted += this.#convert(part);
      }
    }
    if (this.#head >= this.#input.length) {
      this.#input = [];
      this.#head = 0;
    } else if (this.#head > 64) {
      this.#input = this.#input.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Send the partial frame, padded with silence (before a mark, or when the peer switches format). */
  flush(): void {
    const tail = this.#frames.flush(silenceByte(this.codec));
    if (tail) this.#onFrame(this.#wrap ? this.#wrap(tail) : tail);
  }

  /**
   * Barge-in: drop the partial frame and the audio not converted yet.
   *
   * @returns the marks dropped with it, in order (the transport reports them cleared)
   */
  clear(): string[] {
    const dropped = this.#input.slice(this.#head).filter((e): e is OutMark => e instanceof OutMark);
    this.#input = [];
    this.#head = 0;
    this.#at = 0;
    this.#inputSamples = 0;
    this.#frames.clear();
    return dropped.map((m) => m.name);
  }

  /** One frame of samples at the peer's rate, encoded and wrapped (a keep-alive silence frame, say). */
  encode(pcm: Int16Array): Uint8Array {
    const bytes = encodeInto(this.codec, pcm, new Uint8Array(pcm.length * bytesPerSample(this.codec)));
    return this.#wrap ? this.#wrap(bytes) : bytes;
  }

  /** Free the resampler. */
  dispose(): void {
    this.#resampler.dispose();
  }

  /** Resample, encode and cut `pcm`; returns the number of frames emitted. */
  #convert(pcm: Int16Array): number {
    const cap = this.#resampler.maxOutput(pcm.length);
    if (this.#pcm.length < cap) this.#pcm = new Int16Array(Math.max(cap, this.#pcm.length * 2));
    const resampled = this.#resampler.process(pcm, this.#pcm);
    const need = resampled.length * bytesPerSample(this.codec);
    if (this.#bytes.length < need) this.#bytes = new Uint8Array(Math.max(need, this.#bytes.length * 2));
    const frames = this.#frames.push(encodeInto(this.codec, resampled, this.#bytes));
    for (const frame of frames) this.#onFrame(this.#wrap ? this.#wrap(frame) : frame);
    return frames.length;
  }
}
