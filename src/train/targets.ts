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
}

/** Advantages of the G rollouts of one question. */
export function groupTargets(
  rollouts: Rollout[],
  probs: number[],
  opts: { baseline: BaselineName; discount: number; summaryMode: SummaryMode },
): GroupTargets {
  const scores = rollouts.map(meanScoresByBudget);
  const { R, V } = thinkingValues(scores, probs, { baseline: opts.baseline, discount: opts.discount });
  const thinking = R.map((row, g) => row.map((r, s) => r - V[g][s]));
  const summary = summaryAdvantages(rollouts.map(summaryScoresByBudget), {
    mode: opts.summaryMode,
    lastSegment: rollouts.map((r) => r.plan.lastSegment),
  });
  return { scores, R, V, thinking, summary };
}

/**
 * What the loss needs of one trace, in the trace's own coordinates (independent of how traces are
 * packed into rows): `columnTargets` scatters it into a packing's columns, and a minibatch split
 * into chunks (src/train/gradient.ts) scatters each chunk's share into that chunk's packing.
 */
export interface TraceTargets {
  /** Advantage of each thinking token (0 where it does not train). */
  thinkingAdvantage: number[];
  /** Weight of each thinking token in the loss `Σ w·ℓ` (0 where it does not train). */
  thinkingWeight: number[];
  /** Per prefix group, per summary: its advantage and the weight of each of its tokens (both 0 when it does not train). */
  summaries: { advantage: number; weight: number }[][];
}

/** `TraceTargets` of every trace of a minibatch, with its trainable token counts. */
export interface MinibatchTargets {
  traces: TraceTargets[];
  thinkingTokens: number;
  summaryTokens: number;
}

/**
 * Per token of each rollout of a minibatch: the thinking tokens of rollout i take `thinking[i]`
 * scattered by segment; a summary's tokens take its advantage when it is trainable; forcing
 * tokens never train. Sequences for the aggregation are each rollout's thinking and each
 * trainable summary on its own, as in the authors' implementation where every summary is a
 * separate response; the weights are those of `aggregationWeights` over all of the minibatch's
 * sequences (so a chunk of the minibatch keeps the minibatch's weights).
 */
export function traceTargets(
  rollouts: Rollout[],
  thinking: Matrix,
  summary: { advantages: number[][][]; trainable: boolean[][][] },
  budgets: number[],
  aggregation: LossAggregation,
  normLength: number,
): MinibatchTargets {
  const tokenAdv = rollouts.map((r, i) => tokenAdvantages(thinking[i], r.thinking.length, budgets));
  // Token counts per sequence: rollout i's thinking is sequence i; trainable summaries follow.
  const counts = tokenAdv.map((t) => t.mask.reduce((n, m) => n + m, 0));
  const summarySeq = rollouts.map((r, i) =>
    r.groups.map((g, gi) =>
      g.summaries.map((s, a) => {
        // A merged group covers several budgets; it trains at the one budget marked trainable.
        const budget = r.plan.groups[gi].budgetIndices.find((j) => summary.trainable[i][j][a]);
        if (budget === undefined || s.tokens.length === 0) return { seq: -1, advantage: 0 };
        counts.push(s.tokens.length);
        return { seq: counts.length - 1, advantage: summary.advantages[i][budget][a] };
      }),
    ),
  );
  const seqWeights = aggregationWeights(counts, aggregation, normLength);
  let thinkingTokens = 0;
  let summaryTokens = 0;
  const traces = rollouts.map((r, i): TraceTargets => {
    const { advantages, mask } = tokenAdv[i];
    const thinkingAdvantage = r.thinking.map((_, t) => (mask[t] ? advantages[t] : 0));
    const thinkingWeight = r.thinking.map((_, t) => (mask[t] ? seqWeights[i] : 0));
    thinkingTokens += counts[i];
    const summaries = summarySeq[i].map((group, gi) =>
      group.map(({ seq, advantage }, a) => {
        if (seq < 0) return { advantage: 0, weight: 0 };
        summaryTokens += r.groups[gi].summaries[a].tokens.length;
        return { advantage, weight: seqWeights[seq] };
      }),
    );
    return { thinkingAdvantage, thinkingWeight, summaries };
  });
  return { traces, thinkingTokens, summaryTokens };
}

/** Per packed column: advantage, loss weight and sampling log-prob (all 0 where the column does not train). */
export interface PackedTargets {
  advantages: Float32Array;
  weights: Float32Array;
  /** Sampling log-prob per column (0 where untrained, so no NaN reaches the loss). */
  oldLogp: Float32Array;
}

/** Scatters per-trace targets into the columns of a packing of `traces` (`layout` from `packTraces`). */
export function scatterTargets(layout: PackedLayout, targets: TraceTargets[]): PackedTargets {
  const N = layout.kind.length;
  const advantages = new Float32Array(N);
  const weights = new Float32Array(N);
  const oldLogp = new Float32Array(N);
  for (let c = 0; c < N; c++) {
    const r = layout.rollout[c];
    let advantage = 0;
    let weight = 0;
    if (layout.kind[c] === TokenKind.THINKING) {
      advantage = targets[r].thinkingAdvantage[layout.thinkIndex[c]];
      weight = targets[r].thinkingWeight[layout.thinkIndex[c]];
    } else if (layout.kind[c] === TokenKind.SUMMARY) {
      ({ advantage, weight } = targets[r].summaries[layout.group[c]][layout.sample[c]]);
    }
    if (weight === 0) continue;
    advantages[c] = advantage;
    weights[c] = weight;
    oldLogp[c] = layout.oldLogp[c];
  }
  return { advantages, weights, oldLogp };
}

export interface ColumnTargets extends PackedTargets {
  /** Trainable thinking and summary tokens. */
  thinkingTokens: number;
  summaryTokens: number;
}

/**
 * `traceTargets` of a minibatch scattered into the columns of its packing (`layout`, from
 * `packTraces(rollouts)`): per column the advantage and the weight of the token in the loss.
 */
export function columnTargets(
  layout: PackedLayout,
  rollouts: Rollout[],
  thinking: Matrix,
  summary: { advantages: number[][][]; trainable: boolean[][][] },
  budgets: number[],
  aggregation: LossAggregation,
  normLength: number,
): ColumnTargets {
  const { traces, thinkingTokens, summaryTokens } = traceTargets(rollouts, thinking, summary, budgets, aggregation, normLength);
  return { ...scatterTargets(layout, traces), thinkingTokens, summaryTokens };
}
