import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  accuracyByBudget,
  anytimeScore,
  baselineCorrelation,
  bestSoFar,
  makePrior,
  meanStd,
  overthinkingCount,
  ppoClipLoss,
  thinkingValues,
  varianceRatio,
  type LossAggregation,
} from '../src/index.js';

const one = (logp: number, old: number, adv: number, opts = {}) => ppoClipLoss([[logp]], [[old]], [[adv]], [[1]], opts);

describe('ppoClipLoss (§6)', () => {
  it('inside the clip range: −A·ρ with gradient −A·ρ', () => {
    const r = one(Math.log(0.9), 0, 2);
    expect(r.loss).toBeCloseTo(-1.8, 12);
    expect(r.grad[0][0]).toBeCloseTo(-1.8, 12);
    expect(r.stats.clipFraction).toBe(0);
  });
  it('A > 0, ρ above 1 + ε: clipped, no gradient', () => {
    const r = one(Math.log(1.5), 0, 1);
    expect(r.loss).toBeCloseTo(-1.2, 12);
    expect(r.grad[0][0]).toBe(0);
    expect(r.stats.clipFraction).toBe(1);
  });
  it('A < 0, ρ above 1 + ε: the unclipped term is larger and keeps its gradient', () => {
    const r = one(Math.log(1.5), 0, -1);
    expect(r.loss).toBeCloseTo(1.5, 12);
    expect(r.grad[0][0]).toBeCloseTo(1.5, 12);
  });
  it('dual clip caps the A < 0 loss at −A·c', () => {
    const r = one(Math.log(5), 0, -1, { dualClip: 3 });
    expect(r.loss).toBeCloseTo(3, 12);
    expect(r.grad[0][0]).toBe(0);
    expect(r.stats.dualClipFraction).toBe(1);
  });
  it('clip-higher widens only the upper side', () => {
    expect(one(Math.log(1.25), 0, 1, { clipHigh: 0.28 }).loss).toBeCloseTo(-1.25, 12);
    expect(one(Math.log(1.25), 0, 1).loss).toBeCloseTo(-1.2, 12);
    expect(one(Math.log(0.5), 0, -1, { clipHigh: 0.28 }).loss).toBeCloseTo(0.8, 12);
  });
  it('aggregations by hand (rows of 1 and 3 trainable tokens, ρ = 1 so ℓ = −A)', () => {
    const logp = [[0, 0], [0, 0, 0]];
    const adv = [[1, 99], [2, 2, 2]];
    const mask = [[1, 0], [1, 1, 1]];
    const loss = (aggregation: LossAggregation, normLength?: number) => ppoClipLoss(logp, logp, adv, mask, { aggregation, normLength }).loss;
    expect(loss('token-mean')).toBeCloseTo(-7 / 4, 12);
    expect(loss('seq-mean-token-mean')).toBeCloseTo((-1 + -2) / 2, 12);
    expect(loss('seq-mean-token-sum')).toBeCloseTo((-1 + -6) / 2, 12);
    expect(loss('seq-mean-token-sum-norm')).toBeCloseTo(-7 / (2 * 3), 12);
    expect(loss('seq-mean-token-sum-norm', 10)).toBeCloseTo(-7 / 20, 12);
  });
  it('the gradient matches finite differences for every aggregation', () => {
    const aggs: LossAggregation[] = ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', 'seq-mean-token-sum-norm'];
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.record({ lp: fc.double({ min: -0.6, max: 0.6, noNaN: true }), a: fc.double({ min: -2, max: 2, noNaN: true }), m: fc.boolean() }), {
            minLength: 1,
            maxLength: 5,
          }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.constantFrom(...aggs),
        (rows, aggregation) => {
          const logp = rows.map((r) => r.map((x) => x.lp));
          const old = rows.map((r) => r.map(() => 0));
          const adv = rows.map((r) => r.map((x) => x.a));
          const mask = rows.map((r) => r.map((x) => (x.m ? 1 : 0)));
          const opts = { aggregation, dualClip: 3 };
          const { grad } = ppoClipLoss(logp, old, adv, mask, opts);
          const h = 1e-6;
          rows.forEach((r, i) =>
            r.forEach((_, t) => {
              const plus = logp.map((row) => [...row]);
              const minus = logp.map((row) => [...row]);
              plus[i][t] += h;
              minus[i][t] -= h;
              // Skip points sitting on a clip boundary, where the loss has a kink.
              const rho = Math.exp(logp[i][t]);
              if (Math.abs(rho - 0.8) < 1e-4 || Math.abs(rho - 1.2) < 1e-4) return;
              const fd = (ppoClipLoss(plus, old, adv, mask, opts).loss - ppoClipLoss(minus, old, adv, mask, opts).loss) / (2 * h);
              expect(Math.abs(fd - grad[i][t])).toBeLessThan(1e-5);
            }),
          );
        },
      ),
    );
  });
  it('approximate KL is 0 on-policy and positive off-policy', () => {
    expect(one(0, 0, 1).stats.approxKl).toBe(0);
    expect(one(0.3, 0, 1).stats.approxKl).toBeGreaterThan(0);
  });
  it('rejects mismatched lengths and bad options by name', () => {
    expect(() => ppoClipLoss([[0, 0]], [[0]], [[1, 1]], [[1, 1]])).toThrow(/oldLogp: row 0 has 1 entries but logp row 0 has 2/);
    expect(() => ppoClipLoss([[0]], [[0], [0]], [[1]], [[1]])).toThrow(/oldLogp: must have 1 rows/);
    expect(() => ppoClipLoss([[0]], [[0]], [[1]], [[2]])).toThrow(/mask\[0\]\[0\] must be 0 or 1/);
    expect(() => ppoClipLoss([[Number.NaN]], [[0]], [[1]], [[1]])).toThrow(/logp\[0\]\[0\] must be finite/);
    expect(() => ppoClipLoss([[0]], [[0]], [[1]], [[1]], { aggregation: 'mean' as never })).toThrow(
      /aggregation: must be one of 'token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', 'seq-mean-token-sum-norm'/,
    );
    expect(() => ppoClipLoss([[0]], [[0]], [[1]], [[1]], { dualClip: 0.5 })).toThrow(/dualClip/);
    expect(() => ppoClipLoss([[0]], [[0]], [[1]], [[1]], { clipLow: 1.5 })).toThrow(/clipLow/);
    expect(() => ppoClipLoss([], [], [], [])).toThrow(/logp/);
  });
  it('masked tokens contribute nothing, even when their inputs are NaN', () => {
    const r = ppoClipLoss([[0, Number.NaN]], [[0, 0]], [[1, 5]], [[1, 0]]);
    expect(r.loss).toBe(-1);
    expect(r.stats.tokens).toBe(1);
  });
});

describe('metrics (§8)', () => {
  it('accuracy by budget and the anytime score', () => {
    const acc = accuracyByBudget([
      [0, 1, 1, 1],
      [0, 0, 1, 1],
    ]);
    expect(acc).toEqual([0, 0.5, 1, 1]);
    const budgets = [1, 2, 3, 4];
    expect(anytimeScore(acc, makePrior('uniform', budgets))).toBeCloseTo(0.625, 12);
    expect(anytimeScore(acc, makePrior('base', budgets))).toBe(1);
    expect(anytimeScore(acc, makePrior('linear', budgets))).toBeCloseTo(0.2 * 0.5 + 0.3 + 0.4, 12);
    expect(() => anytimeScore([1, 2], makePrior('uniform', budgets))).toThrow(/accByBudget: must have length 4/);
  });
  it('best-so-far and overthinking', () => {
    expect(bestSoFar([0, 1, 0, 0.5])).toEqual([0, 1, 1, 1]);
    expect(overthinkingCount([0, 1, 0, 0.5, 1])).toBe(2);
    expect(overthinkingCount([0, 0, 1, 1])).toBe(0);
    expect(() => bestSoFar([])).toThrow(/scores/);
  });
  it('variance ratio: 1 for no baseline, 0 for a perfect one, and the group-mean value by hand', () => {
    const R = [[1, 0.5], [0, 0.5], [0.5, 1]];
    expect(varianceRatio(R, R.map((r) => r.map(() => 0)))).toEqual([1, 1]);
    expect(varianceRatio(R, R)).toEqual([0, 0]);
    // A constant baseline shifts but does not reduce variance.
    expect(varianceRatio(R, R.map((r) => r.map(() => 0.3)))[0]).toBeCloseTo(1, 12);
    expect(Number.isNaN(varianceRatio([[1], [1]], [[0], [0]])[0])).toBe(true);
    expect(() => varianceRatio(R, [[0, 0]])).toThrow(/V: must have the shape of R \[3\]\[2\]/);
  });
  it('BRPO on a score matrix: variance ratio and correlation are finite and in range', () => {
    const scores = [
      [0, 0, 1, 1],
      [0, 1, 1, 1],
      [0, 0, 0, 0],
      [1, 1, 1, 1],
    ];
    const probs = makePrior('uniform', [1, 2, 3, 4]).probs;
    const { R, V } = thinkingValues(scores, probs);
    const ratio = varianceRatio(R, V);
    ratio.forEach((x) => expect(x).toBeGreaterThanOrEqual(0));
    const corr = baselineCorrelation(R, V);
    // At s = 0 BRPO is the group mean, the same for every trace of the group: Var[V] = 0, so the
    // correlation is undefined (NaN). Later budgets mix in each trace's own progress.
    expect(Number.isNaN(corr[0])).toBe(true);
    corr.slice(1).forEach((c) => expect(Math.abs(c)).toBeLessThanOrEqual(1 + 1e-12));
    expect(corr[3]).toBeGreaterThan(0);
  });
  it('meanStd uses the sample standard deviation', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1, n: 3 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0, n: 1 });
  });
});
