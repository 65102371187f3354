import { describe, expect, it } from 'vitest';
import { parseThinking } from '../src/eval/trace.js';
import { planSummaries, resolveBudgets } from '../src/eval/planner.js';
import { parseProblems } from '../src/eval/data.js';

const STRINGS = { promptTemplate: '{problem}', forceCut: '<CUT>', forceAnswer: '<ANS>', thinkEnd: '</think>' };
const bytesOf = (s: string) => [...new TextEncoder().encode(s)];

describe('parseThinking', () => {
  it('counts a dropped end-of-thinking as one added token', () => {
    const t = parseThinking({ text: 'a b', finish_reason: 'stop', logprobs: { tokens: ['a', ' b'] } }, '</think>');
    expect(t).toMatchObject({ length: 3, finished: true, thinkEndAdded: true, eos: false, alignmentFallback: false });
    expect([0, 1, 2, 3].map((k) => t.prefix(k))).toEqual(['', 'a', 'a b', 'a b</think>']);
  });

  it('uses the end-of-thinking token when the server keeps it, and drops anything after it', () => {
    const t = parseThinking({ text: 'a b', finish_reason: 'stop', stop_reason: '</think>', logprobs: { tokens: ['a', ' b', '</think>'] } }, '</think>');
    expect(t).toMatchObject({ length: 3, finished: true, thinkEndAdded: false });
    expect(t.prefix(3)).toBe('a b</think>');
    const glued = parseThinking({ text: 'a', finish_reason: 'stop', logprobs: { tokens: ['a', '</think>\n\n'] } }, '</think>');
    expect(glued.prefix(2)).toBe('a</think>');
  });

  it('treats end-of-sequence without </think> as unfinished (vLLM stop_reason null)', () => {
    const t = parseThinking({ text: 'a b', finish_reason: 'stop', stop_reason: null, logprobs: { tokens: ['a', ' b'] } }, '</think>');
    expect(t).toMatchObject({ length: 2, finished: false, eos: true });
    const { jobs } = planSummaries('Q', t, [1, 2, 3], STRINGS);
    expect(jobs.map((j) => [j.cutLength, j.cut, j.scoresZero])).toEqual([[1, true, false], [2, true, true]]);
  });

  it('cuts before a character whose bytes are split across tokens', () => {
    // 'é' = C3 A9 spelled by two tokens that servers show as U+FFFD.
    const t = parseThinking({ text: 'xé y', finish_reason: 'length', logprobs: { tokens: ['x', '\uFFFD', '\uFFFD', ' y'] } }, '</think>');
    expect(t.alignmentFallback).toBe(false);
    expect([1, 2, 3, 4].map((k) => t.prefix(k))).toEqual(['x', 'x', 'xé', 'xé y']);
    // llama.cpp layout with bytes: decoded exactly.
    const content = [{ token: 'x', bytes: bytesOf('x') }, { token: '?', bytes: [0xc3] }, { token: '?', bytes: [0xa9] }, { token: ' y', bytes: bytesOf(' y') }];
    const b = parseThinking({ text: 'xé y', finish_reason: 'length', logprobs: { content } }, '</think>');
    expect([1, 2, 3, 4].map((k) => b.prefix(k))).toEqual(['x', 'x', 'xé', 'xé y']);
  });

  it('rejects a choice without per-token output', () => {
    expect(() => parseThinking({ text: 'a', finish_reason: 'length', logprobs: null }, '</think>')).toThrow(/no per-token output/);
  });
});

describe('planner and data', () => {
  it('plans one summary prompt per distinct prefix with the right forcing suffix', () => {
    const t = parseThinking({ text: 'a b c', finish_reason: 'stop', logprobs: { tokens: ['a', ' b', ' c'] } }, '</think>');
    const { jobs } = planSummaries('Q:', t, [2, 4, 6], STRINGS);
    expect(jobs.map((j) => [j.prompt, j.budgetIndices])).toEqual([
      ['Q:a b<CUT><ANS>', [0]],
      ['Q:a b c</think><ANS>', [1, 2]],
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
