/**
 * Audio for the transports: G.711 codecs (bit-exact with sox), PCM byte and channel helpers, a
 * streaming speex resampler (wasm, loaded from embedded bytes), re-framing of odd-sized chunks, and
 * real-time pacing with marks on one shared timer. Plus tone and level helpers for tests.
 *
 * The media path of one call, inbound and outbound:
 *
 * @example
 * ```ts
 * import {
 *   createResampler, decodeMulaw, encodeMulaw, FrameAssembler, loadResampler, Pacer, Reframer,
 * } from "./mod.ts";
 *
 * await loadResampler(); // once per process
 * const inFrames = new Reframer(160); // 20 ms of mu-law at 8 kHz
 * const up = createResampler(8000, 16000);
 * const down = createResampler(16000, 8000);
 * const outFrames = new FrameAssembler(160);
 * const sent: Uint8Array[] = [];
 * const pacer = new Pacer<Uint8Array>({ send: (frame) => sent.push(frame) });
 *
 * for (const frame of inFrames.push(new Uint8Array(200).fill(0xff))) {
 *   const pcm16k = up.process(decodeMulaw(frame)); // to the pipeline
 *   for (const out of outFrames.push(down.process(pcm16k))) pacer.enqueue(encodeMulaw(out));
 * }
 * pacer.mark("reply-1"); // fires once the frames before it are sent
 * pacer.stop();
 * up.dispose();
 * down.dispose();
 * ```
 *
 * @module
 */
export { ALAW_SILENCE, decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw, MULAW_SILENCE } from "./g711.ts";
export { bytesToInt16, downmix, floatToInt16, int16ToBytes, int16ToFloat, pickChannel } from "./pcm.ts";
export {
  createResampler,
  DEFAULT_RESAMPLER_QUALITY,
  loadResampler,
  type LoadResamplerOptions,
  type Resampler,
  resamplerLoaded,
  resamplerMemoryBytes,
} from "./resample.ts";
export { FrameAssembler, Reframer } from "./reframe.ts";
export { type Clock, FakeClock, systemClock } from "./clock.ts";
export { sharedTicker, Ticker, type TickerOptions, type TickHandler } from "./ticker.ts";
export { Pacer, type PacerOptions } from "./pacer.ts";
export {
  dominantFrequency,
  goertzelPower,
  rmsDbfs,
  SILENCE_DBFS,
  type SineOptions,
  sineWave,
  toneDbfs,
} from "./analysis.ts";
