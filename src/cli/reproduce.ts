/**
 * `anytime reproduce [--preset quick|full|notebook] [--task chain|search] [--steps N] [--seeds N] [--runs grpo,ar-uniform,…] [--max-budgets 96,48,32] [--report-only] [--out DIR] [--workers N] [--threads-per-run N]`
 */
import { AnytimeInputError } from '../core/errors.js';
import { MultiProgress } from '../util/progress.js';
import { PRESET_NAMES } from '../train/presets.js';
import { RUN_NAMES, type RunName } from '../train/config.js';
import { defaultOutDir, reproduce, resolvePreset } from '../train/reproduce.js';
import { fmtDiff, fmtInterval, type ReportSummary } from '../train/report.js';
import { excludesZero } from '../core/stats.js';
import { TASK_NAMES } from '../tasks/index.js';
import { parseArgs, usage } from './args.js';

export const summary = 'train GRPO and AnytimeReasoner runs on a synthetic task and write the comparison report';

const SPEC = {
  preset: { type: 'string', help: `one of ${PRESET_NAMES.join(', ')} (default quick)` },
  task: { type: 'string', help: `synthetic task, one of ${TASK_NAMES.join(', ')} (default: the preset's, chain)` },
  steps: { type: 'int', help: 'RL steps per run (default: the preset\'s)' },
  seeds: { type: 'int', help: 'seeds per run (default: the preset\'s)' },
  runs: { type: 'string', help: `comma-separated subset of ${RUN_NAMES.join(',')}` },
  'report-only': { type: 'boolean', help: 'train nothing: write the reports from the runs already in --out (runs without results are left out)' },
  'max-budgets': { type: 'string', help: 'comma-separated b_max levels of a budget-pressure sweep, e.g. 96,48,32 (default: the preset\'s; pressure: 96,64,48,32)' },
  out: { type: 'string', help: 'output folder (default runs/<preset>)' },
  workers: { type: 'int', help: 'worker threads (default: one per core; 0 = in this thread)' },
  'threads-per-run': { type: 'int', help: 'threads each run computes on (default: cores / runs at once, at least 1)' },
} as const;

function parseMaxBudgets(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  return text.split(',').map((t) => {
    if (!/^\s*\d+\s*$/.test(t)) throw new AnytimeInputError('--max-budgets', `must be comma-separated integers ≥ 8 (b_max in tokens), got '${text}'`);
    return Number(t);
  });
}

export async function run(argv: string[]): Promise<number> {
  try {
    const { values, help } = parseArgs(argv, SPEC);
    if (help) {
      console.log(usage('reproduce', summary, SPEC));
      return 0;
    }
    const bars = new MultiProgress();
    const started = Date.now();
    const result = await reproduce({
      preset: values.preset,
      task: values.task,
      steps: values.steps,
      seeds: values.seeds,
      runs: values.runs?.split(',').map((r) => r.trim()) as RunName[] | undefined,
      maxBudgets: parseMaxBudgets(values['max-budgets']),
      reportOnly: values['report-only'],
      out: values.out,
      workers: values.workers,
      threadsPerRun: values['threads-per-run'],
      onProgress: (p) => bars.update(p.id, p.phase, p.done, p.total, p.status),
    });
    const preset = resolvePreset({ preset: values.preset, task: values.task, steps: values.steps, seeds: values.seeds, maxBudgets: parseMaxBudgets(values['max-budgets']) });
    const out = values.out ?? defaultOutDir(preset);
    console.log(`\nreport: ${out}/report.md (${((Date.now() - started) / 60000).toFixed(1)} min)`);
    console.log(formatRunTable(result));
    const comparisons = formatComparisons(result);
    if (comparisons) console.log(`\n${comparisons}`);
    return 0;
  } catch (e) {
    if (e instanceof AnytimeInputError) {
      console.error(`anytime reproduce: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

/** The run table the command prints: anytime and final accuracy with 95% intervals. */
export function formatRunTable(result: ReportSummary): string {
  const rows = [['run', 'seeds', 'anytime % [95% CI]', 'final % [95% CI]']];
  if (result.base) rows.push(['base policy', '–', fmtInterval(result.base.anytimeCI), fmtInterval(result.base.finalCI)]);
  for (const r of result.runs) rows.push([r.run, String(r.seeds), fmtInterval(r.anytime), fmtInterval(r.final)]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ')).join('\n');
}

/**
 * Each run against GRPO, in plain words: the paired difference with its interval, and whether it
 * is significant at this size (with one seed per run the interval covers only the questions).
 */
export function formatComparisons(result: ReportSummary): string {
  const lines: string[] = [];
  for (const c of result.comparisons) {
    const seedsA = result.runs.find((r) => r.run === c.run)?.seeds ?? 0;
    const seedsB = result.runs.find((r) => r.run === c.reference)?.seeds ?? 0;
    const significant = excludesZero(c.anytime);
    const verdict = significant
      ? `significant at this size: ${c.run} is ${c.anytime.estimate > 0 ? 'ahead' : 'behind'}`
      : 'NOT significant at this size: the difference is within evaluation noise';
    lines.push(`${c.run} − ${c.reference}: anytime ${fmtDiff(c.anytime)} points, final ${fmtDiff(c.final)} points (paired 95% CI) — ${verdict}.`);
    lines.push(`  per budget: above ${c.reference} at ${c.budgetsAbove} of ${c.accuracy.length} budgets, below at ${c.budgetsBelow}.`);
    if (seedsA < 2 || seedsB < 2) {
      lines.push('  one seed per run: the interval covers question sampling only, not the spread between training seeds; the full preset (5 seeds) measures that.');
    }
  }
  return lines.join('\n');
}
