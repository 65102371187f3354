import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  budgetReturns,
  groupAdvantages,
  makePrior,
  summaryAdvantages,
  thinkingAdvantages,
  thinkingValues,
  tokenAdvantages,
  registerThinkingBaseline,
  THINKING_BASELINES,
} from '../src/index.js';

const expectMatrixClose = (a: number[][], b: number[][], digits = 10) => {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(b[i][j], digits)));
};

// Hand-worked example: G = 2 traces, S = 4 budgets, uniform prior.
const scores = [
  [0, 1, 1, 1],
  [0, 0, 0, 1],
];
const uniform = [0.25, 0.25, 0.25, 0.25];

describe('budgetReturns (§3)', () => {
  it('is the prior-weighted return-to-go', () => {
    expectMatrixClose(budgetReturns(scores, uniform), [
      [0.75, 0.75, 0.5, 0.25],
      [0.25, 0.25, 0.25, 0.25],
    ]);
  });
  it('with the base prior every segment returns the final score', () => {
    expectMatrixClose(budgetReturns(scores, [0, 0, 0, 1]), [
      [1, 1, 1, 1],
      [1, 1, 1, 1],
    ]);
  });
});

describe('thinkingAdvantages (§4)', () => {
  it('BRPO by hand', () => {
    // V2 = [0.5, 0.5, 0.375, 0.25]; V1[g0] = [0, 0, 1/3, 6/28]; V1[g1] = 0.
    const A = thinkingAdvantages(scores, uniform);
    expectMatrixClose(A, [
      [0.25, 0.375, 0.5 - (2 / 3 + 0.75) / 4, 0.25 - (3 * (6 / 28) + 0.25) / 4],
      [-0.25, -0.125, 0.0625, 0.1875],
    ]);
  });
  it('group-mean, own-progress and none by hand', () => {
    expectMatrixClose(thinkingAdvantages(scores, uniform, { baseline: 'group-mean' }), [
      [0.25, 0.25, 0.125, 0],
      [-0.25, -0.25, -0.125, 0],
    ]);
    expectMatrixClose(thinkingAdvantages(scores, uniform, { baseline: 'own-progress' }), [
      [0.75, 0.75, 0.5 - 1 / 3, 0.25 - 6 / 28],
      [0.25, 0.25, 0.25, 0.25],
    ]);
    expectMatrixClose(thinkingAdvantages(scores, uniform, { baseline: 'none' }), budgetReturns(scores, uniform));
  });
  it('discount changes the own-progress weights (d = 1: plain mean)', () => {
    const { V } = thinkingValues(scores, uniform, { baseline: 'own-progress', discount: 1 });
    expect(V[0][3]).toBeCloseTo((2 / 3) * 0.25, 12);
  });
  it('S = 1 with the base prior reduces BRPO to r − mean(r) (Dr. GRPO)', () => {
    const r = [[1], [0], [1], [1]];
    const A = thinkingAdvantages(r, [1]);
    expectMatrixClose(A, [[0.25], [-0.75], [0.25], [0.25]]);
    expect(A.map((x) => x[0])).toEqual(groupAdvantages([1, 0, 1, 1]));
  });
  it('G = 1: the group-mean term is 0, as in the authors\' code', () => {
    const one = [[1, 0, 1, 1]];
    const { V } = thinkingValues(one, uniform, { baseline: 'group-mean' });
    expect(V[0]).toEqual([0, 0, 0, 0]);
    const brpo = thinkingValues(one, uniform);
    // Only the own-progress part remains: s/S · V1.
    expect(brpo.V[0][0]).toBe(0);
    expect(brpo.V[0][2]).toBeCloseTo((2 / 4) * ((1 * 1 + 2 * 0) / 3) * 0.5, 12);
  });
  it('rejects unknown baselines listing the registered ones', () => {
    expect(() => thinkingAdvantages(scores, uniform, { baseline: 'v3' })).toThrow(
      /baseline: must be one of 'brpo', 'group-mean', 'own-progress', 'none'/,
    );
    expect(() => thinkingAdvantages(scores, uniform, { discount: 0 })).toThrow(/discount/);
  });
  it('new baselines can be registered by name, not silently overwritten', () => {
    expect(() => registerThinkingBaseline('brpo', THINKING_BASELINES.none)).toThrow(/already registered/);
    registerThinkingBaseline('half-group-mean', (R) => {
      const G = R.length;
      return R.map(() => R[0].map((_, s) => R.reduce((a, row) => a + row[s], 0) / G / 2));
    });
    expect(thinkingAdvantages(scores, uniform, { baseline: 'half-group-mean' })[1][0]).toBeCloseTo(0.25 - 0.25, 12);
  });
  it('validates scores and probabilities', () => {
    expect(() => thinkingAdvantages([], uniform)).toThrow(/scores: must be a non-empty matrix/);
    expect(() => thinkingAdvantages([[1, 0], [1]], [0.5, 0.5])).toThrow(/scores: is ragged/);
    expect(() => thinkingAdvantages([[1, Number.NaN]], [0.5, 0.5])).toThrow(/scores\[0\]\[1\] must be finite/);
    expect(() => thinkingAdvantages([[1, Infinity]], [0.5, 0.5])).toThrow(/finite/);
    expect(() => thinkingAdvantages([[1, 0]], [0.5, 0.6])).toThrow(/probs: must sum to 1/);
    expect(() => thinkingAdvantages([[1, 0]], [1])).toThrow(/probs: must have one probability per budget \(2\)/);
  });
});

const scoreMatrix = (G: number, S: number) =>
  fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: S, maxLength: S }), { minLength: G, maxLength: G });
const probsOf = (S: number) =>
  fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: S, maxLength: S }).map((w) => {
    const sum = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / sum);
  });
const caseArb = fc
  .record({ G: fc.integer({ min: 2, max: 8 }), S: fc.integer({ min: 1, max: 6 }) })
  .chain(({ G, S }) => fc.record({ scores: scoreMatrix(G, S), probs: probsOf(S) }));

describe('properties', () => {
  it('group-mean advantages sum to 0 over the group in every segment', () => {
    fc.assert(
      fc.property(caseArb, ({ scores, probs }) => {
        const A = thinkingAdvantages(scores, probs, { baseline: 'group-mean' });
        for (let s = 0; s < probs.length; s++) {
          expect(Math.abs(A.reduce((a, row) => a + row[s], 0))).toBeLessThan(1e-9);
        }
      }),
    );
  });
  it('BRPO equals group-mean at s = 0', () => {
    fc.assert(
      fc.property(caseArb, ({ scores, probs }) => {
        const brpo = thinkingAdvantages(scores, probs);
        const gm = thinkingAdvantages(scores, probs, { baseline: 'group-mean' });
        brpo.forEach((row, g) => expect(row[0]).toBeCloseTo(gm[g][0], 12));
      }),
    );
  });
  it('BRPO is the s-weighted mix of own-progress and group-mean baselines', () => {
    fc.assert(
      fc.property(caseArb, ({ scores, probs }) => {
        const S = probs.length;
        const b = thinkingValues(scores, probs).V;
        const v1 = thinkingValues(scores, probs, { baseline: 'own-progress' }).V;
        const v2 = thinkingValues(scores, probs, { baseline: 'group-mean' }).V;
        b.forEach((row, g) => row.forEach((v, s) => expect(v).toBeCloseTo((s * v1[g][s] + (S - s) * v2[g][s]) / S, 12)));
      }),
    );
  });
  it('R[g, 0] is the trace\'s anytime reward, and p_m·J ≤ J_anytime', () => {
    fc.assert(
      fc.property(caseArb, ({ scores, probs }) => {
        const S = probs.length;
        const R = budgetReturns(scores, probs);
        const jAnytime = R.reduce((a, row) => a + row[0], 0) / R.length;
        const j = scores.reduce((a, row) => a + row[S - 1], 0) / scores.length;
        expect(jAnytime).toBeCloseTo(scores.reduce((a, row) => a + row.reduce((x, r, k) => x + probs[k] * r, 0), 0) / scores.length, 12);
        expect(probs[S - 1] * j).toBeLessThanOrEqual(jAnytime + 1e-12);
      }),
    );
  });
  it('J_anytime ≤ J when scores do not fall with the budget (the summary can repeat an earlier answer)', () => {
    fc.assert(
      fc.property(caseArb, ({ scores, probs }) => {
        const S = probs.length;
        const monotone = scores.map((row) => row.map((_, s) => Math.max(...row.slice(0, s + 1))));
        const R = budgetReturns(monotone, probs);
        const jAnytime = R.reduce((a, row) => a + row[0], 0) / R.length;
        const j = monotone.reduce((a, row) => a + row[S - 1], 0) / monotone.length;
        expect(jAnytime).toBeLessThanOrEqual(j + 1e-12);
      }),
    );
    // Without monotone scores the upper bound can fail: a right answer at 2k, wrong at 8k.
    const R = budgetReturns([[1, 0]], [0.5, 0.5]);
    expect(R[0][0]).toBeGreaterThan(0);
  });
});

describe('summaryAdvantages (§5)', () => {
  const s3 = [
    [[1, 0], [1, 1]],
    [[0, 0], [0, 1]],
  ];
  it('all-budgets: score minus the mean of its prefix group', () => {
    const { advantages, trainable } = summaryAdvantages(s3);
    expect(advantages).toEqual([
      [[0.5, -0.5], [0, 0]],
      [[0, 0], [-0.5, 0.5]],
    ]);
    expect(trainable.flat(2).every(Boolean)).toBe(true);
  });
  it('A = 1: the baseline at each budget is the mean over the G traces at that budget (§5, A == 1 rule)', () => {
    // Hand-worked: G = 3 traces, S = 2 budgets, one summary each.
    // budget 0 scores 1, 0, 0 → mean 1/3; budget 1 scores 1, 1, 0 → mean 2/3.
    const { advantages, trainable } = summaryAdvantages([[[1], [1]], [[0], [1]], [[0], [0]]]);
    expect(advantages[0][0][0]).toBeCloseTo(2 / 3, 12);
    expect(advantages[1][0][0]).toBeCloseTo(-1 / 3, 12);
    expect(advantages[2][0][0]).toBeCloseTo(-1 / 3, 12);
    expect(advantages[0][1][0]).toBeCloseTo(1 / 3, 12);
    expect(advantages[1][1][0]).toBeCloseTo(1 / 3, 12);
    expect(advantages[2][1][0]).toBeCloseTo(-2 / 3, 12);
    expect(trainable.flat(2).every(Boolean)).toBe(true);
    // It is not the old rule (baseline 0 for a single summary).
    expect(advantages[0][0][0]).not.toBe(1);
  });
  it('A = 1 with merged prefixes: a finished trace counts with its repeated score in later budgets\' means', () => {
    // Trace 0 finished in segment 0 (score 1 repeated at budget 1); trace 1 scores 0 then 0.
    const { advantages, trainable } = summaryAdvantages([[[1], [1]], [[0], [0]]], { lastSegment: [0, 1] });
    expect(advantages).toEqual([[[0.5], [0]], [[-0.5], [-0.5]]]);
    expect(trainable).toEqual([[[true], [false]], [[true], [true]]]);
  });
  it('A = 1 in all-budgets mode equals final-only at the final budget', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        (rows) => {
          const sc = rows.map((row) => row.map((x) => [x]));
          const all = summaryAdvantages(sc);
          const fin = summaryAdvantages(sc, { mode: 'final-only' });
          sc.forEach((_, g) => expect(all.advantages[g][2][0]).toBeCloseTo(fin.advantages[g][2][0], 12));
        },
      ),
    );
  });
  it('merged prefixes train once, at the first budget past the trace end', () => {
    const merged = [
      [[1, 0], [1, 0]],
      [[0, 0], [0, 1]],
    ];
    const { advantages, trainable } = summaryAdvantages(merged, { lastSegment: [0, 1] });
    expect(trainable).toEqual([
      [[true, true], [false, false]],
      [[true, true], [true, true]],
    ]);
    expect(advantages[0]).toEqual([[0.5, -0.5], [0, 0]]);
    expect(() => summaryAdvantages(s3, { lastSegment: [0, 1] })).toThrow(/scores\[0\]\[1\] lies past lastSegment\[0\] = 0/);
    expect(() => summaryAdvantages(s3, { lastSegment: [0] })).toThrow(/lastSegment: must have one entry per trace \(2\)/);
    expect(() => summaryAdvantages(s3, { lastSegment: [0, 2] })).toThrow(/lastSegment.*\[0, 1\]/);
  });
  it('final-only (GRPO): only the last budget, baseline = mean over the group', () => {
    const { advantages, trainable } = summaryAdvantages(s3, { mode: 'final-only' });
    expect(advantages).toEqual([
      [[0, 0], [0.25, 0.25]],
      [[0, 0], [-0.75, 0.25]],
    ]);
    expect(trainable).toEqual([
      [[false, false], [true, true]],
      [[false, false], [true, true]],
    ]);
  });
  it('rejects bad modes and shapes', () => {
    expect(() => summaryAdvantages(s3, { mode: 'every' as never })).toThrow(/mode: must be one of 'all-budgets', 'final-only'/);
    expect(() => summaryAdvantages([])).toThrow(/scores/);
    expect(() => summaryAdvantages([[[1], [0]], [[0]]])).toThrow(/ragged/);
    expect(() => summaryAdvantages([[[1, Number.NaN]]])).toThrow(/scores\[0\]\[0\]\[1\] must be finite/);
  });
  it('all-budgets advantages sum to 0 within every prefix group of ≥ 2 summaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 3, maxLength: 3 }), { minLength: 4, maxLength: 4 }), {
          minLength: 1,
          maxLength: 5,
        }),
        (sc) => {
          const { advantages } = summaryAdvantages(sc);
          advantages.forEach((row) => row.forEach((cell) => expect(Math.abs(cell.reduce((a, b) => a + b, 0))).toBeLessThan(1e-12)));
        },
      ),
    );
  });
});

describe('tokenAdvantages', () => {
  it('scatters segment advantages to thinking tokens', () => {
    const { advantages, mask } = tokenAdvantages([1, 2, 3, 4], 5, [2, 4, 6, 8]);
    expect(Array.from(advantages)).toEqual([1, 1, 2, 2, 3]);
    expect(Array.from(mask)).toEqual([1, 1, 1, 1, 1]);
  });
  it('places them inside a sequence; prompt, forcing and summary positions train nothing here', () => {
    const { advantages, mask } = tokenAdvantages([1, 2, 3, 4], 3, [2, 4, 6, 8], { offset: 2, sequenceLength: 9 });
    expect(Array.from(advantages)).toEqual([0, 0, 1, 1, 2, 0, 0, 0, 0]);
    expect(Array.from(mask)).toEqual([0, 0, 1, 1, 1, 0, 0, 0, 0]);
  });
  it('tokens past b_m train nothing; segments without tokens train nothing', () => {
    const { mask } = tokenAdvantages([1, 2], 6, [2, 4]);
    expect(Array.from(mask)).toEqual([1, 1, 1, 1, 0, 0]);
  });
  it('rejects mismatched lengths', () => {
    expect(() => tokenAdvantages([1, 2], 3, [2, 4, 6])).toThrow(/segmentAdvantages: must have one advantage per budget \(3\)/);
    expect(() => tokenAdvantages([1, 2, 3], 3, [2, 4, 6], { offset: 1, sequenceLength: 3 })).toThrow(/sequenceLength/);
  });
});

describe('groupAdvantages', () => {
  it('Dr. GRPO (default), GRPO and RLOO by hand', () => {
    expect(groupAdvantages([1, 0, 0, 1])).toEqual([0.5, -0.5, -0.5, 0.5]);
    const std = Math.sqrt((4 * 0.25) / 3);
    groupAdvantages([1, 0, 0, 1], { normalize: 'std' }).forEach((a, i) => expect(a).toBeCloseTo([0.5, -0.5, -0.5, 0.5][i] / (std + 1e-6), 9));
    groupAdvantages([1, 0, 0, 1], { leaveOneOut: true }).forEach((a, i) => expect(a).toBeCloseTo([2 / 3, -2 / 3, -2 / 3, 2 / 3][i], 12));
  });
  it('a group with equal rewards gets zero advantages, even normalised', () => {
    expect(groupAdvantages([1, 1, 1], { normalize: 'std' })).toEqual([0, 0, 0]);
  });
  it('rejects bad input', () => {
    expect(() => groupAdvantages([])).toThrow(/rewards/);
    expect(() => groupAdvantages([1], { leaveOneOut: true })).toThrow(/at least 2/);
    expect(() => groupAdvantages([1, Number.NaN])).toThrow(/rewards\[1\]/);
    expect(() => groupAdvantages([1, 0], { normalize: 'z' as never })).toThrow(/normalize: must be one of 'none', 'std'/);
  });
  it('matches thinkingAdvantages with S = 1 (the base prior)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 2, maxLength: 16 }), (r) => {
        const viaThinking = thinkingAdvantages(r.map((x) => [x]), makePrior('base', [100]).probs).map((x) => x[0]);
        groupAdvantages(r).forEach((a, i) => expect(a).toBeCloseTo(viaThinking[i], 12));
      }),
    );
  });
});
