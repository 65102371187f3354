/**
 * The clipped PPO surrogate (ANYTIME.md §6) on padded `[B, T]` tensors, differentiable in
 * `logp`. Same definition as core `ppoClipLoss` (src/core/loss.ts), the reference it is
 * tested against, including which branch gets the gradient at ties.
 *
 * Masked positions (mask 0: prompt, forcing tokens, padding) never reach the loss, whatever
 * their values: the log-ratio and advantage are zeroed there before `exp`, so padding
 * holding -Infinity or garbage cannot turn into NaN.
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../core/errors.js';
import { LOSS_AGGREGATIONS, resolveClipOptions, type PpoClipOptions } from '../core/loss.js';

/** A `[B, T]` input: a tensor on the backend, or plain rows of equal length. */
export type Rows2D = tf.Tensor2D | number[][];

function as2D(argument: string, x: Rows2D, shape?: [number, number]): tf.Tensor2D {
  let t: tf.Tensor2D;
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) fail(argument, `must be a rank-2 tensor [B, T], got shape [${x.shape.join(', ')}]`);
    t = x;
  } else {
    if (!Array.isArray(x) || x.length === 0 || !Array.isArray(x[0])) fail(argument, 'must be a rank-2 tensor or a non-empty number[][]');
    const T = x[0].length;
    x.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== T) fail(argument, `is ragged: row 0 has ${T} entries but row ${i} has ${row?.length} (pad rows and mask the padding)`);
    });
    t = tf.tensor2d(x, [x.length, T], 'float32');
  }
  if (shape && (t.shape[0] !== shape[0] || t.shape[1] !== shape[1])) {
    fail(argument, `must have shape [${shape.join(', ')}] like logp, got [${t.shape.join(', ')}]`);
  }
  return t;
}

/** Core's option checks, plus an explicit normLength (core checks its default, the longest row, too). */
function checkOptions(opts: PpoClipOptions): { clipLow: number; clipHigh: number } {
  const { clipLow, clipHigh } = resolveClipOptions(opts);
  if (opts.normLength !== undefined && !(opts.normLength > 0)) fail('normLength', `must be > 0, got ${String(opts.normLength)}`);
  return { clipLow, clipHigh };
}

/**
 * Masked per-token pieces of the surrogate shared by the loss and its diagnostics: the log-ratio
 * and advantage zeroed off the mask (so garbage there never reaches `exp`), ρ, and the unclipped
 * and clipped terms −A·ρ and −A·clip(ρ, 1 − ε_low, 1 + ε_high).
 */
function surrogateTerms(logp: Rows2D, oldLogp: Rows2D, advantages: Rows2D, mask: Rows2D, clipLow: number, clipHigh: number) {
  const lp = as2D('logp', logp);
  const shape = lp.shape as [number, number];
  const m = as2D('mask', mask, shape);
  const logRatio = tf.mul(tf.sub(lp, as2D('oldLogp', oldLogp, shape)), m);
  const adv = tf.mul(as2D('advantages', advantages, shape), m);
  const rho = tf.exp(logRatio);
  const negAdv = tf.neg(adv);
  const unclipped = tf.mul(negAdv, rho);
  const clipped = tf.mul(negAdv, tf.clipByValue(rho, 1 - clipLow, 1 + clipHigh));
  return { m, logRatio, adv, negAdv, rho, unclipped, clipped };
}

/**
 * Per-row token weights `w_b` of the aggregate `Σ_b w_b Σ_t ℓ_{b,t}` (core
 * `aggregationWeights` on tensors): `token-mean` 1/Σn; `seq-mean-token-mean`
 * 1/(n_b · rows with tokens); `seq-mean-token-sum` 1/B; `seq-mean-token-sum-norm`
 * 1/(B · normLength), normLength defaulting to T (the reference's longest row when its
 * rows are the padded rows). Rows without trainable tokens weigh 0 where it matters.
 */
function rowWeights(mask: tf.Tensor2D, opts: PpoClipOptions): tf.Tensor1D {
  const [B, T] = mask.shape;
  const aggregation = opts.aggregation ?? 'token-mean';
  const counts = tf.sum(mask, 1) as tf.Tensor1D;
  switch (aggregation) {
    case 'token-mean':
      return tf.mul(tf.onesLike(counts), tf.divNoNan(1, tf.sum(counts)));
    case 'seq-mean-token-mean': {
      const rows = tf.sum(tf.sign(counts)); // counts ≥ 0, so sign is 1 exactly for rows with tokens
      return tf.divNoNan(tf.onesLike(counts), tf.mul(counts, rows));
    }
    case 'seq-mean-token-sum':
      return tf.fill([B], 1 / B) as tf.Tensor1D;
    case 'seq-mean-token-sum-norm':
      return tf.fill([B], 1 / (B * (opts.normLength ?? T))) as tf.Tensor1D;
  }
  return fail('aggregation', `must be one of ${LOSS_AGGREGATIONS.join(', ')}, got '${String(aggregation)}'`);
}

/**
 * The aggregated clipped surrogate, a scalar differentiable in `logp` (use it inside
 * `tf.variableGrads` / `optimizer.minimize`). Per token, `ρ = exp(logp − oldLogp)`:
 * `ℓ = max(−A·ρ, −A·clip(ρ, 1 − ε_low, 1 + ε_high))`, with dual clip `min(ℓ, −A·c)` for `A < 0`;
 * then aggregated over mask-1 tokens as `opts.aggregation` says (see core `ppoClipLoss`).
 * @param logp `[B, T]` log-probs of the taken tokens under the current policy
 * @param oldLogp `[B, T]` the same under the policy that sampled them
 * @param advantages `[B, T]` per-token advantages
 * @param mask `[B, T]` 1 on trainable tokens, 0 elsewhere
 */
export function ppoClipLossTensor(logp: tf.Tensor2D, oldLogp: Rows2D, advantages: Rows2D, mask: Rows2D, opts: PpoClipOptions = {}): tf.Scalar {
  const { clipLow, clipHigh } = checkOptions(opts);
  return tf.tidy(() => {
    const { m, adv, negAdv, unclipped, clipped } = surrogateTerms(logp, oldLogp, advantages, mask, clipLow, clipHigh);
    // maximum's gradient goes to its first argument on ties, so the unclipped term keeps
    // the gradient unless the clipped one is strictly larger, as in the reference.
    let perToken: tf.Tensor = tf.maximum(unclipped, clipped);
    if (opts.dualClip !== undefined) {
      // The condition depends on the advantages only, so no gradient flows through `less`.
      perToken = tf.where(tf.less(adv, 0), tf.minimum(perToken, tf.mul(negAdv, opts.dualClip)), perToken);
    }
    const w = tf.expandDims(rowWeights(m, opts), 1);
    return tf.sum(tf.mul(tf.mul(perToken, m), w)) as tf.Scalar;
  });
}

export interface PpoClipStats {
  /** Fraction of trainable tokens where the clipped term was active. */
  clipFraction: number;
  /** Fraction of trainable tokens (A < 0) where the dual clip was active. */
  dualClipFraction: number;
  /** Mean over trainable tokens of `(ρ − 1) − log ρ` (Schulman's k3, ≥ 0). */
  approxKl: number;
  /** Mean ratio `ρ` over trainable tokens. */
  meanRatio: number;
  /** Number of trainable tokens. */
  tokens: number;
}

/**
 * The diagnostics of core `ppoClipLoss` (`stats`) for the same inputs, computed on the
 * backend and read back (hence async). Not differentiable; call it outside the gradient.
 */
export async function ppoClipStatsTensor(
  logp: Rows2D,
  oldLogp: Rows2D,
  advantages: Rows2D,
  mask: Rows2D,
  opts: PpoClipOptions = {},
): Promise<PpoClipStats> {
  const { clipLow, clipHigh } = checkOptions(opts);
  const sums = tf.tidy(() => {
    const { m, logRatio, adv, negAdv, rho, unclipped, clipped } = surrogateTerms(logp, oldLogp, advantages, mask, clipLow, clipHigh);
    const isClipped = tf.cast(tf.greater(clipped, unclipped), 'float32');
    let dual: tf.Tensor = tf.zerosLike(m);
    if (opts.dualClip !== undefined) {
      const l = tf.maximum(unclipped, clipped);
      dual = tf.cast(tf.logicalAnd(tf.less(adv, 0), tf.greater(l, tf.mul(negAdv, opts.dualClip))), 'float32');
    }
    const kl = tf.sub(tf.sub(rho, 1), logRatio);
    const masked = (x: tf.Tensor) => tf.sum(tf.mul(x, m));
    return tf.stack([masked(isClipped), masked(dual), masked(kl), masked(rho), tf.sum(m)]);
  });
  const [clipped, dualClipped, kl, ratio, tokens] = Array.from(await sums.data());
  sums.dispose();
  const per = (x: number) => (tokens > 0 ? x / tokens : 0);
  return {
    clipFraction: per(clipped),
    dualClipFraction: per(dualClipped),
    approxKl: per(kl),
    meanRatio: per(ratio),
    tokens: Math.round(tokens),
  };
}
