import { describe, expect, it } from 'vitest';
import {
  AnytimeInputError,
  budgetSupport,
  customPrior,
  cutPlan,
  forcedSummaryText,
  makePrior,
  sampleBudget,
  seededRng,
  CUT_SUFFIX,
  ANSWER_HEADER,
} from '../src/index.js';

describe('budgetSupport', () => {
  it('gives the paper support 2k/4k/6k/8k', () => {
    expect(budgetSupport(8000, 4)).toEqual([2000, 4000, 6000, 8000]);
  });
  it('gives 32 budgets 250..8000 for Table 2', () => {
    const b = budgetSupport(8000, 32);
    expect(b[0]).toBe(250);
    expect(b[31]).toBe(8000);
    expect(b.length).toBe(32);
  });
  it('rejects bad arguments by name', () => {
    expect(() => budgetSupport(0, 4)).toThrow(/maxBudget/);
    expect(() => budgetSupport(100, 0)).toThrow(/count.*positive integer/);
    expect(() => budgetSupport(100, 2.5)).toThrow(/count/);
    expect(() => budgetSupport(Number.NaN, 2)).toThrow(/maxBudget.*finite/);
  });
});

describe('priors for m = 4', () => {
  const budgets = [2000, 4000, 6000, 8000];
  const close = (a: number[], b: number[]) => a.forEach((x, i) => expect(x).toBeCloseTo(b[i], 12));
  it('base puts all mass on b_m', () => close(makePrior('base', budgets).probs, [0, 0, 0, 1]));
  it('uniform is 1/m', () => close(makePrior('uniform', budgets).probs, [0.25, 0.25, 0.25, 0.25]));
  it('linear is 0.1/0.2/0.3/0.4', () => close(makePrior('linear', budgets).probs, [0.1, 0.2, 0.3, 0.4]));
  it('linear-decreasing mirrors it', () => close(makePrior('linear-decreasing', budgets).probs, [0.4, 0.3, 0.2, 0.1]));
  it('custom priors must sum to 1 unless normalised', () => {
    expect(customPrior(budgets, [0.5, 0.5, 0, 0]).probs).toEqual([0.5, 0.5, 0, 0]);
    expect(() => customPrior(budgets, [1, 1, 0, 0])).toThrow(/weights: must sum to 1/);
    close(customPrior(budgets, [1, 1, 2, 0], { normalize: true }).probs, [0.25, 0.25, 0.5, 0]);
    expect(() => customPrior(budgets, [0.5, 0.5])).toThrow(/weights.*one weight per budget \(4\)/);
    expect(() => customPrior(budgets, [-0.5, 1.5, 0, 0])).toThrow(/weights\[0\].*≥ 0/);
  });
  it('rejects unknown kinds, listing the allowed ones', () => {
    expect(() => makePrior('cosine' as never, budgets)).toThrow(/kind: must be one of 'base', 'uniform', 'linear', 'linear-decreasing'/);
  });
  it('rejects unsorted or non-positive budgets', () => {
    expect(() => makePrior('uniform', [4, 2])).toThrow(/budgets: must be strictly increasing/);
    expect(() => makePrior('uniform', [2, 2])).toThrow(/strictly increasing/);
    expect(() => makePrior('uniform', [0, 2])).toThrow(/budgets\[0\] must be a positive/);
    expect(() => makePrior('uniform', [])).toThrow(/budgets: must be a non-empty/);
    expect(() => makePrior('uniform', [1, Infinity])).toThrow(/budgets\[1\]/);
  });
  it('errors are AnytimeInputError naming the argument', () => {
    try {
      makePrior('uniform', [3, 1]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AnytimeInputError);
      expect((e as AnytimeInputError).argument).toBe('budgets');
    }
  });
});

describe('sampleBudget', () => {
  it('is reproducible under a seed and follows the prior', () => {
    const prior = makePrior('linear', [1, 2, 3, 4]);
    const draw = (seed: number) => {
      const rng = seededRng(seed);
      return Array.from({ length: 4000 }, () => sampleBudget(prior, rng));
    };
    const a = draw(7);
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
    const freq = [1, 2, 3, 4].map((b) => a.filter((x) => x === b).length / a.length);
    freq.forEach((f, j) => expect(Math.abs(f - prior.probs[j])).toBeLessThan(0.03));
  });
  it('never draws a zero-probability budget', () => {
    const rng = seededRng(1);
    const prior = makePrior('base', [1, 2, 3]);
    for (let i = 0; i < 500; i++) expect(sampleBudget(prior, rng)).toBe(3);
  });
});

describe('cutPlan', () => {
  const budgets = [2, 4, 6, 8];
  it('finished trace: cut before its end, merged after', () => {
    const plan = cutPlan(5, true, budgets);
    expect(plan.cuts.map((c) => [c.cutLength, c.cut, c.group])).toEqual([
      [2, true, 0],
      [4, true, 1],
      [5, false, 2],
      [5, false, 2],
    ]);
    expect(plan.groups).toEqual([
      { cutLength: 2, cut: true, budgetIndices: [0] },
      { cutLength: 4, cut: true, budgetIndices: [1] },
      { cutLength: 5, cut: false, budgetIndices: [2, 3] },
    ]);
    expect(plan.lastSegment).toBe(2);
  });
  it('trace that hit b_max without closing: every budget cut, no merge', () => {
    const plan = cutPlan(8, false, budgets);
    expect(plan.cuts.map((c) => c.cutLength)).toEqual([2, 4, 6, 8]);
    expect(plan.cuts.every((c) => c.cut)).toBe(true);
    expect(plan.groups.length).toBe(4);
    expect(plan.lastSegment).toBe(3);
  });
  it('trace finishing exactly at a budget is not cut there', () => {
    const plan = cutPlan(4, true, budgets);
    expect(plan.cuts[1]).toEqual({ budget: 4, cutLength: 4, cut: false, group: 1 });
    expect(plan.groups[1].budgetIndices).toEqual([1, 2, 3]);
    expect(plan.lastSegment).toBe(1);
  });
  it('unfinished short trace keeps the cut suffix on its merged prefix', () => {
    const plan = cutPlan(3, false, budgets);
    expect(plan.groups).toEqual([
      { cutLength: 2, cut: true, budgetIndices: [0] },
      { cutLength: 3, cut: true, budgetIndices: [1, 2, 3] },
    ]);
  });
  it('rejects bad lengths and budgets', () => {
    expect(() => cutPlan(-1, true, budgets)).toThrow(/traceLength/);
    expect(() => cutPlan(2.5, true, budgets)).toThrow(/traceLength/);
    expect(() => cutPlan(3, true, [4, 2])).toThrow(/budgets/);
  });
});

describe('forcedSummaryText', () => {
  it('appends the cut suffix and answer header to a cut trace', () => {
    expect(forcedSummaryText('Let me', true)).toBe('Let me...\n\n...\n\n</think>\n\n**Final Answer**\n');
    expect(CUT_SUFFIX + ANSWER_HEADER).toBe('...\n\n...\n\n</think>\n\n**Final Answer**\n');
  });
  it('appends only the header to a finished trace, restoring a stripped </think>', () => {
    expect(forcedSummaryText('done.</think>', false)).toBe('done.</think>\n\n**Final Answer**\n');
    expect(forcedSummaryText('done.', false)).toBe('done.</think>\n\n**Final Answer**\n');
  });
  it('takes custom forcing strings', () => {
    expect(forcedSummaryText('x', true, { cutSuffix: '[cut]', answerHeader: 'A:' })).toBe('x[cut]A:');
  });
});
