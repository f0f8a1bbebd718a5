/**
 * Per-connection message limits: a token bucket (rate and burst) and a size cap.
 *
 * @module
 */

/** What a limiter says about one message. */
export type Admission = "ok" | "rate" | "size";

/** Admits or refuses the messages of one connection. */
export interface SocketLimiter {
  /** The size cap in bytes. */
  readonly maxBytes: number;
  /** Check one message of `sizeBytes` bytes: "size" when over the cap, "rate" when the bucket is empty. */
  admit(sizeBytes: number): Admission;
}

/** A token bucket: `ratePerSecond` tokens flow in per second, up to `burst`; it starts full. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  /**
   * @throws {RangeError} when the rate or burst is not a positive number
   */
  constructor(ratePerSecond: number, burst: number = ratePerSecond, now: () => number = performance.now) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) {
      throw new RangeError(`Cannot build token bucket: rate ${ratePerSecond}/s, burst ${burst}`);
    }
    this.#rate = ratePerSecond / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  /** Take one token; false when none is left. */
  take(): boolean {
    const t = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, t - this.#last) * this.#rate);
    this.#last = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Build a limiter from a bucket and a size cap; `onRefuse` is told about every refusal (metrics). */
export function limiter(
  bucket: TokenBucket,
  maxBytes: number,
  onRefuse: (why: "rate" | "size") => void = () => {},
): SocketLimiter {
  return {
    maxBytes,
    admit(sizeBytes: number): Admission {
      if (sizeBytes > maxBytes) {
        onRefuse("size");
        return "size";
      }
      if (!bucket.take()) {
        onRefuse("rate");
        return "rate";
      }
      return "ok";
    },
  };
}

/**
 * The size to check a text message against `limit`: its exact UTF-8 length when near the limit, else a
 * cheap bound on the same side of the limit (so a 60 KiB string is not encoded just to be measured).
 */
export function textSizeFor(s: string, limit: number): number {
  if (s.length > limit || s.length * 3 <= limit) return s.length > limit ? s.length : s.length * 3;
  return new TextEncoder().encode(s).length;
}
