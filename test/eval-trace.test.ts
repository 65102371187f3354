import { describe, expect, it } from 'vitest';
import { readThinking } from '../src/eval/trace.js';
import { forcingStrings, QWEN3_EARLY_EXIT } from '../src/eval/presets.js';
import { passAtK, passKs } from '../src/eval/results.js';
import { planSummaries, resolveBudgets } from '../src/eval/planner.js';
import { parseProblems } from '../src/eval/data.js';

const STRINGS = { promptTemplate: '{problem}', forceCut: '<CUT>', forceAnswer: '<ANS>', thinkEnd: '</think>' };

describe('planner and data', () => {
  it('plans one summary prompt per distinct prefix with the right forcing suffix', async () => {
    const response = { choices: [{ text: 'a b c', finish_reason: 'stop', stop_reason: '</think>', logprobs: { tokens: ['a', ' b', ' c', '</think>'] } }] };
    const t = await readThinking(response, { thinkEnd: '</think>', budgets: [2, 4, 6] });
    expect(t.length).toBe(4);
    const { jobs } = planSummaries('Q:', t, [2, 4, 6], STRINGS);
    expect(jobs.map((j) => [j.prompt, j.budgetIndices])).toEqual([
      ['Q:a b<CUT><ANS>', [0]],
      ['Q:a b c</think><ANS>', [1, 2]],
    ]);
  });

  it('sends no summary request for a cut that ends in end-of-sequence (it scores 0, §1)', async () => {
    const response = { choices: [{ text: 'a b', finish_reason: 'stop', stop_reason: null, logprobs: { tokens: ['a', ' b', '<｜end▁of▁sentence｜>'] } }] };
    const t = await readThinking(response, { thinkEnd: '</think>', budgets: [1, 2, 3, 4] });
    expect(t).toMatchObject({ length: 3, eos: true, finished: false });
    const { jobs } = planSummaries('Q:', t, [1, 2, 3, 4], STRINGS);
    expect(jobs.map((j) => [j.cutLength, j.cut, j.scoresZero, j.prompt])).toEqual([
      [1, true, false, 'Q:a<CUT><ANS>'],
      [2, true, false, 'Q:a b<CUT><ANS>'],
      [3, true, true, ''],
    ]);
  });

  it('resolves budgets and checks them', () => {
    expect(resolveBudgets(8000, { count: 4 })).toEqual([2000, 4000, 6000, 8000]);
    expect(resolveBudgets(8000, {})).toHaveLength(32);
    expect(resolveBudgets(10, { count: 3 })).toEqual([3, 6, 10]);
    expect(() => resolveBudgets(100, { budgets: [10, 20.5] })).toThrow(/whole number/);
    expect(() => resolveBudgets(100, { budgets: [10], count: 2 })).toThrow(/either --budgets or --budget-count/);
  });

  it('parses JSON arrays and JSONL, converting numeric answers', () => {
    expect(parseProblems('[{"problem":"p","answer":4,"id":"a"}]')).toEqual([{ index: 0, id: 'a', problem: 'p', answer: '4' }]);
    expect(parseProblems('{"problem":"p","answer":"x"}\n{"problem":"q","answer":"y"}\n').map((p) => p.id)).toEqual(['0', '1']);
    expect(() => parseProblems('{"problem":"p","answer":"x"}\nnot json\n', 'f')).toThrow(/f line 2: is not valid JSON/);
    expect(() => parseProblems('[{"problem":"","answer":"x"}]', 'f')).toThrow(/f \[index 0\] field "problem": must be a non-empty string/);
  });
});

describe('forcing presets', () => {
  it('gives the paper\'s R1 strings, Qwen3\'s early-exit sentence, and a custom cut suffix', () => {
    expect(forcingStrings('r1', {})).toMatchObject({ forceCut: '...\n\n...\n\n</think>', forceAnswer: '\n\n**Final Answer**\n', thinkEnd: '</think>' });
    const q = forcingStrings('qwen3', {});
    expect(q.forceCut + q.forceAnswer).toBe(`\n\n${QWEN3_EARLY_EXIT}\n</think>\n\n`);
    expect(QWEN3_EARLY_EXIT).toBe('Considering the limited time by the user, I have to give the solution based on the thinking directly now.');
    expect(q.promptTemplate).toMatch(/^<\|im_start\|>user\n\{problem\}/);
    expect(forcingStrings('custom', { forceCut: '\n</think>' })).toMatchObject({ forceCut: '\n</think>', forceAnswer: '\n\n**Final Answer**\n' });
    expect(forcingStrings('qwen3', { forceAnswer: 'A: ' }).forceAnswer).toBe('A: ');
    expect(() => forcingStrings('custom', {})).toThrow(/--forcing: custom needs --force-cut/);
  });
});

describe('pass@k', () => {
  it('is the unbiased estimator 1 − C(n−c, k)/C(n, k)', () => {
    const binom = (n: number, k: number): number => (k < 0 || k > n ? 0 : k === 0 ? 1 : (binom(n - 1, k - 1) * n) / k);
    for (const [n, c, k] of [[4, 1, 1], [4, 1, 2], [4, 2, 3], [8, 3, 4], [10, 0, 5], [5, 5, 1], [16, 1, 16]]) {
      expect(passAtK(n, c, k)).toBeCloseTo(1 - binom(n - c, k) / binom(n, k), 12);
    }
    expect(passAtK(4, 1, 1)).toBe(0.25); // pass@1 is the mean
    expect(() => passAtK(4, 5, 1)).toThrow(/passAtK/);
    expect(passKs(4)).toEqual([1, 2, 3, 4]);
    expect(passKs(32)).toEqual([1, 2, 4, 8, 16, 32]);
  });
});
