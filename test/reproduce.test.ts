import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultOutDir, presetParts, reproduce, resolvePreset } from '../src/train/reproduce.js';
import { seedsOf } from '../src/train/presets.js';
import type { RunName } from '../src/train/config.js';
import { parseArgs } from '../src/cli/args.js';

describe('anytime reproduce (smoke preset, worker threads)', () => {
  it('runs base + runs in two workers, writes the report, and a rerun resumes without redoing work', async () => {
    const out = mkdtempSync(join(tmpdir(), 'anytime-repro-'));
    const baseDir = join(out, 'base-cache');
    const seen = new Set<string>();
    const summary = await reproduce({ preset: 'smoke', out, baseDir, workers: 2, onProgress: (p) => seen.add(`${p.id}:${p.phase}`) });
    expect(seen.has('base:warm start')).toBe(true);
    expect(seen.has('grpo/s0:train')).toBe(true);
    expect(seen.has('ar-uniform/s0:train')).toBe(true);
    expect(summary.runs.map((r) => r.run)).toEqual(['grpo', 'ar-uniform']);
    for (const f of ['report.md', 'summary.json', 'accuracy-vs-budget.svg', 'training-reward.svg']) expect(existsSync(join(out, f))).toBe(true);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/\| grpo \| 1 \|/);
    expect(report).toMatch(/\| ar-uniform \| 1 \|/);
    expect(report).toMatch(/Training: steps 2, questionsPerStep 2, groupSize 2,.*Warm start: steps 3, batchSize 4\./);
    expect(readFileSync(join(out, 'accuracy-vs-budget.svg'), 'utf8')).toMatch(/^<svg/);
    // The comparison with GRPO is paired and carries intervals; the claims table has verdicts.
    expect(summary.comparisons.map((c) => [c.run, c.reference])).toEqual([['ar-uniform', 'grpo']]);
    expect(summary.comparisons[0].anytime.lo).toBeLessThanOrEqual(summary.comparisons[0].anytime.hi);
    expect(report).toMatch(/## Each run against GRPO \(paired differences, points\)/);
    expect(report).toMatch(/\| AR variants beat GRPO on anytime accuracy at every budget \| ar-uniform \| \*\*/);
    expect(existsSync(join(out, 'difference-vs-grpo.svg'))).toBe(true);
    // Rerun: every job finds its results and does no training.
    const again = new Set<string>();
    const summary2 = await reproduce({ preset: 'smoke', out, baseDir, workers: 0, onProgress: (p) => again.add(`${p.id}:${p.phase}`) });
    expect([...again].some((x) => x.endsWith(':train'))).toBe(false);
    expect(summary2.runs).toEqual(summary.runs);
    // --report-only trains nothing, even for a run whose results are gone: the report leaves it out.
    rmSync(join(out, 'runs', 'ar-uniform-s0'), { recursive: true });
    const trained = new Set<string>();
    const partial = await reproduce({ preset: 'smoke', out, baseDir, reportOnly: true, onProgress: (p) => trained.add(`${p.id}:${p.phase}`) });
    expect([...trained]).toEqual([]);
    expect(existsSync(join(out, 'runs', 'ar-uniform-s0'))).toBe(false);
    expect(partial.runs.map((r) => r.run)).toEqual(['grpo']);
    const partialReport = readFileSync(join(out, 'report.md'), 'utf8');
    expect(partialReport).not.toMatch(/\| ar-uniform \| 1 \|/);
    expect(partialReport).toMatch(/seeds per run in this set: grpo 1, ar-uniform 0\./);
    expect(partialReport).toMatch(/\*\*Not complete:\*\* ar-uniform has 0 of the preset's 1 seeds/);
    // Results of another preset are never mixed in.
    writeFileSync(join(out, 'preset.json'), JSON.stringify({ identity: { name: 'other' } }));
    await expect(reproduce({ preset: 'smoke', out, baseDir, workers: 0 })).rejects.toThrow(/out: .* holds results of a different preset/);
  }, 180_000);

  it('validates presets, runs and seeds by name', () => {
    expect(() => resolvePreset({ preset: 'huge' })).toThrow(/preset: must be one of 'quick', 'notebook', 'full', 'pressure', 'smoke'/);
    expect(() => resolvePreset({ runs: ['grpo', 'ppo' as never] })).toThrow(/runs: must be a comma-separated subset of grpo, ar-base/);
    expect(() => resolvePreset({ seeds: 0 })).toThrow(/seeds/);
    expect(resolvePreset({ preset: 'full' }).runs.length).toBe(7);
    // --task runs a preset on another task, into its own default folder.
    expect(() => resolvePreset({ task: 'sudoku' })).toThrow(/task: must be one of 'arithmetic', 'countdown', 'chain', 'search'/);
    expect(resolvePreset({}).task).toBe('chain');
    expect(resolvePreset({ task: 'search' }).task).toBe('search');
    expect(resolvePreset({ task: 'search' }).warmStart).toEqual({ steps: 6000 });
    expect(resolvePreset({ preset: 'smoke', task: 'chain' }).warmStart).toEqual({ steps: 3000 });
    expect(resolvePreset({ preset: 'smoke' }).warmStart).toEqual({ steps: 3, batchSize: 4 });
    expect(defaultOutDir(resolvePreset({}))).toBe(join('runs', 'quick'));
    expect(defaultOutDir(resolvePreset({ preset: 'full', task: 'search' }))).toBe(join('runs', 'full-search'));
    // --steps changes the training length only, and names its own folder.
    expect(resolvePreset({ preset: 'full', steps: 400 }).train).toEqual({ ...resolvePreset({ preset: 'full' }).train, steps: 400 });
    expect(defaultOutDir(resolvePreset({ preset: 'full', task: 'search', steps: 400 }))).toBe(join('runs', 'full-search-400steps'));
    expect(defaultOutDir(resolvePreset({ preset: 'full', steps: 600 }))).toBe(join('runs', 'full'));
    // Seeds: 5 for GRPO and the AR priors, 3 for the ablations; --seeds sets every run's.
    const full = resolvePreset({ preset: 'full' });
    expect(['grpo', 'ar-base', 'ar-linear', 'ar-uniform'].map((r) => seedsOf(full, r as RunName))).toEqual([5, 5, 5, 5]);
    expect(['grpo-dense', 'grpo-decouple', 'grpo-vr'].map((r) => seedsOf(full, r as RunName))).toEqual([3, 3, 3]);
    expect(seedsOf(resolvePreset({ preset: 'full', seeds: 2 }), 'grpo')).toBe(2);
    // The headline evaluation: a single run's accuracy has a standard error of at most 1 point.
    expect(0.5 / Math.sqrt(full.train.evalQuestions! * full.train.evalSamples!)).toBeLessThanOrEqual(0.01);
    // A budget-pressure sweep runs the preset once per b_max, each in its own folder.
    const pressure = resolvePreset({ preset: 'pressure' });
    const parts = presetParts(pressure, 'out');
    expect(parts.map((p) => [p.out, p.preset.train.maxBudget, p.preset.maxBudgets])).toEqual([
      [join('out', 'b96'), 96, undefined],
      [join('out', 'b64'), 64, undefined],
      [join('out', 'b48'), 48, undefined],
      [join('out', 'b32'), 32, undefined],
    ]);
    expect(presetParts(full, 'x')).toEqual([{ preset: full, out: 'x' }]);
    // --max-budgets chooses the sweep's levels (any preset becomes a sweep); bad levels are named.
    const chosen = presetParts(resolvePreset({ preset: 'pressure', maxBudgets: [96, 48, 32] }), 'out');
    expect(chosen.map((p) => p.preset.train.maxBudget)).toEqual([96, 48, 32]);
    expect(presetParts(resolvePreset({ preset: 'quick', maxBudgets: [64] }), 'q').map((p) => p.out)).toEqual([join('q', 'b64')]);
    expect(() => resolvePreset({ preset: 'pressure', maxBudgets: [96, 4] })).toThrow(/maxBudgets: must be .*integers ≥ 8.*got 4/);
    expect(() => resolvePreset({ steps: 0 })).toThrow(/steps: must be a positive integer/);
    expect(() => parseArgs(['--sedes', '3'], { seeds: { type: 'int', help: '' } })).toThrow(/--sedes: unknown option; allowed: --seeds/);
    expect(() => parseArgs(['--seeds', 'x'], { seeds: { type: 'int', help: '' } })).toThrow(/--seeds: must be an integer/);
  });
});
