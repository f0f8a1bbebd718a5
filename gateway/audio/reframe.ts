/**
 * Re-framing: peers send audio in chunks of any size (mod_audio_fork coalesces frames, chan_websocket
 * accepts any size, TCP splits anywhere); the pipeline wants exact 20 ms frames.
 *
 * @module
 */

/** Cuts a byte stream into frames of exactly `frameBytes`, keeping the remainder for the next chunk. */
export class Reframer {
  readonly frameBytes: number;
  #buf: Uint8Array;
  #fill = 0;

  /** @param frameBytes bytes per frame (160 for 20 ms of mu-law at 8 kHz, 640 for L16 at 16 kHz) */
  constructor(frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes < 1) {
      throw new RangeError(`Cannot frame by ${frameBytes} bytes: need a positive integer`);
    }
    this.frameBytes = frameBytes;
    this.#buf = new Uint8Array(frameBytes);
  }

  /** Bytes waiting for the rest of their frame. */
  get pendingBytes(): number {
    return this.#fill;
  }

  /** Add a chunk (any size, even 0 or 1 byte); returns the frames it completed, each a fresh array. */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const size = this.frameBytes;
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(size - this.#fill, chunk.length - at);
      this.#buf.set(chunk.subarray(at, at + take), this.#fill);
      this.#fill += take;
      at += take;
      if (this.#fill === size) {
        frames.push(this.#buf);
        this.#buf = new Uint8Array(size);
        this.#fill = 0;
      }
    }
    return frames;
  }

  /**
   * Like {@linkcode Reframer.push} without allocating: `fn` gets each completed frame in a buffer that
   * is reused for the next one, so it must copy what it keeps. For hot paths that consume frames at once.
   */
  pushEach(chunk: Uint8Array, fn: (frame: Uint8Array) => void): void {
    const size = this.frameBytes;
    let at = 0;
    while (at < chunk.length) {
      if (this.#fill === 0 && chunk.length - at >= size) {
        fn(chunk.subarray(at, at + size)); // a whole frame inside the chunk: no copy at all
        at += size;
        continue;
      }
      const take = Math.min(size - this.#fill, chunk.length - at);
      this.#buf.set(chunk.subarray(at, at + take), this.#fill);
      this.#fill += take;
      at += take;
      if (this.#fill === size) {
        this.#fill = 0;
        fn(this.#buf);
      }
    }
  }

  /** End of stream: the partial frame padded with `fill` (0xff for mu-law, 0xd5 for A-law), or null. */
  flush(fill = 0): Uint8Array | null {
    if (this.#fill === 0) return null;
    const frame = this.#buf;
    frame.fill(fill, this.#fill);
    this.#buf = new Uint8Array(this.frameBytes);
    this.#fill = 0;
    return frame;
  }

  /** Drop the pending bytes. */
  clear(): void {
    this.#fill = 0;
  }
}

/** Cuts a stream of 16-bit samples into frames of exactly `samples` (default 320: 20 ms at 16 kHz). */
export class FrameAssembler {
  readonly samples: number;
  #buf: Int16Array;
  #fill = 0;

  /** @param samples samples per frame */
  constructor(samples = 320) {
    if (!Number.isInteger(samples) || samples < 1) {
      throw new RangeError(`Cannot frame by ${samples} samples: need a positive integer`);
    }
    this.samples = samples;
    this.#buf = new Int16Array(samples);
  }

  /** Samples waiting for the rest of their frame. */
  get pendingSamples(): number {
    return this.#fill;
  }

  /** Add samples (any count); returns the frames they completed, each a fresh array. */
  push(pcm: Int16Array): Int16Array[] {
    const frames: Int16Array[] = [];
    const size = this.samples;
    let at = 0;
    while (at < pcm.length) {
      const take = Math.min(size - this.#fill, pcm.length - at);
      this.#buf.set(pcm.subarray(at, at + take), this.#fill);
      this.#fill += take;
      at += take;
      if (this.#fill === size) {
        frames.push(this.#buf);
        this.#buf = new Int16Array(size);
        this.#fill = 0;
      }
    }
    return frames;
  }

  /** End of stream: the partial frame padded with silence, or null when nothing is pending. */
  flush(): Int16Array | null {
    if (this.#fill === 0) return null;
    const frame = this.#buf;
    frame.fill(0, this.#fill);
    this.#buf = new Int16Array(this.samples);
    this.#fill = 0;
    return frame;
  }

  /** Drop the pending samples (barge-in). */
  clear(): void {
    this.#fill = 0;
  }
}
