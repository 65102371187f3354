/**
 * The clipped surrogate of `ppoClipLoss` (src/core/loss.ts) on tensors, for training:
 * `loss = Σ_c w_c · max(−A_c·ρ_c, −A_c·clip(ρ_c, 1 − ε_low, 1 + ε_high))`, `ρ = exp(logp − oldLogp)`,
 * with the per-token weights `w` of the chosen aggregation (`aggregationWeights`).
 */
import * as tf from '@tensorflow/tfjs';

export function clippedSurrogateLoss(
  logp: tf.Tensor1D,
  oldLogp: tf.Tensor1D,
  advantages: tf.Tensor1D,
  weights: tf.Tensor1D,
  clipLow: number,
  clipHigh: number,
): tf.Scalar {
  return tf.tidy(() => {
    const ratio = tf.exp(tf.sub(logp, oldLogp));
    const negAdv = tf.neg(advantages);
    const unclipped = tf.mul(negAdv, ratio);
    const clipped = tf.mul(negAdv, tf.clipByValue(ratio, 1 - clipLow, 1 + clipHigh));
    return tf.sum(tf.mul(weights, tf.maximum(unclipped, clipped))) as tf.Scalar;
  });
}
