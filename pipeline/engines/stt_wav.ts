/**
 * A WAV file (RIFF, PCM 16-bit little-endian, mono) built in memory from samples: what whisper-server's
 * `/inference` and whisper-cli read. whisper.cpp wants 16 kHz mono.
 *
 * @module
 */

/**
 * Encode PCM16 samples as a WAV file.
 *
 * @param pcm Mono samples.
 * @param sampleRate Samples per second (default 16000).
 * @returns The complete file: 44-byte header, then the samples little-endian.
 */
export function pcm16ToWav(pcm: Int16Array, sampleRate = 16_000): Uint8Array<ArrayBuffer> {
  const dataBytes = pcm.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  v.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, "data");
  v.setUint32(40, dataBytes, true);
  for (let i = 0; i < pcm.length; i++) v.setInt16(44 + i * 2, pcm[i], true);
  return out;
}
