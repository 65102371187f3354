import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnytimeInputError } from '../src/core/errors.js';
import { seededRng } from '../src/core/rng.js';
import {
  HELD_OUT_MODULUS,
  SPECIAL,
  SPECIAL_TOKENS,
  SYMBOLIC_VOCAB,
  TASK_NAMES,
  TASKS,
  evenBudgets,
  getTask,
  heldOutSet,
  isHeldOut,
  makeCodec,
  profileFromSamples,
  symbolicCodec,
  teacherBudgetProfile,
  thinkingAtBudget,
  trainingSampler,
} from '../src/tasks/index.js';
import type { Task, TaskProblem } from '../src/tasks/index.js';

describe('symbolic vocabulary and codec', () => {
  it('puts the special tokens at ids 0..5 and stays within 40 tokens', () => {
    expect(SYMBOLIC_VOCAB.slice(0, 6)).toEqual([...SPECIAL_TOKENS]);
    expect(SYMBOLIC_VOCAB[SPECIAL.EOS]).toBe('<eos>');
    expect(SYMBOLIC_VOCAB[SPECIAL.ELLIPSIS]).toBe('...');
    expect(SYMBOLIC_VOCAB.length).toBeLessThanOrEqual(40);
    expect(new Set(SYMBOLIC_VOCAB).size).toBe(SYMBOLIC_VOCAB.length);
  });

  it('round-trips any id sequence through decode and encode', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: SYMBOLIC_VOCAB.length - 1 }), { maxLength: 40 }), (ids) => {
        expect(symbolicCodec.encode(symbolicCodec.decode(ids))).toEqual(ids);
      }),
      { numRuns: 300 },
    );
  });

  it('joins digits into numbers and splits them again', () => {
    const ids = symbolicCodec.encode('7 * 8 = 56 ; </think> <answer> 7*8 <eos>');
    expect(symbolicCodec.decode(ids)).toBe('7 * 8 = 56 ; </think> <answer> 7 * 8 <eos>');
    expect(ids[4]).not.toBe(ids[5]); // '5' and '6' are separate tokens
    expect(ids).toContain(SPECIAL.THINK_END);
  });

  it('names the position and the allowed tokens on unknown text or ids', () => {
    expect(() => symbolicCodec.encode('3 / 4')).toThrow(/position 2.*allowed tokens/);
    expect(() => symbolicCodec.decode([1, 99])).toThrow(/ids\[1\].*0\.\.23/);
    expect(() => makeCodec(['a', 'a'])).toThrow(AnytimeInputError);
  });
});

describe('task registry', () => {
  it('returns the tasks by name', () => {
    expect(TASK_NAMES).toEqual(['arithmetic', 'countdown', 'chain', 'search']);
    for (const name of TASK_NAMES) expect(getTask(name).name).toBe(name);
  });

  it('rejects unknown names, listing the allowed ones', () => {
    expect(() => getTask('sudoku')).toThrow(/'arithmetic', 'countdown', 'chain', 'search'.*got 'sudoku'/);
    expect(() => getTask('toString')).toThrow(AnytimeInputError);
  });
});

describe('budget helpers', () => {
  it('spaces budgets evenly up to b_max', () => {
    expect(evenBudgets(96, 16)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54, 60, 66, 72, 78, 84, 90, 96]);
    expect(evenBudgets(10, 4)).toEqual([3, 5, 8, 10]);
    expect(() => evenBudgets(4, 8)).toThrow(/count/);
  });

  it('cuts a trace only when it and THINK_END do not fit', () => {
    expect(thinkingAtBudget([7, 8, 9], 4)).toEqual({ thinking: [7, 8, 9], cut: false });
    expect(thinkingAtBudget([7, 8, 9], 3)).toEqual({ thinking: [7, 8, 9], cut: true });
    expect(thinkingAtBudget([7, 8, 9], 2)).toEqual({ thinking: [7, 8], cut: true });
  });

  it('aggregates samples into a length histogram and accuracy per budget', () => {
    const p = profileFromSamples('t', [2, 4, 6], [
      { length: 1, scores: [1, 1, 1], fullScore: 1 },
      { length: 5, scores: [0, 0, 1], fullScore: 1 },
      { length: 6, scores: [0, 1, 1], fullScore: 0 },
      { length: 9, scores: [0, 0, 0], fullScore: 1 },
    ]);
    expect(p.lengthHistogram).toEqual([1, 0, 2]);
    expect(p.overMaxBudget).toBe(1);
    expect(p.fractionCut).toBe(0.25);
    expect(p.segmentsHit).toBe(2);
    expect(p.meanLength).toBe(5.25);
    expect(p.accuracy).toEqual([0.25, 0.5, 0.75]);
    expect(p.fullTraceAccuracy).toBe(0.75);
    expect(p.anytimeAccuracy).toBeCloseTo(0.5, 12);
    expect(() => profileFromSamples('t', [2, 4], [{ length: 1, scores: [1], fullScore: 1 }])).toThrow(/samples\[0\]\.scores/);
  });

  it('rejects unordered budgets', () => {
    expect(() => teacherBudgetProfile(getTask('arithmetic'), 5, [10, 10])).toThrow(/strictly increasing/);
  });
});

/** Every task must satisfy the same contract; the numbers below were measured (see the task files). */
describe.each(TASK_NAMES.map((name) => [name, TASKS[name]] as const))('%s task contract', (_name, task: Task) => {
  const rng = seededRng(11);
  const problems: TaskProblem[] = Array.from({ length: 400 }, () => task.sample(rng));

  it('uses a vocabulary of at most 40 tokens with the special tokens first', () => {
    expect(task.vocab.length).toBeLessThanOrEqual(40);
    expect(task.vocab.slice(0, 6)).toEqual([...SPECIAL_TOKENS]);
    expect(task.maxThinking).toBeGreaterThanOrEqual(64);
    expect(task.maxThinking).toBeLessThanOrEqual(96);
    expect(task.maxPromptLength).toBeLessThanOrEqual(16);
    expect(task.summaryMaxTokens).toBeLessThanOrEqual(8);
  });

  it('keeps prompts, traces and summaries short and within the vocabulary', () => {
    const trng = seededRng(12);
    for (const p of problems) {
      expect(p.prompt.length).toBeLessThanOrEqual(task.maxPromptLength);
      const trace = task.teacherTrace(p, trng);
      const summary = task.teacherSummary(p, trace, trng);
      expect(summary.length + 1).toBeLessThanOrEqual(task.summaryMaxTokens);
      for (const id of [...p.prompt, ...trace, ...summary]) {
        expect(Number.isInteger(id) && id >= 0 && id < task.vocab.length).toBe(true);
      }
      // No special token inside a prompt, a trace or a summary: the harness adds them.
      for (const id of [...p.prompt, ...trace, ...summary]) expect(id).toBeGreaterThanOrEqual(SPECIAL_TOKENS.length);
    }
    expect(Math.max(...problems.map((p) => p.prompt.length))).toBe(task.maxPromptLength);
  });

  it('round-trips prompts, answers and traces through decode/encode', () => {
    const trng = seededRng(13);
    for (const p of problems.slice(0, 100)) {
      expect(task.encode(task.decode(p.prompt))).toEqual(p.prompt);
      expect(task.decode(task.encode(p.answer))).toBe(p.answer);
      const trace = task.teacherTrace(p, trng);
      expect(task.encode(task.decode(trace))).toEqual(trace);
    }
  });

  it('is deterministic under a seed', () => {
    const draw = (seed: number) => {
      const r = seededRng(seed);
      return Array.from({ length: 20 }, () => {
        const p = task.sample(r);
        const trace = task.teacherTrace(p, r);
        return { p, trace, summary: task.teacherSummary(p, trace.slice(0, 20), r) };
      });
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it('scores the gold answer 1, and 0 for malformed answers (perturbations: see the task tests)', () => {
    for (const p of problems) {
      const gold = task.encode(p.answer);
      expect(task.score(p, gold)).toBe(1);
      expect(task.score(p, [...gold, SPECIAL.EOS, 9, 9])).toBe(1); // after EOS is ignored
      expect(task.score(p, [])).toBe(0);
      expect(task.score(p, [...gold, gold[0]])).toBe(0); // trailing junk
      expect(task.score(p, [SPECIAL.EOS, ...gold])).toBe(0);
      expect(task.score(p, [SPECIAL.THINK_END, ...gold])).toBe(0);
    }
  });

  it('gives a held-out set disjoint from training draws, fixed by its seed', () => {
    const held = heldOutSet(task, 60, 3);
    expect(held).toHaveLength(60);
    expect(new Set(held.map((p) => p.id)).size).toBe(60);
    expect(held.every(isHeldOut)).toBe(true);
    expect(heldOutSet(task, 60, 3)).toEqual(held);
    expect(heldOutSet(task, 30, 3)).toEqual(held.slice(0, 30));
    const heldIds = new Set(held.map((p) => p.id));
    const train = trainingSampler(task, 3);
    const draws = Array.from({ length: 3000 }, train);
    expect(draws.some(isHeldOut)).toBe(false);
    expect(draws.some((p) => heldIds.has(p.id))).toBe(false);
    // The slice is about 1/HELD_OUT_MODULUS of plain draws.
    const r = seededRng(4);
    const share = Array.from({ length: 4000 }, () => isHeldOut(task.sample(r))).filter(Boolean).length / 4000;
    expect(share).toBeGreaterThan(0.6 / HELD_OUT_MODULUS);
    expect(share).toBeLessThan(1.4 / HELD_OUT_MODULUS);
  });

  describe('anytime profile of the teacher (2000 problems, 16 budgets)', () => {
    const profile = teacherBudgetProfile(task, 2000, 16, 7);

    it('reads the full trace right for a high fraction of problems', () => {
      // Measured 0.92 (countdown) and 0.73 (arithmetic, where slips are by design): see the task files.
      expect(profile.fullTraceAccuracy).toBeGreaterThan(task.name === 'countdown' ? 0.85 : 0.65);
    });

    it('(a) spreads trace lengths over the budget support, with some cut at b_max', () => {
      expect(profile.lengthHistogram.reduce((s, h) => s + h, 0) + profile.overMaxBudget).toBe(2000);
      // search writes 8-token lines (lengths 8n + 1), so 5 of the 16 six-token segments stay empty.
      expect(profile.segmentsHit).toBeGreaterThanOrEqual(task.name === 'search' ? 11 : 12);
      // No single segment holds most of the mass (search's first line hits for ~16% of problems).
      expect(Math.max(...profile.lengthHistogram)).toBeLessThan((task.name === 'search' ? 0.2 : 0.15) * 2000);
      expect(profile.fractionCut).toBeGreaterThan(0.05);
      expect(profile.fractionCut).toBeLessThan(0.4);
    });

    it('(b) raises accuracy gradually across budgets, not in one step', () => {
      const acc = profile.accuracy;
      const first = acc[0];
      const last = acc[acc.length - 1];
      expect(last - first).toBeGreaterThan(0.45);
      // No jump between neighbouring budgets carries more than a quarter of the total rise.
      for (let j = 1; j < acc.length; j++) expect(acc[j] - acc[j - 1]).toBeLessThan(0.25 * (last - first));
      // The curve is non-decreasing up to sampling noise.
      for (let j = 1; j < acc.length; j++) expect(acc[j]).toBeGreaterThan(acc[j - 1] - 0.03);
      // The middle budget is strictly between the ends.
      expect(acc[7]).toBeGreaterThan(first + 0.2 * (last - first));
      expect(acc[7]).toBeLessThan(last - 0.2 * (last - first));
    });

    it('(c) leaves final accuracy well below 100%', () => {
      // Measured at b_max: chain .69, arithmetic .68, countdown .72, search .83 (see the task files).
      expect(profile.accuracy[15]).toBeLessThan(0.85);
      expect(profile.accuracy[15]).toBeGreaterThan(0.55);
    });
  });
});
