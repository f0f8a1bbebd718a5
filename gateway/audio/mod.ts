/**
 * Audio for the transports: G.711 codecs (bit-exact with sox), PCM byte and channel helpers, a
 * streaming speex resampler (wasm, loaded from embedded bytes), re-framing of odd-sized chunks, and the
 * one media path every peer uses: the inbound half (peer bytes -> 20 ms pipeline frames with their call
 * time), the outbound half (pipeline PCM -> the peer's frames, converted lazily if asked) and the pacer
 * (real time on one shared timer, marks, barge-in, keep-alive silence, lead). The per-peer folders keep
 * only their wire format and socket glue.
 *
 * One call's media, mu-law at 8 kHz on the wire, 16 kHz PCM inside:
 *
 * @example
 * ```ts
 * import { InboundAudio, loadResampler, OutboundAudio, Pacer } from "./mod.ts";
 *
 * await loadResampler(); // once per process
 * const pacer = new Pacer<Uint8Array>({
 *   send: (frames) => void frames, // for (const f of frames) ws.send(f)
 *   onMark: (name, cleared) => console.log(name, cleared ? "cleared" : "played"),
 * });
 * const outbound = new OutboundAudio({ // 16 kHz -> 160-byte frames
 *   codec: "mulaw",
 *   rate: 8000,
 *   onFrame: (frame) => pacer.enqueue(frame),
 *   onMark: (name) => pacer.mark(name),
 *   onCue: (sent) => pacer.cue(sent),
 * });
 * const inbound = new InboundAudio({ // peer -> 320-sample frames at 16 kHz
 *   codec: "mulaw",
 *   rate: 8000,
 *   // the pipeline hears `pcm`; its reply goes out the same way:
 *   onFrame: (pcm, _atMs) => outbound.push(pcm),
 * });
 *
 * inbound.push(new Uint8Array(200).fill(0xff));
 * outbound.mark("reply-1"); // fires once the frames queued before it are sent
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
export { InboundAudio, type InboundAudioOptions, MediaClock } from "./inbound.ts";
export { OutboundAudio, type OutboundAudioOptions } from "./outbound.ts";
export { type Clock, FakeClock, systemClock } from "./clock.ts";
export { sharedTicker, Ticker, type TickerOptions, type TickHandler } from "./ticker.ts";
export { Pacer, type PacerOptions } from "./pacer.ts";
export { encodeWav, readWav, type WavAudio, WavReadError } from "./wav.ts";
