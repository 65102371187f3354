/**
 * `anytime eval --compare A.json B.json`: the paired per-budget difference between two
 * evaluated models, with intervals. Both runs must have scored the same questions at the same
 * budgets; the interval is the paired bootstrap of the lead's statistics module
 * (`pairedBootstrapDiff`: one resample of question indices shared by both runs), so the
 * between-question variance cancels out of the difference.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fail } from '../core/errors.js';
import { makePrior, type PriorKind } from '../core/budget.js';
import { excludesZero, pairedBootstrapDiff, type Interval } from '../core/stats.js';
import { lineChartSvg } from '../plot/line.js';
import { questionValues, readResults, type RunIdentity, type SampleRecord } from './results.js';

export interface EvaluatedRun {
  /** Name shown in tables and plots (the model, or the file name when models coincide). */
  name: string;
  path: string;
  identity: RunIdentity;
  records: SampleRecord[];
}

/** Reads a run from its summary JSON (`--out` of `anytime eval`) or its `.samples.jsonl`. */
export function loadRun(path: string, argument: string): EvaluatedRun {
  if (!existsSync(path)) fail(argument, `cannot read '${path}' (no such file)`);
  let samplesPath = path;
  if (!path.endsWith('.jsonl')) {
    let summary: { samplesFile?: unknown };
    try {
      summary = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      fail(argument, `'${path}' is not JSON (${(e as Error).message}); give the summary JSON written by anytime eval --out, or its .samples.jsonl`);
    }
    if (typeof summary.samplesFile !== 'string') fail(argument, `'${path}' has no "samplesFile"; it was not written by anytime eval`);
    // The samples file as recorded, else next to the summary (a run copied elsewhere).
    const recorded = summary.samplesFile;
    samplesPath = existsSync(recorded) ? recorded : join(dirname(path), basename(recorded));
    if (!existsSync(samplesPath)) fail(argument, `the samples file '${recorded}' of '${path}' is missing`);
  }
  const file = readResults(samplesPath);
  if (!file.header) fail(argument, `'${samplesPath}' has no header line; it was not written by anytime eval`);
  return { name: file.header.identity.model, path, identity: file.header.identity, records: file.records };
}

export interface Comparison {
  a: string;
  b: string;
  budgets: number[];
  prior: { kind: PriorKind; probs: number[] };
  questions: number;
  /** Accuracy of each run at each budget (question-weighted, as the bootstrap estimates it). */
  accuracyA: number[];
  accuracyB: number[];
  /** A − B at each budget, paired over questions. */
  diff: Interval[];
  /** A − B of the anytime score under the prior. */
  anytime: Interval;
}

/** The paired difference A − B; refuses runs whose questions or budgets differ. */
export function compareRuns(a: EvaluatedRun, b: EvaluatedRun, opts: { prior?: PriorKind; resamples?: number; seed?: number } = {}): Comparison {
  const budgetsA = a.identity.budgets;
  const budgetsB = b.identity.budgets;
  if (JSON.stringify(budgetsA) !== JSON.stringify(budgetsB)) {
    fail('--compare', `the runs were evaluated at different budgets (${a.path}: ${budgetsA.join(',')}; ${b.path}: ${budgetsB.join(',')}); compare runs with the same --budgets`);
  }
  if (a.identity.dataSha256 !== b.identity.dataSha256 || a.identity.limit !== b.identity.limit) {
    fail(
      '--compare',
      `the runs asked different questions (${a.path}: data ${a.identity.data} sha256 ${a.identity.dataSha256.slice(0, 12)}…, limit ${a.identity.limit}; ` +
        `${b.path}: data ${b.identity.data} sha256 ${b.identity.dataSha256.slice(0, 12)}…, limit ${b.identity.limit}); a paired comparison needs the same questions`,
    );
  }
  const prior = makePrior(opts.prior ?? 'uniform', budgetsA);
  const va = questionValues(a.records, prior.probs);
  const vb = questionValues(b.records, prior.probs);
  if (JSON.stringify(va.questions) !== JSON.stringify(vb.questions)) {
    const onlyA = va.questions.filter((q) => !vb.questions.includes(q));
    const onlyB = vb.questions.filter((q) => !va.questions.includes(q));
    fail(
      '--compare',
      `the runs scored different questions (${va.questions.length} vs ${vb.questions.length}; only in ${a.path}: [${onlyA.slice(0, 8).join(', ')}], only in ${b.path}: [${onlyB.slice(0, 8).join(', ')}]); ` +
        'finish both runs (rerun to resume), or check their unaligned samples',
    );
  }
  const diff = pairedBootstrapDiff([va.values], [vb.values], { resamples: opts.resamples ?? 2000, seed: opts.seed ?? 0 });
  const m = budgetsA.length;
  const mean = (values: number[][], j: number) => values.reduce((s, row) => s + row[j], 0) / values.length;
  return {
    a: a.name === b.name ? a.path : a.name,
    b: a.name === b.name ? b.path : b.name,
    budgets: budgetsA,
    prior: { kind: opts.prior ?? 'uniform', probs: prior.probs },
    questions: va.questions.length,
    accuracyA: budgetsA.map((_, j) => mean(va.values, j)),
    accuracyB: budgetsA.map((_, j) => mean(vb.values, j)),
    diff: diff.slice(0, m),
    anytime: diff[m],
  };
}

/** The comparison as a table: both accuracies, the difference, its interval, significance. */
export function formatComparison(c: Comparison): string {
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
  const acc = (x: number) => (100 * x).toFixed(1);
  const header = ['budget', 'A %', 'B %', 'A−B', '95% CI', ''];
  const rows = c.budgets.map((b, j) => [
    String(b),
    acc(c.accuracyA[j]),
    acc(c.accuracyB[j]),
    pct(c.diff[j].estimate),
    `${pct(c.diff[j].lo)} … ${pct(c.diff[j].hi)}`,
    excludesZero(c.diff[j]) ? '*' : '',
  ]);
  rows.push(['anytime', '', '', pct(c.anytime.estimate), `${pct(c.anytime.lo)} … ${pct(c.anytime.hi)}`, excludesZero(c.anytime) ? '*' : '']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((x, i) => x.padStart(widths[i])).join('  ').trimEnd();
  return [
    `A = ${c.a}`,
    `B = ${c.b}`,
    line(header),
    ...rows.map(line),
    `paired over ${c.questions} questions; points of accuracy; * = the 95% interval excludes 0; anytime under the ${c.prior.kind} prior`,
  ].join('\n');
}

/** The difference A − B against the budget, with its 95% interval as two bounding lines. */
export function comparisonPlotSvg(c: Comparison): Promise<string> {
  const at = (pick: (i: Interval) => number) => c.budgets.map((b, j) => ({ x: b, y: pick(c.diff[j]) }));
  return lineChartSvg({
    title: `${c.a} − ${c.b} (paired, ${c.questions} questions)`,
    xLabel: 'thinking budget (tokens)',
    yLabel: 'accuracy difference',
    series: [
      { name: 'A − B', points: at((i) => i.estimate) },
      { name: '95% interval, lower', points: at((i) => i.lo) },
      { name: '95% interval, upper', points: at((i) => i.hi) },
      { name: 'no difference', points: c.budgets.map((b) => ({ x: b, y: 0 })) },
    ],
  });
}
