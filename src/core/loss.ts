/**
 * The clipped policy-gradient surrogate (ANYTIME.md §6), with its gradient, as plain math.
 *
 * Inputs are rows of per-token values, one row per sequence (rows may differ in length, but the
 * four inputs must agree row by row). The tensor version used for training is tested against this.
 */
import { checkOneOf, fail } from './errors.js';

export const LOSS_AGGREGATIONS = ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', 'seq-mean-token-sum-norm'] as const;
export type LossAggregation = (typeof LOSS_AGGREGATIONS)[number];

export interface PpoClipOptions {
  /** Lower clip `ε_low`: ratios below `1 − ε_low` stop pushing (default 0.2). */
  clipLow?: number;
  /** Upper clip `ε_high` (clip-higher, DAPO; default = clipLow). */
  clipHigh?: number;
  /** Dual clip `c > 1` (Ye et al. 2020): for `A < 0` the loss is capped at `−A·c`. Off when undefined. */
  dualClip?: number;
  /** How per-token losses become one number (default `token-mean`). */
  aggregation?: LossAggregation;
  /** The constant of `seq-mean-token-sum-norm` (default: the longest row's length). */
  normLength?: number;
}

export interface PpoClipResult {
  /** The aggregated loss. */
  loss: number;
  /** `∂loss/∂logp`, same rows as the input. */
  grad: Float64Array[];
  stats: {
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
  };
}

type Rows = ArrayLike<number>[];

/**
 * Per token, with `ρ = exp(logp − oldLogp)`:
 *   `ℓ = max(−A·ρ, −A·clip(ρ, 1 − ε_low, 1 + ε_high))`, and with dual clip, for `A < 0`, `ℓ = min(ℓ, −A·c)`.
 * Aggregation over trainable tokens (mask = 1), `n_i` tokens in row i, B rows:
 * - `token-mean` (DAPO): `Σ_i Σ_t ℓ / Σ_i n_i`;
 * - `seq-mean-token-mean` (original GRPO): mean over rows with tokens of `Σ_t ℓ / n_i`;
 * - `seq-mean-token-sum`: mean over rows of `Σ_t ℓ`;
 * - `seq-mean-token-sum-norm` (Dr. GRPO; the paper's "sum divided by a constant"):
 *   `Σ_i Σ_t ℓ / (B · normLength)`.
 * The gradient flows through `ρ` only where the unclipped term is the active one.
 */
export function ppoClipLoss(logp: Rows, oldLogp: Rows, adv: Rows, mask: Rows, opts: PpoClipOptions = {}): PpoClipResult {
  const { clipLow, clipHigh, aggregation } = resolveClipOptions(opts);
  if (!Array.isArray(logp) || logp.length === 0) fail('logp', 'must be a non-empty array of rows');
  const B = logp.length;
  for (const [name, rows] of [['oldLogp', oldLogp], ['adv', adv], ['mask', mask]] as const) {
    if (!Array.isArray(rows) || rows.length !== B) fail(name, `must have ${B} rows like logp, got ${Array.isArray(rows) ? rows.length : typeof rows}`);
  }
  let maxLen = 0;
  for (let i = 0; i < B; i++) {
    const n = logp[i].length;
    maxLen = Math.max(maxLen, n);
    for (const [name, rows] of [['oldLogp', oldLogp], ['adv', adv], ['mask', mask]] as const) {
      if (rows[i].length !== n) fail(name, `row ${i} has ${rows[i].length} entries but logp row ${i} has ${n}`);
    }
    for (let t = 0; t < n; t++) {
      if (mask[i][t] !== 0 && mask[i][t] !== 1) fail('mask', `[${i}][${t}] must be 0 or 1, got ${String(mask[i][t])}`);
      if (!mask[i][t]) continue;
      for (const [name, rows] of [['logp', logp], ['oldLogp', oldLogp], ['adv', adv]] as const) {
        if (!Number.isFinite(rows[i][t])) fail(name, `[${i}][${t}] must be finite on trainable tokens, got ${String(rows[i][t])}`);
      }
    }
  }
  const normLength = opts.normLength ?? maxLen;
  if (!(normLength > 0)) fail('normLength', `must be > 0, got ${String(normLength)}`);

  // Per-row token counts decide each token's weight in the aggregate.
  const counts = mask.map((row) => {
    let n = 0;
    for (let t = 0; t < row.length; t++) n += row[t];
    return n;
  });
  const total = counts.reduce((a, b) => a + b, 0);
  const rowWeights = aggregationWeights(counts, aggregation, normLength);
  const weight = (i: number): number => rowWeights[i];

  let loss = 0;
  let clipped = 0;
  let dualClipped = 0;
  let kl = 0;
  let ratioSum = 0;
  const grad = logp.map((row) => new Float64Array(row.length));
  for (let i = 0; i < B; i++) {
    const w = weight(i);
    for (let t = 0; t < logp[i].length; t++) {
      if (!mask[i][t]) continue;
      const A = adv[i][t];
      const logRatio = logp[i][t] - oldLogp[i][t];
      const rho = Math.exp(logRatio);
      const rhoClipped = Math.min(Math.max(rho, 1 - clipLow), 1 + clipHigh);
      const unclipped = -A * rho;
      const clippedTerm = -A * rhoClipped;
      let l: number;
      // d ℓ / d logp = −A·ρ when the unclipped term is active, else 0 (clip and dual clip are constants).
      let dl: number;
      if (clippedTerm > unclipped) {
        l = clippedTerm;
        dl = 0;
        clipped++;
      } else {
        l = unclipped;
        dl = -A * rho;
      }
      if (opts.dualClip !== undefined && A < 0 && l > -A * opts.dualClip) {
        l = -A * opts.dualClip;
        dl = 0;
        dualClipped++;
      }
      loss += w * l;
      grad[i][t] = w * dl;
      kl += rho - 1 - logRatio;
      ratioSum += rho;
    }
  }
  return {
    loss,
    grad,
    stats: {
      clipFraction: total > 0 ? clipped / total : 0,
      dualClipFraction: total > 0 ? dualClipped / total : 0,
      approxKl: total > 0 ? kl / total : 0,
      meanRatio: total > 0 ? ratioSum / total : 0,
      tokens: total,
    },
  };
}

/**
 * The clip range and aggregation of `opts` with their defaults (clipLow 0.2, clipHigh = clipLow,
 * 'token-mean'), each checked, and the dual clip checked when set. Shared with the tensor loss
 * (src/tensor/loss.ts), so both reject the same options with the same messages.
 */
export function resolveClipOptions(opts: PpoClipOptions): { clipLow: number; clipHigh: number; aggregation: LossAggregation } {
  const { clipLow = 0.2, aggregation = 'token-mean' } = opts;
  const clipHigh = opts.clipHigh ?? clipLow;
  checkOneOf('aggregation', aggregation, LOSS_AGGREGATIONS);
  if (!(clipLow >= 0 && clipLow < 1)) fail('clipLow', `must be in [0, 1), got ${String(clipLow)}`);
  if (!(clipHigh >= 0 && Number.isFinite(clipHigh))) fail('clipHigh', `must be a finite number ≥ 0, got ${String(clipHigh)}`);
  if (opts.dualClip !== undefined && !(opts.dualClip > 1 && Number.isFinite(opts.dualClip))) {
    fail('dualClip', `must be a finite number > 1 (or undefined to disable), got ${String(opts.dualClip)}`);
  }
  return { clipLow, clipHigh, aggregation };
}

/**
 * The weight of each trainable token of row `i` in the aggregate, given the rows' trainable-token
 * counts: the aggregate is `Σ_i w_i Σ_t ℓ_{i,t}`. Shared by `ppoClipLoss` and the tensor loss so
 * both aggregate identically.
 */
export function aggregationWeights(counts: number[], aggregation: LossAggregation, normLength: number): number[] {
  checkOneOf('aggregation', aggregation, LOSS_AGGREGATIONS);
  const B = counts.length;
  const total = counts.reduce((a, b) => a + b, 0);
  const rowsWithTokens = counts.filter((n) => n > 0).length;
  return counts.map((n) => {
    switch (aggregation) {
      case 'token-mean':
        return total > 0 ? 1 / total : 0;
      case 'seq-mean-token-mean':
        return n > 0 ? 1 / (n * rowsWithTokens) : 0;
      case 'seq-mean-token-sum':
        return 1 / B;
      case 'seq-mean-token-sum-norm':
        return 1 / (B * normLength);
    }
  });
}
