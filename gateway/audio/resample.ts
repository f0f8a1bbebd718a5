/**
 * Streaming sample-rate conversion with the speex resampler (the one FreeSWITCH and Asterisk use), run as
 * WebAssembly inside Deno.
 *
 * The wasm is instantiated once per process by {@linkcode loadResampler}, from bytes embedded in
 * `_speex_wasm.ts` (generated from the npm package by tests/gateway/audio/update_speex_wasm.ts): the
 * package's emscripten glue is given `wasmBinary`, so it never looks for its .wasm on disk or on the
 * network, and a `deno compile` binary needs nothing beside itself. Every resampler of every call then
 * shares that one instance; each keeps its own filter state across chunks.
 *
 * @module
 */
import SpeexFactory from "@echogarden/speex-resampler-wasm/simd";
import { decodeBase64 } from "./_base64.ts";
import { SPEEX_WASM_BASE64 } from "./_speex_wasm.ts";

/**
 * Default speex quality (0-10): Asterisk's choice. A 3.5 kHz tone loses 0.2 dB going 22050 -> 8000 Hz,
 * a 5 kHz tone (which would alias to 3.05 kHz) comes out below one LSB, and 20 ms of 8k -> 16k or
 * 16k -> 8k costs about 5 us in the wasm (SIMD build; the non-SIMD build is 3x slower). FreeSWITCH's
 * quality 2 loses 5 dB at 3.5 kHz from 22050 Hz and 2.6 dB at 3.4 kHz from 16 kHz.
 */
export const DEFAULT_RESAMPLER_QUALITY = 5;

/** Input samples handed to speex per call, bounding the scratch buffers in wasm memory. */
const BLOCK = 4096;

/** The parts of the emscripten module this file uses. */
interface SpeexModule {
  HEAPU8: Uint8Array;
  HEAP16: Int16Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _speex_resampler_init(
    channels: number,
    inRate: number,
    outRate: number,
    quality: number,
    err: number,
  ): number;
  _speex_resampler_destroy(st: number): void;
  _speex_resampler_process_int(
    st: number,
    ch: number,
    inp: number,
    inLen: number,
    out: number,
    outLen: number,
  ): number;
  _speex_resampler_get_input_latency(st: number): number;
  _speex_resampler_get_output_latency(st: number): number;
  _speex_resampler_reset_mem(st: number): number;
  _speex_resampler_strerror(code: number): number;
}

type Factory = (module: { wasmBinary: Uint8Array }) => Promise<SpeexModule>;

/** Options of {@linkcode loadResampler}. */
export interface LoadResamplerOptions {
  /** The speex .wasm to use instead of the embedded copy (must be the same build as the package's glue). */
  wasmBinary?: Uint8Array;
}

/** A streaming resampler for one direction of one call. */
export interface Resampler {
  /** Input rate in Hz. */
  readonly fromRate: number;
  /** Output rate in Hz. */
  readonly toRate: number;
  /** Delay the filter adds, in output samples (0 when the rates are equal). */
  readonly latencySamples: number;
  /**
   * Resample the next chunk of the stream (any length); the filter state carries over to the next chunk.
   *
   * @param pcm the next input samples
   * @param out where to write (at least {@linkcode Resampler.maxOutput} samples) instead of a new array;
   *   the result is then a view of it
   * @returns the output samples this chunk completed (about `pcm.length * toRate / fromRate`)
   */
  process(pcm: Int16Array, out?: Int16Array): Int16Array;
  /** The most samples {@linkcode Resampler.process} can return for `inputSamples` input samples. */
  maxOutput(inputSamples: number): number;
  /** End of stream: the samples still inside the filter. The resampler then starts a fresh stream. */
  flush(): Int16Array;
  /** Free the filter's wasm memory. Idempotent; the resampler cannot be used afterwards. */
  dispose(): void;
}

let speex: SpeexModule | undefined;
let loading: Promise<void> | undefined;
/** Scratch memory shared by all resamplers (JS is single-threaded and `process` is synchronous). */
let scratch: { in: number; out: number; lens: number; outCap: number } | undefined;

/**
 * Instantiate the speex wasm, once per process; later calls return the same promise.
 *
 * @param options `wasmBinary` to use other bytes than the embedded ones (first call only).
 */
export function loadResampler(options: LoadResamplerOptions = {}): Promise<void> {
  loading ??= (async () => {
    const wasmBinary = options.wasmBinary ?? decodeBase64(SPEEX_WASM_BASE64);
    const module = await (SpeexFactory as unknown as Factory)({ wasmBinary });
    const outCap = Math.ceil(BLOCK * 12) + 64; // room for up to 12x upsampling per block
    scratch = {
      in: module._malloc(BLOCK * 2),
      out: module._malloc(outCap * 2),
      lens: module._malloc(12),
      outCap,
    };
    speex = module;
  })();
  loading.catch(() => loading = undefined);
  return loading;
}

/** Whether {@linkcode loadResampler} has finished. */
export function resamplerLoaded(): boolean {
  return speex !== undefined;
}

/** Bytes of wasm memory the resamplers' instance holds (it grows, never shrinks; for leak checks). */
export function resamplerMemoryBytes(): number {
  return speex?.HEAPU8.buffer.byteLength ?? 0;
}

function checkRate(name: string, rate: number): void {
  if (!Number.isInteger(rate) || rate < 1000 || rate > 384_000) {
    throw new RangeError(`Cannot resample with ${name} ${rate}: need an integer from 1000 to 384000 Hz`);
  }
}

/** Drop-in for equal rates: copies, no wasm needed. */
class IdentityResampler implements Resampler {
  readonly latencySamples = 0;
  #disposed = false;

  constructor(readonly fromRate: number, readonly toRate: number) {}

  process(pcm: Int16Array, out?: Int16Array): Int16Array {
    this.#live();
    if (out === undefined) return pcm.slice();
    if (out.length < pcm.length) {
      throw new RangeError(`Cannot write ${pcm.length} samples into ${out.length}`);
    }
    out.set(pcm);
    return out.length === pcm.length ? out : out.subarray(0, pcm.length);
  }

  maxOutput(inputSamples: number): number {
    return inputSamples;
  }

  flush(): Int16Array {
    this.#live();
    return new Int16Array(0);
  }

  dispose(): void {
    this.#disposed = true;
  }

  #live(): void {
    if (this.#disposed) throw new Error("Cannot use a disposed resampler");
  }
}

const finalizer = new FinalizationRegistry<number>((st) => speex?._speex_resampler_destroy(st));

/** Wasm-backed resampler; see {@linkcode createResampler}. */
class SpeexResampler implements Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  readonly latencySamples: number;
  #st: number;
  #inputLatency: number;
  #m: SpeexModule;

  constructor(m: SpeexModule, fromRate: number, toRate: number, quality: number) {
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.#m = m;
    const errPtr = m._malloc(4);
    this.#st = m._speex_resampler_init(1, fromRate, toRate, quality, errPtr);
    const err = m.HEAP32[errPtr >> 2];
    m._free(errPtr);
    if (this.#st === 0 || err !== 0) {
      throw new Error(`Cannot create a resampler ${fromRate} -> ${toRate} Hz: speex says ${cString(m, err)}`);
    }
    this.#inputLatency = m._speex_resampler_get_input_latency(this.#st);
    this.latencySamples = m._speex_resampler_get_output_latency(this.#st);
    finalizer.register(this, this.#st, this);
  }

  maxOutput(inputSamples: number): number {
    // Speex may emit one sample more than the exact ratio per call (fractional carry), once per block.
    return Math.ceil(inputSamples * this.toRate / this.fromRate) + 2 * Math.ceil(inputSamples / BLOCK) + 2;
  }

  process(pcm: Int16Array, out?: Int16Array): Int16Array {
    const m = this.#m;
    const st = this.#live();
    const s = scratch as NonNullable<typeof scratch>;
    const cap = this.maxOutput(pcm.length);
    if (out !== undefined && out.length < cap) {
      throw new RangeError(`Cannot resample ${pcm.length} samples into ${out.length}: need room for ${cap}`);
    }
    const dst = out ?? new Int16Array(cap);
    const maxOut = Math.min(s.outCap, Math.ceil(BLOCK * this.toRate / this.fromRate) + 16);
    const lens = s.lens >> 2;
    let written = 0;
    let offset = 0;
    while (offset < pcm.length) {
      const chunk = Math.min(BLOCK, pcm.length - offset);
      const heap16 = m.HEAP16;
      const heap32 = m.HEAPU32;
      heap16.set(chunk === pcm.length ? pcm : pcm.subarray(offset, offset + chunk), s.in >> 1);
      heap32[lens] = chunk;
      heap32[lens + 1] = maxOut;
      m._speex_resampler_process_int(st, 0, s.in, s.lens, s.out, s.lens + 4);
      const used = heap32[lens];
      const produced = heap32[lens + 1];
      if (used === 0 && produced === 0) throw new Error("Cannot resample: speex made no progress");
      dst.set(heap16.subarray(s.out >> 1, (s.out >> 1) + produced), written);
      written += produced;
      offset += used;
    }
    if (out !== undefined) return dst.subarray(0, written);
    return written === dst.length ? dst : dst.slice(0, written);
  }

  flush(): Int16Array {
    const tail = this.process(new Int16Array(this.#inputLatency));
    this.#m._speex_resampler_reset_mem(this.#live());
    return tail;
  }

  dispose(): void {
    if (this.#st === 0) return;
    finalizer.unregister(this);
    this.#m._speex_resampler_destroy(this.#st);
    this.#st = 0;
  }

  #live(): number {
    if (this.#st === 0) throw new Error("Cannot use a disposed resampler");
    return this.#st;
  }
}

function cString(m: SpeexModule, code: number): string {
  const ptr = m._speex_resampler_strerror(code);
  let end = ptr;
  while (m.HEAPU8[end] !== 0 && end - ptr < 200) end++;
  return new TextDecoder().decode(m.HEAPU8.subarray(ptr, end));
}

/**
 * A streaming resampler from `fromRate` to `toRate` (mono 16-bit PCM). Synchronous; needs
 * {@linkcode loadResampler} to have finished unless the rates are equal.
 *
 * @param fromRate input rate in Hz
 * @param toRate output rate in Hz
 * @param quality speex quality 0-10 (default {@linkcode DEFAULT_RESAMPLER_QUALITY})
 * @throws {RangeError} on a rate or quality out of range
 * @throws {Error} when the wasm is not loaded yet
 */
export function createResampler(
  fromRate: number,
  toRate: number,
  quality: number = DEFAULT_RESAMPLER_QUALITY,
): Resampler {
  checkRate("input rate", fromRate);
  checkRate("output rate", toRate);
  if (!Number.isInteger(quality) || quality < 0 || quality > 10) {
    throw new RangeError(`Cannot resample with quality ${quality}: need an integer from 0 to 10`);
  }
  if (fromRate === toRate) return new IdentityResampler(fromRate, toRate);
  if (speex === undefined) throw new Error("Cannot create a resampler before loadResampler() has finished");
  if (toRate / fromRate > 12) {
    throw new RangeError(`Cannot resample ${fromRate} -> ${toRate} Hz: more than 12x upsampling`);
  }
  return new SpeexResampler(speex, fromRate, toRate, quality);
}
