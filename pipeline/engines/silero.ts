/**
 * Silero VAD (v5, `silero_vad_16k_op15.onnx`) run in WebAssembly by onnxruntime-web, behind the
 * {@linkcode Vad} interface: 512-sample frames of 16 kHz audio, with the recurrent state and the 64-sample
 * context (Silero's own wrapper prepends the previous frame's last 64 samples) kept per stream.
 *
 * Session model: ONE inference session per process, shared by every call; each call's {@linkcode Vad}
 * holds its own state and context, and the runs are serialized on the session. The session holds no
 * state between runs (the state is an input and an output), so sharing is exact: tests check that two
 * interleaved streams give the same probabilities as each alone. A session costs 0.4-0.7 s to create and a
 * few MB; a run costs about 1 ms, so one session serves far more calls than a 2-core machine can hold.
 *
 * The onnxruntime wasm is loaded from bytes (`ort.env.wasm.wasmBinary`), never fetched: by default the
 * file of the npm package as Deno resolved it (`import.meta.resolve`; in the compiled binary that is the
 * embedded copy, the only onnxruntime wasm it carries), or bytes the caller passes. Threads: 1
 * (`ort.env.wasm.numThreads`), no proxy worker.
 *
 * @example
 * ```ts
 * import { loadSilero } from "./silero.ts";
 *
 * const model = await loadSilero({ model: "/path/silero_vad_16k_op15.onnx" });
 * const vad = model.createVad(); // one per call
 * const p = await vad.process(new Float32Array(512)); // speech probability of 32 ms
 * vad.dispose();
 * ```
 *
 * @module
 */
import * as ort from "onnxruntime-web/wasm";
import type { Vad } from "./types.ts";

/** Samples per frame at 16 kHz (32 ms), the size Silero v5 was trained on. */
export const SILERO_FRAME = 512;
/** Samples of the previous frame prepended to each input. */
const CONTEXT = 64;
/** Size of the recurrent state (2 x 1 x 128). */
const STATE = 256;

/** Options of {@linkcode loadSilero}. */
export interface SileroOptions {
  /** Path of the .onnx model (config `vad.model`), or its bytes. */
  model: string | Uint8Array;
  /** The onnxruntime-web wasm (`ort-wasm-simd-threaded.wasm` of 1.30.0); default: read from the npm package. */
  wasmBinary?: Uint8Array;
  /**
   * When the model file does not exist, use the copy `deno task compile` embeds ({@linkcode
   * EMBEDDED_SILERO_MODEL}): what `tom serve` asks for, so a binary installed without an engines
   * directory still has Silero. Default false (a missing file is an error).
   */
  embeddedFallback?: boolean;
}

let runtime: Promise<void> | undefined;

/** The bytes of onnxruntime-web's wasm as installed in Deno's npm cache. */
export async function ortWasmBytes(): Promise<Uint8Array> {
  const url = import.meta.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm");
  if (!url.startsWith("file:")) {
    throw new Error(`Cannot read the onnxruntime wasm: it resolves to ${url}, not a file (pass wasmBinary)`);
  }
  return await Deno.readFile(new URL(url));
}

function initRuntime(wasmBinary?: Uint8Array): Promise<void> {
  runtime ??= (async () => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = "error";
    ort.env.wasm.wasmBinary = wasmBinary ?? await ortWasmBytes();
  })();
  runtime.catch(() => runtime = undefined);
  return runtime;
}

/** A loaded Silero model: one shared session; make one {@linkcode Vad} per audio stream. */
export class SileroModel {
  /** Milliseconds the session took to create. */
  readonly loadMs: number;
  #session: ort.InferenceSession;
  #queue: Promise<unknown> = Promise.resolve();
  #sr = new ort.Tensor("int64", BigInt64Array.from([16000n]), []);
  #disposed = false;

  private constructor(session: ort.InferenceSession, loadMs: number) {
    this.#session = session;
    this.loadMs = loadMs;
  }

  /** Load the model (the wasm runtime once per process). */
  static async load(options: SileroOptions): Promise<SileroModel> {
    await initRuntime(options.wasmBinary);
    const bytes = typeof options.model === "string"
      ? await readModel(options.model, options.embeddedFallback === true)
      : options.model;
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
    for (const name of ["input", "state", "sr"]) {
      if (!session.inputNames.includes(name)) {
        await session.release();
        throw new Error(`Cannot use the VAD model: it has no input "${name}" (need Silero VAD v5)`);
      }
    }
    return new SileroModel(session, performance.now() - t0);
  }

  /** A voice activity detector for one stream (one call), with its own state. */
  createVad(): Vad {
    return new SileroVad(this);
  }

  /** Release the session; detectors made from it fail afterwards. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#queue.catch(() => {});
    await this.#session.release();
  }

  /** One serialized run: (context + frame, state) -> (probability, new state). */
  run(input: Float32Array, state: Float32Array): Promise<{ p: number; state: Float32Array }> {
    const job = this.#queue.then(async () => {
      if (this.#disposed) throw new Error("Cannot run a disposed VAD model");
      const out = await this.#session.run({
        input: new ort.Tensor("float32", input, [1, input.length]),
        state: new ort.Tensor("float32", state, [2, 1, 128]),
        sr: this.#sr,
      });
      const p = (out.output.data as Float32Array)[0];
      const next = (out.stateN.data as Float32Array).slice();
      for (const t of Object.values(out)) t.dispose();
      return { p, state: next };
    });
    this.#queue = job.catch(() => {});
    return job;
  }
}

/** File name of the Silero model TOM uses. */
export const SILERO_MODEL_FILE = "silero_vad_16k_op15.onnx";

/** The copy `deno task compile` embeds in the binary (app/compile.ts stages it at this path). */
export const EMBEDDED_SILERO_MODEL: URL = new URL(
  `../../.cache/embedded/${SILERO_MODEL_FILE}`,
  import.meta.url,
);

/**
 * The model's bytes: the configured file, else (when that file does not exist and `embedded` is set) the
 * copy embedded in the compiled binary.
 */
async function readModel(path: string, embedded: boolean): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (embedded && e instanceof Deno.errors.NotFound) {
      try {
        return await Deno.readFile(EMBEDDED_SILERO_MODEL);
      } catch { /* not a compiled binary, or compiled without it: report the configured path */ }
    }
    throw new Error(`Cannot read the VAD model ${path}: ${(e as Error).message} (run: deno task engines)`);
  }
}

/** Per-stream state over a shared {@linkcode SileroModel}. */
class SileroVad implements Vad {
  readonly frameSamples = SILERO_FRAME;
  #model: SileroModel;
  #state: Float32Array = new Float32Array(STATE);
  #input = new Float32Array(CONTEXT + SILERO_FRAME);
  #disposed = false;
  #generation = 0;
  /** The previous run of this stream: runs chain so that each sees the state of the one before. */
  #last: Promise<unknown> = Promise.resolve();

  constructor(model: SileroModel) {
    this.#model = model;
  }

  async process(frame: Float32Array): Promise<number> {
    if (this.#disposed) throw new Error("Cannot use a disposed VAD");
    if (frame.length !== SILERO_FRAME) {
      throw new RangeError(`Cannot run the VAD on ${frame.length} samples: need exactly ${SILERO_FRAME}`);
    }
    const input = this.#input.slice();
    input.set(frame, CONTEXT);
    this.#input.set(frame.subarray(SILERO_FRAME - CONTEXT), 0);
    const generation = this.#generation;
    const run = this.#last.then(async () => {
      const { p, state } = await this.#model.run(input, this.#state);
      if (generation === this.#generation) this.#state = state; // a reset() during the run wins
      return p;
    });
    this.#last = run.catch(() => {});
    return await run;
  }

  reset(): void {
    this.#generation++;
    this.#state = new Float32Array(STATE);
    this.#input = new Float32Array(CONTEXT + SILERO_FRAME);
  }

  dispose(): void {
    this.#disposed = true;
  }
}

/**
 * Load Silero VAD.
 *
 * @param options the model path (config `vad.model`) or bytes, and optionally the ort wasm bytes
 * @returns the shared model; call `createVad()` per stream
 * @throws {Error} when the model cannot be read or is not Silero v5
 */
export function loadSilero(options: SileroOptions): Promise<SileroModel> {
  return SileroModel.load(options);
}
