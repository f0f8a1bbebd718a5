/**
 * The caller's audio from mod_audio_fork: binary frames of L16 little-endian at the fork's rate, of any
 * size (nominally 20 ms, but coalesced when the socket was busy, and a TCP-level split can leave an odd
 * byte), one channel or two interleaved (`stereo`: caller first, TOM second). Out come exact 20 ms frames
 * of the caller at the pipeline's 16 kHz, each stamped with its call time (counted in samples, so a burst
 * of coalesced frames keeps its true timing).
 *
 * @module
 */
import { PIPELINE_FRAME_SAMPLES, PIPELINE_RATE } from "../call/contract.ts";
import {
  bytesToInt16,
  createResampler,
  FrameAssembler,
  pickChannel,
  Reframer,
  type Resampler,
} from "../audio/mod.ts";

const FRAME_MS = (PIPELINE_FRAME_SAMPLES * 1000) / PIPELINE_RATE;

/** Turns mod_audio_fork's byte stream into the pipeline's frames. */
export class ForkInbound {
  readonly #channels: number;
  readonly #bytes: Reframer;
  readonly #resampler: Resampler;
  readonly #frames = new FrameAssembler(PIPELINE_FRAME_SAMPLES);
  readonly #onFrame: (pcm: Int16Array, atMs: number) => void;
  #count = 0;

  /**
   * @param rate the fork's sample rate (8000, 16000, ...)
   * @param channels 1 (mono, mixed) or 2 (stereo)
   * @param onFrame receives each 20 ms frame at 16 kHz and its call time in ms
   */
  constructor(rate: number, channels: 1 | 2, onFrame: (pcm: Int16Array, atMs: number) => void) {
    this.#channels = channels;
    // 10 ms of sample frames: small enough for low latency, whole sample frames so a channel never shifts.
    this.#bytes = new Reframer((rate / 100) * 2 * channels);
    this.#resampler = createResampler(rate, PIPELINE_RATE);
    this.#onFrame = onFrame;
  }

  /** Add one binary message's bytes. */
  push(bytes: Uint8Array): void {
    for (const chunk of this.#bytes.push(bytes)) {
      const interleaved = bytesToInt16(chunk);
      const caller = this.#channels === 1 ? interleaved : pickChannel(interleaved, this.#channels, 0);
      for (const frame of this.#frames.push(this.#resampler.process(caller))) {
        this.#onFrame(frame, this.#count * FRAME_MS);
        this.#count++;
      }
    }
  }

  /** Free the resampler. */
  dispose(): void {
    this.#resampler.dispose();
  }
}
