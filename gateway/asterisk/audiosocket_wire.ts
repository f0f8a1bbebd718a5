/**
 * The AudioSocket wire format (protocols.md section 4): `kind (1 byte) | length (2 bytes, big-endian) |
 * payload`. A streaming parser that takes TCP reads of any size (a message split across reads, or
 * several in one) and refuses, before buffering the payload, a kind it does not know or a length over
 * that kind's limit; and the encoders for what TOM sends back.
 *
 * Audio payloads are 16-bit signed PCM, mono, little-endian (Asterisk sends host order; the boxes TOM
 * runs on are x86-64 or arm64, both little-endian).
 *
 * @module
 */

/** Message kinds. */
export const KIND = {
  hangup: 0x00,
  uuid: 0x01,
  dtmf: 0x03,
  /** slin at 8 kHz on Asterisk 18-22.5; older releases send 0x10 for every rate (see `slinRate`). */
  slin: 0x10,
  error: 0xff,
} as const;

/** Sample rate of each slin kind (0x10 is 8 kHz unless the dialplan sends another rate with it). */
export const SLIN_KIND_RATES: ReadonlyMap<number, number> = new Map([
  [0x10, 8000],
  [0x11, 12000],
  [0x12, 16000],
  [0x13, 24000],
  [0x14, 32000],
  [0x15, 44100],
  [0x16, 48000],
  [0x17, 96000],
  [0x18, 192000],
]);

/** The slin kind for a rate (0x10 for 8 kHz). */
export function slinKindFor(rate: number): number | undefined {
  for (const [kind, r] of SLIN_KIND_RATES) if (r === rate) return kind;
  return undefined;
}

/** Largest audio message accepted, in milliseconds of audio (Asterisk sends 20 ms; 200 leaves headroom). */
export const MAX_AUDIO_MS = 200;
/** Largest error payload accepted (Asterisk sends one byte of error code). */
const MAX_ERROR_BYTES = 64;
/** Header bytes. */
export const HEADER_BYTES = 3;

/** What the parser yields; `bytes` is the message's size on the wire. */
export type AudioSocketMessage =
  & { bytes: number }
  & (
    | { kind: "hangup" }
    | { kind: "uuid"; uuid: string }
    | { kind: "dtmf"; digit: string }
    /** `pcm` is a copy of the payload's samples (an odd trailing byte is dropped). */
    | { kind: "audio"; type: number; rate: number; pcm: Int16Array }
    /** Asterisk's codes: 0x01 caller hung up, 0x02 frame forwarding error, 0x04 memory error. */
    | { kind: "error"; code: number | undefined }
  );

type Payload = AudioSocketMessage extends infer M ? M extends unknown ? Omit<M, "bytes"> : never : never;

/** A stream that is not AudioSocket: the connection must be closed. */
export class AudioSocketProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AudioSocketProtocolError";
  }
}

/** Options of {@linkcode AudioSocketParser}. */
export interface ParserOptions {
  /** Rate of kind 0x10 audio (default 8000): older Asterisk sends 0x10 whatever the rate. */
  slinRate?: number;
  /** A cap on any payload in bytes, below the per-kind limits (the gateway's frame limit). */
  maxPayloadBytes?: number;
}

/** The largest payload a kind may carry, or undefined for an unknown kind. */
export function maxPayloadFor(kind: number, slinRate = 8000): number | undefined {
  if (kind === KIND.hangup) return 0;
  if (kind === KIND.uuid) return 16;
  if (kind === KIND.dtmf) return 1;
  if (kind === KIND.error) return MAX_ERROR_BYTES;
  const rate = kind === KIND.slin ? slinRate : SLIN_KIND_RATES.get(kind);
  if (rate === undefined) return undefined;
  return Math.min(0xffff, Math.ceil((rate * MAX_AUDIO_MS) / 1000) * 2);
}

/** The canonical text form of 16 UUID bytes. */
export function uuidText(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** 16 bytes of a UUID in text form (with or without dashes). */
export function uuidBytes(text: string): Uint8Array {
  const hex = text.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`Cannot parse UUID ${JSON.stringify(text)}`);
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

const DTMF = /^[0-9*#A-Da-d]$/;

/**
 * Cuts an AudioSocket byte stream into messages. Keeps at most one partial message. A bad kind or an
 * oversize length is found as soon as its header is complete: the messages before it are returned, and
 * {@linkcode AudioSocketParser.error} says what was wrong (the stream is dead from there on).
 */
export class AudioSocketParser {
  readonly slinRate: number;
  readonly #cap: number;
  #buf = new Uint8Array(1024);
  #fill = 0;
  #error: AudioSocketProtocolError | undefined;

  /**
   * @throws {RangeError} when `slinRate` is not a rate of a slin kind
   */
  constructor(opts: ParserOptions = {}) {
    this.slinRate = opts.slinRate ?? 8000;
    if (slinKindFor(this.slinRate) === undefined) {
      throw new RangeError(`Cannot parse AudioSocket with slinRate ${this.slinRate}: not a slin rate`);
    }
    this.#cap = opts.maxPayloadBytes ?? 0xffff;
  }

  /** Bytes of an incomplete message waiting for the rest. */
  get pendingBytes(): number {
    return this.#fill;
  }

  /** Why the stream is not AudioSocket (an unknown kind, an oversize length), once that is found. */
  get error(): AudioSocketProtocolError | undefined {
    return this.#error;
  }

  /**
   * Add the bytes of one read; returns the messages completed, in order, up to the first bad header
   * (then {@linkcode AudioSocketParser.error} is set and later bytes are ignored).
   */
  push(chunk: Uint8Array): AudioSocketMessage[] {
    const out: AudioSocketMessage[] = [];
    if (this.#error) return out;
    try {
      this.#parse(chunk, out);
    } catch (e) {
      if (!(e instanceof AudioSocketProtocolError)) throw e;
      this.#error = e;
      this.#fill = 0;
    }
    return out;
  }

  #parse(chunk: Uint8Array, out: AudioSocketMessage[]): void {
    let data = chunk;
    if (this.#fill > 0) {
      this.#append(chunk);
      data = this.#buf.subarray(0, this.#fill);
    }
    let at = 0;
    while (data.length - at >= HEADER_BYTES) {
      const kind = data[at];
      const length = (data[at + 1] << 8) | data[at + 2];
      const max = maxPayloadFor(kind, this.slinRate);
      if (max === undefined) {
        throw new AudioSocketProtocolError(`Unknown AudioSocket message kind 0x${hex(kind)}`);
      }
      if (length > Math.min(max, this.#cap)) {
        throw new AudioSocketProtocolError(
          `AudioSocket message kind 0x${hex(kind)} too long: ${length} bytes, at most ${
            Math.min(max, this.#cap)
          }`,
        );
      }
      if (data.length - at < HEADER_BYTES + length) break;
      const payload = data.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
      at += HEADER_BYTES + length;
      const m = this.#decode(kind, payload);
      if (m) out.push({ ...m, bytes: HEADER_BYTES + length } as AudioSocketMessage);
    }
    const rest = data.subarray(at);
    if (data === chunk) {
      this.#fill = 0;
      this.#append(rest);
    } else {
      this.#buf.copyWithin(0, at, this.#fill);
      this.#fill = rest.length;
    }
  }

  #append(bytes: Uint8Array): void {
    if (this.#fill + bytes.length > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#fill + bytes.length));
      bigger.set(this.#buf.subarray(0, this.#fill));
      this.#buf = bigger;
    }
    this.#buf.set(bytes, this.#fill);
    this.#fill += bytes.length;
  }

  #decode(kind: number, payload: Uint8Array): Payload | undefined {
    switch (kind) {
      case KIND.hangup:
        return { kind: "hangup" };
      case KIND.uuid:
        if (payload.length !== 16) {
          throw new AudioSocketProtocolError(`AudioSocket UUID of ${payload.length} bytes, expected 16`);
        }
        return { kind: "uuid", uuid: uuidText(payload) };
      case KIND.dtmf: {
        const digit = String.fromCharCode(payload[0] ?? 0);
        return DTMF.test(digit) ? { kind: "dtmf", digit: digit.toUpperCase() } : undefined;
      }
      case KIND.error:
        return { kind: "error", code: payload.length > 0 ? payload[0] : undefined };
      default: {
        const rate = kind === KIND.slin ? this.slinRate : SLIN_KIND_RATES.get(kind) as number;
        const n = payload.length >> 1;
        const pcm = new Int16Array(n);
        const view = new DataView(payload.buffer, payload.byteOffset, n * 2);
        for (let i = 0; i < n; i++) pcm[i] = view.getInt16(i * 2, true);
        return { kind: "audio", type: kind, rate, pcm };
      }
    }
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** One message: header and payload. */
export function encodeMessage(kind: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > 0xffff) throw new RangeError(`Cannot send ${payload.length} bytes in one message`);
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  out[0] = kind;
  out[1] = payload.length >> 8;
  out[2] = payload.length & 0xff;
  out.set(payload, HEADER_BYTES);
  return out;
}

/** An audio message of `kind` carrying `pcm` (little-endian). */
export function encodeAudio(kind: number, pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + pcm.length * 2);
  out[0] = kind;
  out[1] = (pcm.length * 2) >> 8;
  out[2] = (pcm.length * 2) & 0xff;
  const view = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) view.setInt16(HEADER_BYTES + i * 2, pcm[i], true);
  return out;
}

/** The hang-up message (kind 0x00, no payload): TOM ended the call (the dialplan hangs up). */
export const HANGUP_MESSAGE: Uint8Array = encodeMessage(KIND.hangup);

/**
 * The refusal: an error message (kind 0xff, one byte) before TOM closes. Asterisk's `AudioSocket()`
 * application fails on it (checked on Asterisk 22: `TryExec` then reads `TRYSTATUS=FAILED`, as when TOM is
 * unreachable), while a hang-up message or a plain close let it succeed: the shipped dialplan
 * (infra/deploy/asterisk/extensions.conf) falls back to a person on FAILED only.
 */
export const REFUSE_MESSAGE: Uint8Array = encodeMessage(KIND.error, new Uint8Array([1]));
