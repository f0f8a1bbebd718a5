/**
 * Audio quality check of a WAV file (`tom qc`): per channel the RMS level, clipping ratio, DC offset and
 * an SNR estimate, and a verdict against {@linkcode QC_LIMITS}. Pure analysis; `app/commands/qc.ts` reads
 * the file and prints.
 *
 * Values are in PCM16 units (full scale 32768) whatever the file's sample format. The SNR estimate:
 * the DC offset is removed, the channel is cut into 20 ms frames and each frame's mean power taken; the
 * quietest frames (10th percentile) are the noise floor Pn, the loudest (90th percentile) are speech
 * plus noise Ps, and SNR = 10·log10((Ps − Pn) / Pn). Pn is at least the quantisation noise of PCM16
 * (1/12), so digital silence gives a high but finite figure; Ps ≤ Pn (a channel that is all noise, or
 * one steady tone) gives 0 dB. It needs pauses in the audio, as speech has: a channel without any quiet
 * frames measures as noise.
 *
 * WAV decoding is `readWav` (gateway/audio/wav.ts: @echogarden/wave-codec after repairing what a writer
 * that died mid-file leaves).
 *
 * @module
 */
import { readWav, type WavAudio } from "../gateway/mod.ts";

/** The verdict's limits: RMS 300-9000, clipping below 0.1 %, |DC offset| below 200, SNR above 20 dB. */
export const QC_LIMITS = {
  rmsMin: 300,
  rmsMax: 9000,
  clippingMax: 0.001,
  dcOffsetMax: 200,
  snrMinDb: 20,
} as const;

/** Frames for the SNR estimate: 20 ms. */
const FRAME_MS = 20;
/** Noise floor and speech percentiles of the frame powers. */
const NOISE_PERCENTILE = 0.1;
const SIGNAL_PERCENTILE = 0.9;
/** Power of PCM16 quantisation noise (LSB² / 12): the lowest noise floor. */
const QUANTISATION_POWER = 1 / 12;
/** A sample at or beyond this magnitude is clipped (PCM16 full scale: 32767 or -32768). */
const CLIP_LEVEL = 32767;

/** Measurements of one channel. */
export interface ChannelMeasures {
  /** Root mean square, PCM16 units. */
  rms: number;
  /** Share of samples at full scale (|x| ≥ 32767), 0..1. */
  clippingRatio: number;
  /** Mean, PCM16 units. */
  dcOffset: number;
  /** SNR estimate in dB (see the module's description). */
  snrDb: number;
  samples: number;
}

/** One channel's measures and what failed. */
export interface ChannelReport extends ChannelMeasures {
  /** "mono", "left", "right", or "channel N". */
  channel: string;
  pass: boolean;
  /** The failed checks in plain words. */
  failures: string[];
}

/** The quality report of a file. */
export interface QcReport {
  sampleRate: number;
  channels: number;
  durationSeconds: number;
  pass: boolean;
  /** Every failed check, prefixed with its channel when there is more than one. */
  failures: string[];
  channelReports: ChannelReport[];
  limits: typeof QC_LIMITS;
}

/** Measure one channel (PCM16 units) at `sampleRate`. */
export function measureChannel(samples: ArrayLike<number>, sampleRate: number): ChannelMeasures {
  const n = samples.length;
  if (n === 0) return { rms: 0, clippingRatio: 0, dcOffset: 0, snrDb: 0, samples: 0 };
  let sum = 0;
  let sumSq = 0;
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[i];
    sum += x;
    sumSq += x * x;
    if (x >= CLIP_LEVEL || x <= -CLIP_LEVEL) clipped++;
  }
  const dc = sum / n;
  const frame = Math.max(1, Math.round((sampleRate * FRAME_MS) / 1000));
  const powers: number[] = [];
  for (let start = 0; start < n; start += frame) {
    const end = Math.min(n, start + frame);
    if (end - start < frame && powers.length > 0) break; // a short last frame would skew the floor
    let p = 0;
    for (let i = start; i < end; i++) p += (samples[i] - dc) ** 2;
    powers.push(Math.max(QUANTISATION_POWER, p / (end - start)));
  }
  powers.sort((a, b) => a - b);
  const pick = (q: number) => powers[Math.min(powers.length - 1, Math.floor(q * powers.length))];
  const noise = pick(NOISE_PERCENTILE);
  const speech = pick(SIGNAL_PERCENTILE) - noise;
  return {
    rms: Math.sqrt(sumSq / n),
    clippingRatio: clipped / n,
    dcOffset: dc,
    snrDb: speech > 0 ? Math.max(0, 10 * Math.log10(speech / noise)) : 0,
    samples: n,
  };
}

/** The checks of {@linkcode QC_LIMITS} that `m` fails, in plain words. */
export function failedChecks(m: ChannelMeasures): string[] {
  if (m.samples === 0) return ["no audio: the channel has no samples"];
  const L = QC_LIMITS;
  const out: string[] = [];
  if (m.rms < L.rmsMin) out.push(`too quiet: RMS ${m.rms.toFixed(0)} is below ${L.rmsMin}`);
  if (m.rms > L.rmsMax) out.push(`too loud: RMS ${m.rms.toFixed(0)} is above ${L.rmsMax}`);
  if (m.clippingRatio >= L.clippingMax) {
    out.push(
      `clipping: ${pct(m.clippingRatio)} of samples at full scale (limit ${pct(L.clippingMax)})`,
    );
  }
  if (Math.abs(m.dcOffset) >= L.dcOffsetMax) {
    out.push(`DC offset: mean ${m.dcOffset.toFixed(0)} (limit ±${L.dcOffsetMax})`);
  }
  if (m.snrDb <= L.snrMinDb) {
    out.push(`noisy: SNR ${m.snrDb.toFixed(1)} dB is not above ${L.snrMinDb} dB`);
  }
  return out;
}

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio < 0.01 ? 3 : 1)}%`;
}

function channelName(index: number, count: number): string {
  if (count === 1) return "mono";
  if (count === 2) return index === 0 ? "left" : "right";
  return `channel ${index + 1}`;
}

/** Measure every channel of decoded audio and give the verdict. */
export function analyseAudio(audio: WavAudio): QcReport {
  const count = audio.channels.length;
  const channelReports = audio.channels.map((ch, i): ChannelReport => {
    const m = measureChannel(ch, audio.sampleRate);
    const failures = failedChecks(m);
    return { channel: channelName(i, count), ...m, pass: failures.length === 0, failures };
  });
  const failures = channelReports.flatMap((c) =>
    c.failures.map((f) => (count > 1 ? `${c.channel}: ${f}` : f))
  );
  return {
    sampleRate: audio.sampleRate,
    channels: count,
    durationSeconds: (audio.channels[0]?.length ?? 0) / audio.sampleRate,
    pass: failures.length === 0,
    failures,
    channelReports,
    limits: QC_LIMITS,
  };
}

/**
 * Quality report of a WAV file's bytes.
 *
 * @throws {WavReadError} when the bytes are not a readable WAV file
 */
export function analyseWav(bytes: Uint8Array): QcReport {
  return analyseAudio(readWav(bytes));
}
