/** Fused token log-probabilities/entropy vs the composed stock ops, with gradients. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { composedTokenLogProbs, fusedTokenLogProbs, TOKEN_LOGPROBS_KERNEL } from '../kernels/index.js';
import { AnytimeInputError } from '../src/core/errors.js';
import { seededRng } from '../src/core/rng.js';
import { kernelTestBackends, randomValues, relError, runOn } from './kernels-util.js';

const TOL = 1e-5;

interface Case {
  name: string;
  N: number;
  V: number;
  scale: number;
  /** Which outputs the loss uses (an unused output must get a zero gradient). */
  use: 'both' | 'logp' | 'entropy';
}

const cases: Case[] = [
  { name: 'V=32 (tiny policy vocab)', N: 200, V: 32, scale: 1, use: 'both' },
  { name: 'V=37 (not a multiple of 4), peaked logits', N: 64, V: 37, scale: 8, use: 'both' },
  { name: 'loss uses logp only', N: 50, V: 32, scale: 2, use: 'logp' },
  { name: 'loss uses entropy only', N: 50, V: 6, scale: 2, use: 'entropy' },
];

function targets(seed: number, n: number, v: number): Int32Array {
  const rng = seededRng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(rng() * v));
}

type LogProbFn = typeof fusedTokenLogProbs;

function logProbsAndGrad(fn: LogProbFn, c: Case): () => tf.Tensor[] {
  return () => {
    const logits = tf.tensor2d(randomValues(11, c.N * c.V, c.scale), [c.N, c.V]);
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

describe.each(kernelTestBackends())('fusedTokenLogProbs on %s', (backend) => {
  it.each(cases)('$name: matches composed ops here and on cpu', async (c) => {
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
  });

  if (backend === 'wasm') {
    it('runs as one kernel on wasm (no [N,V] log-softmax or one-hot)', async () => {
      await runOn(backend, () => []);
      const profile = await tf.profile(() => {
        const r = fusedTokenLogProbs(tf.zeros([8, 32]) as tf.Tensor2D, tf.zeros([8], 'int32') as tf.Tensor1D);
        return [r.logp, r.entropy];
      });
      expect(profile.kernelNames).toContain(TOKEN_LOGPROBS_KERNEL);
      expect(profile.kernelNames).not.toContain('OneHot');
      expect(profile.kernelNames).not.toContain('LogSoftmax');
      tf.dispose(profile.result as tf.Tensor[]);
    });

    it('rejects target ids outside [0, V), naming the argument', async () => {
      await runOn(backend, () => []);
      const logits = tf.zeros([3, 5]) as tf.Tensor2D;
      expect(() => fusedTokenLogProbs(logits, tf.tensor1d([0, 5, 1], 'int32'))).toThrow(AnytimeInputError);
      expect(() => fusedTokenLogProbs(logits, tf.tensor1d([0, -1, 1], 'int32'))).toThrow(/targets/);
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
