import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransformerPolicy, makeConfig, causalMask, disposeCache, type KVCache } from '../src/model/transformer.js';
import { linear, tokenLogProbs, MASKED } from '../src/model/ops.js';
import { saveCheckpoint, loadCheckpoint, decodeCheckpoint } from '../src/model/checkpoint.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

const config = makeConfig({ vocabSize: 16, maxSeqLen: 40, seed: 3 });

/** Full causal forward of unpadded sequences of equal length; logits [B·T, V]. */
function fullLogits(policy: TransformerPolicy, seqs: number[][]): Float32Array {
  return tf.tidy(() => {
    const B = seqs.length;
    const T = seqs[0].length;
    const { logits } = policy.run({
      ids: tf.tensor2d(seqs.flat(), [B, T], 'int32'),
      pos: tf.tensor2d(seqs.flatMap(() => Array.from({ length: T }, (_, i) => i)), [B, T], 'int32'),
      mask: tf.tensor3d(causalMask(new Array(B).fill(0), T), [B, T, T]),
    });
    return logits;
  }).dataSync() as Float32Array;
}

describe('transformer', () => {
  it('rejects bad configs, naming the field', () => {
    expect(() => makeConfig({ vocabSize: 16, maxSeqLen: 40, nHeads: 3 })).toThrow(/config.nHeads/);
    expect(() => makeConfig({ vocabSize: 0, maxSeqLen: 40 })).toThrow(/config.vocabSize/);
  });

  it('same seed gives the same weights, another seed others', async () => {
    const before = tf.memory().numTensors;
    const a = new TransformerPolicy(config);
    expect(tf.memory().numTensors).toBe(before + a.variables().length);
    const b = new TransformerPolicy(config);
    const c = new TransformerPolicy({ ...config, seed: 4 });
    const [wa, wb, wc] = await Promise.all([a.weights(), b.weights(), c.weights()]);
    expect(wa.get('h1.attn.wq')).toEqual(wb.get('h1.attn.wq'));
    expect(wa.get('h1.attn.wq')).not.toEqual(wc.get('h1.attn.wq'));
    expect(a.parameterCount()).toBe(wa.size && [...wa.values()].reduce((n, v) => n + v.length, 0));
    for (const p of [a, b, c]) p.dispose();
  });

  it('KV-cache decoding of a left-padded batch equals full recompute (≤1e-4)', () => {
    const policy = new TransformerPolicy(config);
    const seqs = [
      [1, 7, 8, 9, 10, 11, 12, 13, 3, 4],
      [1, 9, 9, 14, 6, 7, 15, 10, 11, 12],
    ];
    const promptLens = [4, 2];
    const T = seqs[0].length;
    const V = config.vocabSize;
    const full = seqs.map((s) => fullLogits(policy, [s]));
    // Prefill the prompts left-padded to a common length, then decode the rest one token at a time.
    const Lp = Math.max(...promptLens);
    const pad = promptLens.map((n) => Lp - n);
    const ids = seqs.flatMap((s, b) => [...new Array(pad[b]).fill(0), ...s.slice(0, promptLens[b])]);
    const pos = pad.flatMap((p) => Array.from({ length: Lp }, (_, i) => Math.max(0, i - p)));
    let cache: KVCache;
    const pre = tf.tidy(() => {
      const out = policy.run({
        ids: tf.tensor2d(ids, [2, Lp], 'int32'),
        pos: tf.tensor2d(pos, [2, Lp], 'int32'),
        mask: tf.tensor3d(causalMask(pad, Lp), [2, Lp, Lp]),
        returnCache: true,
        differentiable: false,
      });
      return { logits: out.logits, k: out.cache!.k, v: out.cache!.v };
    });
    const preLogits = pre.logits.dataSync();
    pre.logits.dispose();
    cache = { k: pre.k, v: pre.v };
    let maxDiff = 0;
    for (let b = 0; b < 2; b++) {
      const t = promptLens[b] - 1;
      for (let v = 0; v < V; v++) maxDiff = Math.max(maxDiff, Math.abs(preLogits[(b * Lp + Lp - 1) * V + v] - full[b][t * V + v]));
    }
    // Row b's next input is seqs[b][promptLens[b] + s]; stop when the shorter tail runs out.
    const steps = T - Math.max(...promptLens);
    for (let s = 0; s < steps; s++) {
      const Tk = Lp + s + 1;
      const mask = new Float32Array(2 * Tk);
      for (let b = 0; b < 2; b++) for (let j = 0; j < pad[b]; j++) mask[b * Tk + j] = MASKED;
      const out = tf.tidy(() => {
        const r = policy.run({
          ids: tf.tensor2d(seqs.map((q, b) => q[promptLens[b] + s]), [2, 1], 'int32'),
          pos: tf.tensor2d(promptLens.map((n) => n + s), [2, 1], 'int32'),
          mask: tf.tensor3d(mask, [2, 1, Tk]),
          past: cache,
          returnCache: true,
          differentiable: false,
        });
        return { logits: r.logits, k: r.cache!.k, v: r.cache!.v };
      });
      disposeCache(cache);
      cache = { k: out.k, v: out.v };
      const got = out.logits.dataSync();
      out.logits.dispose();
      for (let b = 0; b < 2; b++) {
        const t = promptLens[b] + s;
        for (let v = 0; v < V; v++) maxDiff = Math.max(maxDiff, Math.abs(got[b * V + v] - full[b][t * V + v]));
      }
    }
    disposeCache(cache);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    policy.dispose();
  });

  it('linear: custom gradient equals autodiff of matMul', () => {
    const x = tf.randomNormal([5, 7], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([7, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
    const dy = tf.randomNormal([5, 3], 0, 1, 'float32', 3);
    const mine = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(linear(a as tf.Tensor2D, b as tf.Tensor2D), dy)))([x, w]);
    const ref = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), dy)))([x, w]);
    for (let i = 0; i < 2; i++) {
      expect(tf.max(tf.abs(tf.sub(mine[i], ref[i]))).dataSync()[0]).toBeLessThan(1e-5);
    }
    tf.dispose([x, w, dy, ...mine, ...ref]);
  });

  it('tokenLogProbs matches log-softmax and entropy by hand', () => {
    const logits = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
    const { logp, entropy } = tokenLogProbs(logits, tf.tensor1d([2, 0], 'int32'));
    const z = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const lp = logp.dataSync();
    expect(lp[0]).toBeCloseTo(3 - z, 5);
    expect(lp[1]).toBeCloseTo(-Math.log(3), 5);
    expect(entropy.dataSync()[1]).toBeCloseTo(Math.log(3), 5);
    tf.dispose([logits, logp, entropy]);
  });

  it('save/load round trip gives identical logits, meta and extra tensors', async () => {
    const policy = new TransformerPolicy({ ...config, tiedHead: true });
    // Move the weights off their initial values so the test cannot pass by re-initialising.
    for (const v of policy.variables()) {
      const moved = tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', 7)));
      v.assign(moved);
      moved.dispose();
    }
    const path = join(mkdtempSync(join(tmpdir(), 'anytime-ckpt-')), 'policy.ckpt');
    await saveCheckpoint(path, policy, {
      meta: { step: 12 },
      extra: new Map([['adam/m0', { shape: [2, 2], values: new Float32Array([1, 2, 3, 4]) }]]),
    });
    const { policy: loaded, checkpoint } = loadCheckpoint(path);
    expect(loaded.config).toEqual(policy.config);
    expect(checkpoint.meta).toEqual({ step: 12 });
    expect(Array.from(checkpoint.extra.get('adam/m0')!.values)).toEqual([1, 2, 3, 4]);
    const seq = [[1, 7, 8, 9, 3, 4, 10, 2]];
    expect(fullLogits(loaded, seq)).toEqual(fullLogits(policy, seq));
    expect(() => decodeCheckpoint(readFileSync(path).subarray(0, 100), 'cut.ckpt')).toThrow(/cut.ckpt/);
    policy.dispose();
    loaded.dispose();
  });

  it('forward + backward steps leak no tensors', () => {
    const policy = new TransformerPolicy(config);
    const optimizer = tf.train.adam(1e-3);
    const seq = [[1, 7, 8, 9, 3, 4, 10, 2]];
    const step = (): void => {
      const { value, grads } = tf.variableGrads(() => {
        const { logits } = policy.run({
          ids: tf.tensor2d(seq.flat(), [1, 8], 'int32'),
          pos: tf.tensor2d([0, 1, 2, 3, 4, 5, 6, 7], [1, 8], 'int32'),
          mask: tf.tensor3d(causalMask([0], 8), [1, 8, 8]),
        });
        return tf.neg(tf.mean(tokenLogProbs(logits, tf.tensor1d([7, 8, 9, 3, 4, 10, 2, 0], 'int32')).logp)) as tf.Scalar;
      }, policy.variables());
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      tf.dispose([value, ...Object.values(grads)]);
    };
    step(); // the optimiser creates its slots on the first step
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    policy.dispose();
  });
});
