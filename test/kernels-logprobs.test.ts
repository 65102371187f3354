/**
 * Fused token log-probabilities/entropy vs the composed stock ops, with gradients, on each
 * backend under test (wasm: SIMD kernel; webgpu: WGSL programs; cpu: the composed ops).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  composedTokenLogProbs,
  forceTokenLogProbsLayout,
  fusedTokenLogProbs,
  tokenLogProbsRowLayout,
  TOKEN_LOGPROBS_GRAD_KERNEL,
  TOKEN_LOGPROBS_KERNEL,
} from '../kernels/index.js';
import { AnytimeInputError } from '../src/core/errors.js';
import { seededRng } from '../src/core/rng.js';
import type { RowLayout } from '../kernels/index.js';
import type { TestableBackend } from './backend-env.js';
import { kernelTestBackends, randomValues, relError, runOn } from './kernels-util.js';

const TOL = 1e-5;

interface Case {
  name: string;
  N: number;
  V: number;
  scale: number;
  /** Row n is shifted by rowShift·((n mod 5) − 2): large logits test the max subtraction. */
  rowShift?: number;
  /** Which outputs the loss uses (an unused output must get a zero gradient). */
  use: 'both' | 'logp' | 'entropy';
}

const cases: Case[] = [
  { name: 'V=32 (tiny policy vocab)', N: 200, V: 32, scale: 1, use: 'both' },
  { name: 'V=37 (not a multiple of 4), peaked logits', N: 64, V: 37, scale: 8, use: 'both' },
  { name: 'loss uses logp only', N: 50, V: 32, scale: 2, use: 'logp' },
  { name: 'loss uses entropy only', N: 50, V: 6, scale: 2, use: 'entropy' },
  { name: 'V=300 (several strides per thread)', N: 12, V: 300, scale: 3, use: 'both' },
  { name: 'V=4500 (wide workgroups on webgpu)', N: 4, V: 4500, scale: 2, use: 'both' },
];

/** Large logits: log p must be formed as (z − max) − log s, not z − (max + log s). */
const largeLogits: Case = {
  name: 'large logits (rows shifted by up to ±4000, scale 20)',
  N: 60,
  V: 37,
  scale: 20,
  rowShift: 2000,
  use: 'both',
};

function logitValues(c: Case): Float32Array {
  const values = randomValues(11, c.N * c.V, c.scale);
  const shift = c.rowShift ?? 0;
  for (let n = 0; n < c.N; n++) for (let v = 0; v < c.V; v++) values[n * c.V + v] += shift * ((n % 5) - 2);
  return values;
}

function targets(seed: number, n: number, v: number): Int32Array {
  const rng = seededRng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(rng() * v));
}

type LogProbFn = typeof fusedTokenLogProbs;

function logProbsAndGrad(fn: LogProbFn, c: Case): () => tf.Tensor[] {
  return () => {
    const logits = tf.tensor2d(logitValues(c), [c.N, c.V]);
    const t = tf.tensor1d(targets(12, c.N, c.V), 'int32');
    const w1 = tf.tensor1d(randomValues(13, c.N));
    const w2 = tf.tensor1d(randomValues(14, c.N));
    const { logp, entropy } = fn(logits, t);
    const grad = tf.grad((l: tf.Tensor) => {
      const r = fn(l as tf.Tensor2D, t);
      const a = tf.sum(tf.mul(r.logp, w1));
      const b = tf.sum(tf.mul(r.entropy, w2));
      return c.use === 'logp' ? a : c.use === 'entropy' ? b : tf.add(a, b);
    })(logits);
    return [logp, entropy, grad];
  };
}

const labels = ['logp', 'entropy', 'dlogits'];

async function checkAgainstComposed(backend: TestableBackend, c: Case): Promise<void> {
  const fused = await runOn(backend, logProbsAndGrad(fusedTokenLogProbs, c));
  const composed = await runOn(backend, logProbsAndGrad(composedTokenLogProbs, c));
  const reference = await runOn('cpu', logProbsAndGrad(composedTokenLogProbs, c));
  for (let i = 0; i < labels.length; i++) {
    expect(fused[i].every(Number.isFinite), `${labels[i]} finite`).toBe(true);
    expect(relError(fused[i], composed[i]), `${labels[i]} vs composed on ${backend}`).toBeLessThanOrEqual(TOL);
    expect(relError(fused[i], reference[i]), `${labels[i]} vs composed on cpu`).toBeLessThanOrEqual(TOL);
  }
  expect(Math.max(...fused[2].map(Math.abs))).toBeGreaterThan(1e-3);
  // log p <= 0 and 0 <= H <= log V
  expect(Math.max(...fused[0])).toBeLessThanOrEqual(0);
  expect(Math.min(...fused[1])).toBeGreaterThanOrEqual(-1e-6);
  expect(Math.max(...fused[1])).toBeLessThanOrEqual(Math.log(c.V) + 1e-5);
}

describe.each(kernelTestBackends())('fusedTokenLogProbs on %s', (backend) => {
  it.each(cases)('$name: matches composed ops here and on cpu', (c) => checkAgainstComposed(backend, c));

  // Rows shifted by up to ±4000: log p must be formed as (z − m) − log s; z − (m + log s) rounds to
  // the spacing of m (2.4e-4 near 4000) and put the wasm gradient ~1.2e-4 off before it was fixed.
  it(`${largeLogits.name}: matches composed ops here and on cpu`, () =>
    checkAgainstComposed(backend, largeLogits),
  );

  if (backend === 'wasm' || backend === 'webgpu') {
    it(`runs as one kernel on ${backend} (no [N,V] log-softmax or one-hot), gradient included`, async () => {
      await runOn(backend, () => []);
      // initBackend registered the kernels for this backend (src/backend.ts).
      expect(tf.getKernel(TOKEN_LOGPROBS_KERNEL, backend), 'forward kernel registered').toBeDefined();
      expect(tf.getKernel(TOKEN_LOGPROBS_GRAD_KERNEL, backend), 'gradient kernel registered').toBeDefined();
      const profile = await tf.profile(() => {
        const logits = tf.zeros([8, 32]) as tf.Tensor2D;
        const t = tf.zeros([8], 'int32') as tf.Tensor1D;
        const r = fusedTokenLogProbs(logits, t);
        const g = tf.grad((l: tf.Tensor) => tf.sum(fusedTokenLogProbs(l as tf.Tensor2D, t).logp))(logits);
        return [r.logp, r.entropy, g];
      });
      expect(profile.kernelNames).toContain(TOKEN_LOGPROBS_KERNEL);
      expect(profile.kernelNames).toContain(TOKEN_LOGPROBS_GRAD_KERNEL);
      for (const stock of ['OneHot', 'LogSoftmax', 'Softmax', 'Exp']) expect(profile.kernelNames).not.toContain(stock);
      tf.dispose(profile.result as tf.Tensor[]);
    });

    it('rejects target ids outside [0, V), naming the argument', async () => {
      await runOn(backend, () => []);
      const logits = tf.zeros([3, 5]) as tf.Tensor2D;
      expect(() => fusedTokenLogProbs(logits, tf.tensor1d([0, 5, 1], 'int32'))).toThrow(AnytimeInputError);
      expect(() => fusedTokenLogProbs(logits, tf.tensor1d([0, -1, 1], 'int32'))).toThrow(/targets/);
    });
  }

  if (backend === 'webgpu') {
    it('gives NaN log p for an out-of-range target already on the GPU (it cannot be checked synchronously)', async () => {
      const [logp6, logp5, entropy5] = await runOn(backend, () => {
        const t = tf.tensor1d([0, 5, 1], 'int32');
        // A first use with V=6, where 5 is valid, uploads the ids and drops the CPU copy.
        const first = fusedTokenLogProbs(tf.zeros([3, 6]) as tf.Tensor2D, t);
        const second = fusedTokenLogProbs(tf.zeros([3, 5]) as tf.Tensor2D, t);
        return [first.logp, second.logp, second.entropy];
      });
      expect(Array.from(logp6)).toEqual(Array.from({ length: 3 }, () => expect.closeTo(-Math.log(6), 6)));
      expect(logp5[0]).toBeCloseTo(-Math.log(5), 6);
      expect(logp5[1]).toBeNaN();
      expect(logp5[2]).toBeCloseTo(-Math.log(5), 6);
      for (const h of entropy5) expect(h).toBeCloseTo(Math.log(5), 5);
    });

    // The software adapter here runs one invocation per row; the layouts a hardware GPU gets
    // (several lanes per row, tree reductions, several rows per workgroup) run here forced.
    const hardwareLayouts = [
      ...new Set([32, 37, 300, 4500].map((v) => JSON.stringify(tokenLogProbsRowLayout(v, false)))),
    ].map((j) => JSON.parse(j) as RowLayout);
    it('chooses several lanes per row for a hardware GPU and one for a software adapter', () => {
      expect(hardwareLayouts).toEqual([
        { threadsPerRow: 4, rowsPerGroup: 16 },
        { threadsPerRow: 8, rowsPerGroup: 8 },
        { threadsPerRow: 64, rowsPerGroup: 1 },
        { threadsPerRow: 256, rowsPerGroup: 1 },
      ]);
      expect(tokenLogProbsRowLayout(4500, true)).toEqual({ threadsPerRow: 1, rowsPerGroup: 64 });
      expect(() => forceTokenLogProbsLayout({ threadsPerRow: 3, rowsPerGroup: 1 })).toThrow(/layout/);
      expect(() => forceTokenLogProbsLayout({ threadsPerRow: 64, rowsPerGroup: 8 })).toThrow(/layout/);
    });

    it.each([...hardwareLayouts, { threadsPerRow: 2, rowsPerGroup: 128 }])(
      'hardware layout $threadsPerRow lanes x $rowsPerGroup rows matches composed ops (all cases)',
      async (layout) => {
        forceTokenLogProbsLayout(layout);
        try {
          for (const c of [...cases, largeLogits]) await checkAgainstComposed(backend, c);
        } finally {
          forceTokenLogProbsLayout(undefined);
        }
      },
    );

    it('handles more rows than one dispatch dimension allows (65535 workgroups)', async () => {
      // 70001 rows at one row per workgroup: the backend folds the dispatch into 2-D.
      forceTokenLogProbsLayout({ threadsPerRow: 1, rowsPerGroup: 1 });
      const c: Case = { name: 'many rows', N: 70001, V: 5, scale: 2, use: 'both' };
      try {
        const fused = await runOn(backend, logProbsAndGrad(fusedTokenLogProbs, c));
        const composed = await runOn(backend, logProbsAndGrad(composedTokenLogProbs, c));
        for (let i = 0; i < labels.length; i++) {
          expect(relError(fused[i], composed[i]), `${labels[i]} vs composed`).toBeLessThanOrEqual(TOL);
        }
      } finally {
        forceTokenLogProbsLayout(undefined);
      }
    });
  }

  it('rejects float targets and mismatched lengths', async () => {
    await runOn(backend, () => []);
    const logits = tf.zeros([3, 5]) as tf.Tensor2D;
    expect(() => fusedTokenLogProbs(logits, tf.tensor1d([0, 1, 2]))).toThrow(/targets.*int32/);
    expect(() => fusedTokenLogProbs(logits, tf.tensor1d([0, 1], 'int32'))).toThrow(/targets/);
  });

  it('leaks no tensors across forward + backward', async () => {
    await runOn(backend, logProbsAndGrad(fusedTokenLogProbs, cases[0]));
    const before = tf.memory().numTensors;
    await runOn(backend, logProbsAndGrad(fusedTokenLogProbs, cases[0]));
    expect(tf.memory().numTensors).toBe(before);
  });
});
