/**
 * The media path shared by Asterisk's transports: the peer's formats (chan_websocket's `ulaw`, `alaw`,
 * `slin`, `slin16`...; AudioSocket's slin kinds), the way in (decode, resample to the pipeline's 16 kHz,
 * cut 20 ms frames, stamp each with its call time) and the way out (resample to the peer's rate, cut the
 * peer's frames, encode).
 *
 * @module
 */
import { PIPELINE_FRAME_SAMPLES, PIPELINE_RATE } from "../call/contract.ts";
import {
  ALAW_SILENCE,
  createResampler,
  decodeAlaw,
  decodeMulaw,
  encodeAlaw,
  encodeMulaw,
  FrameAssembler,
  MULAW_SILENCE,
  type Resampler,
} from "../audio/mod.ts";

const FRAME_MS = (PIPELINE_FRAME_SAMPLES * 1000) / PIPELINE_RATE;

/** A sample format on the wire. */
export interface MediaFormat {
  /** Asterisk's name for it. */
  name: string;
  rate: number;
  /** Bytes per sample (1 for G.711, 2 for slin). */
  bytesPerSample: 1 | 2;
  decode(bytes: Uint8Array): Int16Array;
  encode(pcm: Int16Array): Uint8Array;
  /** The byte that encodes silence (a slin sample of 0 is two zero bytes). */
  silenceByte: number;
}

function slinDecode(bytes: Uint8Array): Int16Array {
  const n = bytes.length >> 1;
  const out = new Int16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

function slinEncode(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i], true);
  return out;
}

/** Signed linear 16-bit little-endian at `rate`. */
export function slinFormat(rate: number): MediaFormat {
  const name = rate === 8000 ? "slin" : `slin${rate === 44100 ? 44 : rate / 1000}`;
  return { name, rate, bytesPerSample: 2, decode: slinDecode, encode: slinEncode, silenceByte: 0 };
}

const ULAW: MediaFormat = {
  name: "ulaw",
  rate: 8000,
  bytesPerSample: 1,
  decode: decodeMulaw,
  encode: encodeMulaw,
  silenceByte: MULAW_SILENCE,
};
const ALAW: MediaFormat = {
  name: "alaw",
  rate: 8000,
  bytesPerSample: 1,
  decode: decodeAlaw,
  encode: encodeAlaw,
  silenceByte: ALAW_SILENCE,
};
const SLIN_RATES: Record<string, number> = {
  slin: 8000,
  slin12: 12000,
  slin16: 16000,
  slin24: 24000,
  slin32: 32000,
  slin44: 44100,
  slin48: 48000,
  slin96: 96000,
  slin192: 192000,
};

/** The format chan_websocket names in `MEDIA_START` (`ulaw`, `alaw`, `slin`, `slin16`...), if TOM speaks it. */
export function formatByName(name: string): MediaFormat | undefined {
  const n = name.toLowerCase();
  if (n === "ulaw" || n === "mulaw" || n === "pcmu") return ULAW;
  if (n === "alaw" || n === "pcma") return ALAW;
  const rate = SLIN_RATES[n] ?? SLIN_RATES[n.replace(/^sln/, "slin")];
  return rate === undefined ? undefined : slinFormat(rate);
}

/** Formats {@linkcode formatByName} knows, for error messages. */
export const KNOWN_FORMATS: readonly string[] = ["ulaw", "alaw", ...Object.keys(SLIN_RATES)];

/**
 * Call time for inbound audio. Asterisk sends nothing while the far side is silent on some channels (a
 * Local channel in `Wait()`, discontinuous transmission), so the sample count alone would fall behind
 * the clock: a chunk that arrives more than `gapMs` after the stream's own time re-anchors the stream at
 * its arrival (less its duration); otherwise the stream's time goes on sample by sample, so arrival
 * jitter never moves it. The default 250 ms is above the bursts a busy Asterisk produces (up to 160 ms
 * measured on 2 shared cores) and below any pause worth placing.
 */
export class MediaClock {
  readonly #gapMs: number;
  #offsetMs: number | undefined;

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

/** Caller audio in the peer's format -> 20 ms frames at the pipeline's rate, each with its call time. */
export class InboundAudio {
  readonly format: MediaFormat;
  readonly #resampler: Resampler;
  readonly #frames = new FrameAssembler(PIPELINE_FRAME_SAMPLES);
  readonly #clock = new MediaClock();
  readonly #onFrame: (pcm: Int16Array, atMs: number) => void;
  #carry: number | undefined;
  #samplesIn = 0;
  #framesOut = 0;

  /**
   * @param format the peer's format
   * @param onFrame receives each 20 ms frame at {@linkcode PIPELINE_RATE} and its call time in ms
   */
  constructor(format: MediaFormat, onFrame: (pcm: Int16Array, atMs: number) => void) {
    this.format = format;
    this.#resampler = createResampler(format.rate, PIPELINE_RATE);
    this.#onFrame = onFrame;
  }

  /** One chunk of bytes (any size; an odd slin byte waits for its partner). */
  pushBytes(bytes: Uint8Array, arrivalMs: number): void {
    let data = bytes;
    if (this.format.bytesPerSample === 2) {
      if (this.#carry !== undefined) {
        data = new Uint8Array(bytes.length + 1);
        data[0] = this.#carry;
        data.set(bytes, 1);
        this.#carry = undefined;
      }
      if (data.length % 2 === 1) {
        this.#carry = data[data.length - 1];
        data = data.subarray(0, data.length - 1);
      }
    }
    if (data.length > 0) this.pushPcm(this.format.decode(data), arrivalMs);
  }

  /** Samples already decoded, at the format's rate. */
  pushPcm(pcm: Int16Array, arrivalMs: number): void {
    if (pcm.length === 0) return;
    const streamMs = (this.#samplesIn * 1000) / this.format.rate;
    const durationMs = (pcm.length * 1000) / this.format.rate;
    this.#samplesIn += pcm.length;
    // Frames this chunk completes take its offset (a frame begun before a gap is placed after it).
    const offset = this.#clock.place(streamMs, durationMs, arrivalMs) - streamMs;
    for (const frame of this.#frames.push(this.#resampler.process(pcm))) {
      const atMs = this.#framesOut * FRAME_MS + offset;
      this.#framesOut++;
      this.#onFrame(frame, Math.max(0, Math.round(atMs)));
    }
  }

  /** Free the resampler. */
  dispose(): void {
    this.#resampler.dispose();
  }
}

/** Options of {@linkcode OutboundAudio}. */
export interface OutboundAudioOptions {
  /**
   * Convert lazily: {@linkcode OutboundAudio.push} converts at most this many frames at once and keeps the
   * rest as 16 kHz PCM until {@linkcode OutboundAudio.fill} asks for more (the paced sender does, a few
   * frames per tick). Default: everything at once, as it arrives. A TTS chunk can hold many seconds: at
   * once, its resampling and encoding hold the event loop for tens of ms and the paced sender misses its
   * slots (the caller hears gaps).
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

/** TOM's audio at the pipeline's rate -> the peer's frames (resampled, cut, encoded by `wrap`). */
export class OutboundAudio {
  readonly format: MediaFormat;
  /** Samples per frame at the peer's rate. */
  readonly frameSamples: number;
  readonly #resampler: Resampler;
  readonly #frames: FrameAssembler;
  readonly #emit: (frame: Uint8Array) => void;
  readonly #wrap: (encoded: Uint8Array) => Uint8Array;
  readonly #slice: number;
  readonly #onMark: (name: string) => void;
  readonly #onCue: (sent: () => void) => void;
  /** Audio (16 kHz), marks and cues not converted yet; `#at` = samples of the head chunk already taken. */
  #input: (Int16Array | OutMark | OutCue)[] = [];
  #head = 0;
  #at = 0;
  #inputSamples = 0;

  /**
   * @param format the peer's format
   * @param frameMs duration of one peer frame
   * @param emit receives each encoded (and wrapped) frame
   * @param wrap adds a header (AudioSocket) or nothing
   * @param options lazy conversion and where its marks and cues go
   */
  constructor(
    format: MediaFormat,
    frameMs: number,
    emit: (frame: Uint8Array) => void,
    wrap: (encoded: Uint8Array) => Uint8Array = (b) => b,
    options: OutboundAudioOptions = {},
  ) {
    this.format = format;
    this.frameSamples = Math.round((format.rate * frameMs) / 1000);
    this.#resampler = createResampler(PIPELINE_RATE, format.rate);
    this.#frames = new FrameAssembler(this.frameSamples);
    this.#emit = emit;
    this.#wrap = wrap;
    this.#slice = options.sliceFrames ?? Infinity;
    if (!(this.#slice >= 1)) throw new RangeError(`Cannot convert slices of ${this.#slice} frames`);
    this.#onMark = options.onMark ?? (() => {});
    this.#onCue = options.onCue ?? ((sent) => sent());
  }

  /** Milliseconds of audio not yet emitted as frames (waiting for conversion or for the rest of its frame). */
  get pendingMs(): number {
    return (this.#frames.pendingSamples * 1000) / this.format.rate +
      (this.#inputSamples * 1000) / PIPELINE_RATE;
  }

  /**
   * Audio at {@linkcode PIPELINE_RATE}, any length.
   *
   * @param sent handed to `onCue` just before the frame that holds the first of these samples
   */
  push(pcm: Int16Array, sent?: () => void): void {
    if (pcm.length === 0 && !sent) return;
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
        // Enough input to complete the frames wanted (a few samples more: the filter's rounding).
        const want = (frames - emitted) * this.frameSamples - this.#frames.pendingSamples;
        const take = Math.min(
          item.length - this.#at,
          Math.max(PIPELINE_FRAME_SAMPLES / 2, Math.ceil((want * PIPELINE_RATE) / this.format.rate) + 8),
        );
        const part = item.subarray(this.#at, this.#at + take);
        this.#at += take;
        this.#inputSamples -= take;
        if (this.#at >= item.length) {
          this.#head++;
          this.#at = 0;
        }
        for (const frame of this.#frames.push(this.#resampler.process(part))) {
          this.#emit(this.encode(frame));
          emitted++;
        }
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
    const tail = this.#frames.flush();
    if (tail) this.#emit(this.encode(tail));
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

  /** One frame of samples at the peer's rate, encoded and wrapped. */
  encode(pcm: Int16Array): Uint8Array {
    return this.#wrap(this.format.encode(pcm));
  }

  /** Free the resampler. */
  dispose(): void {
    this.#resampler.dispose();
  }
}
