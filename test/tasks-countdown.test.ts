import { describe, expect, it } from 'vitest';
import { seededRng } from '../src/core/rng.js';
import {
  TOKEN,
  candidates,
  completedLines,
  countdown,
  evaluate,
  makeCountdownTask,
  symbolicCodec,
  teacherBudgetProfile,
} from '../src/tasks/index.js';
import type { CountdownData, Op, TaskProblem } from '../src/tasks/index.js';

const enc = symbolicCodec.encode;
const dataOf = (p: TaskProblem) => p.data as unknown as CountdownData;
const problem = (numbers: number[], target: number, answer: string): TaskProblem => ({
  id: 'test',
  prompt: enc(`${numbers.join(' , ')} : ${target} ?`),
  answer,
  data: { numbers, target },
});

/** Reference check written independently of the task's verifier: try every ordered pair of positions. */
function solves(numbers: number[], target: number, a: number, op: Op, b: number): boolean {
  for (let i = 0; i < numbers.length; i++) {
    for (let j = 0; j < numbers.length; j++) {
      if (i !== j && numbers[i] === a && numbers[j] === b) return evaluate(a, op, b) === target;
    }
  }
  return false;
}

describe('countdown problems', () => {
  it('enumerates each distinct candidate once', () => {
    expect(candidates([1, 2, 3, 4, 5])).toHaveLength(30);
    expect(candidates([2, 2]).map((k) => `${k.a}${k.op}${k.b}=${k.value}`)).toEqual(['2+2=4', '2*2=4']);
    expect(candidates([3, 7]).map((k) => `${k.a}${k.op}${k.b}=${k.value}`)).toEqual(['3+7=10', '7-3=4', '3*7=21']);
  });

  it('builds reachable targets and prompts "n , n , ... : T ?"', () => {
    const rng = seededRng(1);
    const ops = { '+': 0, '-': 0, '*': 0 };
    for (let i = 0; i < 600; i++) {
      const p = countdown.sample(rng);
      const { numbers, target } = dataOf(p);
      expect(numbers).toHaveLength(5);
      expect(p.prompt).toEqual(enc(`${numbers.join(' , ')} : ${target} ?`));
      expect(target).toBeGreaterThanOrEqual(1);
      const [a, op, b] = p.answer.split(' ');
      expect(solves(numbers, target, Number(a), op as Op, Number(b))).toBe(true);
      ops[op as Op]++;
    }
    // The gold operation is drawn uniformly.
    for (const n of Object.values(ops)) expect(n).toBeGreaterThan(150);
  });

  it('scores exactly the pairs of given digits that reach the target', () => {
    const rng = seededRng(2);
    for (let i = 0; i < 150; i++) {
      const p = countdown.sample(rng);
      const { numbers, target } = dataOf(p);
      for (const op of ['+', '-', '*'] as const) {
        for (let a = 0; a <= 9; a++) {
          for (let b = 0; b <= 9; b++) {
            const expected = solves(numbers, target, a, op, b) ? 1 : 0;
            expect(countdown.score(p, enc(`${a} ${op} ${b}`))).toBe(expected);
          }
        }
      }
    }
  });

  it('accepts other solutions and commuted forms, rejects reuse of a digit', () => {
    const p = problem([3, 4, 9, 2, 8], 7, '3 + 4');
    expect(countdown.score(p, enc('3 + 4'))).toBe(1);
    expect(countdown.score(p, enc('4 + 3'))).toBe(1);
    expect(countdown.score(p, enc('9 - 2'))).toBe(1);
    expect(countdown.score(p, enc('2 - 9'))).toBe(0);
    const q = problem([4, 1, 5, 6, 7], 16, '4 * 4');
    expect(countdown.score(q, enc('4 * 4'))).toBe(0); // only one 4 is given
    expect(countdown.score(problem([4, 4, 5, 6, 7], 16, '4 * 4'), enc('4 * 4'))).toBe(1);
    expect(countdown.score(p, enc('3 + 4 = 7'))).toBe(0);
    expect(countdown.score(p, enc('7'))).toBe(0);
  });

  it('rejects bad configurations, naming the field', () => {
    expect(() => makeCountdownTask({ count: 6 })).toThrow(/countdown\.count.*2-5/);
    expect(() => makeCountdownTask({ maxRepeat: 1 })).toThrow(/countdown\.maxRepeat/);
    expect(() => makeCountdownTask({ productSlipProb: -0.1 })).toThrow(/productSlipProb/);
  });
});

describe('countdown teacher', () => {
  it('tries candidates line by line and stops at the first line that reaches the target', () => {
    const rng = seededRng(3);
    let repeats = 0;
    for (let i = 0; i < 300; i++) {
      const p = countdown.sample(rng);
      const { numbers, target } = dataOf(p);
      const trace = countdown.teacherTrace(p, rng);
      if (trace.length >= 192) continue; // truncated at the cap
      expect(trace[trace.length - 1]).toBe(TOKEN.SEMI);
      const lines = completedLines(trace);
      expect(lines.length).toBe(trace.filter((t) => t === TOKEN.SEMI).length);
      expect(lines[lines.length - 1].value).toBe(target);
      expect(lines.slice(0, -1).every((l) => l.value !== target)).toBe(true);
      const keys = lines.map((l) => `${l.a}${l.op}${l.b}`);
      repeats += keys.length - new Set(keys).size;
      for (const l of lines) expect(solves(numbers, evaluate(l.a, l.op, l.b), l.a, l.op, l.b)).toBe(true);
    }
    expect(repeats).toBeGreaterThan(50);
  });

  it('without slips or caps, always finds a solution and reads it right', () => {
    const exact = makeCountdownTask({ productSlipProb: 0, sumSlipProb: 0, traceCap: 2000 });
    const profile = teacherBudgetProfile(exact, 500, 16, 1);
    expect(profile.fullTraceAccuracy).toBe(1);
    expect(profile.accuracy[15]).toBeLessThan(1); // search order still leaves some cut at b_max
  });

  it('answers the hit when there is one, else guesses an untried candidate', () => {
    const p = problem([3, 4, 9, 2, 8], 7, '3 + 4');
    const rng = seededRng(4);
    expect(countdown.teacherSummary(p, enc('9 * 8 = 72 ; 9 - 2 = 7 ;'), rng)).toEqual(enc('9 - 2'));
    const tried = enc('3 + 9 = 12 ; 9 - 3 = 6 ; 4 * 2 = 8 ; 9 -');
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const guess = symbolicCodec.decode(countdown.teacherSummary(p, tried, rng));
      seen.add(guess);
      expect(['3 + 9', '9 - 3', '4 * 2']).not.toContain(guess);
      const [a, op, b] = guess.split(' ');
      expect(solves([3, 4, 9, 2, 8], evaluate(Number(a), op as Op, Number(b)), Number(a), op as Op, Number(b))).toBe(
        true,
      );
    }
    expect(seen.size).toBeGreaterThan(15); // spread over the 27 untried candidates
  });

  it('parses only completed lines, with multi-digit values', () => {
    expect(completedLines(enc('7 * 8 = 56 ; 9 - 2 = 7 ; 3 + 4 = 1'))).toEqual([
      { a: 7, op: '*', b: 8, value: 56 },
      { a: 9, op: '-', b: 2, value: 7 },
    ]);
    expect(completedLines(enc('7 * = 56 ; ; 1 + 2 = 3 ;'))).toEqual([{ a: 1, op: '+', b: 2, value: 3 }]);
  });
});
