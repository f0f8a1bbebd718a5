/**
 * Speech segments from per-frame speech probabilities, with Silero's hysteresis: speech starts at a frame
 * at or above `threshold` and ends after `minSilenceMs` below `threshold - 0.15`; segments shorter than
 * `minSpeechMs` are dropped. For tests, diagnostics and offline use; the live turn detector works frame
 * by frame on its own.
 *
 * @module
 */

/** A stretch of speech, in milliseconds from the start of the audio. */
export interface SpeechSegment {
  startMs: number;
  endMs: number;
}

/** Options of {@linkcode speechSegments}. */
export interface SpeechSegmentOptions {
  /** Duration of one probability's frame (Silero at 16 kHz: 32). */
  frameMs: number;
  /** Speech probability that starts speech (config `vad.threshold`, default 0.5). */
  threshold?: number;
  /** Probability below which silence counts (default `threshold - 0.15`). */
  negThreshold?: number;
  /** Silence that ends a segment (default 100 ms). */
  minSilenceMs?: number;
  /** Shortest segment kept (default 250 ms). */
  minSpeechMs?: number;
}

/**
 * The speech segments in a sequence of per-frame probabilities.
 *
 * @param probs one speech probability per frame, in order
 * @param options frame length and thresholds
 * @returns the segments, in order; the end of each is the start of the first silent frame after it
 */
export function speechSegments(probs: ArrayLike<number>, options: SpeechSegmentOptions): SpeechSegment[] {
  const { frameMs, threshold = 0.5, minSilenceMs = 100, minSpeechMs = 250 } = options;
  const neg = options.negThreshold ?? Math.max(threshold - 0.15, 0.01);
  const out: SpeechSegment[] = [];
  let start = -1;
  let silentSince = -1;
  const close = (endFrame: number) => {
    const seg = { startMs: start * frameMs, endMs: endFrame * frameMs };
    if (seg.endMs - seg.startMs >= minSpeechMs) out.push(seg);
    start = -1;
    silentSince = -1;
  };
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (start < 0) {
      if (p >= threshold) start = i;
      continue;
    }
    if (p >= threshold) silentSince = -1;
    else if (p < neg) {
      if (silentSince < 0) silentSince = i;
      if ((i - silentSince + 1) * frameMs >= minSilenceMs) close(silentSince);
    }
  }
  if (start >= 0) close(silentSince >= 0 ? silentSince : probs.length);
  return out;
}
