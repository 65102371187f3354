/**
 * BatchMatMul (SIMD path on wasm) and UnsortedSegmentSum (new on wasm) against the cpu
 * backend, including gradients: matMul's backward uses transpose flags, gather's backward is
 * UnsortedSegmentSum.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { matMulCounts, matMulRouting, registerWasmKernels } from '../kernels/index.js';
import { seededRng } from '../src/core/rng.js';
import { kernelTestBackends, randomValues, relError, runOn } from './kernels-util.js';

const TOL = 1e-5;

interface MatMulCase {
  a: number[];
  b: number[];
  ta: boolean;
  tb: boolean;
  /** tfjs's BatchMatMul gradient does not reduce over broadcast batches (on any backend). */
  noGrad?: boolean;
}

const size = (s: number[]) => s.reduce((x, y) => x * y, 1);

const matMulCases: MatMulCase[] = [
  { a: [37, 19], b: [19, 23], ta: false, tb: false },
  { a: [37, 19], b: [23, 19], ta: false, tb: true },
  { a: [19, 37], b: [19, 23], ta: true, tb: false },
  { a: [19, 37], b: [23, 19], ta: true, tb: true },
  { a: [300, 16], b: [64, 16], ta: false, tb: true }, // linear-layer backward shapes, K tail
  { a: [600, 8], b: [600, 12], ta: true, tb: false }, // weight gradient, long K (> one K block)
  { a: [6, 9, 5], b: [6, 5, 7], ta: false, tb: false }, // batched
  { a: [2, 3, 9, 5], b: [2, 3, 7, 5], ta: false, tb: true }, // rank 4, attention q·kᵀ
  { a: [2, 3, 9, 5], b: [2, 3, 9, 7], ta: true, tb: false },
  { a: [4, 9, 5], b: [5, 7], ta: false, tb: false, noGrad: true }, // b broadcast over the batch
  { a: [9, 5], b: [4, 7, 5], ta: false, tb: true, noGrad: true }, // a broadcast over the batch
  { a: [1, 3, 2], b: [3, 3, 4], ta: true, tb: false, noGrad: true }, // batch-1 a broadcast, transposed
];

function matMulAndGrads(c: MatMulCase): () => tf.Tensor[] {
  return () => {
    const a = tf.tensor(randomValues(21, size(c.a)), c.a);
    const b = tf.tensor(randomValues(22, size(c.b)), c.b);
    const out = tf.matMul(a, b, c.ta, c.tb);
    if (c.noGrad) return [out];
    const w = tf.tensor(randomValues(23, out.size), out.shape);
    const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, c.ta, c.tb), w)))([a, b]);
    return [out, ...grads];
  };
}

function gatherAndGrad(dtype: 'float32'): () => tf.Tensor[] {
  return () => {
    const rng = seededRng(31);
    const table = tf.tensor2d(randomValues(32, 10 * 6), [10, 6], dtype);
    const ids = tf.tensor1d(Int32Array.from({ length: 40 }, () => Math.floor(rng() * 10)), 'int32');
    const w = tf.tensor2d(randomValues(33, 40 * 6), [40, 6]);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), w)))(table);
    return [tf.gather(table, ids), grad];
  };
}

describe.each(kernelTestBackends())('kernels on %s', (backend) => {
  it.each(matMulCases)('matMul $a x $b (transposeA=$ta, transposeB=$tb) matches cpu, with gradients unless broadcast', async (c) => {
    const simdBefore = matMulCounts.simd;
    const got = await runOn(backend, matMulAndGrads(c));
    const ref = await runOn('cpu', matMulAndGrads(c));
    expect(got.length).toBe(c.noGrad ? 1 : 3);
    for (let i = 0; i < got.length; i++) expect(relError(got[i], ref[i]), ['out', 'da', 'db'][i]).toBeLessThanOrEqual(TOL);
    // On wasm the forward (if flagged or batched) and the flagged backward products ran on SIMD.
    if (backend === 'wasm') expect(matMulCounts.simd).toBeGreaterThan(simdBefore);
  });

  if (backend === 'wasm') {
    it('registerWasmKernels is idempotent, and the stock route gives the same products', async () => {
      registerWasmKernels();
      const first = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
      registerWasmKernels();
      expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).toBe(first);
      const c = matMulCases[1];
      const simd = await runOn(backend, matMulAndGrads(c));
      const stockBefore = matMulCounts.stock;
      matMulRouting.enabled = false;
      try {
        const stock = await runOn(backend, matMulAndGrads(c));
        for (let i = 0; i < 3; i++) expect(relError(simd[i], stock[i])).toBeLessThanOrEqual(TOL);
      } finally {
        matMulRouting.enabled = true;
      }
      expect(matMulCounts.stock).toBeGreaterThan(stockBefore);
    });
  }

  it('clone shares nothing observable: values survive disposing the original, memory is released', async () => {
    await runOn(backend, () => []);
    const bytesBefore = tf.memory().numBytes;
    const x = tf.tensor1d([1, 2, 3, 4]);
    const y = tf.clone(x);
    const z = tf.reshape(y, [2, 2]);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4]);
    const w = tf.add(z, 1);
    expect(Array.from(await w.data())).toEqual([2, 3, 4, 5]);
    tf.dispose([y, z, w]);
    expect(tf.memory().numBytes).toBe(bytesBefore);
  });

  it('unsortedSegmentSum matches cpu (float32 and int32, repeated and out-of-range ids)', async () => {
    // Out-of-range ids (-1, 7) are dropped by our wasm kernel and by cpu; stock tfjs-webgpu leaves
    // them undefined (it writes them into neighbouring segments), so webgpu gets in-range ids only.
    const ids = backend === 'webgpu' ? [0, 2, 2, 1, 4, 0, 3, 2] : [0, 2, 2, -1, 4, 0, 7, 2];
    const body = (dtype: 'float32' | 'int32') => () => {
      const x = tf.tensor2d(Array.from({ length: 8 * 3 }, (_, i) => (i % 7) - 3), [8, 3], dtype);
      return [tf.cast(tf.unsortedSegmentSum(x, tf.tensor1d(ids, 'int32'), 5), 'float32')];
    };
    // Stock tfjs-webgpu 4.22 returns int32 segment sums as reinterpreted float bits (e.g.
    // -2143289344): a stock bug outside our kernels; the toolkit only sums float32 there.
    const dtypes = backend === 'webgpu' ? (['float32'] as const) : (['float32', 'int32'] as const);
    for (const dtype of dtypes) {
      const [got] = await runOn(backend, body(dtype));
      const [ref] = await runOn('cpu', body(dtype));
      expect(Array.from(got)).toEqual(Array.from(ref));
      // segment 2 collects rows 1, 2 and 7
      expect(got[2 * 3]).toBe(((3 % 7) - 3) + ((6 % 7) - 3) + ((21 % 7) - 3));
    }
  });

  it('gather is differentiable (its gradient is UnsortedSegmentSum) and matches cpu', async () => {
    const got = await runOn(backend, gatherAndGrad('float32'));
    const ref = await runOn('cpu', gatherAndGrad('float32'));
    expect(relError(got[0], ref[0])).toBe(0);
    expect(relError(got[1], ref[1])).toBeLessThanOrEqual(TOL);
    expect(Math.max(...got[1].map(Math.abs))).toBeGreaterThan(0.1);
  });
});
