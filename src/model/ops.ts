/**
 * The few tensor operations the tiny policy is made of, each a small named function.
 *
 * `attention` and `tokenLogProbs` have exactly the signatures of the fused WASM/WebGPU kernels
 * in kernels/ (to be wired in later); here they are composed from stock tfjs ops.
 *
 * Speed notes for tfjs-wasm (docs ENGINE-NOTES.md): matMul is fast only when 2-D with no
 * transpose flags, and autodiff's backward uses the flags, so `linear` has a hand-written
 * gradient with explicit `transpose()` calls; the gradient of `gather` is missing on wasm, so
 * differentiable lookups are `oneHot · table`.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedAttention, fusedTokenLogProbs } from '../../kernels/index.js';

/** Additive mask value for a forbidden key: finite so a fully masked row gives no NaN. */
export const MASKED = -1e9;

/**
 * `x · w` for 2-D `x` [N, in] and `w` [in, out], with a backward made of plain 2-D matMuls
 * (dx = dy · wᵀ, dw = xᵀ · dy) so that XNNPACK runs them.
 */
export const linear = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** Rows `ids` of `table` [V, d] as `oneHot(ids) · table`: differentiable on wasm (gather is not). */
export function embedRows(ids: tf.Tensor1D, table: tf.Tensor2D): tf.Tensor2D {
  const oneHot = tf.oneHot(ids, table.shape[0]).toFloat() as tf.Tensor2D;
  return linear(oneHot, table);
}

/** LayerNorm over the last axis of [N, d] with gain and bias [d]. */
export function layerNorm(x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, eps = 1e-5): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gain), bias);
}

/** Quick-GELU `x · σ(1.702 x)`: tanh is ~10x slower than sigmoid on wasm. */
export function quickGelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
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
