/**
 * A tiny decoder-only transformer policy (GPT-2 shape, nanoGPT style) in TensorFlow.js.
 *
 *   x = E_tok[ids] + E_pos[pos]
 *   per layer:  x += W_o · attention(LN₁(x) W_q, LN₁(x) W_k, LN₁(x) W_v)
 *               x += W_2 · quickGelu(W_1 · LN₂(x))
 *   logits = LN_f(x) · W_head            (W_head = E_tokᵀ when the head is tied)
 *
 * One function, `run`, does every forward: a full (masked) forward for training, a prefill that
 * returns the key/value cache, and one-token decoding steps that extend the cache. Position ids
 * are an input rather than implied by the column, so packed trees and left-padded batches work.
 */
import * as tf from '@tensorflow/tfjs';
import { fail, checkPositiveInt } from '../core/errors.js';
import { seededRng, deriveSeed, type Rng } from '../core/rng.js';
import { attention, embedTokens, layerNorm, linearBias, linearTransposed, quickGelu, writeKVColumns, MASKED } from './ops.js';

export interface TransformerConfig {
  /** Number of token ids (the task's vocabulary size). */
  vocabSize: number;
  /** Width of the residual stream. Default 64. */
  dModel: number;
  /** Number of transformer blocks. Default 2. */
  nLayers: number;
  /** Attention heads per block; must divide `dModel`. Default 4. */
  nHeads: number;
  /** Hidden width of each MLP. Default 256. */
  dMlp: number;
  /** Largest position id + 1 (learned position embeddings). */
  maxSeqLen: number;
  /** Output head shares the token embedding (`logits = h · E_tokᵀ`). Default false. */
  tiedHead: boolean;
  /** Seed of the initial weights: same seed, same weights. Default 0. */
  seed: number;
}

export const DEFAULT_CONFIG: Omit<TransformerConfig, 'vocabSize' | 'maxSeqLen'> = {
  dModel: 64,
  nLayers: 2,
  nHeads: 4,
  dMlp: 256,
  tiedHead: false,
  seed: 0,
};

/** Fills in defaults and checks every field, naming the bad one. */
export function makeConfig(partial: Partial<TransformerConfig> & Pick<TransformerConfig, 'vocabSize' | 'maxSeqLen'>): TransformerConfig {
  const config: TransformerConfig = { ...DEFAULT_CONFIG, ...partial };
  for (const key of ['vocabSize', 'dModel', 'nLayers', 'nHeads', 'dMlp', 'maxSeqLen'] as const) {
    checkPositiveInt(`config.${key}`, config[key]);
  }
  if (config.dModel % config.nHeads !== 0) {
    fail('config.nHeads', `must divide dModel (${config.dModel}), got ${config.nHeads}`);
  }
  if (typeof config.tiedHead !== 'boolean') fail('config.tiedHead', `must be true or false, got ${String(config.tiedHead)}`);
  if (!Number.isInteger(config.seed)) fail('config.seed', `must be an integer, got ${String(config.seed)}`);
  return config;
}

/** Per-layer key/value cache: `k[l]`, `v[l]` are [B, H, T, D]. Owned by the caller (dispose it). */
export interface KVCache {
  k: tf.Tensor4D[];
  v: tf.Tensor4D[];
}

/** Frees every tensor of a cache. */
export function disposeCache(cache: KVCache | undefined): void {
  if (!cache) return;
  for (const t of cache.k) t.dispose();
  for (const t of cache.v) t.dispose();
}

/** Input of `run`: B rows of T new tokens. */
export interface RunInput {
  /** Token ids [B, T] (int32). */
  ids: tf.Tensor2D;
  /** Position ids [B, T] (int32), each < maxSeqLen. */
  pos: tf.Tensor2D;
  /** Additive mask [B, T, Tpast + T]: keys are the cached ones, then the T new ones. */
  mask: tf.Tensor3D;
  /** Keys/values of earlier tokens (not disposed by `run`). */
  past?: KVCache;
  /**
   * Set when `past` is a preallocated cache ([B, H, capacity, D], columns [0, pastLength)
   * filled): the new keys/values are written in place at columns [pastLength, pastLength + T)
   * (`writeKVColumns`) instead of being concatenated, and attention reads all `capacity` columns,
   * so `mask` is [B, T, capacity] and must mask the columns not yet written. The returned cache
   * shares `past`'s buffers. Use where `canWriteCacheInPlace()`; elsewhere the write is a copy.
   */
  pastLength?: number;
  /** Return the cache extended by the new tokens. */
  returnCache?: boolean;
  /**
   * Without the fused embedding kernel: use the differentiable `oneHot · E` lookup (needed under
   * gradients on stock wasm); false uses `gather`, cheaper but with no stock wasm gradient.
   * The fused kernel (wasm with kernels/ registered) is used either way. Default true.
   */
  differentiable?: boolean;
}

/** Parameter names in a fixed order (the checkpoint order). */
export function parameterShapes(config: TransformerConfig): [string, number[]][] {
  const { vocabSize: V, dModel: d, dMlp: m, nLayers, maxSeqLen } = config;
  const shapes: [string, number[]][] = [
    ['tok_emb', [V, d]],
    ['pos_emb', [maxSeqLen, d]],
  ];
  for (let l = 0; l < nLayers; l++) {
    const p = `h${l}.`;
    shapes.push(
      [p + 'ln1.g', [d]], [p + 'ln1.b', [d]],
      [p + 'attn.wq', [d, d]], [p + 'attn.bq', [d]],
      [p + 'attn.wk', [d, d]], [p + 'attn.bk', [d]],
      [p + 'attn.wv', [d, d]], [p + 'attn.bv', [d]],
      [p + 'attn.wo', [d, d]], [p + 'attn.bo', [d]],
      [p + 'ln2.g', [d]], [p + 'ln2.b', [d]],
      [p + 'mlp.w1', [d, m]], [p + 'mlp.b1', [m]],
      [p + 'mlp.w2', [m, d]], [p + 'mlp.b2', [d]],
    );
  }
  shapes.push(['lnf.g', [d]], ['lnf.b', [d]]);
  if (!config.tiedHead) shapes.push(['head.w', [d, V]], ['head.b', [V]]);
  return shapes;
}

/** Standard normal draws from a seeded stream (Box–Muller). */
function gaussian(rng: Rng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * GPT-2 initialisation computed in JS from the seed (so it does not depend on the backend):
 * weights N(0, 0.02²), residual output projections scaled by 1/√(2·nLayers), LayerNorm gains 1,
 * biases 0. Each parameter has its own sub-stream, so adding a parameter leaves the others as they were.
 */
export function initialWeights(config: TransformerConfig): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of parameterShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    if (leaf === 'g') values.fill(1);
    else if (shape.length === 2) {
      const residualOut = name.endsWith('attn.wo') || name.endsWith('mlp.w2');
      const std = residualOut ? 0.02 / Math.sqrt(2 * config.nLayers) : 0.02;
      const rng = seededRng(deriveSeed(config.seed, 'init', name));
      for (let i = 0; i < size; i++) values[i] = std * gaussian(rng);
    }
    out.set(name, values);
  }
  return out;
}

/** The policy: config plus named trainable variables. Call `dispose()` when done. */
export class TransformerPolicy {
  readonly config: TransformerConfig;
  /** Trainable variables by parameter name (order of `parameterShapes`). */
  readonly params: Map<string, tf.Variable>;

  /** A policy with seeded initial weights, or with the given weights (e.g. from a checkpoint). */
  constructor(config: TransformerConfig, weights?: Map<string, Float32Array>) {
    this.config = makeConfig(config);
    const values = weights ?? initialWeights(this.config);
    this.params = new Map();
    for (const [name, shape] of parameterShapes(this.config)) {
      const v = values.get(name);
      if (!v) fail('weights', `missing parameter '${name}'`);
      const size = shape.reduce((a, b) => a * b, 1);
      if (v.length !== size) fail('weights', `parameter '${name}' has ${v.length} values, expected ${size} (shape [${shape}])`);
      // Unnamed variables: tfjs names must be unique per process and several policies may coexist.
      const initial = tf.tensor(v, shape, 'float32');
      this.params.set(name, tf.variable(initial, true));
      initial.dispose(); // the variable holds its own reference to the data
    }
  }

  /** The trainable variables, in checkpoint order. */
  variables(): tf.Variable[] {
    return [...this.params.values()];
  }

  /** Total number of scalar parameters. */
  parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** Copies all weights to JS (for checkpoints). */
  async weights(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.params) out.set(name, (await v.data()) as Float32Array);
    return out;
  }

  /** Overwrites the weights in place (same config), e.g. to copy another policy. */
  setWeights(weights: Map<string, Float32Array>): void {
    for (const [name, variable] of this.params) {
      const v = weights.get(name);
      if (!v || v.length !== variable.size) fail('weights', `parameter '${name}' missing or of the wrong size`);
      const value = tf.tensor(v, variable.shape, 'float32');
      variable.assign(value);
      value.dispose();
    }
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`internal: no parameter '${name}'`);
    return v;
  }

  /**
   * One forward over B rows of T new tokens (call inside `tf.tidy` or a gradient function).
   * @returns logits [B·T, V] (row-major over (b, t)) and, if asked, the extended cache.
   */
  run(input: RunInput): { logits: tf.Tensor2D; cache?: KVCache } {
    const { ids, pos, mask, past, pastLength, returnCache = false, differentiable = true } = input;
    const { dModel: d, nHeads: H, nLayers } = this.config;
    const [B, T] = ids.shape;
    const D = d / H;
    const flatIds = tf.reshape(ids, [B * T]) as tf.Tensor1D;
    const flatPos = tf.reshape(pos, [B * T]) as tf.Tensor1D;
    const tokEmb = this.p('tok_emb') as tf.Tensor2D;
    const posEmb = this.p('pos_emb') as tf.Tensor2D;
    let x = embedTokens(tokEmb, posEmb, flatIds, flatPos, differentiable);

    // [B·T, d] ↔ [B, H, T, D]. With one new token per row (decoding) the layouts coincide, so a
    // reshape (no copy, no kernel work) replaces the transpose.
    const heads = (t: tf.Tensor2D): tf.Tensor4D =>
      T === 1 ? tf.reshape(t, [B, H, 1, D]) : tf.transpose(tf.reshape(t, [B, T, H, D]), [0, 2, 1, 3]);
    const merge = (t: tf.Tensor4D): tf.Tensor2D =>
      T === 1 ? tf.reshape(t, [B, d]) : tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [B * T, d]);
    // h·W + b, added onto the residual stream when one is given (one fused kernel on wasm).
    const dense = (h: tf.Tensor2D, w: string, b: string, residual?: tf.Tensor2D): tf.Tensor2D =>
      linearBias(h, this.p(w) as tf.Tensor2D, this.p(b) as tf.Tensor1D, residual);
    const cache: KVCache = { k: [], v: [] };
    for (let l = 0; l < nLayers; l++) {
      const p = `h${l}.`;
      const h = layerNorm(x, this.p(p + 'ln1.g') as tf.Tensor1D, this.p(p + 'ln1.b') as tf.Tensor1D);
      const q = heads(dense(h, p + 'attn.wq', p + 'attn.bq'));
      let k = heads(dense(h, p + 'attn.wk', p + 'attn.bk'));
      let v = heads(dense(h, p + 'attn.wv', p + 'attn.bv'));
      if (past && pastLength !== undefined) {
        [k, v] = writeKVColumns(past.k[l], past.v[l], k, v, pastLength);
      } else if (past) {
        k = tf.concat([past.k[l], k], 2);
        v = tf.concat([past.v[l], v], 2);
      }
      if (returnCache) {
        cache.k.push(k);
        cache.v.push(v);
      }
      const a = merge(attention(q, k, v, mask));
      x = dense(a, p + 'attn.wo', p + 'attn.bo', x);
      const h2 = layerNorm(x, this.p(p + 'ln2.g') as tf.Tensor1D, this.p(p + 'ln2.b') as tf.Tensor1D);
      const hidden = quickGelu(dense(h2, p + 'mlp.w1', p + 'mlp.b1'));
      x = dense(hidden, p + 'mlp.w2', p + 'mlp.b2', x);
    }
    const hf = layerNorm(x, this.p('lnf.g') as tf.Tensor1D, this.p('lnf.b') as tf.Tensor1D);
    const logits = this.config.tiedHead
      ? linearTransposed(hf, tokEmb)
      : linearBias(hf, this.p('head.w') as tf.Tensor2D, this.p('head.b') as tf.Tensor1D);
    return returnCache ? { logits, cache } : { logits };
  }
}

/** Causal additive mask [B, T, T] over left-padded rows: row b's first `pad[b]` columns are padding. */
export function causalMask(pad: ArrayLike<number>, T: number): Float32Array {
  const B = pad.length;
  const m = new Float32Array(B * T * T);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      const row = (b * T + i) * T;
      for (let j = 0; j < T; j++) {
        // A padding query attends only itself (its output is never used; this just avoids NaN).
        const ok = i < pad[b] ? j === i : j >= pad[b] && j <= i;
        m[row + j] = ok ? 0 : MASKED;
      }
    }
  }
  return m;
}
