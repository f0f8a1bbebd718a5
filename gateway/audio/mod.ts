/**
 * Audio for the transports: G.711 codecs (bit-exact with sox), PCM byte and channel helpers, a
 * streaming speex resampler (wasm, loaded from embedded bytes), re-framing of odd-sized chunks, the
 * inbound and outbound halves of a call's media path, and real-time pacing with marks on one shared
 * timer. Plus tone and level helpers for tests.
 *
 * One call's media, mu-law at 8 kHz on the wire, 16 kHz PCM inside:
 *
 * @example
 * ```ts
 * import { InboundAudio, loadResampler, OutboundAudio, Pacer } from "./mod.ts";
 *
 * await loadResampler(); // once per process
 * const inbound = new InboundAudio({ codec: "mulaw", rate: 8000 }); // peer -> 320-sample frames at 16 kHz
 * const outbound = new OutboundAudio({ codec: "mulaw", rate: 8000 }); // 16 kHz -> 160-byte frames
 * const pacer = new Pacer<Uint8Array>({
 *   send: (frame) => void frame, // ws.send(frame)
 *   onMark: (name, cleared) => console.log(name, cleared ? "cleared" : "played"),
 * });
 *
 * for (const pcm of inbound.push(new Uint8Array(200).fill(0xff))) {
 *   // the pipeline hears `pcm`; its reply goes out the same way:
 *   for (const frame of outbound.push(pcm)) pacer.enqueue(frame);
 * }
 * pacer.mark("reply-1"); // fires once the frames queued before it are sent
 * pacer.clear(); // barge-in: drops queued frames, "reply-1" fires as cleared
 * outbound.clear();
 * pacer.stop();
 * inbound.dispose();
 * outbound.dispose();
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
export { type AudioCodec, bytesPerSample, decodeInto, encodeInto, silenceByte } from "./codec.ts";
export { InboundAudio, type InboundAudioOptions } from "./inbound.ts";
export { OutboundAudio, type OutboundAudioOptions } from "./outbound.ts";
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
export { encodeWav, readWav, type WavAudio, WavReadError } from "./wav.ts";
