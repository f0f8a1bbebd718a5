/**
 * Seedable randomness for the bandit: a mulberry32 PRNG, a Gamma sampler (Marsaglia–Tsang) and a Beta
 * sampler built from two Gammas. Written here (about 50 lines) rather than taken from npm: the bandit
 * needs exactly these three functions, deterministic under a seed for the simulation tests.
 *
 * @module
 */

/** A source of uniform numbers in [0, 1). `Math.random` is one; {@linkcode mulberry32} is a seeded one. */
export type Random = () => number;

/** A fast, seeded 32-bit PRNG (mulberry32): same seed, same sequence. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box–Muller). */
export function sampleNormal(random: Random): number {
  let u = 0;
  while (u === 0) u = random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A Gamma(shape, 1) sample (Marsaglia & Tsang 2000; shape < 1 via the boost `G(a+1) * U^(1/a)`).
 * @throws {RangeError} when shape is not a positive finite number
 */
export function sampleGamma(shape: number, random: Random): number {
  if (!(shape > 0) || !Number.isFinite(shape)) {
    throw new RangeError(`Cannot sample Gamma: shape must be a positive number, got ${shape}`);
  }
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = random();
    return sampleGamma(shape + 1, random) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(alpha, beta) sample in [0, 1]. @throws {RangeError} on a non-positive parameter */
export function sampleBeta(alpha: number, beta: number, random: Random): number {
  const x = sampleGamma(alpha, random);
  const y = sampleGamma(beta, random);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** Mean and 95% credible interval of Beta(alpha, beta) (normal approximation, clipped to [0, 1]). */
export function betaSummary(alpha: number, beta: number): { mean: number; low: number; high: number } {
  const n = alpha + beta;
  const mean = alpha / n;
  const sd = Math.sqrt((alpha * beta) / (n * n * (n + 1)));
  return { mean, low: Math.max(0, mean - 1.96 * sd), high: Math.min(1, mean + 1.96 * sd) };
}
