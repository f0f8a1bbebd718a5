/**
 * Pre-synthesized phrases: a sentence rendered once to 16 kHz PCM (the pipeline's internal rate), so
 * that fixed phrases like the apology play instantly even when the TTS engine is slow or failing.
 *
 * @module
 */
import { createResampler, loadResampler } from "../../gateway/audio/mod.ts";
import type { TtsEngine } from "./types.ts";

/** Options of {@linkcode presynthesize}. */
export interface PresynthesizeOptions {
  /** Output rate in Hz (default 16000). */
  rate?: number;
  /** Cancels the synthesis (default: a 10 s timeout). */
  signal?: AbortSignal;
}

/**
 * Synthesize `text` completely and resample it to `rate`.
 *
 * @param tts the engine
 * @param text the phrase
 * @returns mono 16-bit PCM at `rate` (16 kHz by default)
 * @throws {Error} when the engine answers with an error frame or is aborted
 */
export async function presynthesize(
  tts: TtsEngine,
  text: string,
  options: PresynthesizeOptions = {},
): Promise<Int16Array> {
  const { rate = 16000, signal = AbortSignal.timeout(10_000) } = options;
  if (tts.sampleRate !== rate) await loadResampler();
  const rs = createResampler(tts.sampleRate, rate);
  const parts: Int16Array[] = [];
  let done = false;
  try {
    for await (const frame of tts.synthesize(text, { signal })) {
      if (frame.type === "audio") parts.push(rs.process(frame.pcm));
      else if (frame.type === "error") {
        throw new Error(`Cannot presynthesize "${text}": ${frame.error.kind}: ${frame.error.message}`);
      } else done = true;
    }
    if (!done) throw new Error(`Cannot presynthesize "${text}": aborted`);
    parts.push(rs.flush());
  } finally {
    rs.dispose();
  }
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The apology played when an engine fails mid-call. */
export const APOLOGY_TEXT = "Entschuldigung, einen Moment bitte.";

/**
 * Pre-synthesize several phrases (one at a time: engines serialize anyway).
 *
 * @param tts the engine
 * @param texts the phrases
 * @returns a map from each text to its 16 kHz PCM
 */
export async function presynthesizeAll(
  tts: TtsEngine,
  texts: readonly string[],
  options: PresynthesizeOptions = {},
): Promise<Map<string, Int16Array>> {
  const out = new Map<string, Int16Array>();
  for (const t of texts) out.set(t, await presynthesize(tts, t, options));
  return out;
}
