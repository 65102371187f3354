/**
 * The grader regression table of issue 14 (test/verify.cases.ts): every case's verdict and
 * reason string, and the table's coverage of the families.
 */
import { describe, expect, it } from 'vitest';
import { verifyAnswer } from '../src/verify/index.js';
import { FAMILIES, GRADER_CASES } from './verify.cases.js';

describe('grader regression table', () => {
  it('has at least 150 cases, at least 15 in every family, and both verdicts in every family', () => {
    expect(GRADER_CASES.length).toBeGreaterThanOrEqual(150);
    for (const family of FAMILIES) {
      const cases = GRADER_CASES.filter((c) => c[0] === family);
      expect(cases.length, family).toBeGreaterThanOrEqual(15);
      if (family !== 'strictness') expect(cases.some((c) => c[3]), family).toBe(true);
      expect(cases.some((c) => !c[3]), family).toBe(true);
    }
  });

  it('has no duplicate case', () => {
    const keys = GRADER_CASES.map((c) => `${c[1]}\u0000${c[2]}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(GRADER_CASES.map((c, k) => [k, ...c] as const))('#%i %s: %s vs %s -> %s (%s)', (_k, _family, prediction, gold, correct, reason) => {
    const r = verifyAnswer(prediction, gold);
    expect({ correct: r.correct, reason: r.reason }).toEqual({ correct, reason });
  });
});
