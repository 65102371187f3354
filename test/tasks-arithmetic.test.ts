import { describe, expect, it } from 'vitest';
import { AnytimeInputError } from '../src/core/errors.js';
import { seededRng } from '../src/core/rng.js';
import {
  SPECIAL,
  TOKEN,
  applyOp,
  arithmetic,
  digitToken,
  lastValue,
  makeArithmeticTask,
  symbolicCodec,
  teacherBudgetProfile,
  tokenDigit,
} from '../src/tasks/index.js';
import type { ArithmeticData, TaskProblem } from '../src/tasks/index.js';

const enc = symbolicCodec.encode;
const dataOf = (p: TaskProblem) => p.data as unknown as ArithmeticData;

describe('arithmetic problems', () => {
  it('applies operations mod 10', () => {
    expect(applyOp(3, '+', 9)).toBe(2);
    expect(applyOp(3, '-', 9)).toBe(4);
    expect(applyOp(7, '*', 8)).toBe(6);
    expect(applyOp(0, '-', 1)).toBe(9);
  });

  it('builds prompts "start op d ... ?" whose answer is the chained value', () => {
    const rng = seededRng(1);
    for (let i = 0; i < 500; i++) {
      const p = arithmetic.sample(rng);
      const d = dataOf(p);
      expect(d.ops.length).toBeGreaterThanOrEqual(2);
      expect(d.ops.length).toBeLessThanOrEqual(7);
      expect(p.prompt).toEqual(enc(`${d.start} ${d.ops.map((op, j) => `${op} ${d.operands[j]}`).join(' ')} ?`));
      // Recompute the chain with plain integer arithmetic.
      let v = d.start;
      for (let j = 0; j < d.ops.length; j++) {
        const o = d.operands[j];
        v = d.ops[j] === '+' ? v + o : d.ops[j] === '-' ? v - o : v * o;
      }
      expect(p.answer).toBe(String(((v % 10) + 10) % 10));
      // Steps are distinct and never the no-op "* 1".
      const steps = d.ops.map((op, j) => `${op}${d.operands[j]}`);
      expect(new Set(steps).size).toBe(steps.length);
      expect(steps).not.toContain('*1');
      expect(d.operands.every((o) => o >= 1 && o <= 9)).toBe(true);
    }
  });

  it('scores exactly one digit equal to the answer', () => {
    const rng = seededRng(2);
    for (let i = 0; i < 200; i++) {
      const p = arithmetic.sample(rng);
      const gold = Number(p.answer);
      for (let d = 0; d <= 9; d++) expect(arithmetic.score(p, [digitToken(d)])).toBe(d === gold ? 1 : 0);
      expect(arithmetic.score(p, [digitToken(gold), SPECIAL.EOS])).toBe(1);
      expect(arithmetic.score(p, [digitToken(gold), digitToken(gold)])).toBe(0);
      expect(arithmetic.score(p, [TOKEN.EQUALS, digitToken(gold)])).toBe(0);
    }
  });

  it('rejects bad configurations, naming the field', () => {
    expect(() => makeArithmeticTask({ maxSteps: 8 })).toThrow(/arithmetic\.maxSteps.*≤ 7/);
    expect(() => makeArithmeticTask({ minSteps: 5, maxSteps: 4 })).toThrow(/arithmetic\.minSteps/);
    expect(() => makeArithmeticTask({ slipProb: 1.5 })).toThrow(AnytimeInputError);
    expect(() => makeArithmeticTask({ maxCarefulness: 1 })).toThrow(/maxCarefulness/);
    expect(() => arithmetic.teacherTrace({ id: 'x', prompt: [], answer: '1', data: {} }, seededRng(1))).toThrow(
      /problem\.data/,
    );
  });
});

describe('arithmetic teacher', () => {
  it('writes lines "a op d = r ;" that re-check the step or take the next one', () => {
    const rng = seededRng(3);
    let checks = 0;
    let reverifications = 0;
    for (let i = 0; i < 300; i++) {
      const p = arithmetic.sample(rng);
      const d = dataOf(p);
      const trace = arithmetic.teacherTrace(p, rng);
      if (trace.length >= 192) continue; // truncated at the cap
      expect(trace.length % 6).toBe(0);
      let step = -1;
      let carried = d.start;
      let prevA = -1;
      for (let at = 0; at < trace.length; at += 6) {
        const [a, op, o, eq, r, semi] = trace.slice(at, at + 6);
        expect([eq, semi]).toEqual([TOKEN.EQUALS, TOKEN.SEMI]);
        const isStep = (j: number) => op === enc(d.ops[j])[0] && tokenDigit(o) === d.operands[j];
        if (step >= 0 && isStep(step) && tokenDigit(a) === prevA) {
          checks++;
        } else if (step + 1 < d.ops.length && isStep(step + 1)) {
          step++;
          expect(tokenDigit(a)).toBe(carried);
        } else {
          // A second pass from the start.
          expect(step).toBe(d.ops.length - 1);
          expect(isStep(0)).toBe(true);
          expect(tokenDigit(a)).toBe(d.start);
          reverifications++;
          step = 0;
        }
        prevA = tokenDigit(a);
        carried = tokenDigit(r);
      }
      expect(step).toBe(d.ops.length - 1);
    }
    expect(checks).toBeGreaterThan(100);
    expect(reverifications).toBeGreaterThan(30);
  });

  it('without slips, reads every full trace right', () => {
    const exact = makeArithmeticTask({ slipProb: 0, checkSlipProb: 0, traceCap: 2000 });
    const profile = teacherBudgetProfile(exact, 500, 16, 1);
    expect(profile.fullTraceAccuracy).toBe(1);
    // Still not 100% at b_max: some traces are cut there.
    expect(profile.accuracy[15]).toBeLessThan(1);
  });

  it('without redundancy, writes exactly one line per step', () => {
    const terse = makeArithmeticTask({ maxCarefulness: 0, reverifyProb: 0 });
    const rng = seededRng(4);
    for (let i = 0; i < 100; i++) {
      const p = terse.sample(rng);
      expect(terse.teacherTrace(p, rng).length).toBe(6 * dataOf(p).ops.length);
    }
  });

  it('gains accuracy from re-checks at a cost in tokens: a real trade-off', () => {
    // Measured (2000 problems, seed 2): careless 0.668 full-trace / 0.668 at b_max, mean length 28;
    // careful 0.747 full-trace / 0.670 at b_max (cuts eat the gain), mean length 64.
    const careless = teacherBudgetProfile(makeArithmeticTask({ maxCarefulness: 0, reverifyProb: 0 }), 2000, 16, 2);
    const careful = teacherBudgetProfile(makeArithmeticTask({ maxCarefulness: 0.9, reverifyProb: 0 }), 2000, 16, 2);
    expect(careful.fullTraceAccuracy).toBeGreaterThan(careless.fullTraceAccuracy + 0.04);
    expect(careful.meanLength).toBeGreaterThan(careless.meanLength + 20);
    expect(careful.fractionCut).toBeGreaterThan(careless.fractionCut + 0.1);
  });

  it('summarises a cut trace by the last value written', () => {
    const p = arithmetic.sample(seededRng(5));
    const start = dataOf(p).start;
    expect(lastValue(start, [])).toBe(start);
    expect(lastValue(start, enc('3 + 4 = 7 ; 7 * 2 ='))).toBe(7); // partial line ignored
    expect(lastValue(start, enc('3 + 4 = 7 ; 7 * 2 = 4'))).toBe(4);
    expect(arithmetic.teacherSummary(p, enc('1 + 1 = 2 ; 2 * 3 = 6 ; 6 -'), seededRng(1))).toEqual(enc('6'));
    expect(arithmetic.teacherSummary(p, [], seededRng(1))).toEqual([digitToken(start)]);
  });
});
