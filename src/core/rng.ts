/**
 * Seedable pseudo-random numbers. Every stochastic function in the toolkit takes an `Rng`
 * so that the same seed gives the same run.
 */

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * Mulberry32: a small, fast 32-bit generator. Good enough for sampling budgets, tasks and
 * tokens; not for cryptography. Seeds are hashed so that nearby seeds give unrelated streams.
 */
export function seededRng(seed: number): Rng {
  let a = hashSeed(seed);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent seed for a named sub-stream (e.g. per worker, per run). */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  let h = hashSeed(seed);
  for (const label of labels) {
    const s = String(label);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x5bd1e995) ^ (h >>> 13);
    h = Math.imul(h ^ 0x9e3779b9, 0x85ebca6b);
  }
  return h >>> 0;
}

function hashSeed(seed: number): number {
  let h = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Index drawn from a discrete distribution `probs` (need not be normalised). */
export function sampleIndex(probs: ArrayLike<number>, rng: Rng): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  let u = rng() * total;
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i];
    if (u < 0) return i;
  }
  // Floating-point slack: fall back to the last index with mass.
  for (let i = probs.length - 1; i >= 0; i--) if (probs[i] > 0) return i;
  return probs.length - 1;
}

/** Integer in [lo, hi] inclusive. */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}
