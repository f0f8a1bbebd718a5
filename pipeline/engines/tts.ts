/**
 * The configured text-to-speech engine: espeak-ng (one short process per sentence) or Piper (one
 * long-running process fed a sentence per line, with espeak-ng as its fallback). All implement
 * {@linkcode TtsEngine}.
 *
 * @module
 */
import { createEspeakTts } from "./espeak.ts";
import { openPiperTts } from "./piper.ts";
import { FallbackTts } from "./tts_fallback.ts";
import type { TtsEngine } from "./types.ts";

export { createEspeakTts, ESPEAK_SAMPLE_RATE, type EspeakOptions } from "./espeak.ts";
export { createPiperTts, openPiperTts, type PiperOptions, PiperTts } from "./piper.ts";
export { type DegradableTts, FallbackTts } from "./tts_fallback.ts";
export { APOLOGY_TEXT, presynthesize, presynthesizeAll, type PresynthesizeOptions } from "./tts_cache.ts";

/** The `tts` section of the configuration. */
export interface TtsConfig {
  kind: "espeak-ng" | "piper" | "none";
  bin: string;
  voice: string;
  model: string;
}

/** What {@linkcode createTts} tells about a fallback. */
export interface CreateTtsOptions {
  /** Called once when Piper cannot be used and espeak-ng speaks instead (the reason, German). */
  onDegraded?: (reason: string) => void;
}

async function missingFile(path: string): Promise<boolean> {
  try {
    return !(await Deno.stat(path)).isFile;
  } catch {
    return true;
  }
}

/**
 * The engine the configuration names, or `undefined` for `none`. Piper comes with espeak-ng behind it
 * (tts_fallback.ts): a missing voice or binary, or a Piper that fails before it ever spoke, switches to
 * espeak-ng once, reported by `onDegraded` and the engine's `degraded`.
 *
 * @param config `config.tts`
 * @returns the engine (Piper's process starts on its first sentence)
 */
export async function createTts(
  config: TtsConfig,
  opts: CreateTtsOptions = {},
): Promise<TtsEngine | undefined> {
  switch (config.kind) {
    case "none":
      return undefined;
    case "espeak-ng":
      return createEspeakTts({ bin: config.bin || "espeak-ng", voice: config.voice || "de" });
    case "piper": {
      const espeak = () => createEspeakTts({ bin: "espeak-ng", voice: "de" });
      const bin = !config.bin || config.bin === "espeak-ng" ? "piper" : config.bin;
      const why = !config.model
        ? "tts.model ist leer"
        : await missingFile(config.model)
        ? `Stimme ${config.model} fehlt`
        : bin.includes("/") && await missingFile(bin)
        ? `Programm ${bin} fehlt`
        : undefined;
      if (why) return new FallbackTts(undefined, espeak, { why, onDegraded: opts.onDegraded });
      return new FallbackTts(await openPiperTts({ bin, model: config.model }), espeak, opts);
    }
  }
}
