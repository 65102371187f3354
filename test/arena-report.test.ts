/**
 * The arena's report (src/train/arena-report.ts) on constructed results whose comparisons are known
 * by construction, and the `arena` preset through `anytime reproduce` on tiny sizes.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arenaColumns, frontierOf, writeArenaReport, type ArenaMethod, type ArenaSummary } from '../src/train/arena-report.js';
import { summarizeEvaluation, type EvalResult } from '../src/train/evaluate.js';
import { getPreset, seedsOf, type ReproducePreset } from '../src/train/presets.js';
import { defaultOutDir, reproduce, resolvePreset } from '../src/train/reproduce.js';
import { runDir } from '../src/train/jobs.js';
import { ARENA_RUN_NAMES, runConfig, type RunName } from '../src/train/config.js';
import { excludesZero } from '../src/core/stats.js';
import type { RunResult } from '../src/train/train.js';

const budgets = [24, 48, 72, 96];
const Q = 40;

/** An evaluation whose question q scores `score(q)` at each budget and thinks `length(q)` tokens. */
function evaluation(score: (q: number) => number[], length: (q: number) => number): EvalResult {
  const bySample = Array.from({ length: Q }, (_, q) => score(q));
  return summarizeEvaluation(budgets, Q, 1, bySample, bySample.map((_, q) => length(q)), bySample.map(() => true));
}

function writeRun(out: string, run: string, seed: number, e: EvalResult, extra: object = {}): void {
  const dir = runDir(out, run, seed);
  mkdirSync(dir, { recursive: true });
  const result: RunResult = { config: runConfig(run as RunName), steps: 1, eval: { ...e, ...extra }, evalHistory: [] };
  writeFileSync(join(dir, 'result.json'), JSON.stringify(result));
}

describe('arena report on constructed results', () => {
  it('arena columns by hand: budgets, anytime, final, short and long means, length', () => {
    const e = summarizeEvaluation(budgets, 1, 1, [[0, 1, 1, 1]], [40], [true]);
    expect(arenaColumns(e)).toEqual([[0, 1, 1, 1, 0.75, 1, 0.5, 1, 40]]);
  });
  it('compares every method with GRPO and AR-uniform, names the leaders, the ties within noise and the frontier', async () => {
    const out = mkdtempSync(join(tmpdir(), 'anytime-arena-report-'));
    const preset: ReproducePreset = { ...getPreset('arena'), runs: ['grpo', 'ar-uniform', 'thinkprune', 'l1-exact'], seeds: 2, seedsByRun: undefined };
    // Seed s flips question s's first budget, so the seeds differ a little.
    const jitter = (row: number[], q: number, s: number) => (q === s ? [1 - row[0], ...row.slice(1)] : row);
    for (let s = 0; s < 2; s++) {
      // GRPO: wrong at 24, right at 48 on odd questions, right from 72 on; 50 tokens.
      writeRun(out, 'grpo', s, evaluation((q) => jitter([0, q % 2, 1, 1], q, s), () => 50));
      // AR-uniform: better at short budgets (right at 48 everywhere, at 24 on odd questions); 48 tokens.
      writeRun(out, 'ar-uniform', s, evaluation((q) => jitter([q % 2, 1, 1, 1], q, s), () => 48));
      // ThinkPrune: shorter (30 tokens) but right late only on odd questions.
      writeRun(out, 'thinkprune', s, evaluation((q) => jitter([0, q % 2, q % 2, q % 2], q, s), () => 30));
      // L1-Exact: GRPO's scores exactly (a tie everywhere), 50 tokens, with its asked lengths.
      writeRun(out, 'l1-exact', s, evaluation((q) => jitter([0, q % 2, 1, 1], q, s), () => 50), { lengthByBudget: [20 + s, 40, 60, 80], levelByBudget: [3, 7, 11, 15] });
    }
    const a = (await writeArenaReport(out, preset)) as ArenaSummary;
    expect(a.shortBudgets).toEqual([24, 48]);
    expect(a.longBudgets).toEqual([72, 96]);
    const m = (run: string) => a.methods.find((x) => x.run === run)!;
    // GRPO: short mean per question (0 + q%2)/2 → 0.25 (± the jitter: question s gains 0.5 in seed s).
    expect(m('grpo').short.estimate).toBeCloseTo(0.25 + 0.5 / Q, 10);
    expect(m('grpo').long.estimate).toBe(1);
    expect(m('thinkprune').meanLength.estimate).toBe(30);
    expect(m('l1-exact').lengthAskedByBudget).toEqual([20.5, 40, 60, 80]);
    // Comparisons against both references, paired.
    const c = (run: string, ref: string) => a.comparisons.find((x) => x.run === run && x.reference === ref)!;
    expect(a.comparisons.length).toBe(3 + 3);
    expect(c('ar-uniform', 'grpo').short.lo).toBeGreaterThan(0);
    expect(c('ar-uniform', 'grpo').meanLength.estimate).toBe(-2);
    expect(c('thinkprune', 'ar-uniform').long.hi).toBeLessThan(0);
    expect(c('l1-exact', 'grpo').anytime.estimate).toBe(0);
    expect(excludesZero(c('l1-exact', 'grpo').anytime)).toBe(false);
    // Who wins where.
    const v = (k: string) => a.verdicts.find((x) => x.criterion === k)!;
    expect(v('short').leader).toBe('ar-uniform');
    expect(v('short').withinNoise).toEqual([]);
    expect(v('meanLength').leader).toBe('thinkprune');
    expect(v('long').leader).toBe('grpo');
    expect(v('long').withinNoise.sort()).toEqual(['ar-uniform', 'l1-exact']);
    expect(a.frontier.sort()).toEqual(['ar-uniform', 'thinkprune']);
    for (const f of a.files) expect(existsSync(join(out, f)), f).toBe(true);
    expect(a.files).toEqual(expect.arrayContaining(['arena-frontier-anytime.svg', 'arena-frontier-final.svg', 'arena-difference-vs-ar-uniform.svg', 'arena-l1-length-following.svg', 'arena.md', 'arena-summary.json']));
    const md = readFileSync(join(out, 'arena.md'), 'utf8');
    expect(md).toContain('| short budgets (≤ b_max/2) | ar-uniform | – |');
    expect(md).toContain('Accuracy–length frontier');
    expect(JSON.parse(readFileSync(join(out, 'arena-summary.json'), 'utf8')).frontier.sort()).toEqual(['ar-uniform', 'thinkprune']);
  }, 120_000);
  it('the frontier by hand', () => {
    const method = (run: string, anytime: number, length: number) => ({ run, anytime: { estimate: anytime }, meanLength: { estimate: length } }) as unknown as ArenaMethod;
    expect(frontierOf([method('a', 0.6, 40), method('b', 0.5, 30), method('c', 0.5, 35), method('d', 0.6, 40)]).sort()).toEqual(['a', 'b', 'd']);
  });
});

describe('the arena preset', () => {
  it('trains GRPO, AR-linear, AR-uniform and every arena method; 5 seeds for the headline runs, 3 for the methods', () => {
    const p = resolvePreset({ preset: 'arena' });
    expect(p.runs).toEqual(['grpo', 'ar-linear', 'ar-uniform', ...ARENA_RUN_NAMES]);
    expect(p.runs.map((r) => seedsOf(p, r))).toEqual([5, 5, 5, ...ARENA_RUN_NAMES.map(() => 3)]);
    // The headline runs share the full set's settings, so their run folders are interchangeable.
    expect(p.train).toEqual(getPreset('full').train);
    expect(defaultOutDir(resolvePreset({ preset: 'arena', task: 'search' }))).toBe(join('runs', 'arena-search'));
  });
  it('runs through `anytime reproduce` on tiny sizes and writes the arena report next to the main one', async () => {
    const out = mkdtempSync(join(tmpdir(), 'anytime-arena-repro-'));
    const baseDir = mkdtempSync(join(tmpdir(), 'anytime-arena-base-'));
    const summary = await reproduce({ preset: 'smoke', runs: ['grpo', 'ar-uniform', 'thinkprune', 'l1-max'], out, baseDir, workers: 0 });
    expect(summary.runs.map((r) => r.run)).toEqual(['grpo', 'ar-uniform', 'thinkprune', 'l1-max']);
    const a = JSON.parse(readFileSync(join(out, 'arena-summary.json'), 'utf8')) as ArenaSummary;
    expect(a.methods.map((x) => x.run)).toEqual(['grpo', 'ar-uniform', 'thinkprune', 'l1-max']);
    expect(a.comparisons.filter((x) => x.reference === 'ar-uniform').map((x) => x.run)).toEqual(['grpo', 'thinkprune', 'l1-max']);
    expect(existsSync(join(out, 'arena.md'))).toBe(true);
    expect(existsSync(join(out, 'report.md'))).toBe(true);
  }, 240_000);
});
