/**
 * Byte-stream helpers shared by the TTS adapters: s16le bytes arriving in arbitrary chunks (a pipe may
 * split a sample in two) become whole `Int16Array` chunks, and a streamed WAV header is parsed.
 *
 * @module
 */
import { bytesToInt16 } from "../../gateway/audio/mod.ts";
import type { EngineError } from "./types.ts";

/** Turns s16le bytes in arbitrary chunks into whole samples, carrying an odd byte to the next chunk. */
export class S16Assembler {
  #carry: number | undefined;

  /** The whole samples completed by `bytes` (a fresh copy, safe to keep). */
  push(bytes: Uint8Array): Int16Array {
    if (bytes.length === 0) return new Int16Array(0);
    let src = bytes;
    if (this.#carry !== undefined) {
      src = new Uint8Array(bytes.length + 1);
      src[0] = this.#carry;
      src.set(bytes, 1);
      this.#carry = undefined;
    }
    if (src.length % 2 === 1) {
      this.#carry = src[src.length - 1];
      src = src.subarray(0, src.length - 1);
    }
    return bytesToInt16(src).slice();
  }

  /** Whether half a sample is still waiting. */
  get pending(): boolean {
    return this.#carry !== undefined;
  }
}

/** Format of a WAV stream, from its header. */
export interface WavFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Bytes of header before the first sample. */
  headerBytes: number;
}

/**
 * Parse a RIFF/WAVE header from the start of a stream (the data length may be a placeholder, as when
 * espeak-ng writes to a pipe).
 *
 * @returns the format, `undefined` when more bytes are needed
 * @throws {Error} when the bytes are not a PCM WAV header
 */
export function parseWavHeader(bytes: Uint8Array): WavFormat | undefined {
  if (bytes.length < 12) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error(`Cannot read WAV: header starts "${tag(0)}"`);
  let at = 12;
  let fmt: Omit<WavFormat, "headerBytes"> | undefined;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    if (id === "data") {
      if (fmt === undefined) throw new Error("Cannot read WAV: data before fmt chunk");
      return { ...fmt, headerBytes: at + 8 };
    }
    if (at + 8 + size > bytes.length) return undefined;
    if (id === "fmt ") {
      const format = view.getUint16(at + 8, true);
      if (format !== 1) throw new Error(`Cannot read WAV: format ${format} is not PCM`);
      fmt = {
        channels: view.getUint16(at + 10, true),
        sampleRate: view.getUint32(at + 12, true),
        bitsPerSample: view.getUint16(at + 22, true),
      };
    }
    at += 8 + size + (size % 2);
  }
  return undefined;
}

/** An {@linkcode EngineError} of the TTS engine. */
export function ttsError(kind: EngineError["kind"], message: string, retryable: boolean): EngineError {
  return { engine: "tts", kind, message, retryable };
}
