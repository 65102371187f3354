/**
 * The budget-pressure study: the same runs at several b_max, each level with its own base
 * evaluation and report (`<out>/b<N>/`), then one figure of AR's gain over GRPO (anytime and final,
 * paired intervals) against how often the base policy's traces are cut at b_max — the figure that
 * shows when anytime training pays.
 */
import { join } from 'node:path';
import type { Interval } from '../core/stats.js';
import { lineChartSvg } from '../plot/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import type { ReproducePreset } from './presets.js';
import { fmtDiff, fmtInterval, pct, type ReportSummary } from './report.js';

export interface PressureLevel {
  maxBudget: number;
  /** Fraction of the base policy's evaluation traces cut at b_max. */
  baseCutFraction: number;
  /** Per run: anytime and final accuracy with intervals. */
  runs: { run: string; anytime: Interval; final: Interval; cutFraction: number }[];
  /** Each non-GRPO run minus GRPO. */
  gains: { run: string; anytime: Interval; final: Interval; budgetsAbove: number; budgetsBelow: number; budgets: number }[];
}

export interface PressureStudy {
  preset: string;
  task: string;
  levels: PressureLevel[];
  files: string[];
}

export async function writePressureReport(
  outDir: string,
  preset: ReproducePreset,
  parts: { preset: ReproducePreset; out: string }[],
  summaries: ReportSummary[],
): Promise<PressureStudy> {
  const levels: PressureLevel[] = summaries
    .map((s, i) => ({
      maxBudget: parts[i].preset.train.maxBudget ?? 0,
      baseCutFraction: s.base ? 1 - s.base.finishedFraction : Number.NaN,
      runs: s.runs.map((r) => ({ run: r.run, anytime: r.anytime, final: r.final, cutFraction: r.cutFraction })),
      gains: s.comparisons
        .filter((c) => c.reference === 'grpo')
        .map((c) => ({ run: c.run, anytime: c.anytime, final: c.final, budgetsAbove: c.budgetsAbove, budgetsBelow: c.budgetsBelow, budgets: c.accuracy.length })),
    }))
    .sort((a, b) => a.baseCutFraction - b.baseCutFraction);
  const files: string[] = [];
  const write = (name: string, content: string) => {
    writeFileAtomic(join(outDir, name), content);
    files.push(name);
  };
  const gainRuns = [...new Set(levels.flatMap((l) => l.gains.map((g) => g.run)))];
  const withGains = levels.filter((l) => l.gains.length > 0 && Number.isFinite(l.baseCutFraction));
  if (withGains.length > 0) {
    const series = gainRuns.flatMap((run) =>
      (['anytime', 'final'] as const).map((k) => ({
        name: `${run} − grpo, ${k}`,
        points: withGains.flatMap((l) => {
          const g = l.gains.find((x) => x.run === run);
          return g ? [{ x: 100 * l.baseCutFraction, y: 100 * g[k].estimate, lo: 100 * g[k].lo, hi: 100 * g[k].hi }] : [];
        }),
      })),
    );
    write(
      'gain-vs-budget-pressure.svg',
      await lineChartSvg({
        title: `Gain over GRPO vs budget pressure (${preset.task}; paired 95% CI)`,
        xLabel: "base policy's traces cut at b_max (%)",
        yLabel: 'accuracy − GRPO (points)',
        series,
        rules: [{ y: 0 }],
      }),
    );
  }
  const lines: string[] = [`# Budget-pressure study: preset \`${preset.name}\`, task \`${preset.task}\``, ''];
  lines.push(`${preset.description}. Each level has its own report in \`b<N>/report.md\`.`, '');
  // What this set holds, which can differ from the preset's description (--max-budgets, --seeds).
  const seedsIn = summaries.map((s, i) => `b_max ${parts[i].preset.train.maxBudget}: ${s.runs.map((r) => `${r.run} ${r.seeds} seed${r.seeds === 1 ? '' : 's'}`).join(', ')}`);
  lines.push(`In this set: ${seedsIn.join('; ')}.`, '');
  lines.push('| b_max | base cut at b_max | run | anytime (%) [95% CI] | final (%) [95% CI] | anytime Δ vs GRPO | final Δ vs GRPO | budgets above / below GRPO |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const l of levels) {
    for (const r of l.runs) {
      const g = l.gains.find((x) => x.run === r.run);
      lines.push(
        `| ${l.maxBudget} | ${pct(l.baseCutFraction)}% | ${r.run} | ${fmtInterval(r.anytime)} | ${fmtInterval(r.final)} | ${g ? fmtDiff(g.anytime) : '–'} | ${g ? fmtDiff(g.final) : '–'} | ${g ? `${g.budgetsAbove} / ${g.budgetsBelow} of ${g.budgets}` : '–'} |`,
      );
    }
  }
  lines.push('', 'Base cut fraction: the base policy at the evaluation temperature; each level evaluates at 16 budgets up to its own b_max, so accuracies at different levels are not on the same budgets.', '');
  lines.push('![gain vs budget pressure](gain-vs-budget-pressure.svg)', '');
  write('report.md', lines.join('\n'));
  const study: PressureStudy = { preset: preset.name, task: preset.task, levels, files: [...files, 'summary.json'] };
  writeJsonAtomic(join(outDir, 'summary.json'), study);
  return study;
}
