import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng, type Interval } from '../src/index.js';
import { compareRuns, paperClaims, summarizeRun, type Comparison, type ReportSummary } from '../src/train/report.js';
import { writePressureReport } from '../src/train/pressure.js';
import { getPreset } from '../src/train/presets.js';
import type { RunResult } from '../src/train/train.js';
import type { EvalResult } from '../src/train/evaluate.js';

/** A RunResult whose evaluation holds the given per-question scores `[question][budget]`. */
function fakeResult(questionScores: number[][], step = 10): RunResult {
  const S = questionScores[0].length;
  const Q = questionScores.length;
  const accuracy = Array.from({ length: S }, (_, s) => questionScores.reduce((a, row) => a + row[s], 0) / Q);
  const evalResult: EvalResult = {
    budgets: Array.from({ length: S }, (_, s) => 4 * (s + 1)),
    accuracy,
    accuracySE: accuracy.map(() => 0.01),
    anytime: accuracy.reduce((a, b) => a + b, 0) / S,
    anytimeSE: 0.01,
    final: accuracy[S - 1],
    finalSE: 0.01,
    meanLength: 10,
    finishedFraction: 0.9,
    questions: Q,
    samples: 1,
    questionScores,
    questionLengths: questionScores.map(() => 10),
  };
  return { config: {} as RunResult['config'], steps: step, eval: evalResult, evalHistory: [] };
}

const iv = (estimate: number, lo: number, hi: number): Interval => ({ estimate, lo, hi, se: 0, level: 0.95 });
const comparison = (run: string, anytime: Interval, final: Interval, above: number, below: number, S = 4): Comparison => ({
  run,
  reference: 'grpo',
  accuracy: Array.from({ length: S }, () => iv(0, -1, 1)),
  anytime,
  final,
  budgetsAbove: above,
  budgetsBelow: below,
  budgetsIdentical: 0,
});

describe('report: paired comparisons and the paper claims', () => {
  it('compareRuns: a run one question better than GRPO at every budget, on every seed', () => {
    const rng = seededRng(1);
    const Q = 200;
    const S = 3;
    // GRPO: random 0/1 per question; the other run: the same, plus 20% of questions turned right.
    const base = Array.from({ length: Q }, () => Array.from({ length: S }, () => (rng() < 0.5 ? 1 : 0)));
    const better = base.map((row, q) => row.map((x) => (q % 5 === 0 ? 1 : x)));
    const grpo = [fakeResult(base), fakeResult(base)];
    const ar = [fakeResult(better), fakeResult(better)];
    const c = compareRuns('ar', ar, 'grpo', grpo);
    const gain = better.reduce((a, row) => a + row[S - 1], 0) / Q - base.reduce((a, row) => a + row[S - 1], 0) / Q;
    expect(c.final.estimate).toBeCloseTo(gain, 12);
    expect(c.final.lo).toBeGreaterThan(0);
    expect(c.budgetsAbove).toBe(S);
    expect(c.budgetsBelow).toBe(0);
    // Against itself: zero everywhere, every budget identical.
    const same = compareRuns('grpo2', grpo, 'grpo', grpo);
    expect(same.budgetsIdentical).toBe(S);
    expect(same.anytime).toMatchObject({ estimate: 0, lo: 0, hi: 0 });
  });
  it('summarizeRun: per-seed numbers, the largest seed standard error, intervals around the mean', () => {
    const rs = [fakeResult([[1, 1], [0, 1], [0, 0], [1, 1]]), fakeResult([[1, 1], [1, 1], [0, 0], [0, 1]])];
    const s = summarizeRun('x', rs);
    expect(s.seeds).toBe(2);
    expect(s.seedFinal).toEqual([0.75, 0.75]);
    expect(s.maxSeedSE).toBe(0.01);
    expect(s.anytime.lo).toBeLessThanOrEqual(s.anytime.estimate);
    expect(s.anytime.hi).toBeGreaterThanOrEqual(s.anytime.estimate);
    expect(s.cutFraction).toBeCloseTo(0.1, 12);
  });
  it('verdicts follow the stated rules', () => {
    const claims = paperClaims(
      [
        comparison('ar-linear', iv(0.03, 0.01, 0.05), iv(0.01, -0.01, 0.03), 4, 0),
        comparison('ar-uniform', iv(0.03, 0.01, 0.05), iv(-0.03, -0.05, -0.01), 2, 0),
        comparison('ar-base', iv(0.0, -0.02, 0.02), iv(0.02, 0.01, 0.03), 0, 0),
        comparison('grpo-dense', iv(-0.01, -0.03, 0.01), iv(0, -0.01, 0.01), 0, 0),
        comparison('grpo-decouple', iv(0.02, 0.005, 0.04), iv(0, -0.01, 0.01), 1, 0),
      ],
      null,
    );
    const verdict = (claim: RegExp, subject: string) => claims.find((c) => claim.test(c.claim) && c.subject === subject)?.verdict;
    expect(verdict(/every budget/, 'ar-linear')).toBe('reproduced');
    expect(verdict(/every budget/, 'ar-uniform')).toBe('reproduced in part');
    expect(verdict(/every budget/, 'ar-base')).toBe('not reproduced (within noise)');
    expect(verdict(/not below GRPO/, 'ar-linear')).toBe('reproduced (no significant difference)');
    expect(verdict(/not below GRPO/, 'ar-uniform')).toBe('not reproduced (significantly below)');
    expect(verdict(/not below GRPO/, 'ar-base')).toBe('reproduced (significantly above)');
    expect(verdict(/dense reward/, 'grpo-dense')).toBe('the opposite direction, within noise');
    expect(verdict(/decoupled/, 'grpo-decouple')).toBe("the paper's direction, significant");
    // The direction readers sort on: the interval's side of zero, not the verdict's wording.
    const direction = (claim: RegExp, subject: string) => claims.find((c) => claim.test(c.claim) && c.subject === subject)?.direction;
    expect(direction(/every budget/, 'ar-linear')).toBe('for');
    expect(direction(/every budget/, 'ar-base')).toBe('noise');
    expect(direction(/not below GRPO/, 'ar-linear')).toBe('noise');
    expect(direction(/not below GRPO/, 'ar-uniform')).toBe('against');
    expect(direction(/not below GRPO/, 'ar-base')).toBe('for');
    expect(direction(/dense reward/, 'grpo-dense')).toBe('noise');
    expect(direction(/decoupled/, 'grpo-decouple')).toBe('for');
    expect(claims.find((c) => c.subject === 'ar-linear')!.evidence).toMatch(/anytime \+3\.0 \[\+1\.0, \+5\.0\] points; significantly above GRPO at 4 of 4 budgets/);
  });
  it('the pressure study sorts levels by the base cut fraction and plots the gains', async () => {
    const out = mkdtempSync(join(tmpdir(), 'anytime-pressure-'));
    const preset = getPreset('pressure');
    const level = (b: number, cut: number, gain: number): ReportSummary => ({
      preset: 'pressure',
      task: 'search',
      maxBudget: b,
      base: { finishedFraction: 1 - cut } as ReportSummary['base'],
      runs: [
        { run: 'grpo', seeds: 3, anytime: iv(0.6, 0.58, 0.62), final: iv(0.8, 0.78, 0.82), cutFraction: cut / 2 } as ReportSummary['runs'][0],
        { run: 'ar-uniform', seeds: 3, anytime: iv(0.6 + gain, 0.58 + gain, 0.62 + gain), final: iv(0.8, 0.78, 0.82), cutFraction: cut / 2 } as ReportSummary['runs'][0],
      ],
      comparisons: [comparison('ar-uniform', iv(gain, gain - 0.01, gain + 0.01), iv(0, -0.01, 0.01), 3, 0)],
      claims: [],
      variance: null,
      files: [],
    });
    const study = await writePressureReport(
      out,
      preset,
      [96, 32].map((b) => ({ preset: { ...preset, train: { ...preset.train, maxBudget: b } }, out: join(out, `b${b}`) })),
      [level(96, 0.19, 0.01), level(32, 0.65, 0.05)],
    );
    expect(study.levels.map((l) => l.maxBudget)).toEqual([96, 32]);
    expect(study.levels[1].gains[0].anytime.estimate).toBe(0.05);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| 32 \| 65\.0% \| ar-uniform \| 65\.0 \[63\.0, 67\.0\] \| 80\.0 \[78\.0, 82\.0\] \| \+5\.0 \[\+4\.0, \+6\.0\] \|/);
    expect(md).toContain('In this set: b_max 96: grpo 3 seeds, ar-uniform 3 seeds; b_max 32: grpo 3 seeds, ar-uniform 3 seeds.');
    expect(readFileSync(join(out, 'gain-vs-budget-pressure.svg'), 'utf8')).toMatch(/^<svg/);
  });
});
