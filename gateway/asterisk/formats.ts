/**
 * The sample formats of Asterisk's two media transports, by Asterisk's names: chan_websocket's
 * `MEDIA_START` names one (`ulaw`, `alaw`, `slin`, `slin16`...), AudioSocket's slin kinds carry a rate.
 * Each maps to a codec and rate of the shared media path (gateway/audio/inbound.ts, outbound.ts).
 *
 * @module
 */
import { type AudioCodec, bytesPerSample, silenceByte } from "../audio/mod.ts";

/** A sample format on the wire. */
export interface MediaFormat {
  /** Asterisk's name for it. */
  name: string;
  codec: AudioCodec;
  rate: number;
  /** Bytes per sample (1 for G.711, 2 for slin). */
  bytesPerSample: number;
  /** The byte that encodes silence (a slin sample of 0 is two zero bytes). */
  silenceByte: number;
}

function format(name: string, codec: AudioCodec, rate: number): MediaFormat {
  return { name, codec, rate, bytesPerSample: bytesPerSample(codec), silenceByte: silenceByte(codec) };
}

/** Signed linear 16-bit little-endian at `rate`. */
export function slinFormat(rate: number): MediaFormat {
  return format(rate === 8000 ? "slin" : `slin${rate === 44100 ? 44 : rate / 1000}`, "l16", rate);
}

const ULAW = format("ulaw", "mulaw", 8000);
const ALAW = format("alaw", "alaw", 8000);
const SLIN_RATES: Record<string, number> = {
  slin: 8000,
  slin12: 12000,
  slin16: 16000,
  slin24: 24000,
  slin32: 32000,
  slin44: 44100,
  slin48: 48000,
  slin96: 96000,
  slin192: 192000,
};

/** The format chan_websocket names in `MEDIA_START` (`ulaw`, `alaw`, `slin`, `slin16`...), if TOM speaks it. */
export function formatByName(name: string): MediaFormat | undefined {
  const n = name.toLowerCase();
  if (n === "ulaw" || n === "mulaw" || n === "pcmu") return ULAW;
  if (n === "alaw" || n === "pcma") return ALAW;
  const rate = SLIN_RATES[n] ?? SLIN_RATES[n.replace(/^sln/, "slin")];
  return rate === undefined ? undefined : slinFormat(rate);
}

/** Formats {@linkcode formatByName} knows, for error messages. */
export const KNOWN_FORMATS: readonly string[] = ["ulaw", "alaw", ...Object.keys(SLIN_RATES)];
