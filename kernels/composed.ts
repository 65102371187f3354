/**
 * Reference versions of the fused ops written with stock tfjs ops (autodiff gives their
 * gradients). They define what the fused kernels must compute and are the baselines of the
 * parity tests and benchmarks; they also serve backends without the fused kernels.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Multi-head attention: softmax(q·kᵀ/√D + mask)·v, with q [B,H,Tq,D], k,v [B,H,Tk,D] and an
 * additive float mask [B,Tq,Tk] (or [1,Tq,Tk]) shared by the heads: 0 keeps a score, -1e9
 * removes it (causal, tree and KV-cache masks are all of this form). Returns [B,H,Tq,D].
 */
export function composedAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => {
    const scale = 1 / Math.sqrt(q.shape[3]);
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), scale), tf.expandDims(mask, 1));
    return tf.matMul(tf.softmax(scores), v) as tf.Tensor4D;
  });
}

/** Log-probability of each target token and the entropy of each row's distribution. */
export interface TokenLogProbs {
  /** log softmax(logits)[n, targets[n]], shape [N]. */
  logp: tf.Tensor1D;
  /** −Σ_v p·log p of softmax(logits)[n], shape [N]. */
  entropy: tf.Tensor1D;
}

/**
 * Token log-probabilities and entropies of logits [N,V] at int32 targets [N], via logSoftmax
 * and a one-hot mask (both [N,V] tensors, which the fused kernel avoids).
 */
export function composedTokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): TokenLogProbs {
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(logits);
    // int32 one-hot, then cast: tfjs-wasm 4.22's OneHot writes int bits into a float32
    // output when asked for dtype 'float32' (values come out as 1.4e-45).
    const oneHot = tf.cast(tf.oneHot(targets, logits.shape[1]), 'float32');
    const logp = tf.sum(tf.mul(logProbs, oneHot), -1) as tf.Tensor1D;
    const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logProbs), logProbs), -1)) as tf.Tensor1D;
    return { logp, entropy };
  });
}

/** x·w + bias (+ residual) for x [N,K], w [K,M], bias [M], residual [N,M] (autodiff: the bias gradient is a stock Sum). */
export function composedLinearBias(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D, residual?: tf.Tensor2D): tf.Tensor2D {
  const y = tf.add(tf.matMul(x, w), bias) as tf.Tensor2D;
  return residual ? tf.add(residual, y) : y;
}

// The dense-layer references below are plain op chains without their own tf.tidy (call them
// inside one, as the model does): they run once per layer per decoding step on backends without
// the fused kernels, where a scope per call measurably slowed sampling.

/** LayerNorm over the last axis of x [N,C]: (x − mean)/√(var + eps)·gain + bias (tf.moments). */
export function composedLayerNorm(x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gain), bias);
}

/** Quick-GELU x·σ(1.702x). */
export function composedQuickGelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
}

/** tokTable[ids] + posTable[posIds] by two gathers (differentiable where UnsortedSegmentSum exists). */
export function composedEmbedSum(tokTable: tf.Tensor2D, posTable: tf.Tensor2D, ids: tf.Tensor1D, posIds: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.gather(tokTable, ids), tf.gather(posTable, posIds));
}
