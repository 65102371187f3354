/**
 * The README's results section is generated from the committed result sets
 * (scripts/readme-results.ts): it must hold exactly what the generator writes from them, so no
 * number in it is typed in by hand or left behind by an older set.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BEGIN, END, HEADLINE_SETS, PRESSURE_SET, resultsSection, updatedReadme } from '../scripts/readme-results.js';
import { fmtDiff, fmtInterval, type ReportSummary } from '../src/train/report.js';
import type { PressureStudy } from '../src/train/pressure.js';

const ROOT = join(import.meta.dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const summary = <T>(dir: string) => JSON.parse(readFileSync(join(ROOT, 'data', 'results', dir, 'summary.json'), 'utf8')) as T;

describe('README results section', () => {
  it('is exactly what scripts/readme-results.ts generates from data/results (run it after changing a set)', () => {
    expect(readme.split(BEGIN)).toHaveLength(2);
    expect(readme.split(END)).toHaveLength(2);
    expect(updatedReadme(readme)).toBe(readme);
  });

  it('states each headline run and comparison with the numbers of its summary.json', () => {
    const section = resultsSection();
    for (const { dir } of HEADLINE_SETS) {
      const s = summary<ReportSummary>(dir);
      expect(s.runs.map((r) => r.run)).toContain('grpo');
      for (const r of s.runs) expect(section).toContain(`| ${r.run} | ${r.seeds} | ${fmtInterval(r.anytime)} | ${fmtInterval(r.final)} |`);
      for (const c of s.comparisons.filter((x) => x.reference === 'grpo')) expect(section).toContain(`${fmtDiff(c.anytime)} | ${fmtDiff(c.final)} |`);
      for (const c of s.claims) expect(section).toContain(`| ${c.claim} | ${s.task} | ${c.subject} | **${c.verdict}** | ${c.evidence} |`);
    }
    const p = summary<PressureStudy>(PRESSURE_SET.dir);
    expect(p.levels.length).toBeGreaterThanOrEqual(2);
    for (const l of p.levels) {
      for (const g of l.gains) expect(section).toContain(`| ${l.maxBudget} | ${(100 * l.baseCutFraction).toFixed(1)}% | ${g.run} | ${fmtDiff(g.anytime)} | ${fmtDiff(g.final)} |`);
    }
  });
});
