/**
 * Dense-layer ops (linearBias, columnSum, layerNorm, quickGelu, embedSum) and the KV-cache write
 * vs the composed stock ops, on every backend under test and against the composed ops on the
 * cpu backend: outputs and gradients in every input.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  COLUMN_SUM_KERNEL,
  EMBED_GRAD_KERNEL,
  EMBED_SUM_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  LINEAR_BIAS_KERNEL,
  QUICK_GELU_GRAD_KERNEL,
  QUICK_GELU_KERNEL,
  columnSum,
  composedEmbedSum,
  composedLayerNorm,
  composedLinearBias,
  composedQuickGelu,
  composedForkRows,
  composedWriteColumns,
  embedSum,
  forkKVRows,
  hasInPlaceKVWrite,
  layerNorm,
  linearBias,
  quickGelu,
  writeKVColumns,
} from '../kernels/index.js';
import { AnytimeInputError } from '../src/core/errors.js';
import { kernelTestBackends, randomValues, relError, runOn } from './kernels-util.js';

const TOL = 1e-5;
/** Backends with the fused dense and KV-cache kernels registered (kernels/index.ts). */
const FUSED: string[] = ['wasm', 'webgpu'];

/** Forward output and the gradients of Σ out·w (w random, so every dy entry differs). */
function withGrads(fn: (...xs: tf.Tensor[]) => tf.Tensor, inputs: () => tf.Tensor[]): () => tf.Tensor[] {
  return () => {
    const xs = inputs();
    const out = fn(...xs);
    const w = tf.tensor(randomValues(99, out.size), out.shape);
    const grads = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(fn(...ys), w)))(xs);
    return [out, ...grads];
  };
}

/** Runs `fused` on the backend, and `composed` there and on cpu; all must agree within TOL. */
async function expectParity(
  backend: Parameters<typeof runOn>[0],
  fused: () => tf.Tensor[],
  composed: () => tf.Tensor[],
  labels: string[],
): Promise<Float32Array[]> {
  const got = await runOn(backend, fused);
  const here = await runOn(backend, composed);
  const reference = await runOn('cpu', composed);
  expect(got.length).toBe(labels.length);
  for (let i = 0; i < labels.length; i++) {
    expect(got[i].every(Number.isFinite), `${labels[i]} finite`).toBe(true);
    expect(relError(got[i], here[i]), `${labels[i]} vs composed on ${backend}`).toBeLessThanOrEqual(TOL);
    expect(relError(got[i], reference[i]), `${labels[i]} vs composed on cpu`).toBeLessThanOrEqual(TOL);
  }
  return got;
}

const linearCases = [
  { name: 'odd sizes [37,19]·[19,23]', N: 37, K: 19, M: 23 },
  { name: 'MLP shape [300,64]·[64,256]', N: 300, K: 64, M: 256 },
  { name: 'one decoding row [1,64]·[64,64]', N: 1, K: 64, M: 64 },
  { name: 'long batch [700,16]·[16,8] (sums over > 1 chunk)', N: 700, K: 16, M: 8 },
];

const normCases = [
  { name: 'odd width [37,19]', N: 37, C: 19, offset: 0 },
  { name: 'model width [300,64], rows off-centre', N: 300, C: 64, offset: 3 },
  { name: 'one row [1,64]', N: 1, C: 64, offset: 0 },
];

describe.each(kernelTestBackends())('dense-layer ops on %s', (backend) => {
  it.each(linearCases)('linearBias $name: output and dx, dw, dbias match composed ops', async (c) => {
    const inputs = () => [
      tf.tensor2d(randomValues(1, c.N * c.K), [c.N, c.K]),
      tf.tensor2d(randomValues(2, c.K * c.M, 0.2), [c.K, c.M]),
      tf.tensor1d(randomValues(3, c.M)),
    ];
    const fn = (f: typeof linearBias) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => f(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D);
    const got = await expectParity(backend, withGrads(fn(linearBias), inputs), withGrads(fn(composedLinearBias), inputs), ['y', 'dx', 'dw', 'dbias']);
    for (let i = 1; i < got.length; i++) expect(Math.max(...got[i].map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it.each(linearCases.slice(0, 3))('linearBias $name with a residual: output and dx, dw, dbias, dresidual match composed ops', async (c) => {
    const inputs = () => [
      tf.tensor2d(randomValues(1, c.N * c.K), [c.N, c.K]),
      tf.tensor2d(randomValues(2, c.K * c.M, 0.2), [c.K, c.M]),
      tf.tensor1d(randomValues(3, c.M)),
      tf.tensor2d(randomValues(18, c.N * c.M), [c.N, c.M]),
    ];
    const fn = (f: typeof linearBias) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, r: tf.Tensor) =>
      f(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, r as tf.Tensor2D);
    await expectParity(backend, withGrads(fn(linearBias), inputs), withGrads(fn(composedLinearBias), inputs), ['y', 'dx', 'dw', 'dbias', 'dresidual']);
  });

  it.each([[37, 19], [700, 40], [5, 3]])('columnSum [%i,%i] and its gradient match tf.sum(x, 0)', async (N, C) => {
    const inputs = () => [tf.tensor2d(randomValues(4, N * C), [N, C])];
    const fused = withGrads((x) => columnSum(x as tf.Tensor2D), inputs);
    const composed = withGrads((x) => tf.sum(x, 0), inputs);
    await expectParity(backend, fused, composed, ['sum', 'dx']);
  });

  it.each(normCases)('layerNorm $name: output and dx, dgain, dbias match composed ops', async (c) => {
    const inputs = () => [
      tf.add(tf.tensor2d(randomValues(5, c.N * c.C, 2), [c.N, c.C]), c.offset),
      tf.tensor1d(randomValues(6, c.C)),
      tf.tensor1d(randomValues(7, c.C)),
    ];
    const fn = (f: (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D, eps: number) => tf.Tensor2D) => (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => f(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
    const got = await expectParity(backend, withGrads(fn(layerNorm), inputs), withGrads(fn(composedLayerNorm), inputs), ['y', 'dx', 'dgain', 'dbias']);
    for (let i = 1; i < got.length; i++) expect(Math.max(...got[i].map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it('quickGelu over [37,19] (|x| up to ~40, tails saturated) and its gradient match composed ops', async () => {
    const inputs = () => [tf.tensor2d(randomValues(8, 37 * 19, 10), [37, 19])];
    await expectParity(backend, withGrads((x) => quickGelu(x), inputs), withGrads((x) => composedQuickGelu(x), inputs), ['y', 'dx']);
  });

  it('embedSum (token + position rows, repeated ids) and its table gradients match two gathers', async () => {
    const ids = Int32Array.from({ length: 50 }, (_, i) => (i * 7) % 11);
    const pos = Int32Array.from({ length: 50 }, (_, i) => i % 13);
    const inputs = () => [tf.tensor2d(randomValues(16, 11 * 6), [11, 6]), tf.tensor2d(randomValues(17, 13 * 6), [13, 6])];
    const fn = (f: typeof embedSum) => (tok: tf.Tensor, p: tf.Tensor) =>
      f(tok as tf.Tensor2D, p as tf.Tensor2D, tf.tensor1d(ids, 'int32'), tf.tensor1d(pos, 'int32'));
    await expectParity(backend, withGrads(fn(embedSum), inputs), withGrads(fn(composedEmbedSum), inputs), ['x', 'dtok', 'dpos']);
  });

  it('embedSum rejects ids outside the table, naming them', async () => {
    await runOn(backend, () => []);
    const table = tf.zeros([4, 3]) as tf.Tensor2D;
    const ok = tf.tensor1d([0, 1], 'int32');
    // Checked by the fused kernel (it would read other memory); the composed gather checks its own way.
    if (FUSED.includes(backend)) expect(() => embedSum(table, table, tf.tensor1d([0, 4], 'int32'), ok)).toThrow(/^ids\[1\] must be a row index in \[0, 4\)/);
    expect(() => embedSum(table, table, ok, tf.tensor1d([0, 1, 2], 'int32'))).toThrow(/^posIds:/);
    tf.dispose([table, ok]);
  });

  if (FUSED.includes(backend)) it(`runs as the fused kernels on ${backend} (no stock Mean or Sigmoid, no UnsortedSegmentSum)`, async () => {
    await runOn(backend, () => []);
    const body = () => {
      const x = tf.tensor2d(randomValues(9, 40 * 16), [40, 16]);
      const w = tf.tensor2d(randomValues(10, 16 * 8), [16, 8]);
      const b = tf.tensor1d(randomValues(11, 8));
      const g = tf.tensor1d(randomValues(12, 8));
      const tok = tf.tensor2d(randomValues(19, 11 * 16), [11, 16]);
      const ids = tf.tensor1d(Int32Array.from({ length: 40 }, (_, i) => i % 11), 'int32');
      const pos = tf.tensor1d(Int32Array.from({ length: 40 }, (_, i) => i % 7), 'int32');
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor, gg: tf.Tensor, tt: tf.Tensor) => {
        const h = tf.add(xx, embedSum(tt as tf.Tensor2D, tt as tf.Tensor2D, ids, pos)) as tf.Tensor2D;
        return tf.sum(quickGelu(layerNorm(linearBias(h, ww as tf.Tensor2D, bb as tf.Tensor1D), gg as tf.Tensor1D, bb as tf.Tensor1D)));
      };
      return tf.grads(f)([x, w, b, g, tok]);
    };
    const profile = await tf.profile(() => tf.tidy(body));
    const fused = [LINEAR_BIAS_KERNEL, COLUMN_SUM_KERNEL, LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL, QUICK_GELU_KERNEL, QUICK_GELU_GRAD_KERNEL, EMBED_SUM_KERNEL];
    for (const name of fused) expect(profile.kernelNames).toContain(name);
    for (const stock of ['Mean', 'Sigmoid']) expect(profile.kernelNames).not.toContain(stock);
    // WebGPU: the table gradient is the deterministic EMBED_GRAD, not tfjs's atomic UnsortedSegmentSum.
    if (backend === 'webgpu') {
      expect(profile.kernelNames).toContain(EMBED_GRAD_KERNEL);
      expect(profile.kernelNames).not.toContain('UnsortedSegmentSum');
    }
    tf.dispose(profile.result as tf.Tensor[]);
  });

  it('leaks no tensors across forward + backward', async () => {
    const body = withGrads(
      (x, g, b) => quickGelu(layerNorm(linearBias(x as tf.Tensor2D, g as tf.Tensor2D, b as tf.Tensor1D), b as tf.Tensor1D, b as tf.Tensor1D)),
      () => [tf.tensor2d(randomValues(13, 12 * 6), [12, 6]), tf.tensor2d(randomValues(14, 36), [6, 6]), tf.tensor1d(randomValues(15, 6))],
    );
    await runOn(backend, body);
    const before = tf.memory().numTensors;
    await runOn(backend, body);
    await runOn(backend, body);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("tf.addN of 38 tensors (past WebGPU's 8 storage buffers per shader) equals their sum", async () => {
    // tfjs-backend-webgpu's own AddN returns 0 here (kernels/webgpu/add-n.ts); AdamW's gradient norm is such a sum.
    const sizes = Array.from({ length: 38 }, (_, i) => 3 + (i % 5));
    const want = sizes.reduce((n, size, i) => n + size * (i + 1) ** 2, 0);
    const [got, eight] = await runOn(backend, () => {
      const squares = sizes.map((size, i) => tf.sum(tf.square(tf.fill([size], i + 1))));
      return [tf.addN(squares), tf.addN(squares.slice(0, 8))];
    });
    expect(got[0]).toBe(want);
    expect(eight[0]).toBe(sizes.slice(0, 8).reduce((n, size, i) => n + size * (i + 1) ** 2, 0));
  });

  it('rejects mismatched shapes and dtypes, naming the argument', async () => {
    await runOn(backend, () => []);
    const x = tf.zeros([3, 4]) as tf.Tensor2D;
    expect(() => linearBias(x, tf.zeros([5, 2]) as tf.Tensor2D, tf.zeros([2]) as tf.Tensor1D)).toThrow(AnytimeInputError);
    expect(() => linearBias(x, tf.zeros([4, 2]) as tf.Tensor2D, tf.zeros([3]) as tf.Tensor1D)).toThrow(/^bias:/);
    expect(() => linearBias(x, tf.zeros([4, 2]) as tf.Tensor2D, tf.zeros([2]) as tf.Tensor1D, tf.zeros([3, 3]) as tf.Tensor2D)).toThrow(/^residual:/);
    expect(() => layerNorm(x, tf.zeros([3]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D)).toThrow(/^gain:/);
    expect(() => columnSum(tf.zeros([3]) as unknown as tf.Tensor2D)).toThrow(/^x:/);
    expect(() => quickGelu(tf.zeros([3], 'int32'))).toThrow(/^x:/);
    tf.dispose(x);
  });
});

describe.each(kernelTestBackends())('writeKVColumns on %s', (backend) => {
  const B = 3, H = 2, C = 7, D = 4;
  const inputs = (T: number) => [
    tf.tensor4d(randomValues(20, B * H * C * D), [B, H, C, D]),
    tf.tensor4d(randomValues(21, B * H * C * D), [B, H, C, D]),
    tf.tensor4d(randomValues(22, B * H * T * D), [B, H, T, D]),
    tf.tensor4d(randomValues(23, B * H * T * D), [B, H, T, D]),
  ] as tf.Tensor4D[];

  it.each([[0, 1], [3, 1], [6, 1], [2, 3]])('offset %i, %i columns: equals the composed write, for k and v', async (offset, T) => {
    const fused = () => {
      const [kc, vc, k, v] = inputs(T);
      return writeKVColumns(kc, vc, k, v, offset);
    };
    const composed = () => {
      const [kc, vc, k, v] = inputs(T);
      return [composedWriteColumns(kc, k, offset), composedWriteColumns(vc, v, offset)];
    };
    const [gk, gv] = await expectParity(backend, fused, composed, ['k', 'v']);
    // The written block is the new values; the rest is the old cache.
    const newK = randomValues(22, B * H * T * D);
    const oldK = randomValues(20, B * H * C * D);
    for (let bh = 0; bh < B * H; bh++) {
      for (let c = 0; c < C; c++) {
        for (let d = 0; d < D; d++) {
          const inBlock = c >= offset && c < offset + T;
          const want = inBlock ? newK[(bh * T + c - offset) * D + d] : oldK[(bh * C + c) * D + d];
          expect(gk[(bh * C + c) * D + d]).toBe(want);
        }
      }
    }
    expect(gv.length).toBe(B * H * C * D);
  });

  if (FUSED.includes(backend)) it(`writes in place on ${backend}: the cache handle sees the write, and disposing both frees the buffer`, async () => {
    await runOn(backend, () => []);
    expect(hasInPlaceKVWrite()).toBe(true);
    const before = tf.memory();
    const [kc, vc, k, v] = inputs(1);
    const [k2, v2] = writeKVColumns(kc, vc, k, v, 5);
    const written = Array.from(await k2.data());
    expect(Array.from(await kc.data())).toEqual(written);
    expect(Array.from(await vc.data())).toEqual(Array.from(await v2.data()));
    expect(tf.memory().numDataBuffers - before.numDataBuffers).toBe(4); // shared, not copied
    tf.dispose([kc, vc]);
    expect(Array.from(await k2.data())).toEqual(written); // the buffer outlives the first handle
    tf.dispose([k2, v2, k, v]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
  });

  it.each([[5, 9], [7, 7], [0, 3]])('forkKVRows (columns %i, capacity %i) equals gather + slice + zero padding', async (columns, capacity) => {
    const rows = Int32Array.from([2, 0, 2, 1, 1]);
    const body = (f: typeof forkKVRows) => () => [f(inputs(1)[0], tf.tensor1d(rows, 'int32'), columns, capacity)];
    const [got] = await expectParity(backend, body(forkKVRows), body(composedForkRows), ['fork']);
    expect(got.length).toBe(rows.length * H * capacity * D);
  });

  it('rejects an offset past the cache, naming it', async () => {
    await runOn(backend, () => []);
    const [kc, vc, k, v] = inputs(2);
    expect(() => writeKVColumns(kc, vc, k, v, 6)).toThrow(/^offset:/);
    expect(() => writeKVColumns(kc, vc, k, v, -1)).toThrow(AnytimeInputError);
    expect(() => forkKVRows(kc, tf.tensor1d([0], 'int32'), 8, 9)).toThrow(/^columns:/);
    expect(() => forkKVRows(kc, tf.tensor1d([0], 'int32'), 5, 4)).toThrow(/^capacity:/);
    if (FUSED.includes(backend)) expect(() => forkKVRows(kc, tf.tensor1d([3], 'int32'), 5, 5)).toThrow(/^rows\[0\]/);
    tf.dispose([kc, vc, k, v]);
  });
});
