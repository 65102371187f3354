/**
 * Budget support and budget priors (ANYTIME.md §2, Eq. 1–3).
 *
 * A prior `p_B` puts probability `p_j` on each budget `b_1 < … < b_m` of the support. The
 * anytime objective weights the reward at each budget by `p_j`.
 */
import { checkFinite, checkOneOf, checkPositiveInt, fail } from './errors.js';
import { sampleIndex, type Rng } from './rng.js';

export interface BudgetPrior {
  /** Strictly increasing positive budgets `b_1 < … < b_m` (thinking tokens). */
  readonly budgets: number[];
  /** `p_j ≥ 0`, summing to 1. */
  readonly probs: number[];
}

export const PRIOR_KINDS = ['base', 'uniform', 'linear', 'linear-decreasing'] as const;
export type PriorKind = (typeof PRIOR_KINDS)[number];

/** Tolerance for "sums to 1" checks on probabilities. */
export const PROB_SUM_TOLERANCE = 1e-6;

/**
 * The paper's evenly spaced support: `b_j = maxBudget · j / count`, j = 1..count
 * (§2; main setting m = 4, b_max = 8000 gives 2000/4000/6000/8000).
 */
export function budgetSupport(maxBudget: number, count: number): number[] {
  checkFinite('maxBudget', maxBudget);
  if (maxBudget <= 0) fail('maxBudget', `must be > 0, got ${maxBudget}`);
  checkPositiveInt('count', count);
  // Multiply before dividing so that integer supports come out exact (8000·3/4 = 6000).
  return Array.from({ length: count }, (_, i) => (maxBudget * (i + 1)) / count);
}

/** Checks that budgets are non-empty, finite, positive and strictly increasing. */
export function checkBudgets(budgets: ArrayLike<number>, argument = 'budgets'): void {
  if (!budgets || budgets.length === 0) fail(argument, 'must be a non-empty array of positive budgets');
  for (let j = 0; j < budgets.length; j++) {
    const b = budgets[j];
    if (!Number.isFinite(b) || b <= 0) fail(argument, `[${j}] must be a positive finite number, got ${String(b)}`);
    if (j > 0 && !(b > budgets[j - 1])) {
      fail(argument, `must be strictly increasing, got ${budgets[j - 1]} then ${b} at index ${j}`);
    }
  }
}

/** Checks probabilities: finite, non-negative, summing to 1, optionally of a given length. */
export function checkProbs(probs: ArrayLike<number>, length?: number, argument = 'probs'): void {
  if (!probs || probs.length === 0) fail(argument, 'must be a non-empty array of probabilities');
  if (length !== undefined && probs.length !== length) {
    fail(argument, `must have one probability per budget (${length}), got ${probs.length}`);
  }
  let sum = 0;
  for (let j = 0; j < probs.length; j++) {
    const p = probs[j];
    if (!Number.isFinite(p) || p < 0) fail(argument, `[${j}] must be a finite probability ≥ 0, got ${String(p)}`);
    sum += p;
  }
  if (Math.abs(sum - 1) > PROB_SUM_TOLERANCE) fail(argument, `must sum to 1 (±${PROB_SUM_TOLERANCE}), got ${sum}`);
}

/**
 * The priors of §2:
 * - `base`: all mass on `b_m` (plain GRPO's setting);
 * - `uniform`: `p_j = 1/m`;
 * - `linear`: `p_j = b_j / Σ_k b_k` (m = 4 evenly spaced: 0.1, 0.2, 0.3, 0.4);
 * - `linear-decreasing`: the mirror image, `p_j = b_{m+1−j} / Σ_k b_k` (0.4, 0.3, 0.2, 0.1).
 */
export function makePrior(kind: PriorKind, budgets: number[]): BudgetPrior {
  checkOneOf('kind', kind, PRIOR_KINDS);
  checkBudgets(budgets);
  const m = budgets.length;
  const total = budgets.reduce((a, b) => a + b, 0);
  let probs: number[];
  switch (kind) {
    case 'base':
      probs = budgets.map((_, j) => (j === m - 1 ? 1 : 0));
      break;
    case 'uniform':
      probs = budgets.map(() => 1 / m);
      break;
    case 'linear':
      probs = budgets.map((b) => b / total);
      break;
    case 'linear-decreasing':
      probs = budgets.map((_, j) => budgets[m - 1 - j] / total);
      break;
  }
  return Object.freeze({ budgets: [...budgets], probs });
}

/**
 * A user-defined prior. `weights` must already sum to 1 unless `normalize` is set, in which
 * case any non-negative weights with a positive sum are scaled to sum to 1.
 */
export function customPrior(budgets: number[], weights: number[], opts: { normalize?: boolean } = {}): BudgetPrior {
  checkBudgets(budgets);
  if (!weights || weights.length !== budgets.length) {
    fail('weights', `must have one weight per budget (${budgets.length}), got ${weights ? weights.length : 'none'}`);
  }
  let probs = [...weights];
  if (opts.normalize) {
    const sum = probs.reduce((a, b) => a + b, 0);
    probs.forEach((w, j) => {
      if (!Number.isFinite(w) || w < 0) fail('weights', `[${j}] must be a finite weight ≥ 0, got ${String(w)}`);
    });
    if (!(sum > 0)) fail('weights', 'must have a positive sum to normalise');
    probs = probs.map((w) => w / sum);
  }
  checkProbs(probs, budgets.length, 'weights');
  return Object.freeze({ budgets: [...budgets], probs });
}

/** Validates a prior object (budgets increasing, probabilities summing to 1). */
export function checkPrior(prior: BudgetPrior, argument = 'prior'): void {
  if (!prior || !prior.budgets || !prior.probs) fail(argument, 'must be { budgets: number[]; probs: number[] }');
  checkBudgets(prior.budgets, `${argument}.budgets`);
  checkProbs(prior.probs, prior.budgets.length, `${argument}.probs`);
}

/** Index `j` drawn with probability `p_j`. */
export function sampleBudgetIndex(prior: BudgetPrior, rng: Rng): number {
  checkPrior(prior);
  return sampleIndex(prior.probs, rng);
}

/** A budget `b ~ p_B` (Eq. 1's outer expectation), reproducible through the seeded `rng`. */
export function sampleBudget(prior: BudgetPrior, rng: Rng): number {
  return prior.budgets[sampleBudgetIndex(prior, rng)];
}
