/**
 * RNNoise (`@echogarden/rnnoise-wasm`, xiph) for the denoise benchmark only: a streaming suppressor for
 * one 16 kHz stream, run at 48 kHz through speex resamplers. It was pipeline/engines/vad_denoise.ts, an
 * optional stage before the VAD that nothing wired; denoise_bench.ts showed that on telephone audio with
 * a TV in the room it makes the VAD hear more of the TV and find fewer of the caller's turns, so the
 * product no longer carries it (issue 11, item 5).
 *
 * @module
 */
import RnnoiseFactory from "@echogarden/rnnoise-wasm";
import { createResampler, loadResampler, type Resampler } from "../../gateway/audio/mod.ts";

interface RnnoiseModule {
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _rnnoise_create(model: number): number;
  _rnnoise_destroy(st: number): void;
  _rnnoise_get_frame_size(): number;
  _rnnoise_process_frame(st: number, out: number, inp: number): number;
}

let loading: Promise<RnnoiseModule> | undefined;

async function loadRnnoise(wasmBinary?: Uint8Array): Promise<RnnoiseModule> {
  loading ??= (async () => {
    let bytes = wasmBinary;
    if (bytes === undefined) {
      const url = import.meta.resolve("@echogarden/rnnoise-wasm/rnnoise.wasm");
      if (!url.startsWith("file:")) throw new Error(`Cannot read the rnnoise wasm: it resolves to ${url}`);
      bytes = await Deno.readFile(new URL(url));
    }
    const factory = RnnoiseFactory as unknown as (m: { wasmBinary: Uint8Array }) => Promise<RnnoiseModule>;
    return await factory({ wasmBinary: bytes });
  })();
  loading.catch(() => loading = undefined);
  return await loading;
}

/** A streaming noise suppressor for one 16 kHz stream. */
export class Denoiser {
  #m: RnnoiseModule;
  #st: number;
  #in: number;
  #out: number;
  #frame: number;
  #up: Resampler;
  #down: Resampler;
  #pending = new Float32Array(0);
  /** RNNoise's own speech probability of the last 10 ms frame. */
  lastVoiceProbability = 0;

  /** @internal use {@linkcode createDenoiser} */
  constructor(m: RnnoiseModule) {
    this.#m = m;
    this.#frame = m._rnnoise_get_frame_size();
    this.#st = m._rnnoise_create(0);
    this.#in = m._malloc(this.#frame * 4);
    this.#out = m._malloc(this.#frame * 4);
    this.#up = createResampler(16000, 48000);
    this.#down = createResampler(48000, 16000);
  }

  /**
   * Denoise the next chunk (any length). Output lags input by up to one 10 ms frame plus the resamplers'
   * delay, so one call may return fewer or more samples than it got; the total is conserved.
   */
  process(pcm: Int16Array): Int16Array {
    if (this.#st === 0) throw new Error("Cannot use a disposed denoiser");
    const up = this.#up.process(pcm);
    const all = new Float32Array(this.#pending.length + up.length);
    all.set(this.#pending);
    for (let i = 0; i < up.length; i++) all[this.#pending.length + i] = up[i]; // RNNoise works in int16 scale
    const n = this.#frame;
    const frames = Math.floor(all.length / n);
    const out48 = new Int16Array(frames * n);
    for (let f = 0; f < frames; f++) {
      const heap = this.#m.HEAPF32;
      heap.set(all.subarray(f * n, (f + 1) * n), this.#in >> 2);
      this.lastVoiceProbability = this.#m._rnnoise_process_frame(this.#st, this.#out, this.#in);
      const res = this.#m.HEAPF32.subarray(this.#out >> 2, (this.#out >> 2) + n);
      for (let i = 0; i < n; i++) {
        const v = Math.round(res[i]);
        out48[f * n + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
    }
    this.#pending = all.slice(frames * n);
    return this.#down.process(out48);
  }

  /** Free the RNNoise state and the resamplers. Idempotent. */
  dispose(): void {
    if (this.#st === 0) return;
    this.#m._rnnoise_destroy(this.#st);
    this.#m._free(this.#in);
    this.#m._free(this.#out);
    this.#up.dispose();
    this.#down.dispose();
    this.#st = 0;
  }
}

/**
 * A noise suppressor for one 16 kHz stream.
 *
 * @param options `wasmBinary`: the rnnoise wasm bytes (default: read from the npm package)
 * @returns the denoiser; dispose it after the call
 */
export async function createDenoiser(options: { wasmBinary?: Uint8Array } = {}): Promise<Denoiser> {
  await loadResampler();
  return new Denoiser(await loadRnnoise(options.wasmBinary));
}
