/**
 * Test audio for the VAD adapters: real German speech from espeak-ng at 16 kHz, padded with silence, and
 * where the voice really is (from the signal itself).
 *
 * @module
 */
import assert from "node:assert/strict";
import { rmsDbfs } from "../../_rigs/levels.ts";
import { speechSegments } from "../../../pipeline/engines/vad_segments.ts";
import { createEspeakTts } from "../../../pipeline/engines/espeak.ts";
import { presynthesize } from "../../../pipeline/engines/tts_cache.ts";

const RATE = 16000;

/** German speech at 16 kHz with `padMs` of digital silence on both sides, and where the voice really is. */
export async function paddedSpeech(
  padMs: number,
): Promise<{ pcm: Int16Array; truth: { startMs: number; endMs: number } }> {
  const speech = await presynthesize(
    createEspeakTts(),
    "Guten Tag, ich möchte gerne einen Termin bei Doktor Weber vereinbaren.",
  );
  const pad = padMs * RATE / 1000;
  const pcm = new Int16Array(pad + speech.length + pad);
  pcm.set(speech, pad);
  // Truth from the signal itself: first and last 10 ms window above -45 dBFS.
  const win = RATE / 100;
  let first = -1;
  let last = -1;
  for (let at = 0; at + win <= pcm.length; at += win) {
    if (rmsDbfs(pcm.subarray(at, at + win)) > -45) {
      if (first < 0) first = at;
      last = at + win;
    }
  }
  return { pcm, truth: { startMs: first * 1000 / RATE, endMs: last * 1000 / RATE } };
}

/** Options of {@linkcode checkSegments}. */
export interface CheckOptions {
  frameMs: number;
  label: string;
  /** Allowed distance of the found start from the truth (default 150 ms). */
  startToleranceMs?: number;
  /** Allowed distance of the found end from the truth (default 150 ms). */
  endToleranceMs?: number;
}

/**
 * Assert that the speech found in `probs` starts and ends near the truth and that nothing is found in the
 * silence before and after it; logs what was found.
 */
export function checkSegments(
  probs: number[],
  truth: { startMs: number; endMs: number },
  o: CheckOptions,
): void {
  const { frameMs, label, startToleranceMs = 150, endToleranceMs = 150 } = o;
  const segs = speechSegments(probs, { frameMs, threshold: 0.5, minSilenceMs: 300 });
  assert.ok(segs.length >= 1, `${label}: no speech found`);
  const start = segs[0].startMs;
  const end = segs[segs.length - 1].endMs;
  const msg = `${label}: found ${start.toFixed(0)}-${end.toFixed(0)} ms for truth ` +
    `${truth.startMs.toFixed(0)}-${truth.endMs.toFixed(0)} ms (${segs.length} segment(s))`;
  console.log(msg);
  assert.ok(Math.abs(start - truth.startMs) <= startToleranceMs, msg);
  assert.ok(Math.abs(end - truth.endMs) <= endToleranceMs, msg);
  const silentBefore = probs.slice(0, Math.floor((truth.startMs - startToleranceMs) / frameMs));
  const silentAfter = probs.slice(Math.ceil((truth.endMs + 2 * endToleranceMs) / frameMs));
  assert.ok(silentBefore.every((p) => p < 0.5), `${label}: speech before the speech`);
  assert.ok(silentAfter.every((p) => p < 0.5), `${label}: speech after the speech`);
}
