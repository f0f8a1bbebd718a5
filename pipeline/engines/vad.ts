/**
 * The voice activity detector for calls: Silero (one shared wasm session, one {@linkcode Vad} per call)
 * with WebRTC VAD as the fallback when the Silero model cannot be loaded.
 *
 * @example
 * ```ts
 * import { openVad } from "./vad.ts";
 *
 * const provider = await openVad({ model: "/path/silero_vad_16k_op15.onnx" }, { fallback: true });
 * const vad = await provider.createVad(); // per call
 * console.log(provider.name, vad.frameSamples); // "silero" 512
 * ```
 *
 * @module
 */
import { loadSilero } from "./silero.ts";
import type { Vad } from "./types.ts";
import { createWebrtcVad } from "./vad_webrtc.ts";

export { loadSilero, ortWasmBytes, SILERO_FRAME, SileroModel, type SileroOptions } from "./silero.ts";
export { createWebrtcVad, type WebrtcVadOptions } from "./vad_webrtc.ts";
export { type SpeechSegment, type SpeechSegmentOptions, speechSegments } from "./vad_segments.ts";

/** Makes one detector per call. */
export interface VadProvider {
  /** `silero` or `webrtc`. */
  readonly name: "silero" | "webrtc";
  /** Why the fallback is in use (undefined for Silero). */
  readonly degraded?: string;
  createVad(): Promise<Vad>;
  dispose(): Promise<void>;
}

/**
 * Load the VAD the configuration names.
 *
 * @param config `config.vad` (the Silero model path)
 * @param options `fallback`: use WebRTC VAD when Silero cannot be loaded instead of throwing;
 *   `embeddedModel`: a missing model file falls back to the copy embedded in the compiled binary
 * @returns the provider
 * @throws {Error} when Silero cannot be loaded and `fallback` is not set
 */
export async function openVad(
  config: { model: string },
  options: { fallback?: boolean; embeddedModel?: boolean } = {},
): Promise<VadProvider> {
  try {
    const model = await loadSilero({ model: config.model, embeddedFallback: options.embeddedModel });
    return {
      name: "silero",
      createVad: () => Promise.resolve(model.createVad()),
      dispose: () => model.dispose(),
    };
  } catch (e) {
    if (!options.fallback) throw e;
    return {
      name: "webrtc",
      degraded: (e as Error).message,
      createVad: () => createWebrtcVad({ mode: 2, frameMs: 20 }),
      dispose: () => Promise.resolve(),
    };
  }
}
