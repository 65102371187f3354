/**
 * Returns and advantage estimators (ANYTIME.md §3–§5), as pure functions over plain arrays.
 *
 * Shapes: `G` traces of one question, `S` budgets (segments), `A` summaries per budget.
 * `scores[g][s]` is `r̄[g, s]`, the mean score of the summaries of trace `g` at budget `b_{s+1}`.
 * Each thinking baseline is registered by name (`THINKING_BASELINES`), as in verl's core_algos.
 */
import { checkMatrix, checkOneOf, checkFinite, fail } from './errors.js';
import { checkBudgets, checkProbs } from './budget.js';

export type Matrix = number[][];

/**
 * Dense return-to-go (§3): `R[g, s] = Σ_{k ≥ s} p_k · r̄[g, k]`.
 * Every thinking token of segment `s` is credited with the prior-weighted reward of every
 * budget it contributes to.
 */
export function budgetReturns(scores: Matrix, probs: number[]): Matrix {
  const [, S] = checkMatrix('scores', scores);
  checkProbs(probs, S);
  return scores.map((row) => {
    const R = new Array<number>(S);
    let acc = 0;
    for (let s = S - 1; s >= 0; s--) {
      acc += probs[s] * row[s];
      R[s] = acc;
    }
    return R;
  });
}

/**
 * `V2[s] = (1/G) Σ_{g'} R[g', s]` (Eq. 8, group mean including g itself). With `G = 1` it is
 * 0, as in the authors' code: a group of one has no peers to compare against.
 */
export function groupMeanValue(R: Matrix): number[] {
  const G = R.length;
  const S = R[0].length;
  const V2 = new Array<number>(S).fill(0);
  if (G === 1) return V2;
  for (const row of R) for (let s = 0; s < S; s++) V2[s] += row[s] / G;
  return V2;
}

/**
 * `V1[g, s] = (Σ_{k<s} d^k · r̄[g,k] / Σ_{k<s} d^k) · Σ_{k≥s} p_k` (Eq. 7), `V1[g, 0] = 0`: the
 * trace's own progress so far, a discounted mean of its earlier budget scores (d = 2: recent
 * budgets weigh more, λ = 1/2 per step back), scaled by the prior mass still ahead.
 */
export function ownProgressValue(scores: Matrix, probs: number[], discount = 2): Matrix {
  const S = probs.length;
  const massAhead = new Array<number>(S);
  let acc = 0;
  for (let s = S - 1; s >= 0; s--) {
    acc += probs[s];
    massAhead[s] = acc;
  }
  return scores.map((row) => {
    const V1 = new Array<number>(S).fill(0);
    let num = 0;
    let den = 0;
    for (let s = 1; s < S; s++) {
      const w = Math.pow(discount, s - 1);
      num += w * row[s - 1];
      den += w;
      V1[s] = (num / den) * massAhead[s];
    }
    return V1;
  });
}

/** A thinking baseline `V[g, s]` from returns, scores and the prior. */
export type ThinkingBaseline = (R: Matrix, scores: Matrix, probs: number[], discount: number) => Matrix;

/**
 * Registered thinking baselines:
 * - `brpo` (Eq. 9): `V = (s · V1 + (S − s) · V2) / S` — own progress weighs more late in a trace;
 * - `group-mean` (`v2only`, GRPO's baseline): `V = V2`;
 * - `own-progress` (`v1only`): `V = V1`;
 * - `none`: `V = 0`.
 */
export const THINKING_BASELINES: Record<string, ThinkingBaseline> = {
  brpo: (R, scores, probs, discount) => {
    const S = probs.length;
    const V2 = groupMeanValue(R);
    const V1 = ownProgressValue(scores, probs, discount);
    return V1.map((row) => row.map((v1, s) => (s * v1 + (S - s) * V2[s]) / S));
  },
  'group-mean': (R) => {
    const V2 = groupMeanValue(R);
    return R.map(() => [...V2]);
  },
  'own-progress': (_R, scores, probs, discount) => ownProgressValue(scores, probs, discount),
  none: (R) => R.map((row) => row.map(() => 0)),
};

/** Adds a baseline under a new name (e.g. for an experiment); refuses to overwrite silently. */
export function registerThinkingBaseline(name: string, fn: ThinkingBaseline, opts: { replace?: boolean } = {}): void {
  if (THINKING_BASELINES[name] && !opts.replace) fail('name', `baseline '${name}' is already registered; pass { replace: true }`);
  THINKING_BASELINES[name] = fn;
}

export type BaselineName = 'brpo' | 'group-mean' | 'own-progress' | 'none';

export interface ThinkingAdvantageOptions {
  /** Which `V` to subtract (default `brpo`). */
  baseline?: BaselineName | (string & {});
  /** Weight base `d` of the own-progress mean, `d^k` for budget k (default 2, the paper's). */
  discount?: number;
}

/** `R[g,s]` and the chosen baseline `V[g,s]`: what `thinkingAdvantages` subtracts. */
export function thinkingValues(scores: Matrix, probs: number[], opts: ThinkingAdvantageOptions = {}): { R: Matrix; V: Matrix } {
  const { baseline = 'brpo', discount = 2 } = opts;
  const fn = THINKING_BASELINES[baseline];
  if (!fn) fail('baseline', `must be one of ${Object.keys(THINKING_BASELINES).map((k) => `'${k}'`).join(', ')}, got '${baseline}'`);
  checkFinite('discount', discount);
  if (discount <= 0) fail('discount', `must be > 0, got ${discount}`);
  const R = budgetReturns(scores, probs);
  return { R, V: fn(R, scores, probs, discount) };
}

/**
 * Thinking advantages `A_think[g, s] = R[g, s] − V[g, s]` (Eq. 9 with §3's return), no division
 * by a standard deviation. With `S = 1` and the base prior, BRPO gives `r − mean_G(r)` (Dr. GRPO).
 */
export function thinkingAdvantages(scores: Matrix, probs: number[], opts: ThinkingAdvantageOptions = {}): Matrix {
  const { R, V } = thinkingValues(scores, probs, opts);
  return R.map((row, g) => row.map((r, s) => r - V[g][s]));
}

export const SUMMARY_MODES = ['all-budgets', 'final-only'] as const;
export type SummaryMode = (typeof SUMMARY_MODES)[number];

export interface SummaryAdvantageOptions {
  /**
   * `all-budgets` (AnytimeReasoner's decoupled summary optimisation): every summary is trained,
   * baseline = mean of the summaries sharing its prefix (A > 1), or, with A = 1, the mean over the
   * G traces' summaries at that budget. `final-only` (GRPO): only the summary
   * at the last budget trains, baseline = mean over the group's traces at that budget.
   */
  mode?: SummaryMode;
  /**
   * `lastSegment[g]`: the first budget whose prefix is trace g's whole trace (`CutPlan.lastSegment`).
   * Budgets from there on share one merged prefix: their summaries are the same ones, reused, so
   * `scores[g][s]` for `s > lastSegment[g]` must repeat `scores[g][lastSegment[g]]`, and only the
   * entries at `lastSegment[g]` are trainable (a summary is never trained twice).
   * Omitted: every budget has its own prefix.
   */
  lastSegment?: number[];
}

export interface SummaryAdvantages {
  /** `[G][S][A]`; 0 where not trainable. */
  advantages: number[][][];
  /** `[G][S][A]`: whether that summary goes into the loss. */
  trainable: boolean[][][];
}

/**
 * Summary advantages (§5). `all-budgets`: `A_sum = score − mean(scores sharing the prefix)` when
 * A > 1; with A = 1 the baseline is the mean over the group's G traces at that budget (as in
 * `final-only`, and as the authors' `compute_summary_advantage` checks `A == 1` first). `final-only`: `A_sum = score − mean of all
 * summaries of the group's G traces at the final budget`, other budgets untrained.
 */
export function summaryAdvantages(scores: number[][][], opts: SummaryAdvantageOptions = {}): SummaryAdvantages {
  const { mode = 'all-budgets', lastSegment } = opts;
  checkOneOf('mode', mode, SUMMARY_MODES);
  const [G, S, A] = checkTensor3('scores', scores);
  if (lastSegment !== undefined) {
    if (!Array.isArray(lastSegment) || lastSegment.length !== G) {
      fail('lastSegment', `must have one entry per trace (${G}), got ${Array.isArray(lastSegment) ? lastSegment.length : typeof lastSegment}`);
    }
    lastSegment.forEach((l, g) => {
      if (!Number.isInteger(l) || l < 0 || l >= S) fail('lastSegment', `[${g}] must be an integer in [0, ${S - 1}], got ${String(l)}`);
    });
    lastSegment.forEach((l, g) => {
      for (let s = l + 1; s < S; s++) {
        for (let a = 0; a < A; a++) {
          if (scores[g][s][a] !== scores[g][l][a]) {
            fail('scores', `[${g}][${s}] lies past lastSegment[${g}] = ${l} (a merged prefix) and must repeat scores[${g}][${l}]`);
          }
        }
      }
    });
  }
  const advantages = scores.map((row) => row.map((cell) => cell.map(() => 0)));
  const trainable = scores.map((row) => row.map((cell) => cell.map(() => false)));
  if (mode === 'final-only') {
    let sum = 0;
    for (let g = 0; g < G; g++) for (let a = 0; a < A; a++) sum += scores[g][S - 1][a];
    const mean = sum / (G * A);
    for (let g = 0; g < G; g++) {
      for (let a = 0; a < A; a++) {
        advantages[g][S - 1][a] = scores[g][S - 1][a] - mean;
        trainable[g][S - 1][a] = true;
      }
    }
    return { advantages, trainable };
  }
  // With A = 1 a prefix holds one summary, so the baseline at budget s is the mean over the G
  // traces' summaries at s (merged prefixes count with their repeated score), as the authors'
  // compute_summary_advantage does: it tests A == 1 before taking the per-prefix mean.
  const budgetMean = (s: number) => {
    let sum = 0;
    for (let g = 0; g < G; g++) sum += scores[g][s][0];
    return sum / G;
  };
  for (let g = 0; g < G; g++) {
    const last = lastSegment ? lastSegment[g] : S - 1;
    for (let s = 0; s <= last; s++) {
      const cell = scores[g][s];
      const baseline = A > 1 ? cell.reduce((x, y) => x + y, 0) / A : budgetMean(s);
      for (let a = 0; a < A; a++) {
        advantages[g][s][a] = cell[a] - baseline;
        trainable[g][s][a] = true;
      }
    }
  }
  return { advantages, trainable };
}

function checkTensor3(argument: string, t: number[][][]): [number, number, number] {
  if (!Array.isArray(t) || t.length === 0) fail(argument, 'must be a non-empty array [G][S][A]');
  const S = Array.isArray(t[0]) ? t[0].length : 0;
  const A = S > 0 && Array.isArray(t[0][0]) ? t[0][0].length : 0;
  if (S === 0 || A === 0) fail(argument, `must have shape [G][S][A] with S, A ≥ 1, got S = ${S}, A = ${A}`);
  t.forEach((row, g) => {
    if (!Array.isArray(row) || row.length !== S) fail(argument, `is ragged: [0] has ${S} budgets but [${g}] has ${row?.length}`);
    row.forEach((cell, s) => {
      if (!Array.isArray(cell) || cell.length !== A) fail(argument, `is ragged: [0][0] has ${A} summaries but [${g}][${s}] has ${cell?.length}`);
      cell.forEach((v, a) => {
        if (!Number.isFinite(v)) fail(argument, `[${g}][${s}][${a}] must be finite, got ${String(v)}`);
      });
    });
  });
  return [t.length, S, A];
}

export interface TokenAdvantages {
  /** Advantage of each position (0 where not trained). */
  advantages: Float32Array;
  /** 1 where the position is a trainable thinking token. */
  mask: Uint8Array;
}

/**
 * Scatters segment advantages to thinking-token positions (§3). Thinking token `t` (0-based)
 * belongs to segment `s` when `floor(b_{s−1}) ≤ t < floor(b_s)` (`b_{−1} = 0`); every token of a
 * segment, the trace's own end-of-thinking token included, gets `segmentAdvantages[s]`. Segments
 * the trace never reached have no tokens and train nothing; tokens past `b_m` train nothing.
 *
 * `offset` places the thinking tokens inside a longer sequence of `sequenceLength` positions
 * (prompt before, forcing suffix and summaries after); the other positions are masked out —
 * forcing tokens never train.
 */
export function tokenAdvantages(
  segmentAdvantages: number[],
  traceLength: number,
  budgets: number[],
  opts: { offset?: number; sequenceLength?: number } = {},
): TokenAdvantages {
  checkBudgets(budgets);
  if (!Array.isArray(segmentAdvantages) || segmentAdvantages.length !== budgets.length) {
    fail('segmentAdvantages', `must have one advantage per budget (${budgets.length}), got ${segmentAdvantages?.length}`);
  }
  segmentAdvantages.forEach((a, s) => {
    if (!Number.isFinite(a)) fail('segmentAdvantages', `[${s}] must be finite, got ${String(a)}`);
  });
  if (!Number.isInteger(traceLength) || traceLength < 0) fail('traceLength', `must be an integer ≥ 0, got ${String(traceLength)}`);
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) fail('offset', `must be an integer ≥ 0, got ${String(offset)}`);
  const length = opts.sequenceLength ?? offset + traceLength;
  if (!Number.isInteger(length) || length < offset + traceLength) {
    fail('sequenceLength', `must be an integer ≥ offset + traceLength (${offset + traceLength}), got ${String(length)}`);
  }
  const advantages = new Float32Array(length);
  const mask = new Uint8Array(length);
  let start = 0;
  for (let s = 0; s < budgets.length; s++) {
    const end = Math.min(Math.floor(budgets[s]), traceLength);
    for (let t = start; t < end; t++) {
      advantages[offset + t] = segmentAdvantages[s];
      mask[offset + t] = 1;
    }
    start = Math.max(start, end);
  }
  return { advantages, mask };
}

export interface GroupAdvantageOptions {
  /** `std`: divide by the group's standard deviation (GRPO); `none`: do not (Dr. GRPO). */
  normalize?: 'none' | 'std';
  /** Baseline = mean of the other G−1 rewards (RLOO) instead of the whole group's mean. */
  leaveOneOut?: boolean;
  /** Added to the standard deviation before dividing (default 1e-6). */
  epsilon?: number;
}

/**
 * Outcome advantages for a group of `G` rewards of one question:
 * - GRPO (Shao et al. 2024): `(r_i − mean(r)) / (std(r) + ε)`, `normalize: 'std'`, std with G−1;
 * - Dr. GRPO (Liu et al. 2025): `r_i − mean(r)`, the default;
 * - RLOO (Ahmadian et al. 2024): `r_i − mean_{j≠i}(r_j)`, `leaveOneOut: true` (needs G ≥ 2).
 */
export function groupAdvantages(rewards: number[], opts: GroupAdvantageOptions = {}): number[] {
  const { normalize = 'none', leaveOneOut = false, epsilon = 1e-6 } = opts;
  checkOneOf('normalize', normalize, ['none', 'std'] as const);
  if (!Array.isArray(rewards) || rewards.length === 0) fail('rewards', 'must be a non-empty array of numbers');
  rewards.forEach((r, i) => {
    if (!Number.isFinite(r)) fail('rewards', `[${i}] must be finite, got ${String(r)}`);
  });
  const G = rewards.length;
  if (leaveOneOut && G < 2) fail('rewards', `leaveOneOut needs at least 2 rewards, got ${G}`);
  const sum = rewards.reduce((a, b) => a + b, 0);
  const mean = sum / G;
  const centred = rewards.map((r) => (leaveOneOut ? r - (sum - r) / (G - 1) : r - mean));
  if (normalize === 'none') return centred;
  const variance = G > 1 ? rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / (G - 1) : 0;
  const scale = Math.sqrt(variance) + epsilon;
  return centred.map((a) => a / scale);
}
