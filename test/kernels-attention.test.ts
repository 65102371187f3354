/**
 * Fused attention vs the composed stock ops, on every backend under test and against the
 * composed ops on the cpu backend: outputs and gradients in q, k, v.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, composedAttention, fusedAttention } from '../kernels/index.js';
import { AnytimeInputError } from '../src/core/errors.js';
import { causalMask, kernelTestBackends, randomTreeMask, randomValues, relError, runOn } from './kernels-util.js';

const TOL = 1e-5;

interface Case {
  name: string;
  B: number;
  H: number;
  Tq: number;
  Tk: number;
  D: number;
  mask: Float32Array;
  maskBatch: number;
  scale: number;
}

/** Causal mask with query row 2 fully masked and key 5 attended by no query. */
function holesMask(B: number, T: number): Float32Array {
  const m = causalMask(B, T, T);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < T; j++) m[(b * T + 2) * T + j] = -1e9;
    for (let i = 0; i < T; i++) m[(b * T + i) * T + 5] = -1e9;
  }
  return m;
}

/** One query per row (decoding): row b masks its first b keys; the last row is fully masked. */
function decodeMask(B: number, Tk: number): Float32Array {
  const m = new Float32Array(B * Tk);
  for (let b = 0; b < B; b++) for (let j = 0; j < Tk; j++) m[b * Tk + j] = b === B - 1 || j < b ? -1e9 : 0;
  return m;
}

const cases: Case[] = [
  { name: 'causal, T=12, D=8', B: 3, H: 2, Tq: 12, Tk: 12, D: 8, mask: causalMask(3, 12, 12), maskBatch: 3, scale: 1 },
  { name: 'tree mask, odd sizes (T=13, D=5)', B: 2, H: 3, Tq: 13, Tk: 13, D: 5, mask: randomTreeMask(7, 2, 13, 13), maskBatch: 2, scale: 2 },
  { name: 'KV-cache step (Tq=1, Tk=11)', B: 4, H: 2, Tq: 1, Tk: 11, D: 16, mask: causalMask(4, 1, 11), maskBatch: 4, scale: 1 },
  { name: 'KV-cache step, left padding, a fully masked row (Tq=1, Tk=13, D=8)', B: 4, H: 3, Tq: 1, Tk: 13, D: 8, mask: decodeMask(4, 13), maskBatch: 4, scale: 1 },
  { name: 'broadcast mask [1,Tq,Tk], Tq != Tk', B: 2, H: 2, Tq: 6, Tk: 10, D: 4, mask: causalMask(1, 6, 10), maskBatch: 1, scale: 3 },
  { name: 'fully masked row, unattended key (T=9)', B: 2, H: 2, Tq: 9, Tk: 9, D: 8, mask: holesMask(2, 9), maskBatch: 2, scale: 1 },
  { name: 'tiny-policy head shape (T=96, D=16)', B: 2, H: 4, Tq: 96, Tk: 96, D: 16, mask: causalMask(2, 96, 96), maskBatch: 2, scale: 1 },
];

type AttentionFn = typeof fusedAttention;

/** Forward output and gradients of Σ out·w (w random, so every dy entry differs). */
function attentionAndGrads(fn: AttentionFn, c: Case): () => tf.Tensor[] {
  return () => {
    const q = tf.tensor4d(randomValues(1, c.B * c.H * c.Tq * c.D, c.scale), [c.B, c.H, c.Tq, c.D]);
    const k = tf.tensor4d(randomValues(2, c.B * c.H * c.Tk * c.D, c.scale), [c.B, c.H, c.Tk, c.D]);
    const v = tf.tensor4d(randomValues(3, c.B * c.H * c.Tk * c.D), [c.B, c.H, c.Tk, c.D]);
    const mask = tf.tensor3d(c.mask, [c.maskBatch, c.Tq, c.Tk]);
    const w = tf.tensor4d(randomValues(4, c.B * c.H * c.Tq * c.D), [c.B, c.H, c.Tq, c.D]);
    const out = fn(q, k, v, mask);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
      tf.sum(tf.mul(fn(a as tf.Tensor4D, b as tf.Tensor4D, d as tf.Tensor4D, mask), w)),
    )([q, k, v]);
    return [out, ...grads];
  };
}

const labels = ['out', 'dq', 'dk', 'dv'];

describe.each(kernelTestBackends())('fusedAttention on %s', (backend) => {
  it.each(cases)('$name: matches composed ops here and on cpu', async (c) => {
    const fused = await runOn(backend, attentionAndGrads(fusedAttention, c));
    const composed = await runOn(backend, attentionAndGrads(composedAttention, c));
    const reference = await runOn('cpu', attentionAndGrads(composedAttention, c));
    for (let i = 0; i < labels.length; i++) {
      expect(fused[i].every(Number.isFinite), `${labels[i]} finite`).toBe(true);
      expect(relError(fused[i], composed[i]), `${labels[i]} vs composed on ${backend}`).toBeLessThanOrEqual(TOL);
      expect(relError(fused[i], reference[i]), `${labels[i]} vs composed on cpu`).toBeLessThanOrEqual(TOL);
    }
    // The gradients are not trivially zero (a kernel writing nothing would pass otherwise).
    for (let i = 1; i < labels.length; i++) expect(Math.max(...fused[i].map(Math.abs))).toBeGreaterThan(1e-3);
  });

  if (backend === 'wasm' || backend === 'webgpu') it(`runs as the fused kernels on ${backend} (no BatchMatMul, no Softmax)`, async () => {
    await runOn(backend, () => []);
    // initBackend registered them for this backend (src/backend.ts).
    expect(tf.getKernel(ATTENTION_KERNEL, backend)).toBeDefined();
    const c = cases[0];
    const profile = await tf.profile(() => attentionAndGrads(fusedAttention, c)());
    expect(profile.kernelNames).toContain(ATTENTION_KERNEL);
    expect(profile.kernelNames).toContain(ATTENTION_GRAD_KERNEL);
    expect(profile.kernelNames).not.toContain('Softmax');
    expect(profile.kernelNames).not.toContain('BatchMatMul');
    tf.dispose(profile.result as tf.Tensor[]);
  });

  it('fully masked positions get no attention', async () => {
    // Query 0 may only see key 0: its output must equal v[key 0] exactly (up to rounding).
    const c = cases[0];
    const [out] = await runOn(backend, attentionAndGrads(fusedAttention, c));
    const v = randomValues(3, c.B * c.H * c.Tk * c.D);
    for (let bh = 0; bh < c.B * c.H; bh++) {
      for (let d = 0; d < c.D; d++) {
        expect(Math.abs(out[bh * c.Tq * c.D + d] - v[bh * c.Tk * c.D + d])).toBeLessThan(1e-6);
      }
    }
  });

  it('leaks no tensors across forward + backward', async () => {
    const c = cases[0];
    await runOn(backend, attentionAndGrads(fusedAttention, c));
    const before = tf.memory().numTensors;
    await runOn(backend, attentionAndGrads(fusedAttention, c));
    await runOn(backend, attentionAndGrads(fusedAttention, c));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a mask of the wrong shape, naming the argument', async () => {
    await runOn(backend, () => []);
    const q = tf.zeros([1, 1, 3, 4]) as tf.Tensor4D;
    expect(() => fusedAttention(q, q, q, tf.zeros([1, 3, 4]) as tf.Tensor3D)).toThrow(AnytimeInputError);
    expect(() => fusedAttention(q, q, q, tf.zeros([1, 3, 4]) as tf.Tensor3D)).toThrow(/mask/);
    expect(() => fusedAttention(q, tf.zeros([1, 1, 3, 5]) as tf.Tensor4D, q, tf.zeros([1, 3, 3]) as tf.Tensor3D)).toThrow(/^k:/);
  });
});
