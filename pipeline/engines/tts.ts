/**
 * The configured text-to-speech engine: espeak-ng (one short process per sentence) or Piper (one
 * long-running process fed a sentence per line). Both implement {@linkcode TtsEngine}.
 *
 * @module
 */
import { createEspeakTts } from "./espeak.ts";
import { openPiperTts } from "./piper.ts";
import type { TtsEngine } from "./types.ts";

export { createEspeakTts, ESPEAK_SAMPLE_RATE, type EspeakOptions } from "./espeak.ts";
export { createPiperTts, openPiperTts, type PiperOptions, PiperTts } from "./piper.ts";
export { APOLOGY_TEXT, presynthesize, presynthesizeAll, type PresynthesizeOptions } from "./tts_cache.ts";

/** The `tts` section of the configuration. */
export interface TtsConfig {
  kind: "espeak-ng" | "piper" | "none";
  bin: string;
  voice: string;
  model: string;
}

/**
 * The engine the configuration names, or `undefined` for `none`.
 *
 * @param config `config.tts`
 * @returns the engine (Piper's process starts on its first sentence)
 * @throws {Error} for Piper without a model
 */
export async function createTts(config: TtsConfig): Promise<TtsEngine | undefined> {
  switch (config.kind) {
    case "none":
      return undefined;
    case "espeak-ng":
      return createEspeakTts({ bin: config.bin || "espeak-ng", voice: config.voice || "de" });
    case "piper": {
      if (!config.model) throw new Error("Cannot use Piper: tts.model is empty (the voice .onnx)");
      const bin = !config.bin || config.bin === "espeak-ng" ? "piper" : config.bin;
      return await openPiperTts({ bin, model: config.model });
    }
  }
}
