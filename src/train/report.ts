/**
 * The reproduction's report: per run, anytime and final accuracy (mean ± std over seeds), the
 * accuracy-vs-budget curves with error bars, training curves, and the variance study (Fig. 3).
 * Written as summary.json, report.md and SVG plots, each atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { meanStd } from '../core/metrics.js';
import { lineChartSvg } from '../plot/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import type { ReproducePreset } from './presets.js';
import type { EvalResult, } from './evaluate.js';
import type { RunResult, StepMetrics } from './train.js';
import type { VarianceStudy } from './variance.js';
import { runDir } from './jobs.js';

export interface RunSummary {
  run: string;
  seeds: number;
  anytime: { mean: number; std: number };
  final: { mean: number; std: number };
  meanLength: { mean: number; std: number };
  budgets: number[];
  /** Accuracy per budget: mean and std over seeds. */
  accuracy: { mean: number; std: number }[];
}

export interface ReportSummary {
  preset: string;
  task: string;
  base: EvalResult | null;
  runs: RunSummary[];
  variance: VarianceStudy | null;
  files: string[];
}

const readJson = <T>(path: string): T | null => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null);
const readMetrics = (path: string): StepMetrics[] =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as StepMetrics)
    : [];
const ms = (xs: number[]) => {
  const { mean, std } = meanStd(xs);
  return { mean, std };
};
const pct = (x: { mean: number; std: number }) => `${(100 * x.mean).toFixed(1)} ± ${(100 * x.std).toFixed(1)}`;

export async function writeReport(outDir: string, preset: ReproducePreset): Promise<ReportSummary> {
  const base = readJson<EvalResult>(join(outDir, 'base', 'eval.json'));
  const variance = readJson<VarianceStudy>(join(outDir, 'base', 'variance.json'));
  const runs: RunSummary[] = [];
  const curves: { run: string; metrics: StepMetrics[][] }[] = [];
  for (const run of preset.runs) {
    const results: RunResult[] = [];
    const metrics: StepMetrics[][] = [];
    for (let seed = 0; seed < preset.seeds; seed++) {
      const r = readJson<RunResult>(join(runDir(outDir, run, seed), 'result.json'));
      if (r) results.push(r);
      metrics.push(readMetrics(join(runDir(outDir, run, seed), 'metrics.jsonl')));
    }
    curves.push({ run, metrics });
    if (results.length === 0) continue;
    const budgets = results[0].eval.budgets;
    runs.push({
      run,
      seeds: results.length,
      anytime: ms(results.map((r) => r.eval.anytime)),
      final: ms(results.map((r) => r.eval.final)),
      meanLength: ms(results.map((r) => r.eval.meanLength)),
      budgets,
      accuracy: budgets.map((_, s) => ms(results.map((r) => r.eval.accuracy[s]))),
    });
  }

  const files: string[] = [];
  const write = (name: string, content: string) => {
    writeFileAtomic(join(outDir, name), content);
    files.push(name);
  };
  if (runs.length > 0 || base) {
    const series = [
      ...(base ? [{ name: 'base policy', points: base.budgets.map((b, s) => ({ x: b, y: base.accuracy[s] })) }] : []),
      ...runs.map((r) => ({ name: r.run, points: r.budgets.map((b, s) => ({ x: b, y: r.accuracy[s].mean, err: r.accuracy[s].std })) })),
    ];
    write(
      'accuracy-vs-budget.svg',
      await lineChartSvg({ title: 'Held-out accuracy vs thinking budget (mean ± std over seeds)', xLabel: 'thinking budget (tokens)', yLabel: 'accuracy', series, yDomain: [0, 1] }),
    );
  }
  const trained = curves.filter((c) => c.metrics.some((m) => m.length > 0));
  if (trained.length > 0) {
    const meanCurve = (metrics: StepMetrics[][], pick: (m: StepMetrics) => number) => {
      const steps = Math.max(...metrics.map((m) => m.length));
      return Array.from({ length: steps }, (_, i) => {
        const ys = metrics.filter((m) => m.length > i).map((m) => pick(m[i]));
        const { mean, std } = ms(ys);
        return { x: i + 1, y: mean, err: std };
      });
    };
    write(
      'training-reward.svg',
      await lineChartSvg({
        title: 'Training reward at b_max (mean ± std over seeds)',
        xLabel: 'step',
        yLabel: 'reward',
        series: trained.map((c) => ({ name: c.run, points: meanCurve(c.metrics, (m) => m.reward) })),
      }),
    );
    write(
      'training-anytime-reward.svg',
      await lineChartSvg({
        title: "Training anytime reward Σ p_j r̄_j under each run's prior",
        xLabel: 'step',
        yLabel: 'anytime reward',
        series: trained.map((c) => ({ name: c.run, points: meanCurve(c.metrics, (m) => m.anytimeReward) })),
      }),
    );
  }
  if (variance && Object.values(variance.ratio).some((r) => r.some((x) => x !== null))) {
    write(
      'variance-ratio.svg',
      await lineChartSvg({
        title: 'Var[R − V] / Var[R] per budget on base-policy rollouts (Fig. 3)',
        xLabel: 'thinking budget (tokens)',
        yLabel: 'variance ratio',
        series: (['group-mean', 'own-progress', 'brpo'] as const)
          .map((b) => ({
            name: b,
            points: variance.budgets.flatMap((x, s) => (variance.ratio[b][s] === null ? [] : [{ x, y: variance.ratio[b][s]! }])),
          }))
          .filter((s) => s.points.length > 0),
      }),
    );
  }

  const lines: string[] = [];
  lines.push(`# Reproduction report: preset \`${preset.name}\``, '');
  lines.push(`${preset.description}. Task \`${preset.task}\`; runs ${preset.runs.join(', ')}; ${preset.seeds} seed(s) each.`, '');
  // The settings that shape every run (the rest are each run's config defaults, in its config.json).
  const settings = (o: object) => Object.entries(o).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
  lines.push(`Training: ${settings(preset.train)}. Warm start: ${settings(preset.warmStart) || 'defaults'}.`, '');
  lines.push('| run | seeds | anytime accuracy (%) | final accuracy (%) | mean thinking length |', '| --- | --- | --- | --- | --- |');
  if (base) lines.push(`| base policy | – | ${(100 * base.anytime).toFixed(1)} | ${(100 * base.final).toFixed(1)} | ${base.meanLength.toFixed(1)} |`);
  for (const r of runs) {
    lines.push(`| ${r.run} | ${r.seeds} | ${pct(r.anytime)} | ${pct(r.final)} | ${r.meanLength.mean.toFixed(1)} ± ${r.meanLength.std.toFixed(1)} |`);
  }
  lines.push('', 'Anytime accuracy: uniform-prior mean of held-out accuracy over the evaluation budgets (the discrete area under the curve). Final: at b_max.', '');
  if (runs.length > 0) {
    const budgets = runs[0].budgets;
    lines.push('## Accuracy per budget (%)', '');
    lines.push(`| run | ${budgets.join(' | ')} |`, `| --- |${budgets.map(() => ' --- |').join('')}`);
    if (base) lines.push(`| base policy | ${base.accuracy.map((a) => (100 * a).toFixed(1)).join(' | ')} |`);
    for (const r of runs) lines.push(`| ${r.run} | ${r.accuracy.map((a) => (100 * a.mean).toFixed(1)).join(' | ')} |`);
    lines.push('');
  }
  if (variance) {
    lines.push('## Variance reduction (Fig. 3)', '');
    lines.push(`Var[R − V]/Var[R] per budget, ${variance.questions} questions × G = ${variance.groupSize} base-policy traces, ${variance.prior} prior.`, '');
    lines.push(`| baseline | ${variance.budgets.join(' | ')} |`, `| --- |${variance.budgets.map(() => ' --- |').join('')}`);
    for (const b of ['group-mean', 'own-progress', 'brpo'] as const) {
      lines.push(`| ${b} | ${variance.ratio[b].map((x) => (x === null ? 'n/a' : x.toFixed(2))).join(' | ')} |`);
    }
    lines.push('');
  }
  lines.push('## Plots', '', ...files.filter((f) => f.endsWith('.svg')).map((f) => `![${f}](${f})`), '');
  write('report.md', lines.join('\n'));
  const summary: ReportSummary = { preset: preset.name, task: preset.task, base, runs, variance, files: [...files, 'summary.json'] };
  writeJsonAtomic(join(outDir, 'summary.json'), summary);
  return summary;
}
