/**
 * Test support for the TTS and VAD adapters: whether espeak-ng is installed (skip with the reason when
 * not; in CI a missing espeak-ng fails), and collecting an engine's frames.
 *
 * @module
 */
import type { TtsEngine, TtsFrame } from "../../../pipeline/engines/types.ts";

function espeakVersion(): string | undefined {
  try {
    const out = new Deno.Command("espeak-ng", { args: ["--version"], stdout: "piped", stderr: "null" })
      .outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Why espeak-ng cannot be used, or undefined when it can. */
export const espeakMissing: string | undefined = espeakVersion() === undefined
  ? "espeak-ng is not installed (apt-get install espeak-ng)"
  : undefined;
/** `ignore` option for tests that need espeak-ng: false in CI, where its absence must fail. */
export const skipWithoutEspeak: boolean = espeakMissing !== undefined && Deno.env.get("CI") !== "true";
if (espeakMissing && skipWithoutEspeak) console.error(`skipping espeak-ng tests: ${espeakMissing}`);

/** All frames of one synthesis, the audio joined. */
export interface Collected {
  frames: TtsFrame[];
  pcm: Int16Array;
  chunks: number;
}

/** Run one synthesis to its end. */
export async function collect(tts: TtsEngine, text: string, signal?: AbortSignal): Promise<Collected> {
  const frames: TtsFrame[] = [];
  const parts: Int16Array[] = [];
  for await (const f of tts.synthesize(text, { signal: signal ?? AbortSignal.timeout(20_000) })) {
    frames.push(f);
    if (f.type === "audio") parts.push(f.pcm);
  }
  const pcm = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    pcm.set(p, at);
    at += p.length;
  }
  return { frames, pcm, chunks: parts.length };
}
