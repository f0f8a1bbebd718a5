/**
 * WebRTC VAD (libfvad, `@echogarden/fvad-wasm`) behind the {@linkcode Vad} interface: a cheap fallback
 * for Silero (about 2 us per 20 ms frame, no model file). It answers speech or not, so the "probability"
 * is 0 or 1; its start is exact and its end 120-160 ms late (measured in /work/shared/engines.md).
 *
 * The wasm is loaded from bytes (the npm package's file as Deno resolved it, or bytes the caller passes),
 * once per process; each detector has its own libfvad instance.
 *
 * @module
 */
import FvadFactory from "@echogarden/fvad-wasm";
import type { Vad } from "./types.ts";

/** The parts of the emscripten module this file uses. */
interface FvadModule {
  HEAP16: Int16Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _fvad_new(): number;
  _fvad_free(inst: number): void;
  _fvad_reset(inst: number): void;
  _fvad_set_mode(inst: number, mode: number): number;
  _fvad_set_sample_rate(inst: number, rate: number): number;
  _fvad_process(inst: number, frame: number, length: number): number;
}

/** Options of {@linkcode createWebrtcVad}. */
export interface WebrtcVadOptions {
  /** Aggressiveness 0 (least) to 3 (most eager to call audio non-speech); default 2. */
  mode?: 0 | 1 | 2 | 3;
  /** Frame length in ms at 16 kHz: 10, 20 (default, the pipeline's frame) or 30. */
  frameMs?: 10 | 20 | 30;
  /** The fvad wasm bytes (default: read from the npm package). */
  wasmBinary?: Uint8Array;
}

let loading: Promise<FvadModule> | undefined;

async function loadFvad(wasmBinary?: Uint8Array): Promise<FvadModule> {
  loading ??= (async () => {
    let bytes = wasmBinary;
    if (bytes === undefined) {
      const url = import.meta.resolve("@echogarden/fvad-wasm/fvad.wasm");
      if (!url.startsWith("file:")) throw new Error(`Cannot read the fvad wasm: it resolves to ${url}`);
      bytes = await Deno.readFile(new URL(url));
    }
    const factory = FvadFactory as unknown as (m: { wasmBinary: Uint8Array }) => Promise<FvadModule>;
    return await factory({ wasmBinary: bytes });
  })();
  loading.catch(() => loading = undefined);
  return await loading;
}

class WebrtcVad implements Vad {
  readonly frameSamples: number;
  #m: FvadModule;
  #inst: number;
  #buf: number;
  #mode: number;

  constructor(m: FvadModule, mode: number, frameSamples: number) {
    this.#m = m;
    this.#mode = mode;
    this.frameSamples = frameSamples;
    this.#inst = m._fvad_new();
    if (this.#inst === 0) throw new Error("Cannot create a WebRTC VAD: out of memory");
    m._fvad_set_sample_rate(this.#inst, 16000);
    m._fvad_set_mode(this.#inst, mode);
    this.#buf = m._malloc(frameSamples * 2);
  }

  process(frame: Float32Array): Promise<number> {
    if (this.#inst === 0) return Promise.reject(new Error("Cannot use a disposed VAD"));
    if (frame.length !== this.frameSamples) {
      return Promise.reject(
        new RangeError(`Cannot run the VAD on ${frame.length} samples: need exactly ${this.frameSamples}`),
      );
    }
    const heap = this.#m.HEAP16;
    const at = this.#buf >> 1;
    for (let i = 0; i < frame.length; i++) {
      const v = Math.round(frame[i] * 32768);
      heap[at + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    const r = this.#m._fvad_process(this.#inst, this.#buf, frame.length);
    if (r < 0) return Promise.reject(new Error("Cannot run the WebRTC VAD: libfvad rejected the frame"));
    return Promise.resolve(r);
  }

  reset(): void {
    if (this.#inst === 0) return;
    this.#m._fvad_reset(this.#inst); // also resets the mode and the rate to libfvad's defaults
    this.#m._fvad_set_sample_rate(this.#inst, 16000);
    this.#m._fvad_set_mode(this.#inst, this.#mode);
  }

  dispose(): void {
    if (this.#inst === 0) return;
    this.#m._fvad_free(this.#inst);
    this.#m._free(this.#buf);
    this.#inst = 0;
  }
}

/**
 * A WebRTC voice activity detector for one 16 kHz stream.
 *
 * @param options aggressiveness, frame length, wasm bytes
 * @returns the detector (probability 0 or 1 per frame); dispose it after the call
 * @throws {RangeError} on an invalid mode or frame length
 */
export async function createWebrtcVad(options: WebrtcVadOptions = {}): Promise<Vad> {
  const { mode = 2, frameMs = 20 } = options;
  if (![0, 1, 2, 3].includes(mode)) throw new RangeError(`Cannot use WebRTC VAD mode ${mode}: need 0 to 3`);
  if (![10, 20, 30].includes(frameMs)) {
    throw new RangeError(`Cannot use WebRTC VAD frames of ${frameMs} ms: need 10, 20 or 30`);
  }
  const m = await loadFvad(options.wasmBinary);
  return new WebrtcVad(m, mode, frameMs * 16);
}
