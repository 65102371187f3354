import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  dapoOverlongPenalty,
  isInformativeGroup,
  kimiLengthRewards,
  l1ExactReward,
  l1MaxReward,
  registerRewardShape,
  REWARD_SHAPES,
  REWARD_SHAPE_NAMES,
  rolloutCapAt,
  sampleOptimalLength,
  shapeRewards,
  shorterBetterRewards,
  truncatedCorrectness,
  truncationLossMask,
  type RewardShapeContext,
  type TraceOutcome,
} from '../src/index.js';

// Hand-worked group: G = 4 traces of one question.
const group: TraceOutcome[] = [
  { correct: 0, length: 10, finished: true },
  { correct: 1, length: 20, finished: true },
  { correct: 1, length: 30, finished: true },
  { correct: 0, length: 50, finished: false },
];
const ctx: RewardShapeContext = { maxLength: 50, target: 24, lengthCoef: 0.5, l1Delta: 0.5, overlongBuffer: 10 };

const outcome = fc.record({
  correct: fc.constantFrom(0, 1),
  length: fc.integer({ min: 1, max: 96 }),
  finished: fc.boolean(),
});
const groupArb = fc.array(outcome, { minLength: 1, maxLength: 12 });

describe('traces cut at the rollout cap', () => {
  it('zero scores a cut trace 0; summary and mask keep its correctness', () => {
    expect(truncatedCorrectness(1, false, 'zero')).toBe(0);
    expect(truncatedCorrectness(1, true, 'zero')).toBe(1);
    expect(truncatedCorrectness(1, false, 'summary')).toBe(1);
    expect(truncatedCorrectness(1, false, 'mask')).toBe(1);
    expect(() => truncatedCorrectness(1, false, 'drop' as never)).toThrow(/mode: must be one of 'summary', 'zero', 'mask'/);
  });
  it('loss masks: summary trains all, zero drops the cut summary, mask drops the whole cut trace', () => {
    const finished = [true, false];
    expect(truncationLossMask(finished, 'summary')).toEqual({ thinking: [true, true], summary: [true, true] });
    expect(truncationLossMask(finished, 'zero')).toEqual({ thinking: [true, true], summary: [true, false] });
    expect(truncationLossMask(finished, 'mask')).toEqual({ thinking: [true, false], summary: [true, false] });
  });
  it('the cap schedule splits the steps into equal rounds', () => {
    const caps = [64, 48, 32];
    expect(Array.from({ length: 30 }, (_, i) => rolloutCapAt(caps, i + 1, 30, 96))).toEqual([
      ...Array(10).fill(64), ...Array(10).fill(48), ...Array(10).fill(32),
    ]);
    // 10 steps, 3 rounds: floor((s − 1)·3/10) gives rounds of 4, 3 and 3 steps.
    expect(Array.from({ length: 10 }, (_, i) => rolloutCapAt(caps, i + 1, 10, 96))).toEqual([64, 64, 64, 64, 48, 48, 48, 32, 32, 32]);
    expect(rolloutCapAt([], 5, 10, 96)).toBe(96);
    expect(rolloutCapAt([48], 1, 10, 96)).toBe(48);
    expect(() => rolloutCapAt(caps, 0, 10, 96)).toThrow(/step: must be an integer in \[1, 10\]/);
  });
  it('property: every round of the schedule gets ⌊steps/R⌋ or ⌈steps/R⌉ steps, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 96 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 5, max: 200 }), (caps, steps) => {
        const rounds = Array.from({ length: steps }, (_, i) => Math.min(caps.length - 1, Math.floor((i * caps.length) / steps)));
        const seen = Array.from({ length: steps }, (_, i) => rolloutCapAt(caps, i + 1, steps, 96));
        expect(seen).toEqual(rounds.map((r) => caps[r]));
        const sizes = caps.map((_, r) => rounds.filter((x) => x === r).length);
        for (const n of sizes) expect(Math.abs(n - steps / caps.length)).toBeLessThan(1);
      }),
    );
  });
});

describe('L1 / LCPO', () => {
  it('Exact by hand: correctness minus α per token away from the target, either side', () => {
    expect(l1ExactReward(1, 40, 48, 0.0128)).toBeCloseTo(1 - 8 * 0.0128, 12);
    expect(l1ExactReward(1, 56, 48, 0.0128)).toBeCloseTo(1 - 8 * 0.0128, 12);
    expect(l1ExactReward(0, 60, 48, 0.0128)).toBeCloseTo(-12 * 0.0128, 12);
    expect(l1ExactReward(1, 48, 48, 0.0128)).toBe(1);
  });
  it('Max by hand: δ at the budget, 1 far under, 0 far over, 0 when wrong', () => {
    expect(l1MaxReward(1, 48, 48, 0.0125, 0.5)).toBe(0.5);
    expect(l1MaxReward(1, 58, 48, 0.0125, 0.5)).toBeCloseTo(0.375, 12);
    expect(l1MaxReward(1, 8, 48, 0.0125, 0.5)).toBe(1);
    expect(l1MaxReward(1, 88, 48, 0.0125, 0.5)).toBe(0);
    expect(l1MaxReward(0, 8, 48, 0.0125, 0.5)).toBe(0);
  });
  it('property: Exact peaks at the target; Max lies in [0, correct] and never rises with length', () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1), fc.integer({ min: 1, max: 96 }), fc.integer({ min: 1, max: 95 }), fc.integer({ min: 1, max: 96 }), (c, target, n, dn) => {
        expect(l1ExactReward(c, n, target, 0.0128)).toBeLessThanOrEqual(l1ExactReward(c, target, target, 0.0128));
        const r = l1MaxReward(c, n, target, 0.0128, 0.5);
        expect(r).toBeGreaterThanOrEqual(0);
        expect(r).toBeLessThanOrEqual(c);
        expect(l1MaxReward(c, n + dn, target, 0.0128, 0.5)).toBeLessThanOrEqual(r);
      }),
    );
  });
});

describe('DAPO', () => {
  it('soft overlong punishment by hand (L_max 96, L_cache 19)', () => {
    expect(dapoOverlongPenalty(76, 96, 19)).toBe(0);
    expect(dapoOverlongPenalty(77, 96, 19)).toBe(0);
    expect(dapoOverlongPenalty(86, 96, 19)).toBeCloseTo(-9 / 19, 12);
    expect(dapoOverlongPenalty(96, 96, 19)).toBe(-1);
    expect(dapoOverlongPenalty(97, 96, 19)).toBe(-1);
    expect(() => dapoOverlongPenalty(50, 96, 0)).toThrow(/buffer: must be in \(0, maxLength = 96\]/);
  });
  it('property: the penalty lies in [−1, 0] and never rises with length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 96 }), (n, dn, buffer) => {
        const p = dapoOverlongPenalty(n, 96, buffer);
        expect(p).toBeGreaterThanOrEqual(-1);
        expect(p).toBeLessThanOrEqual(0);
        expect(dapoOverlongPenalty(n + dn, 96, buffer)).toBeLessThanOrEqual(p);
      }),
    );
  });
  it('dynamic sampling keeps a group only when its correctness varies', () => {
    expect(isInformativeGroup([1, 1, 1, 1])).toBe(false);
    expect(isInformativeGroup([0, 0])).toBe(false);
    expect(isInformativeGroup([1, 0, 1])).toBe(true);
    expect(isInformativeGroup([0.5])).toBe(false);
    expect(() => isInformativeGroup([])).toThrow(/correct: must be a non-empty array/);
  });
});

describe('Kimi k1.5 group length reward', () => {
  it('by hand: λ = 0.5 − (len − 10)/40; wrong traces keep only min(0, λ)', () => {
    // λ = [0.5, 0.25, 0, −0.5]; trace 0 is wrong (0.5 → 0), trace 3 wrong (−0.5 stays).
    expect(kimiLengthRewards(group)).toEqual([0, 0.25, 0, -0.5]);
    expect(kimiLengthRewards(group.map((o) => ({ ...o, correct: 1 })))).toEqual([0.5, 0.25, 0, -0.5]);
  });
  it('all 0 when every trace has the same length', () => {
    expect(kimiLengthRewards(group.map((o) => ({ ...o, length: 30 })))).toEqual([0, 0, 0, 0]);
  });
  it('property: in [−0.5, 0.5], unchanged by shifting every length, right never below wrong at equal length', () => {
    fc.assert(
      fc.property(groupArb, fc.integer({ min: 0, max: 50 }), (g, shift) => {
        const r = kimiLengthRewards(g);
        for (const x of r) {
          expect(x).toBeGreaterThanOrEqual(-0.5);
          expect(x).toBeLessThanOrEqual(0.5);
        }
        const shifted = kimiLengthRewards(g.map((o) => ({ ...o, length: o.length + shift })));
        shifted.forEach((x, i) => expect(x).toBeCloseTo(r[i], 12));
        g.forEach((a, i) => g.forEach((b, j) => {
          if (a.length === b.length && a.correct > b.correct) expect(r[i]).toBeGreaterThanOrEqual(r[j]);
        }));
      }),
    );
  });
});

describe('ShorterBetter', () => {
  it('SOL is the shortest correct length, else the mean length', () => {
    expect(sampleOptimalLength(group)).toBe(20);
    expect(sampleOptimalLength(group.map((o) => ({ ...o, correct: 0 })))).toBe(27.5);
  });
  it('rewards by hand: correctness − coef·|ℓ − SOL|', () => {
    const r = shorterBetterRewards(group, 0.03125);
    [0 - 0.3125, 1, 1 - 0.3125, 0 - 0.9375].forEach((x, i) => expect(r[i]).toBeCloseTo(x, 12));
  });
  it('property: the shortest correct trace keeps reward 1; no reward exceeds its correctness', () => {
    fc.assert(
      fc.property(groupArb, (g) => {
        const r = shorterBetterRewards(g, 0.03125);
        r.forEach((x, i) => expect(x).toBeLessThanOrEqual(g[i].correct + 1e-12));
        const right = g.map((o, i) => [o, i] as const).filter(([o]) => o.correct === 1);
        if (right.length > 0) {
          const shortest = Math.min(...right.map(([o]) => o.length));
          for (const [o, i] of right) if (o.length === shortest) expect(r[i]).toBe(1);
        }
      }),
    );
  });
});

describe('the reward-shape registry', () => {
  it('every listed name is registered, and correctness is the identity', () => {
    for (const name of REWARD_SHAPE_NAMES) expect(typeof REWARD_SHAPES[name]).toBe('function');
    expect(shapeRewards('correctness', group, ctx)).toEqual([0, 1, 1, 0]);
  });
  it('each shape by hand on the same group', () => {
    // dapo: L_max 50, L_cache 10: penalty 0 up to 40, trace 3 (50) gets −1 · 0.5.
    expect(shapeRewards('dapo-overlong', group, ctx)).toEqual([0, 1, 1, -0.5]);
    expect(shapeRewards('kimi-length', group, ctx)).toEqual([0, 1.125, 1, -0.25]);
    const exact = shapeRewards('l1-exact', group, { ...ctx, lengthCoef: 0.01 });
    [-0.14, 0.96, 0.94, -0.26].forEach((x, i) => expect(exact[i]).toBeCloseTo(x, 12));
    const max = shapeRewards('l1-max', group, { ...ctx, lengthCoef: 0.01 });
    [0, 0.54, 0.44, 0].forEach((x, i) => expect(max[i]).toBeCloseTo(x, 12));
    const sb = shapeRewards('shorter-better', group, { ...ctx, lengthCoef: 0.01 });
    [-0.1, 1, 0.9, -0.3].forEach((x, i) => expect(sb[i]).toBeCloseTo(x, 12));
  });
  it('errors name what is missing or wrong', () => {
    expect(() => shapeRewards('l1-exact', group, { ...ctx, target: null })).toThrow(/target: the 'l1-exact' reward needs a target length in the prompt \(config.promptTargets > 0\)/);
    expect(() => shapeRewards('length', group, ctx)).toThrow(/shape: must be one of 'correctness'/);
    expect(() => shapeRewards('correctness', [{ correct: 2, length: 3, finished: true }], ctx)).toThrow(/group\[0\].correct must be in \[0, 1\]/);
    expect(() => registerRewardShape('correctness', () => [])).toThrow(/already registered/);
  });
  it('a registered shape is found by name', () => {
    registerRewardShape('test-constant', (g) => g.map(() => 0.25));
    expect(shapeRewards('test-constant', group, ctx)).toEqual([0.25, 0.25, 0.25, 0.25]);
    delete REWARD_SHAPES['test-constant'];
  });
});
