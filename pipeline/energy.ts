/**
 * Speech probability from frame energy: the stand-in when the VAD model is unavailable or fails, so a
 * call keeps its turn-taking (worse in noise, never silent).
 *
 * @module
 */

/** Speech probability (0.05, 0.4 or 0.9) from a frame's RMS level in dBFS. */
export function energyProbability(frame: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < frame.length; i++) sum += frame[i] * frame[i];
  const dbfs = 10 * Math.log10(sum / Math.max(1, frame.length) + 1e-12);
  return dbfs > -38 ? 0.9 : dbfs > -45 ? 0.4 : 0.05;
}
