/**
 * Finding a tone in a recording for the Asterisk end-to-end test: where it starts and ends (to a few
 * samples), its frequency and its level.
 *
 * @module
 */
import { dominantFrequency, rmsDbfs, toneDbfs } from "../_rigs/levels.ts";

/** A tone found in a recording. */
export interface ToneSegment {
  /** Onset and end in ms from the recording's first sample. */
  startMs: number;
  endMs: number;
  durationMs: number;
  /** Milliseconds of the segment where the tone is actually there (5 ms blocks within 6 dB of its level). */
  coverageMs: number;
  /** Strongest frequency in the middle of the segment (Hz). */
  hz: number;
  /** Level of that tone (dBFS, full-scale square = 0) and of everything (RMS) in the middle. */
  toneDb: number;
  rmsDb: number;
}

/**
 * The tone at `hz`: from the first to the last 20 ms window (5 ms hop) where it dominates (its Goertzel
 * level within 1 dB of the window's RMS and above `minDb`), edges refined to the first and last sample
 * above a quarter of its peak. Short gaps inside (a late frame) are bridged and show in `coverageMs`.
 */
export function findTone(pcm: Int16Array, rate: number, hz: number, minDb = -40): ToneSegment | undefined {
  const win = Math.round(rate * 0.02);
  const hop = Math.round(rate * 0.005);
  let best: [number, number] | undefined;
  let run: number | undefined;
  for (let at = 0; at + win <= pcm.length; at += hop) {
    const w = pcm.subarray(at, at + win);
    const t = toneDbfs(w, rate, hz);
    const on = t > minDb && t > rmsDbfs(w) - 1;
    if (on && run === undefined) run = at;
    if ((!on || at + hop + win > pcm.length) && run !== undefined) {
      const end = on ? at + win : at - hop + win;
      if (best && run - best[1] < rate * 0.2) best = [best[0], end];
      else if (!best || end - run > best[1] - best[0]) best = [run, end];
      run = undefined;
    }
  }
  if (!best) return undefined;
  let peak = 0;
  for (let i = best[0]; i < best[1]; i++) peak = Math.max(peak, Math.abs(pcm[i]));
  const edge = peak / 4;
  let start = Math.max(0, best[0] - win);
  while (start < best[1] && Math.abs(pcm[start]) < edge) start++;
  let end = Math.min(pcm.length - 1, best[1] + win);
  while (end > start && Math.abs(pcm[end]) < edge) end--;
  const ms = (i: number) => (i * 1000) / rate;
  const margin = Math.round(rate * 0.05);
  const mid = pcm.subarray(start + margin, Math.max(start + margin + 1, end - margin));
  const floor = rmsDbfs(mid) - 6;
  let covered = 0;
  for (let at = start; at + hop <= end + 1; at += hop) {
    if (rmsDbfs(pcm.subarray(at, at + hop)) >= floor) covered += hop;
  }
  return {
    startMs: ms(start),
    endMs: ms(end + 1),
    durationMs: ms(end + 1 - start),
    coverageMs: ms(covered),
    hz: dominantFrequency(mid, rate, { minHz: 100, maxHz: Math.min(3400, rate / 2 - 50) }),
    toneDb: toneDbfs(mid, rate, hz),
    rmsDb: rmsDbfs(mid),
  };
}

/** RMS level (dBFS) of `pcm` between two times in ms. */
export function levelBetween(pcm: Int16Array, rate: number, fromMs: number, toMs: number): number {
  const a = Math.max(0, Math.round((fromMs * rate) / 1000));
  const b = Math.min(pcm.length, Math.round((toMs * rate) / 1000));
  return rmsDbfs(pcm.subarray(a, Math.max(a, b)));
}

/** The dBFS level (RMS, full-scale square = 0) of a sine of peak `amplitude`. */
export function sineDb(amplitude: number): number {
  return 20 * Math.log10(amplitude / 32768) - 10 * Math.log10(2);
}
