/**
 * Test-signal and level helpers (a rig: no product code uses them): generate a tone, measure RMS level,
 * the power at one frequency (Goertzel, Hann-windowed) and the dominant frequency. Used by audio tests,
 * benches and end-to-end checks of what a peer recorded.
 *
 * Levels are in dBFS relative to a full-scale square wave (sox `stats` "RMS lev dB"): a full-scale sine
 * is -3.01 dBFS, and {@linkcode toneDbfs} of a pure tone equals its {@linkcode rmsDbfs}.
 *
 * @module
 */

/** Full scale of 16-bit PCM. */
const FULL_SCALE = 32768;
/** Level reported for digital silence. */
export const SILENCE_DBFS = -200;

/** Options of {@linkcode sineWave}. */
export interface SineOptions {
  /** Frequency in Hz. */
  freq: number;
  /** Sample rate in Hz. */
  rate: number;
  /** Length in samples (or give `durationMs`). */
  samples?: number;
  /** Length in milliseconds, rounded to whole samples. */
  durationMs?: number;
  /** Peak amplitude in dB relative to full scale (default -6: peak 16423). */
  peakDb?: number;
  /** Starting phase in radians (default 0). */
  phase?: number;
}

/** A sine tone as 16-bit PCM, rounded to nearest. */
export function sineWave(options: SineOptions): Int16Array {
  const { freq, rate, peakDb = -6, phase = 0 } = options;
  const n = options.samples ?? Math.round((options.durationMs ?? 0) * rate / 1000);
  if (!(rate > 0) || !(freq >= 0) || !Number.isInteger(n) || n < 0) {
    throw new RangeError(`Cannot make a tone of ${freq} Hz at ${rate} Hz for ${n} samples`);
  }
  const amp = Math.min(32767, FULL_SCALE * 10 ** (peakDb / 20));
  const out = new Int16Array(n);
  const w = 2 * Math.PI * freq / rate;
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin(w * i + phase));
  return out;
}

function toDb(meanSquare: number): number {
  return meanSquare > 0 ? 10 * Math.log10(meanSquare / (FULL_SCALE * FULL_SCALE)) : SILENCE_DBFS;
}

/** RMS level in dBFS (full-scale square = 0 dBFS); {@linkcode SILENCE_DBFS} for silence or no samples. */
export function rmsDbfs(pcm: Int16Array): number {
  if (pcm.length === 0) return SILENCE_DBFS;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  return toDb(sum / pcm.length);
}

/**
 * Mean-square power of the component at `freq` Hz (generalized Goertzel over the whole signal with a
 * Hann window), scaled so that a sine of amplitude A gives A^2/2. Off-frequency leakage falls off with
 * the window's side lobes, so use at least a few hundred milliseconds for a clean reading.
 */
export function goertzelPower(pcm: Int16Array, rate: number, freq: number): number {
  const n = pcm.length;
  if (n < 2) return 0;
  const w = 2 * Math.PI * freq / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const win = 0.5 - 0.5 * Math.cos(2 * Math.PI * i / (n - 1));
    wsum += win;
    const s0 = pcm[i] * win + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const re = s1 - s2 * Math.cos(w);
  const im = s2 * Math.sin(w);
  const amplitude = 2 * Math.sqrt(re * re + im * im) / wsum;
  return amplitude * amplitude / 2;
}

/** Level of the component at `freq` Hz in dBFS, comparable with {@linkcode rmsDbfs} of a pure tone. */
export function toneDbfs(pcm: Int16Array, rate: number, freq: number): number {
  return toDb(goertzelPower(pcm, rate, freq));
}

/**
 * The strongest frequency between `minHz` and `maxHz` (default 50 Hz to just under Nyquist): a Goertzel
 * scan in `stepHz` steps (default 10), refined to 0.5 Hz around the best step.
 */
export function dominantFrequency(
  pcm: Int16Array,
  rate: number,
  options: { minHz?: number; maxHz?: number; stepHz?: number } = {},
): number {
  const { minHz = 50, maxHz = rate / 2 - 50, stepHz = 10 } = options;
  const best = (from: number, to: number, step: number) => {
    let bestF = from;
    let bestP = -1;
    for (let f = from; f <= to; f += step) {
      const p = goertzelPower(pcm, rate, f);
      if (p > bestP) [bestF, bestP] = [f, p];
    }
    return bestF;
  };
  const coarse = best(minHz, maxHz, stepHz);
  return best(Math.max(minHz, coarse - stepHz), Math.min(maxHz, coarse + stepHz), 0.5);
}
