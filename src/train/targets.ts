/**
 * From sampled rollouts to what the loss needs: scores per budget, thinking and summary
 * advantages per question group (§3–§5), and per packed column the advantage and the weight
 * of the token in the aggregated loss. Pure functions over plain data.
 */
import { thinkingValues, summaryAdvantages, tokenAdvantages, type Matrix } from '../core/advantages.js';
import { aggregationWeights, type LossAggregation } from '../core/loss.js';
import type { Rollout } from '../model/sampler.js';
import { TokenKind, type PackedLayout } from '../model/forward.js';
import type { BaselineName, SummaryMode } from '../core/advantages.js';
import { shapeRewards, truncatedCorrectness, truncationLossMask, type RewardShapeContext, type RewardShapeName, type TruncationMode } from '../core/rewards.js';

/** Score of every summary of a rollout at each budget, `[S][A]` (merged budgets repeat their group). */
export function summaryScoresByBudget(rollout: Rollout): number[][] {
  return rollout.plan.cuts.map((c) => rollout.groups[c.group].summaries.map((s) => s.score));
}

/** `r̄[s]`: mean summary score at each budget. */
export function meanScoresByBudget(rollout: Rollout): number[] {
  return summaryScoresByBudget(rollout).map((cell) => cell.reduce((a, b) => a + b, 0) / cell.length);
}

export interface GroupTargets {
  /** `r̄[g][s]`. */
  scores: Matrix;
  R: Matrix;
  V: Matrix;
  /** `A_think[g][s] = R − V`. */
  thinking: Matrix;
  /** `[G][S][A]` summary advantages and which summaries train. */
  summary: { advantages: number[][][]; trainable: boolean[][][] };
  /** Whether each trace's thinking goes into the loss (false: left out, DAPO's overlong filtering). */
  trainThinking: boolean[];
}

/**
 * An arena method's outcome reward (docs/arena.md), for runs with one training budget (the
 * rollout cap): the thinking is credited with `shape`'s reward of each trace's correctness and
 * length instead of the correctness itself; `truncation` says what a trace cut at the cap scores
 * and which of its parts train. The summaries keep their correctness advantages: a summary cannot
 * change the length, so a length term would only be noise in its gradient.
 */
export interface OutcomeShaping {
  shape: RewardShapeName;
  truncation: TruncationMode;
  context: RewardShapeContext;
}

/** Advantages of the G rollouts of one question. */
export function groupTargets(
  rollouts: Rollout[],
  probs: number[],
  opts: { baseline: BaselineName; discount: number; summaryMode: SummaryMode; outcome?: OutcomeShaping },
): GroupTargets {
  const scores = rollouts.map(meanScoresByBudget);
  const summary = summaryAdvantages(rollouts.map(summaryScoresByBudget), {
    mode: opts.summaryMode,
    lastSegment: rollouts.map((r) => r.plan.lastSegment),
  });
  if (!opts.outcome) {
    const { R, V } = thinkingValues(scores, probs, { baseline: opts.baseline, discount: opts.discount });
    const thinking = R.map((row, g) => row.map((r, s) => r - V[g][s]));
    return { scores, R, V, thinking, summary, trainThinking: rollouts.map(() => true) };
  }
  // ---- arena: shaped outcome rewards of the one budget, and the truncation's loss mask ----
  const { shape, truncation, context } = opts.outcome;
  if (probs.length !== 1) throw new Error(`outcome shaping needs one training budget, got ${probs.length}`);
  const outcomes = rollouts.map((r, g) => ({
    correct: truncatedCorrectness(scores[g][0], r.finished, truncation),
    length: r.thinking.length,
    finished: r.finished,
  }));
  const rewards = shapeRewards(shape, outcomes, context).map((x) => [x]);
  const { R, V } = thinkingValues(rewards, probs, { baseline: opts.baseline, discount: opts.discount });
  const mask = truncationLossMask(outcomes.map((o) => o.finished), truncation);
  const thinking = R.map((row, g) => row.map((r, s) => (mask.thinking[g] ? r - V[g][s] : 0)));
  mask.summary.forEach((keep, g) => {
    if (keep) return;
    summary.advantages[g].forEach((cell) => cell.fill(0));
    summary.trainable[g].forEach((cell) => cell.fill(false));
  });
  return { scores, R, V, thinking, summary, trainThinking: mask.thinking };
}

export interface ColumnTargets {
  /** Advantage per packed column (0 where untrained). */
  advantages: Float32Array;
  /** Weight of the column's token in the loss `Σ w·ℓ` (0 where untrained). */
  weights: Float32Array;
  /** Sampling log-prob per column (0 where untrained, so no NaN reaches the loss). */
  oldLogp: Float32Array;
  /** Trainable thinking and summary tokens. */
  thinkingTokens: number;
  summaryTokens: number;
}

/**
 * Per packed column of a minibatch: the thinking tokens of rollout i take `thinking[i]` scattered
 * by segment; a summary's tokens take its advantage when it is trainable; forcing tokens never
 * train. Sequences for the aggregation are each rollout's thinking and each summary on its own,
 * as in the authors' implementation where every summary is a separate response. With
 * `trainThinking[i]` false, rollout i's thinking is left out of the loss and of the aggregation's
 * token counts (DAPO's overlong filtering).
 */
export function columnTargets(
  layout: PackedLayout,
  rollouts: Rollout[],
  thinking: Matrix,
  summary: { advantages: number[][][]; trainable: boolean[][][] },
  budgets: number[],
  aggregation: LossAggregation,
  normLength: number,
  trainThinking?: boolean[],
): ColumnTargets {
  const N = layout.kind.length;
  const advantages = new Float32Array(N);
  const trainable = new Uint8Array(N);
  const seqOf = new Int32Array(N).fill(-1);
  const tokenAdv = rollouts.map((r, i) => tokenAdvantages(thinking[i], r.thinking.length, budgets));
  // Sequence ids: rollout i's thinking is i; summaries are numbered after all rollouts.
  const summarySeq = new Map<string, number>();
  let thinkingTokens = 0;
  let summaryTokens = 0;
  for (let c = 0; c < N; c++) {
    const r = layout.rollout[c];
    if (layout.kind[c] === TokenKind.THINKING) {
      const t = layout.thinkIndex[c];
      if (tokenAdv[r].mask[t] && (trainThinking?.[r] ?? true)) {
        advantages[c] = tokenAdv[r].advantages[t];
        trainable[c] = 1;
        seqOf[c] = r;
        thinkingTokens++;
      }
    } else if (layout.kind[c] === TokenKind.SUMMARY) {
      const gi = layout.group[c];
      const a = layout.sample[c];
      // A merged group covers several budgets; it trains at the one budget marked trainable.
      const s = rollouts[r].plan.groups[gi].budgetIndices.find((j) => summary.trainable[r][j][a]);
      if (s !== undefined) {
        advantages[c] = summary.advantages[r][s][a];
        trainable[c] = 1;
        const key = `${r}/${gi}/${a}`;
        if (!summarySeq.has(key)) summarySeq.set(key, rollouts.length + summarySeq.size);
        seqOf[c] = summarySeq.get(key)!;
        summaryTokens++;
      }
    }
  }
  const counts = new Array<number>(rollouts.length + summarySeq.size).fill(0);
  for (let c = 0; c < N; c++) if (trainable[c]) counts[seqOf[c]]++;
  const rowWeights = aggregationWeights(counts, aggregation, normLength);
  const weights = new Float32Array(N);
  const oldLogp = new Float32Array(N);
  for (let c = 0; c < N; c++) {
    if (!trainable[c]) {
      advantages[c] = 0;
      continue;
    }
    weights[c] = rowWeights[seqOf[c]];
    oldLogp[c] = layout.oldLogp[c];
  }
  return { advantages, weights, oldLogp, thinkingTokens, summaryTokens };
}
