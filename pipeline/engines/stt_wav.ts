/**
 * The WAV file whisper-server's `/inference` and whisper-cli read (16 kHz mono PCM16), built in memory
 * by the gateway's WAV writer.
 *
 * @module
 */
import { encodeWav } from "../../gateway/audio/mod.ts";

/**
 * Encode PCM16 samples as a WAV file.
 *
 * @param pcm Mono samples.
 * @param sampleRate Samples per second (default 16000).
 * @returns The complete file: 44-byte header, then the samples little-endian.
 */
export function pcm16ToWav(pcm: Int16Array, sampleRate = 16_000): Uint8Array<ArrayBuffer> {
  return encodeWav(pcm, sampleRate);
}
