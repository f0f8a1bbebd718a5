/**
 * Canonical 44-byte-header WAV files, 16-bit PCM: the playback files TOM hands to FreeSWITCH
 * (mod_sndfile resamples them itself), the utterances whisper-server and whisper-cli read (mono, via
 * {@linkcode encodeWav}), and call recordings written while the call runs (stereo, via
 * {@linkcode WavFileWriter}).
 *
 * A file that is still being written (or whose writer died) carries 0xFFFFFFFF as its RIFF and data
 * sizes: "up to the end of the file", the convention ffmpeg and @echogarden/wave-codec read. The writer
 * patches the real sizes when it closes.
 *
 * @module
 */
import { bufferToFloat32Channels, decodeWaveToBuffer } from "@echogarden/wave-codec";

/** Bytes of the canonical header before the samples. */
export const WAV_HEADER_BYTES = 44;
/** The RIFF/data size of a file still being written: "to the end of the file". */
export const WAV_SIZE_UNKNOWN = 0xffff_ffff;

/** The canonical 44-byte header of 16-bit PCM; `dataBytes` undefined writes {@linkcode WAV_SIZE_UNKNOWN}. */
export function wavHeader(rate: number, channels: number, dataBytes?: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(rate) || rate < 1 || !Number.isInteger(channels) || channels < 1 || channels > 8) {
    throw new RangeError(`Cannot write a WAV header for ${channels} channel(s) at ${rate} Hz`);
  }
  if (
    dataBytes !== undefined && !(Number.isInteger(dataBytes) && dataBytes >= 0 && dataBytes <= 0xffff_ffd3)
  ) {
    throw new RangeError(`Cannot write a WAV header for ${dataBytes} data bytes: need 0 to 4 GiB - 45`);
  }
  const out = new Uint8Array(WAV_HEADER_BYTES);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  v.setUint32(4, dataBytes === undefined ? WAV_SIZE_UNKNOWN : 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2 * channels, true); // byte rate
  v.setUint16(32, 2 * channels, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  v.setUint32(40, dataBytes === undefined ? WAV_SIZE_UNKNOWN : dataBytes, true);
  return out;
}

/** A WAV file of 16-bit mono PCM at `rate`. */
export function encodeWav(pcm: Int16Array, rate: number): Uint8Array<ArrayBuffer> {
  const dataBytes = pcm.length * 2;
  const out = new Uint8Array(WAV_HEADER_BYTES + dataBytes);
  out.set(wavHeader(rate, 1, dataBytes));
  const v = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) v.setInt16(WAV_HEADER_BYTES + i * 2, pcm[i], true);
  return out;
}

/**
 * A 16-bit PCM WAV file written as the samples come (nothing held in memory but what `write` is
 * given): the header first with {@linkcode WAV_SIZE_UNKNOWN} sizes, samples appended, the real sizes
 * patched by {@linkcode WavFileWriter.close}. Synchronous, like the store's SQLite writes beside it: one
 * `write` is one `write(2)` of a few kilobytes.
 *
 * @example
 * ```ts
 * const w = WavFileWriter.create("/tmp/x.wav", { rate: 16_000, channels: 2 });
 * w.write(new Int16Array([1, -1, 2, -2])); // interleaved left, right
 * w.close();
 * ```
 */
export class WavFileWriter {
  readonly rate: number;
  readonly channels: number;
  readonly #file: Deno.FsFile;
  #dataBytes = 0;
  #closed = false;

  private constructor(file: Deno.FsFile, rate: number, channels: number) {
    this.#file = file;
    this.rate = rate;
    this.channels = channels;
  }

  /**
   * Create `path` (never an existing file: `createNew`) with `mode` (default 0o600) and write its header.
   *
   * @throws {Deno.errors.AlreadyExists} when the file exists; other file system errors as they come.
   */
  static create(path: string, opts: { rate: number; channels: number; mode?: number }): WavFileWriter {
    const header = wavHeader(opts.rate, opts.channels);
    const file = Deno.openSync(path, { write: true, createNew: true, mode: opts.mode ?? 0o600 });
    try {
      writeAll(file, header);
    } catch (e) {
      file.close();
      throw e;
    }
    return new WavFileWriter(file, opts.rate, opts.channels);
  }

  /** Bytes of samples written so far. */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  /**
   * Append interleaved samples.
   *
   * @throws {RangeError} when the file would pass the 4 GiB a WAV size field can hold, or after close.
   */
  write(interleaved: Int16Array): void {
    if (this.#closed) throw new RangeError("Cannot write to a closed WAV file");
    const bytes = interleaved.length * 2;
    if (this.#dataBytes + bytes > 0xffff_ffd3) {
      throw new RangeError("Cannot write past 4 GiB: a WAV file cannot hold more");
    }
    writeAll(this.#file, int16LeBytes(interleaved));
    this.#dataBytes += bytes;
  }

  /** Patch the RIFF and data sizes and close the file. Idempotent; closes even when patching fails. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      const h = new Uint8Array(4);
      const v = new DataView(h.buffer);
      v.setUint32(0, 36 + this.#dataBytes, true);
      this.#file.seekSync(4, Deno.SeekMode.Start);
      writeAll(this.#file, h);
      v.setUint32(0, this.#dataBytes, true);
      this.#file.seekSync(40, Deno.SeekMode.Start);
      writeAll(this.#file, h);
    } finally {
      this.#file.close();
    }
  }
}

/** What {@linkcode repairWavFile} did. */
export interface WavRepair {
  /** Whether the header's sizes (or a torn last frame) had to be fixed. */
  repaired: boolean;
  /** Bytes of samples the file holds now. */
  dataBytes: number;
}

/**
 * Write the real sizes into the header of a file {@linkcode WavFileWriter} left open (its process was
 * killed: sizes {@linkcode WAV_SIZE_UNKNOWN}): the data is what the file holds after the 44-byte header,
 * cut to whole frames (a torn last frame is dropped) and to the 4 GiB a WAV can hold. The file's
 * modification time stays as it was (it says when the call was last heard, and the retention sweep
 * reads it). A file whose sizes are right is left alone.
 *
 * @throws {WavReadError} when the file does not start with the canonical header TOM writes
 * @throws {Deno.errors.NotFound} and other file system errors as they come
 */
export function repairWavFile(path: string): WavRepair {
  const file = Deno.openSync(path, { read: true, write: true });
  try {
    const info = file.statSync();
    const header = new Uint8Array(WAV_HEADER_BYTES);
    let got = 0;
    while (got < header.length) {
      const n = file.readSync(header.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    const tag = (at: number) => String.fromCharCode(...header.subarray(at, at + 4));
    const v = new DataView(header.buffer);
    const ok = got === WAV_HEADER_BYTES && tag(0) === "RIFF" && tag(8) === "WAVE" && tag(12) === "fmt " &&
      v.getUint32(16, true) === 16 && tag(36) === "data" && v.getUint16(32, true) > 0;
    if (!ok) throw new WavReadError(`Cannot repair ${path}: not a WAV file with TOM's 44-byte header`);
    const blockAlign = v.getUint16(32, true);
    let dataBytes = Math.min(info.size - WAV_HEADER_BYTES, 0xffff_ffd3);
    dataBytes -= dataBytes % blockAlign;
    const right = v.getUint32(4, true) === 36 + dataBytes && v.getUint32(40, true) === dataBytes;
    if (right && info.size === WAV_HEADER_BYTES + dataBytes) return { repaired: false, dataBytes };
    if (info.size > WAV_HEADER_BYTES + dataBytes) file.truncateSync(WAV_HEADER_BYTES + dataBytes);
    const sizes = new Uint8Array(4);
    const sv = new DataView(sizes.buffer);
    sv.setUint32(0, 36 + dataBytes, true);
    file.seekSync(4, Deno.SeekMode.Start);
    writeAll(file, sizes);
    sv.setUint32(0, dataBytes, true);
    file.seekSync(40, Deno.SeekMode.Start);
    writeAll(file, sizes);
    file.syncSync();
    if (info.mtime) file.utimeSync(info.atime ?? info.mtime, info.mtime);
    return { repaired: true, dataBytes };
  } finally {
    file.close();
  }
}

/** Whether this machine stores Int16 little-endian (WAV's byte order): then samples are written as is. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function int16LeBytes(pcm: Int16Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const out = new Uint8Array(pcm.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) v.setInt16(i * 2, pcm[i], true);
  return out;
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += file.writeSync(bytes.subarray(at));
}

/** Decoded audio: one array per channel, in PCM16 units. */
export interface WavAudio {
  sampleRate: number;
  channels: Float32Array[];
}

/** The bytes are not a WAV file TOM can read. */
export class WavReadError extends Error {
  override name = "WavReadError";
}

/**
 * Decode a WAV file's bytes into channels in PCM16 units, tolerating a file whose writer died (sizes 0
 * or 0xFFFFFFFF, truncated data).
 *
 * @throws {WavReadError} when the bytes are not a readable WAV file
 */
export function readWav(bytes: Uint8Array): WavAudio {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") {
    throw new WavReadError("no RIFF/WAVE header");
  }
  let at = 12;
  let blockAlign = 0;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > bytes.length) throw new WavReadError("the fmt chunk is cut short");
      blockAlign = v.getUint16(body + 12, true);
      if (blockAlign === 0) throw new WavReadError("the fmt chunk says 0 bytes per frame");
    } else if (id === "data") {
      if (blockAlign === 0) throw new WavReadError("no fmt chunk before the data");
      const toEnd = size === 0 || size === 0xffff_ffff || body + size > bytes.length;
      const raw = toEnd ? bytes.length - body : size;
      const length = raw - (raw % blockAlign);
      // A canonical copy up to the data, with the sizes it really has, for a strict decode.
      const copy = new Uint8Array(body + length);
      copy.set(bytes.subarray(0, body + length));
      const cv = new DataView(copy.buffer);
      cv.setUint32(4, copy.length - 8, true);
      cv.setUint32(at + 4, length, true);
      return decodeCanonical(copy);
    }
    if (size > bytes.length - body) break;
    at = body + size + (size & 1);
  }
  throw new WavReadError(blockAlign === 0 ? "no fmt chunk" : "no data chunk");
}

function decodeCanonical(bytes: Uint8Array): WavAudio {
  let decoded: ReturnType<typeof decodeWaveToBuffer>;
  let floats: Float32Array[];
  try {
    decoded = decodeWaveToBuffer(bytes, false, false);
    floats = bufferToFloat32Channels(
      decoded.decodedAudioBuffer,
      decoded.channelCount,
      decoded.bitDepth,
      decoded.sampleFormat,
    );
  } catch (e) {
    throw new WavReadError(e instanceof Error ? e.message : String(e));
  }
  if (!(decoded.sampleRate > 0) || floats.length < 1) {
    throw new WavReadError(`unusable format: ${decoded.channelCount} channel(s) at ${decoded.sampleRate} Hz`);
  }
  for (const ch of floats) for (let i = 0; i < ch.length; i++) ch[i] *= 32768;
  return { sampleRate: decoded.sampleRate, channels: floats };
}
