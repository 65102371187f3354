/**
 * The few tensor operations the tiny policy is made of, each a small named function.
 *
 * `attention`, `tokenLogProbs`, `linearBias`, `layerNorm` and `quickGelu` run as fused kernels
 * where kernels/ registered them for the active backend (wasm after `registerWasmKernels()`),
 * and as the same math in stock tfjs ops elsewhere.
 *
 * Speed notes for tfjs-wasm (docs ENGINE-NOTES.md): the stock matMul is fast only when 2-D with
 * no transpose flags, but kernels/ replaces BatchMatMul with a SIMD GEMM that reads transposed
 * operands in place, so backward passes use matMul's transpose flags rather than explicit
 * `transpose()` copies (measured: the step's Transpose time fell from 71 to 4.5 ms while matMul
 * time rose 9 ms); the gradient of `gather` is missing on stock wasm, so differentiable lookups are
 * `oneHot · table`.
 */
import * as tf from '@tensorflow/tfjs';
import {
  embedSum,
  hasFusedEmbedSum,
  hasFusedLinearBias,
  forkKVRows,
  hasInPlaceKVWrite,
  transposeFlagsAreFast,
  writeKVColumns,
  fusedAttention,
  fusedTokenLogProbs,
  layerNorm as fusedLayerNorm,
  linearBias as fusedLinearBias,
  quickGelu as fusedQuickGelu,
} from '../../kernels/index.js';

/** Additive mask value for a forbidden key: finite so a fully masked row gives no NaN. */
export const MASKED = -1e9;

/**
 * `x · w` for 2-D `x` [N, in] and `w` [in, out], with a backward of two 2-D products
 * dx = dy · wᵀ, dw = xᵀ · dy: matMuls with transpose flags where those are fast (the SIMD
 * BatchMatMul of kernels/ reads the transposed operand in place), explicit `transpose()` copies
 * then plain products on stock wasm (whose flagged matMul is a scalar loop).
 */
export const linear = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      if (transposeFlagsAreFast()) return [tf.matMul(dy, ws, false, true), tf.matMul(xs, dy, true, false)];
      return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * `x · wᵀ` for `x` [N, in] and `w` [out, in] (the tied output head, `h · E_tokᵀ`) without
 * materialising wᵀ where transpose flags are fast: forward and backward are flagged matMuls.
 * On stock wasm it is `linear(x, transpose(w))`.
 */
export function linearTransposed(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return transposeFlagsAreFast() ? linearTransposedFlags(x, w) : linear(x, tf.transpose(w));
}

const linearTransposedFlags = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w, false, true),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      return [tf.matMul(dy, ws), tf.matMul(dy, xs, true, false)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * `x · w + bias (+ residual)` for `x` [N, in], `w` [in, out], `bias` [out], `residual` [N, out]:
 * one kernel (and a column-sum bias gradient) where fused, else `residual + (linear(x, w) + bias)`.
 */
export function linearBias(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D, residual?: tf.Tensor2D): tf.Tensor2D {
  if (hasFusedLinearBias()) return fusedLinearBias(x, w, bias, residual);
  const y = tf.add(linear(x, w), bias) as tf.Tensor2D;
  return residual ? tf.add(residual, y) : y;
}

/** Rows `ids` of `table` [V, d] as `oneHot(ids) · table`: differentiable on wasm (gather is not). */
export function embedRows(ids: tf.Tensor1D, table: tf.Tensor2D): tf.Tensor2D {
  const oneHot = tf.oneHot(ids, table.shape[0]).toFloat() as tf.Tensor2D;
  return linear(oneHot, table);
}

/**
 * Token plus position embeddings `tokTable[ids] + posTable[pos]` → [N, d]. One fused kernel
 * where registered (differentiable through UnsortedSegmentSum); elsewhere `oneHot · table`
 * when a gradient is needed (the stock wasm gather has none) and two gathers when not.
 */
export function embedTokens(
  tokTable: tf.Tensor2D,
  posTable: tf.Tensor2D,
  ids: tf.Tensor1D,
  pos: tf.Tensor1D,
  differentiable: boolean,
): tf.Tensor2D {
  if (hasFusedEmbedSum()) return embedSum(tokTable, posTable, ids, pos);
  return differentiable
    ? tf.add(embedRows(ids, tokTable), embedRows(pos, posTable))
    : tf.add(tf.gather(tokTable, ids), tf.gather(posTable, pos));
}

/** LayerNorm over the last axis of [N, d] with gain and bias [d]. */
export function layerNorm(x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, eps = 1e-5): tf.Tensor2D {
  return fusedLayerNorm(x, gain, bias, eps);
}

/** Quick-GELU `x · σ(1.702 x)`: tanh is ~10x slower than sigmoid on wasm. */
export function quickGelu<T extends tf.Tensor>(x: T): T {
  return fusedQuickGelu(x);
}

/**
 * Scaled dot-product attention.
 *
 * @param q [B, H, Tq, D]
 * @param k [B, H, Tk, D]
 * @param v [B, H, Tk, D]
 * @param mask additive [B, Tq, Tk]: 0 where query may attend the key, `MASKED` where not
 * @returns [B, H, Tq, D]
 */
export function attention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor3D): tf.Tensor4D {
  // The fused kernel when registered for the active backend (wasm, after registerWasmKernels()),
  // else the same math composed from stock ops: softmax(q·kᵀ/√D + mask)·v.
  return fusedAttention(q, k, v, mask);
}

/**
 * Log-probability of each target token and the entropy of each row's distribution.
 *
 * @param logits [N, V]
 * @param targets [N] int32 token ids
 * @returns `logp` [N] = log softmax(logits)[n, targets[n]], `entropy` [N] = −Σ p log p
 */
export function tokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): { logp: tf.Tensor1D; entropy: tf.Tensor1D } {
  // Fused on wasm (no [N, V] log-probs or one-hots materialised), composed stock ops elsewhere.
  return fusedTokenLogProbs(logits, targets);
}

/**
 * True where a decoding step can write a preallocated key/value cache in place (wasm with the
 * kernels registered): the sampler then preallocates its caches and passes `pastLength` to `run`
 * instead of growing them with a concat per step.
 */
export function canWriteCacheInPlace(): boolean {
  return hasInPlaceKVWrite();
}

export { forkKVRows, writeKVColumns };
