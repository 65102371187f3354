/**
 * Returns and advantages (ANYTIME.md §3–§5) as TensorFlow.js functions, for batches that
 * already live on the backend. Same definitions as src/core/advantages.ts, which is the
 * reference they are tested against.
 *
 * Everything that depends only on the prior, the budgets or the trace lengths (plain
 * numbers on the host) is turned into small constant matrices here, so that each estimator
 * is one or two matMuls and elementwise ops: no cumsum, gather or scatter kernels, which
 * some backends lack. Shapes: `G` traces, `S` budgets (segments), `A` summaries per budget.
 *
 * Read results with `await t.data()` / `await t.array()` (`dataSync` fails on webgpu in Node).
 */
import * as tf from '@tensorflow/tfjs';
import { checkBudgets, checkProbs } from '../core/budget.js';
import { checkFinite, checkOneOf, fail } from '../core/errors.js';
import { SUMMARY_MODES, type SummaryMode } from '../core/advantages.js';

/** A [rows][cols] input: a tensor already on the backend, or plain numbers. */
export type Matrix2D = tf.Tensor2D | number[][];
/** A [G][S][A] input: a tensor or plain numbers. */
export type Matrix3D = tf.Tensor3D | number[][][];

/** Thinking baselines available on tensors (the built-in ones of `THINKING_BASELINES`). */
export const TENSOR_BASELINES = ['brpo', 'group-mean', 'own-progress', 'none'] as const;
export type TensorBaselineName = (typeof TENSOR_BASELINES)[number];

function as2D(argument: string, x: Matrix2D): tf.Tensor2D {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) fail(argument, `must be a rank-2 tensor [rows, cols], got shape [${x.shape.join(', ')}]`);
    return x;
  }
  if (!Array.isArray(x) || x.length === 0 || !Array.isArray(x[0]) || x[0].length === 0) {
    fail(argument, 'must be a rank-2 tensor or a non-empty number[][]');
  }
  const cols = x[0].length;
  x.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== cols) fail(argument, `is ragged: row 0 has ${cols} entries but row ${i} has ${row?.length}`);
  });
  return tf.tensor2d(x, [x.length, cols], 'float32');
}

function as3D(argument: string, x: Matrix3D): tf.Tensor3D {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 3) fail(argument, `must be a rank-3 tensor [G, S, A], got shape [${x.shape.join(', ')}]`);
    return x;
  }
  const G = Array.isArray(x) ? x.length : 0;
  const S = G > 0 && Array.isArray(x[0]) ? x[0].length : 0;
  const A = S > 0 && Array.isArray(x[0][0]) ? x[0][0].length : 0;
  if (G === 0 || S === 0 || A === 0) fail(argument, 'must be a rank-3 tensor or a non-empty number[G][S][A]');
  x.forEach((row, g) => {
    if (!Array.isArray(row) || row.length !== S) fail(argument, `is ragged: [0] has ${S} budgets but [${g}] has ${row?.length}`);
    row.forEach((cell, s) => {
      if (!Array.isArray(cell) || cell.length !== A) fail(argument, `is ragged: [0][0] has ${A} summaries but [${g}][${s}] has ${cell?.length}`);
    });
  });
  return tf.tensor3d(x, [G, S, A], 'float32');
}

/** `U[k, s] = 1` when `k ≥ s`: `X · U` sums each row from column s to the end. */
function suffixSumMatrix(S: number): tf.Tensor2D {
  const u = new Float32Array(S * S);
  for (let k = 0; k < S; k++) for (let s = 0; s <= k; s++) u[k * S + s] = 1;
  return tf.tensor2d(u, [S, S]);
}

/**
 * Dense return-to-go `R[g, s] = Σ_{k ≥ s} p_k · r̄[g, k]` (see core `budgetReturns`).
 * @param scores `[G, S]` mean summary score of each trace at each budget
 * @param probs the prior `p` over the S budgets (sums to 1)
 */
export function budgetReturnsTensor(scores: Matrix2D, probs: number[]): tf.Tensor2D {
  return tf.tidy(() => {
    const r = as2D('scores', scores);
    checkProbs(probs, r.shape[1]);
    return tf.matMul(tf.mul(r, tf.tensor1d(probs)), suffixSumMatrix(probs.length));
  });
}

/**
 * `M[k, s]` such that `V1 = scores · M` (core `ownProgressValue`):
 * `V1[g, s] = Σ_{k<s} d^k · r̄[g, k] / Σ_{k<s} d^k · Σ_{k≥s} p_k`, and `V1[g, 0] = 0`.
 */
function ownProgressMatrix(probs: number[], discount: number): Float32Array {
  const S = probs.length;
  const m = new Float32Array(S * S);
  for (let s = 1; s < S; s++) {
    let den = 0;
    for (let k = 0; k < s; k++) den += Math.pow(discount, k);
    let massAhead = 0;
    for (let k = s; k < S; k++) massAhead += probs[k];
    for (let k = 0; k < s; k++) m[k * S + s] = (Math.pow(discount, k) / den) * massAhead;
  }
  return m;
}

export interface TensorThinkingOptions {
  /** Which `V` to subtract (default `brpo`): one of TENSOR_BASELINES. */
  baseline?: TensorBaselineName;
  /** Weight base `d` of the own-progress mean (default 2, the paper's). */
  discount?: number;
}

/**
 * The baseline `V[g, s]` of `thinkingAdvantagesTensor` (core `thinkingValues(...).V`):
 * `brpo` `(s·V1 + (S−s)·V2)/S`; `group-mean` `V2` (the mean of R over the G traces, 0 when
 * G = 1); `own-progress` `V1`; `none` 0.
 */
export function thinkingBaselineTensor(scores: Matrix2D, probs: number[], opts: TensorThinkingOptions = {}): tf.Tensor2D {
  const { baseline = 'brpo', discount = 2 } = opts;
  checkOneOf('baseline', baseline, TENSOR_BASELINES);
  checkFinite('discount', discount);
  if (discount <= 0) fail('discount', `must be > 0, got ${discount}`);
  return tf.tidy(() => {
    const r = as2D('scores', scores);
    const [G, S] = r.shape;
    checkProbs(probs, S);
    if (baseline === 'none') return tf.zeros([G, S]) as tf.Tensor2D;
    const groupMean = (): tf.Tensor2D => {
      if (G === 1) return tf.zeros([1, S]) as tf.Tensor2D; // a group of one has no peers
      return tf.mean(budgetReturnsTensor(r, probs), 0, true) as tf.Tensor2D;
    };
    const ownProgress = (): tf.Tensor2D => tf.matMul(r, tf.tensor2d(ownProgressMatrix(probs, discount), [S, S]));
    if (baseline === 'group-mean') return tf.tile(groupMean(), [G, 1]) as tf.Tensor2D;
    if (baseline === 'own-progress') return ownProgress();
    const s = tf.range(0, S, 1, 'float32');
    const wOwn = tf.div(s, S); // s / S
    const wGroup = tf.sub(1, wOwn); // (S − s) / S
    return tf.add(tf.mul(ownProgress(), wOwn), tf.mul(groupMean(), wGroup)) as tf.Tensor2D;
  });
}

/**
 * Thinking advantages `A_think[g, s] = R[g, s] − V[g, s]` (core `thinkingAdvantages`), no
 * division by a standard deviation.
 * @param scores `[G, S]` mean summary scores of the G traces of one question
 * @param probs prior over the S budgets
 */
export function thinkingAdvantagesTensor(scores: Matrix2D, probs: number[], opts: TensorThinkingOptions = {}): tf.Tensor2D {
  return tf.tidy(() => {
    const r = as2D('scores', scores);
    return tf.sub(budgetReturnsTensor(r, probs), thinkingBaselineTensor(r, probs, opts));
  });
}

export interface TensorSummaryOptions {
  /** `all-budgets` (decoupled, default) or `final-only` (GRPO); see core `summaryAdvantages`. */
  mode?: SummaryMode;
  /**
   * `lastSegment[g]`: the first budget whose prefix is trace g's whole trace; only budgets
   * up to it train (later ones reuse its summaries). Unlike the core function, the repeated
   * scores past it are not checked (that would need a read-back from the backend).
   */
  lastSegment?: number[];
}

/**
 * Summary advantages (core `summaryAdvantages`): `all-budgets` gives `score − mean over the A
 * summaries of the same prefix` (with A = 1: the mean over the G traces at that budget);
 * `final-only` trains only the last
 * budget, baseline = mean of all the group's summaries there.
 * @param scores `[G, S, A]` score of each summary
 * @returns `advantages` `[G, S, A]` (0 where not trainable) and `trainable` `[G, S, A]` (1/0)
 */
export function summaryAdvantagesTensor(
  scores: Matrix3D,
  opts: TensorSummaryOptions = {},
): { advantages: tf.Tensor3D; trainable: tf.Tensor3D } {
  const { mode = 'all-budgets', lastSegment } = opts;
  checkOneOf('mode', mode, SUMMARY_MODES);
  const result = tf.tidy(() => {
    const x = as3D('scores', scores);
    const [G, S, A] = x.shape;
    if (lastSegment !== undefined) {
      if (!Array.isArray(lastSegment) || lastSegment.length !== G) {
        fail('lastSegment', `must have one entry per trace (${G}), got ${Array.isArray(lastSegment) ? lastSegment.length : typeof lastSegment}`);
      }
      lastSegment.forEach((l, g) => {
        if (!Number.isInteger(l) || l < 0 || l >= S) fail('lastSegment', `[${g}] must be an integer in [0, ${S - 1}], got ${String(l)}`);
      });
    }
    const mask = new Float32Array(G * S);
    for (let g = 0; g < G; g++) {
      const from = mode === 'final-only' ? S - 1 : 0;
      const to = mode === 'final-only' ? S - 1 : lastSegment ? lastSegment[g] : S - 1;
      for (let s = from; s <= to; s++) mask[g * S + s] = 1;
    }
    const trainable = tf.tile(tf.tensor3d(mask, [G, S, 1]), [1, 1, A]) as tf.Tensor3D;
    let baseline: tf.Tensor;
    if (mode === 'final-only') {
      const last = tf.slice(x, [0, S - 1, 0], [G, 1, A]);
      baseline = tf.reshape(tf.mean(last), [1, 1, 1]);
    } else {
      // A = 1: the mean over the G traces at each budget (§5's A == 1 rule), else per prefix.
      baseline = A > 1 ? tf.mean(x, 2, true) : tf.mean(x, 0, true);
    }
    const advantages = tf.mul(tf.sub(x, baseline), trainable) as tf.Tensor3D;
    return { advantages, trainable };
  });
  return result;
}

export interface TensorTokenOptions {
  /** Position of each row's first thinking token in its sequence (default 0 for every row). */
  offsets?: number[];
  /** Positions per row T (default: the largest `offset + traceLength`). */
  sequenceLength?: number;
}

/**
 * Scatters segment advantages to token positions for a batch of traces (core
 * `tokenAdvantages`, one row per trace): thinking token `t` of row `b` belongs to segment
 * `s` when `floor(b_{s−1}) ≤ t < floor(b_s)` (`b_{−1} = 0`) and `t < traceLengths[b]`; it sits
 * at position `offsets[b] + t`. Every other position (prompt, forcing suffix, summary,
 * padding, tokens past `b_m`) gets advantage 0 and mask 0.
 * @param segmentAdvantages `[B, S]` (e.g. rows of `thinkingAdvantagesTensor`)
 * @param traceLengths thinking tokens of each row
 * @param budgets the S budgets, strictly increasing
 * @returns `advantages` and `mask` (1 on trainable thinking tokens), both `[B, T]`
 */
export function tokenAdvantagesTensor(
  segmentAdvantages: Matrix2D,
  traceLengths: number[],
  budgets: number[],
  opts: TensorTokenOptions = {},
): { advantages: tf.Tensor2D; mask: tf.Tensor2D } {
  checkBudgets(budgets);
  const B = Array.isArray(traceLengths) ? traceLengths.length : 0;
  if (B === 0) fail('traceLengths', 'must be a non-empty array with one length per row');
  traceLengths.forEach((n, b) => {
    if (!Number.isInteger(n) || n < 0) fail('traceLengths', `[${b}] must be an integer ≥ 0, got ${String(n)}`);
  });
  const offsets = opts.offsets ?? new Array<number>(B).fill(0);
  if (!Array.isArray(offsets) || offsets.length !== B) fail('offsets', `must have one offset per row (${B}), got ${Array.isArray(offsets) ? offsets.length : typeof offsets}`);
  offsets.forEach((o, b) => {
    if (!Number.isInteger(o) || o < 0) fail('offsets', `[${b}] must be an integer ≥ 0, got ${String(o)}`);
  });
  const needed = Math.max(...traceLengths.map((n, b) => n + offsets[b]));
  const T = opts.sequenceLength ?? needed;
  if (!Number.isInteger(T) || T < needed || T <= 0) {
    fail('sequenceLength', `must be a positive integer ≥ max(offset + traceLength) (${needed}), got ${String(T)}`);
  }
  const S = budgets.length;
  return tf.tidy(() => {
    const adv = as2D('segmentAdvantages', segmentAdvantages);
    if (adv.shape[0] !== B || adv.shape[1] !== S) {
      fail('segmentAdvantages', `must have shape [${B}, ${S}] (rows × budgets), got [${adv.shape.join(', ')}]`);
    }
    // Segment of each position, −1 where none (matches no column below).
    const segment = new Int32Array(B * T).fill(-1);
    for (let b = 0; b < B; b++) {
      let start = 0;
      for (let s = 0; s < S; s++) {
        const end = Math.min(Math.floor(budgets[s]), traceLengths[b]);
        for (let t = start; t < end; t++) segment[b * T + offsets[b] + t] = s;
        start = Math.max(start, end);
      }
    }
    // membership[b, t, s] = 1 when position t of row b is in segment s ([B, T, S]).
    const membership = tf.cast(tf.equal(tf.expandDims(tf.tensor2d(segment, [B, T], 'int32'), 2), tf.range(0, S, 1, 'int32')), 'float32');
    const advantages = tf.sum(tf.mul(membership, tf.expandDims(adv, 1)), 2) as tf.Tensor2D;
    const mask = tf.sum(membership, 2) as tf.Tensor2D;
    return { advantages, mask };
  });
}
