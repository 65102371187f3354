/**
 * Small computations run on every backend by test/backend-parity.test.ts (Node) and by
 * test/browser/page.ts (headless Chromium), so both compare exactly the same thing.
 * Inputs come from seeds, so any process rebuilds them identically.
 */
import * as tf from '@tensorflow/tfjs';
import { seededRng } from '../../src/core/rng.js';

export type Nested = number | Nested[];

/** `n` values uniform in [-scale, scale) from a seed. */
export function randomValues(seed: number, n: number, scale = 1): Float32Array {
  const rng = seededRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng() * 2 - 1) * scale;
  return out;
}

/**
 * Each computation builds its inputs on the active backend and returns its outputs;
 * `runComputation` runs it inside tidy, reads the outputs and disposes them.
 */
export const COMPUTATIONS: Record<string, () => tf.Tensor[]> = {
  matMul() {
    const a = tf.tensor2d(randomValues(1, 64 * 48), [64, 48]);
    const b = tf.tensor2d(randomValues(2, 48 * 32), [48, 32]);
    const c = tf.tensor2d(randomValues(3, 32 * 48), [32, 48]);
    return [
      tf.matMul(a, b),
      tf.matMul(a, c, false, true), // the flagged path autodiff uses
      tf.matMul(tf.reshape(a, [4, 16, 48]), tf.reshape(tf.tile(b, [4, 1]), [4, 48, 32])),
    ];
  },
  softmax() {
    // Logits up to ±30: a naive exp would lose precision; every backend must subtract the max.
    const logits = tf.tensor2d(randomValues(4, 10 * 7, 30), [10, 7]);
    return [tf.softmax(logits), tf.logSoftmax(logits)];
  },
  gradient() {
    // A two-layer classifier's loss, with the taken-class log-prob written as
    // sum(logSoftmax · oneHot) (gather's gradient is missing on wasm).
    const x = tf.tensor2d(randomValues(5, 16 * 8), [16, 8]);
    const w1 = tf.tensor2d(randomValues(6, 8 * 12, 0.5), [8, 12]);
    const w2 = tf.tensor2d(randomValues(7, 12 * 5, 0.5), [12, 5]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0], 'int32'), 5);
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(tf.matMul(tf.relu(tf.matMul(x, a)), b)), labels), 1))) as tf.Scalar;
    const { value, grads } = tf.valueAndGrads(loss)([w1, w2]);
    return [value, ...grads];
  },
};

/** Runs a computation in tidy and reads its outputs with `array()` (works on every backend). */
export async function runComputation(compute: () => tf.Tensor[]): Promise<Nested[]> {
  const outputs = tf.tidy(compute);
  const values: Nested[] = [];
  for (const t of outputs) values.push((await t.array()) as Nested);
  tf.dispose(outputs);
  return values;
}

/** Largest `|a − e| / (1 + |e|)` over two nested arrays of the same shape. */
export function maxRelativeError(actual: Nested, expected: Nested): number {
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') throw new Error('shape mismatch: expected a number');
    return Math.abs(actual - expected) / (1 + Math.abs(expected));
  }
  if (!Array.isArray(actual) || actual.length !== expected.length) throw new Error('shape mismatch');
  return expected.reduce<number>((m, e, i) => Math.max(m, maxRelativeError(actual[i], e)), 0);
}
