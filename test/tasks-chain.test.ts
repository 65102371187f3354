import { describe, expect, it } from 'vitest';
import { AnytimeInputError } from '../src/core/errors.js';
import { seededRng } from '../src/core/rng.js';
import {
  SPECIAL,
  TOKEN,
  applyOp,
  chain,
  chainLine,
  currentValue,
  digitToken,
  getTask,
  makeChainTask,
  symbolicCodec,
  teacherBudgetProfile,
  tokenDigit,
} from '../src/tasks/index.js';
import type { ChainData, TaskProblem } from '../src/tasks/index.js';

const enc = symbolicCodec.encode;
const dataOf = (p: TaskProblem) => p.data as unknown as ChainData;

describe('chain problems', () => {
  it('is registered under its name', () => {
    expect(getTask('chain')).toBe(chain);
  });

  it('builds prompts "start op d ... ?" whose answer is the chained value', () => {
    const rng = seededRng(1);
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 600; i++) {
      const p = chain.sample(rng);
      const d = dataOf(p);
      counts[d.ops.length]++;
      expect(p.prompt).toEqual(enc(`${d.start} ${d.ops.map((op, j) => `${op} ${d.operands[j]}`).join(' ')} ?`));
      let v = d.start;
      for (let j = 0; j < d.ops.length; j++) {
        const o = d.operands[j];
        v = d.ops[j] === '+' ? v + o : d.ops[j] === '-' ? v - o : v * o;
      }
      expect(p.answer).toBe(String(((v % 10) + 10) % 10));
      const steps = d.ops.map((op, j) => `${op}${d.operands[j]}`);
      expect(new Set(steps).size).toBe(steps.length);
      expect(steps).not.toContain('*1');
    }
    // Chains of 2..7 operations, each length drawn (defaults weigh them equally).
    expect(counts[0] + counts[1]).toBe(0);
    for (let k = 2; k <= 7; k++) expect(counts[k]).toBeGreaterThan(60);
  });

  it('scores exactly one digit equal to the answer, and nothing perturbed', () => {
    const rng = seededRng(2);
    for (let i = 0; i < 200; i++) {
      const p = chain.sample(rng);
      const gold = Number(p.answer);
      for (let d = 0; d <= 9; d++) expect(chain.score(p, [digitToken(d)])).toBe(d === gold ? 1 : 0);
      expect(chain.score(p, [digitToken(gold), SPECIAL.EOS, TOKEN.PLUS])).toBe(1);
      expect(chain.score(p, [digitToken(gold), digitToken(gold)])).toBe(0);
      expect(chain.score(p, [digitToken(gold), TOKEN.SEMI])).toBe(0);
      expect(chain.score(p, [TOKEN.EQUALS, digitToken(gold)])).toBe(0);
      expect(chain.score(p, [])).toBe(0);
    }
  });

  it('round-trips prompts and traces through decode/encode, deterministically under a seed', () => {
    const draw = (seed: number) => {
      const r = seededRng(seed);
      return Array.from({ length: 50 }, () => {
        const p = chain.sample(r);
        const trace = chain.teacherTrace(p, r);
        expect(chain.encode(chain.decode(p.prompt))).toEqual(p.prompt);
        expect(chain.encode(chain.decode(trace))).toEqual(trace);
        return { p, trace, summary: chain.teacherSummary(p, trace.slice(0, 15), r) };
      });
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it('rejects bad configurations, naming the field', () => {
    expect(() => makeChainTask({ stepWeights: [1, 1, 1, 1, 1, 1, 1, 1] })).toThrow(/chain\.stepWeights.*1 to 7/);
    expect(() => makeChainTask({ stepWeights: [0, 0] })).toThrow(/chain\.stepWeights/);
    expect(() => makeChainTask({ stepWeights: [1, -1] })).toThrow(/chain\.stepWeights/);
    expect(() => makeChainTask({ slipProb: 1.5 })).toThrow(AnytimeInputError);
    expect(() => makeChainTask({ maxCarefulness: 1 })).toThrow(/chain\.maxCarefulness/);
    expect(() => makeChainTask({ maxThinking: 0 })).toThrow(/chain\.maxThinking/);
    expect(() => chain.teacherTrace({ id: 'x', prompt: [], answer: '1', data: {} }, seededRng(1))).toThrow(/problem\.data/);
  });

  it('sizes prompts by the longest chain with weight', () => {
    expect(chain.maxPromptLength).toBe(16);
    expect(makeChainTask({ stepWeights: [0, 1, 1] }).maxPromptLength).toBe(8);
  });
});

describe('chain teacher', () => {
  it('writes numbered lines "i a op d = r ;": the next step, or a re-check of the step just taken', () => {
    const rng = seededRng(3);
    let checks = 0;
    let corrections = 0;
    for (let i = 0; i < 300; i++) {
      const p = chain.sample(rng);
      const d = dataOf(p);
      const trace = chain.teacherTrace(p, rng);
      if (trace.length >= 192) continue; // truncated at the cap
      expect(trace.length % 7).toBe(0);
      let step = 0;
      let from = d.start; // the value the current step starts from
      let carried = d.start; // the value written last
      for (let at = 0; at < trace.length; at += 7) {
        const line = trace.slice(at, at + 7);
        const isCheck = step > 0 && tokenDigit(line[0]) === step;
        if (isCheck) {
          checks++;
          const right = applyOp(from, d.ops[step - 1], d.operands[step - 1]);
          if (carried !== right && tokenDigit(line[5]) === right) corrections++;
        } else {
          step++;
          from = carried;
        }
        const r = tokenDigit(line[5]);
        expect(r).toBeGreaterThanOrEqual(0);
        expect(line).toEqual(chainLine(step, from, d.ops[step - 1], d.operands[step - 1], r));
        carried = r;
      }
      expect(step).toBe(d.ops.length);
    }
    // Measured 887 re-checks, 53 of them correcting a slip.
    expect(checks).toBeGreaterThan(500);
    expect(corrections).toBeGreaterThan(25);
  });

  it('without slips, reads every full trace right', () => {
    const exact = makeChainTask({ slipProb: 0, checkSlipProb: 0, traceCap: 2000 });
    const profile = teacherBudgetProfile(exact, 500, 16, 1);
    expect(profile.fullTraceAccuracy).toBe(1);
    // Still not 100% at b_max: some traces are cut there.
    expect(profile.accuracy[15]).toBeLessThan(1);
  });

  it('without redundancy, writes one 7-token line per step', () => {
    const terse = makeChainTask({ maxCarefulness: 0 });
    const rng = seededRng(4);
    for (let i = 0; i < 100; i++) {
      const p = terse.sample(rng);
      expect(terse.teacherTrace(p, rng).length).toBe(7 * dataOf(p).ops.length);
    }
  });

  it('gains accuracy from re-checks at a cost in tokens: a real trade-off', () => {
    // Measured (2000 problems, seed 2): careless 0.656 full-trace at 32.7 tokens on average;
    // the defaults 0.747 at 55.5 (see src/tasks/chain.ts).
    const careless = teacherBudgetProfile(makeChainTask({ maxCarefulness: 0 }), 2000, 16, 2);
    const careful = teacherBudgetProfile(chain, 2000, 16, 2);
    expect(careful.fullTraceAccuracy).toBeGreaterThan(careless.fullTraceAccuracy + 0.05);
    expect(careful.meanLength).toBeGreaterThan(careless.meanLength + 15);
    expect(careful.fractionCut).toBeGreaterThan(careless.fractionCut + 0.05);
  });

  it('summarises a cut trace by the result of the last complete line', () => {
    const p = chain.sample(seededRng(5));
    const start = dataOf(p).start;
    expect(currentValue(start, [])).toBe(start);
    expect(currentValue(start, enc('1 3 + 4 ='))).toBe(start); // no complete line yet
    expect(currentValue(start, enc('1 3 + 4 = 7 ; 2 7 * 7 ='))).toBe(7); // partial line ignored
    expect(currentValue(start, enc('1 3 + 4 = 7 ; 2 7 * 7 = 9'))).toBe(9);
    expect(chain.teacherSummary(p, enc('1 1 + 1 = 2 ; 2 2 * 3 = 6 ; 3 6 -'), seededRng(1))).toEqual(enc('6'));
    expect(chain.teacherSummary(p, [], seededRng(1))).toEqual([digitToken(start)]);
  });
});

describe('chain anytime profile of the teacher (3000 problems, 16 budgets)', () => {
  // Measured values are in the doc comment of src/tasks/chain.ts (seed 1: 12.1% cut, accuracy
  // .103 at budget 6, .521 at 48, .688 at 96).
  const profile = teacherBudgetProfile(chain, 3000, 16, 9);

  it('(a) spreads trace lengths over the budget support, with some cut at b_max', () => {
    // Lines are 7 tokens, so lengths are 7n + 1 and a few 6-token segments stay empty (12 of 16 hit).
    expect(profile.segmentsHit).toBeGreaterThanOrEqual(12);
    expect(Math.max(...profile.lengthHistogram)).toBeLessThan(0.15 * 3000);
    expect(profile.fractionCut).toBeGreaterThan(0.05);
    expect(profile.fractionCut).toBeLessThan(0.3);
  });

  it('(b) raises accuracy with the budget, gradually', () => {
    const acc = profile.accuracy;
    for (let j = 1; j < acc.length; j++) expect(acc[j]).toBeGreaterThan(acc[j - 1] - 0.02);
    expect(acc[15]).toBeGreaterThan(4 * acc[0]);
    expect(acc[7]).toBeGreaterThan(acc[0] + 0.2 * (acc[15] - acc[0]));
    expect(acc[7]).toBeLessThan(acc[15] - 0.1);
    for (let j = 1; j < acc.length; j++) expect(acc[j] - acc[j - 1]).toBeLessThan(0.25 * (acc[15] - acc[0]));
  });

  it('(c) leaves accuracy at b_max well below 100%, and below the full traces', () => {
    expect(profile.accuracy[15]).toBeLessThan(0.8);
    expect(profile.accuracy[15]).toBeGreaterThan(0.55);
    expect(profile.fullTraceAccuracy).toBeGreaterThan(profile.accuracy[15]);
  });
});
