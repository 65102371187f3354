import { describe, expect, it } from 'vitest';
import { seededRng } from '../src/core/rng.js';
import {
  SEARCH_LINE_LENGTH,
  SPECIAL,
  TOKEN,
  digitToken,
  getTask,
  lineValue,
  makeSearchTask,
  search,
  searchCycle,
  searchLine,
  searchLines,
  symbolicCodec,
  teacherBudgetProfile,
} from '../src/tasks/index.js';
import type { SearchData, TaskProblem } from '../src/tasks/index.js';

const enc = symbolicCodec.encode;
const dataOf = (p: TaskProblem) => p.data as unknown as SearchData;

describe('search problems', () => {
  it('is registered under its name', () => {
    expect(getTask('search')).toBe(search);
  });

  it('builds prompts "d1 d2 d3 d4 : t ?" (one-digit target) reachable by the answer, within 8 tokens', () => {
    const rng = seededRng(1);
    const ops = { '+': 0, '-': 0, '*': 0 } as Record<string, number>;
    for (let i = 0; i < 500; i++) {
      const p = search.sample(rng);
      const { numbers, target } = dataOf(p);
      expect(p.prompt).toEqual([...numbers.map(digitToken), TOKEN.COLON, digitToken(target), TOKEN.QUERY]);
      expect(p.prompt.length).toBe(search.maxPromptLength);
      expect(search.maxPromptLength).toBeLessThanOrEqual(8);
      const [i, op, j] = p.answer.split(' ');
      ops[op]++;
      const [a, b] = [numbers[+i - 1], numbers[+j - 1]];
      expect(+i).toBeLessThan(+j);
      expect((op === '+' ? a + b : op === '-' ? Math.abs(a - b) : a * b) % 10).toBe(target);
      expect(target).toBeGreaterThanOrEqual(0);
      expect(target).toBeLessThanOrEqual(9);
    }
    for (const op of ['+', '-', '*']) expect(ops[op]).toBeGreaterThan(100);
  });

  it('scores the gold summary and any other right one, and nothing perturbed', () => {
    const rng = seededRng(2);
    for (let n = 0; n < 300; n++) {
      const p = search.sample(rng);
      const { numbers, target } = dataOf(p);
      const gold = enc(p.answer);
      expect(search.score(p, gold)).toBe(1);
      expect(search.score(p, [gold[2], gold[1], gold[0]])).toBe(1); // the operations are symmetric
      expect(search.score(p, [...gold, SPECIAL.EOS, TOKEN.PLUS])).toBe(1);
      expect(search.score(p, [...gold, TOKEN.SEMI])).toBe(0);
      expect(search.score(p, gold.slice(0, 2))).toBe(0);
      expect(search.score(p, [])).toBe(0);
      // Exhaustive over every 3-token "i op j": 1 exactly when two different positions make the target.
      for (let i = 0; i <= 9; i++) {
        for (const op of ['+', '-', '*'] as const) {
          for (let j = 0; j <= 9; j++) {
            const valid = i >= 1 && j >= 1 && i <= 4 && j <= 4 && i !== j;
            const right = valid && lineValue(numbers[i - 1], op, numbers[j - 1]) === target;
            expect(search.score(p, enc(`${i} ${op} ${j}`))).toBe(right ? 1 : 0);
          }
        }
      }
    }
  });

  it('round-trips prompts and traces through decode/encode, deterministically under a seed', () => {
    const draw = (seed: number) => {
      const r = seededRng(seed);
      return Array.from({ length: 50 }, () => {
        const p = search.sample(r);
        const trace = search.teacherTrace(p, r);
        expect(search.encode(search.decode(p.prompt))).toEqual(p.prompt);
        expect(search.encode(search.decode(trace))).toEqual(trace);
        return { p, trace, summary: search.teacherSummary(p, trace.slice(0, 20), r) };
      });
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it('rejects bad configurations, naming the field', () => {
    expect(() => makeSearchTask({ count: 6 })).toThrow(/search\.count/);
    expect(() => makeSearchTask({ slipProb: 2 })).toThrow(/search\.slipProb/);
    expect(() => makeSearchTask({ maxCarefulness: 1 })).toThrow(/search\.maxCarefulness/);
    expect(() => search.teacherTrace({ id: 'x', prompt: [], answer: '1', data: {} }, seededRng(1))).toThrow(/problem\.data/);
  });
});

describe('search teacher', () => {
  it('writes 8-token lines that follow the candidate cycle, re-checking in place, stopping at a hit', () => {
    const rng = seededRng(3);
    const cycle = searchCycle(4).map((k) => `${k.i}${k.op}${k.j}`);
    expect(cycle.length).toBe(18);
    let checks = 0;
    for (let i = 0; i < 300; i++) {
      const p = search.sample(rng);
      const { numbers, target } = dataOf(p);
      const trace = search.teacherTrace(p, rng);
      if (trace.length >= 192) continue; // truncated at the cap, mid-line
      expect(trace.length % SEARCH_LINE_LENGTH).toBe(0);
      const lines = searchLines(numbers, trace);
      expect(lines.length * SEARCH_LINE_LENGTH).toBe(trace.length);
      lines.forEach((l, n) => {
        expect(searchLine(numbers, l, l.value)).toEqual(trace.slice(8 * n, 8 * n + 8));
        if (n === 0) return;
        const prev = cycle.indexOf(`${lines[n - 1].i}${lines[n - 1].op}${lines[n - 1].j}`);
        const here = cycle.indexOf(`${l.i}${l.op}${l.j}`);
        if (here === prev) checks++;
        else expect(here).toBe((prev + 1) % cycle.length);
        expect(lines[n - 1].value).not.toBe(target); // only the last line may hit
      });
      expect(lines[lines.length - 1].value).toBe(target);
    }
    expect(checks).toBeGreaterThan(100);
  });

  it('writes the last digit of sums and products and the distance for -', () => {
    expect(lineValue(3, '-', 8)).toBe(5);
    expect(lineValue(7, '+', 8)).toBe(5);
    expect(lineValue(7, '*', 8)).toBe(6);
    expect(searchLine([3, 8], { i: 1, j: 2, op: '-' }, 5)).toEqual(enc('1 3 - 2 8 = 5 ;'));
    expect(() => searchLine([3, 8], { i: 1, j: 2, op: '*' }, 24)).toThrow(/value/);
  });

  it('answers the positions of the last hit of a cut trace, else an untried candidate', () => {
    // Target 8 has one solution here: 2 * 9 (positions 3 and 4).
    const p: TaskProblem = { id: 't', prompt: enc('3 7 2 9 : 8 ?'), answer: '3 * 4', data: { numbers: [3, 7, 2, 9], target: 8 } };
    const hit = enc('3 2 * 4 9 = 8 ; 1 3 +');
    expect(search.teacherSummary(p, hit, seededRng(1))).toEqual(enc('3 * 4'));
    // All but one candidate tried without a hit: the guess is the one left.
    const numbers = [3, 7, 2, 9];
    const all = searchCycle(4).filter((k) => !(k.i === 3 && k.j === 4 && k.op === '*'));
    expect(all.every((k) => lineValue(numbers[k.i - 1], k.op, numbers[k.j - 1]) !== 8)).toBe(true);
    const tried = all.flatMap((k) => searchLine(numbers, k, lineValue(numbers[k.i - 1], k.op, numbers[k.j - 1])));
    expect(search.teacherSummary(p, tried, seededRng(1))).toEqual(enc('3 * 4'));
    expect(search.teacherSummary(p, tried.concat(enc('1 3 +')), seededRng(1))).toEqual(enc('3 * 4'));
  });
});

describe('search anytime profile of the teacher (3000 problems, 16 budgets)', () => {
  // Measured values are in the doc comment of src/tasks/search.ts.
  const profile = teacherBudgetProfile(search, 3000, 16, 9);

  it('(a) spreads trace lengths over the budget support, with some cut at b_max', () => {
    // Lines are 8 tokens, so lengths are 8n + 1 and 4 of the 16 six-token segments stay empty.
    expect(profile.segmentsHit).toBeGreaterThanOrEqual(11);
    expect(Math.max(...profile.lengthHistogram)).toBeLessThan(0.2 * 3000);
    expect(profile.fractionCut).toBeGreaterThan(0.12);
    expect(profile.fractionCut).toBeLessThan(0.5);
  });

  it('(b) raises accuracy with the budget, gradually', () => {
    const acc = profile.accuracy;
    for (let j = 1; j < acc.length; j++) expect(acc[j]).toBeGreaterThan(acc[j - 1] - 0.03);
    expect(acc[15]).toBeGreaterThan(4 * acc[0]);
    expect(acc[7]).toBeGreaterThan(acc[0] + 0.2 * (acc[15] - acc[0]));
    expect(acc[7]).toBeLessThan(acc[15] - 0.1);
    for (let j = 1; j < acc.length; j++) expect(acc[j] - acc[j - 1]).toBeLessThan(0.25 * (acc[15] - acc[0]));
  });

  it('(c) leaves accuracy at b_max well below 100%, and below the full traces', () => {
    expect(profile.accuracy[15]).toBeLessThan(0.9);
    expect(profile.accuracy[15]).toBeGreaterThan(0.5);
    expect(profile.fullTraceAccuracy).toBeGreaterThan(profile.accuracy[15] + 0.05);
  });
});
