/**
 * The reproduction's report. Per run: anytime and final accuracy and accuracy per budget with 95%
 * bootstrap intervals over seeds and questions; each run against GRPO with paired intervals; the
 * paper's claims, each with its verdict and numbers; held-out accuracy over training steps; the
 * variance study (Fig. 3) with intervals over questions. Written as summary.json, report.md and
 * SVG plots, each atomically.
 *
 * Verdict rules (stated in report.md too, so a reader can check them):
 * - a difference is *significant* when its 95% interval excludes 0;
 * - "AR beats GRPO at every budget": reproduced when the anytime difference and the difference at
 *   every budget are significantly above 0; in part when the anytime difference is significantly
 *   above 0 but some budgets are not; not reproduced when the anytime interval contains 0;
 *   reversed when it is significantly below 0;
 * - "final accuracy not below GRPO": reproduced unless the final difference is significantly below 0;
 * - "BRPO's variance ratio below the group mean's at late budgets" (the second half of the
 *   variance study's budgets): reproduced when BRPO − group mean is significantly below 0 at every
 *   late budget, in part at some, not reproduced at none;
 * - an ablation "in the paper's direction" improves anytime accuracy over GRPO.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { meanStd } from '../core/metrics.js';
import { bootstrapMeans, excludesZero, pairedBootstrapDiff, type Interval } from '../core/stats.js';
import { lineChartSvg, runColors } from '../plot/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { seedsOf, type ReproducePreset } from './presets.js';
import { questionColumns, type EvalResult } from './evaluate.js';
import type { RunResult, StepMetrics } from './train.js';
import type { VarianceStudy } from './variance.js';
import { runDir } from './jobs.js';
import type { RunName } from './config.js';

/** Replicates of every bootstrap in a report (fixed seed: the same results give the same report). */
const RESAMPLES = 2000;

export interface RunSummary {
  run: string;
  /** Seeds with a result. */
  seeds: number;
  budgets: number[];
  /** Mean over seeds of held-out anytime accuracy, with its 95% interval over seeds and questions. */
  anytime: Interval;
  final: Interval;
  /** Accuracy per budget with intervals. */
  accuracy: Interval[];
  /** Each seed's anytime and final accuracy. */
  seedAnytime: number[];
  seedFinal: number[];
  /** Mean thinking length at b_max, mean and std over seeds. */
  meanLength: { mean: number; std: number };
  /** Fraction of evaluation traces cut at b_max (mean over seeds). */
  cutFraction: number;
  /** Largest standard error of one seed's accuracy at any budget (the evaluation's precision). */
  maxSeedSE: number;
  /** Held-out anytime and final accuracy over training steps (first `evalEveryQuestions` questions). */
  curve: { step: number; anytime: Interval; final: Interval }[];
}

export interface Comparison {
  run: string;
  reference: string;
  /** `run − reference` per budget, paired over questions, seeds resampled per run. */
  accuracy: Interval[];
  anytime: Interval;
  final: Interval;
  /** Budgets whose interval lies above 0 / below 0. */
  budgetsAbove: number;
  budgetsBelow: number;
  /** Budgets where both runs score the same on every question (e.g. too early for any answer). */
  budgetsIdentical: number;
}

export interface Claim {
  claim: string;
  /** The run(s) it is about, e.g. 'ar-linear'. */
  subject: string;
  verdict: string;
  /** The numbers behind the verdict, in words. */
  evidence: string;
  /**
   * Where the 95% interval puts the result: `for` the paper's claim (significant in its direction),
   * `against` it (significant in the other direction), or `noise` (the interval covers no effect).
   * Readers sort on this, never on the verdict's wording.
   */
  direction: ClaimDirection;
}

export type ClaimDirection = 'for' | 'against' | 'noise';

/** The direction of a difference whose sign the paper predicts positive (`expectPositive`) or negative. */
const directionOf = (ci: Interval, expectPositive = true): ClaimDirection =>
  !excludesZero(ci) ? 'noise' : (ci.estimate > 0) === expectPositive ? 'for' : 'against';

export interface ReportSummary {
  preset: string;
  task: string;
  maxBudget: number | null;
  base: (Omit<EvalResult, 'questionScores' | 'questionLengths'> & { anytimeCI: Interval; finalCI: Interval }) | null;
  runs: RunSummary[];
  comparisons: Comparison[];
  claims: Claim[];
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

/** Percent with one decimal. */
export const pct = (x: number): string => (100 * x).toFixed(1);
/** `72.1 [70.3, 73.8]` in percent. */
export const fmtInterval = (i: Interval): string => `${pct(i.estimate)} [${pct(i.lo)}, ${pct(i.hi)}]`;
/** A signed difference in points: `+2.3 [+0.4, +4.1]`. */
export const fmtDiff = (i: Interval): string => {
  const s = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;
  return `${s(i.estimate)} [${s(i.lo)}, ${s(i.hi)}]`;
};

/** A signed number with two decimals and a true minus sign. */
const signed2 = (x: number): string => `${x < 0 ? '−' : x > 0 ? '+' : ''}${Math.abs(x).toFixed(2)}`;

/** The results of one run's seeds (those that finished). */
export function readRunResults(outDir: string, run: string, seeds: number): RunResult[] {
  const out: RunResult[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const r = readJson<RunResult>(join(runDir(outDir, run, seed), 'result.json'));
    if (r) out.push(r);
  }
  return out;
}

/** `[seed][question][column]` values of a run's final evaluations (columns: budgets, anytime, final). */
export function runValues(results: RunResult[]): number[][][] {
  return results.map((r) => questionColumns(r.eval));
}

/** A run's summary: intervals over seeds and questions, per-seed numbers, the held-out curve. */
export function summarizeRun(run: string, results: RunResult[]): RunSummary {
  const budgets = results[0].eval.budgets;
  const S = budgets.length;
  const ci = bootstrapMeans(runValues(results), { resamples: RESAMPLES, seed: 1 });
  const lengths = meanStd(results.map((r) => r.eval.meanLength));
  return {
    run,
    seeds: results.length,
    budgets,
    accuracy: ci.slice(0, S),
    anytime: ci[S],
    final: ci[S + 1],
    seedAnytime: results.map((r) => r.eval.anytime),
    seedFinal: results.map((r) => r.eval.final),
    meanLength: { mean: lengths.mean, std: lengths.std },
    cutFraction: results.reduce((a, r) => a + (1 - r.eval.finishedFraction), 0) / results.length,
    maxSeedSE: Math.max(...results.flatMap((r) => r.eval.accuracySE ?? [])),
    curve: heldOutCurve(results),
  };
}

/**
 * Held-out anytime and final accuracy over training steps, with intervals over seeds and
 * questions: the evaluations taken during training, then the final one restricted to the same
 * first questions (every row of an evaluation draws its own stream, so the first n questions of a
 * larger evaluation are what an evaluation of n questions gives).
 */
function heldOutCurve(results: RunResult[]): RunSummary['curve'] {
  const steps = results[0].evalHistory.map((h) => h.step);
  if (steps.length === 0) return [];
  const n = results[0].evalHistory[0].questionAnytime.length;
  const points: RunSummary['curve'] = steps.map((step, i) => {
    const values = results.filter((r) => r.evalHistory[i]?.step === step).map((r) => r.evalHistory[i].questionAnytime.map((a, q) => [a, r.evalHistory[i].questionFinal[q]]));
    const [anytime, final] = bootstrapMeans(values, { resamples: RESAMPLES, seed: 2 });
    return { step, anytime, final };
  });
  const last = runValues(results).map((seed) => seed.slice(0, n).map((row) => row.slice(-2)));
  const [anytime, final] = bootstrapMeans(last, { resamples: RESAMPLES, seed: 2 });
  points.push({ step: results[0].steps, anytime, final });
  return points;
}

/** `run − reference` with paired intervals (same questions and sampling streams, seeds resampled per run). */
export function compareRuns(run: string, a: RunResult[], reference: string, b: RunResult[]): Comparison {
  const S = a[0].eval.budgets.length;
  const d = pairedBootstrapDiff(runValues(a), runValues(b), { resamples: RESAMPLES, seed: 3 });
  const accuracy = d.slice(0, S);
  return {
    run,
    reference,
    accuracy,
    anytime: d[S],
    final: d[S + 1],
    budgetsAbove: accuracy.filter((i) => i.lo > 0).length,
    budgetsBelow: accuracy.filter((i) => i.hi < 0).length,
    budgetsIdentical: accuracy.filter((i) => i.lo === 0 && i.hi === 0 && i.estimate === 0).length,
  };
}

const AR_RUNS = ['ar-base', 'ar-linear', 'ar-uniform'];
const ABLATIONS: Record<string, string> = {
  'grpo-dense': 'dense reward (linear prior, no decoupled summaries, group-mean baseline)',
  'grpo-decouple': 'decoupled summary training (A = 4 at every budget, base prior, group-mean baseline)',
  'grpo-vr': 'variance reduction (BRPO baseline, base prior, final-only summaries)',
};

/** The paper's claims as measured, by the rules in this module's comment. */
export function paperClaims(comparisons: Comparison[], variance: VarianceStudy | null): Claim[] {
  const claims: Claim[] = [];
  const vsGrpo = (run: string) => comparisons.find((c) => c.run === run && c.reference === 'grpo');
  for (const run of AR_RUNS) {
    const c = vsGrpo(run);
    if (!c) continue;
    const S = c.accuracy.length;
    const verdict =
      c.anytime.lo > 0 ? (c.budgetsAbove === S ? 'reproduced' : 'reproduced in part') : c.anytime.hi < 0 ? 'reversed' : 'not reproduced (within noise)';
    claims.push({
      claim: 'AR variants beat GRPO on anytime accuracy at every budget',
      subject: run,
      verdict,
      evidence:
        `anytime ${fmtDiff(c.anytime)} points; significantly above GRPO at ${c.budgetsAbove} of ${S} budgets, below at ${c.budgetsBelow}` +
        (c.budgetsIdentical > 0 ? `, identical on every question at ${c.budgetsIdentical}` : ''),
      direction: directionOf(c.anytime),
    });
  }
  for (const run of AR_RUNS) {
    const c = vsGrpo(run);
    if (!c) continue;
    const verdict = c.final.hi < 0 ? 'not reproduced (significantly below)' : c.final.lo > 0 ? 'reproduced (significantly above)' : 'reproduced (no significant difference)';
    // The paper claims "not below": only a significant drop goes against it.
    const direction: ClaimDirection = c.final.hi < 0 ? 'against' : c.final.lo > 0 ? 'for' : 'noise';
    claims.push({ claim: 'final accuracy at b_max not below GRPO', subject: run, verdict, evidence: `final ${fmtDiff(c.final)} points`, direction });
  }
  if (variance?.brpoMinusGroupMean) {
    const S = variance.budgets.length;
    const late = variance.budgets.map((b, s) => ({ b, d: variance.brpoMinusGroupMean[s] })).slice(Math.floor(S / 2));
    const below = late.filter((x) => x.d && x.d.hi < 0);
    const verdict = below.length === late.length ? 'reproduced' : below.length > 0 ? 'reproduced in part' : 'not reproduced';
    const r = (b: string, s: number) => variance.ratio[b as 'brpo'][s];
    const S1 = S - 1;
    claims.push({
      claim: "BRPO's variance ratio Var[R − V]/Var[R] below the group mean's at late budgets",
      subject: 'brpo vs group-mean',
      verdict,
      evidence:
        `BRPO − group mean significantly below 0 at ${below.length} of ${late.length} late budgets (${late.map((x) => x.b).join(', ')}); ` +
        `at ${variance.budgets[S1]} tokens BRPO ${r('brpo', S1)?.toFixed(2)} vs group mean ${r('group-mean', S1)?.toFixed(2)}, ` +
        `difference ${variance.brpoMinusGroupMean[S1] ? `${signed2(variance.brpoMinusGroupMean[S1]!.estimate)} [${signed2(variance.brpoMinusGroupMean[S1]!.lo)}, ${signed2(variance.brpoMinusGroupMean[S1]!.hi)}]` : 'n/a'} ` +
        `(${variance.questions} questions × G = ${variance.groupSize})`,
      direction: below.length > 0 ? 'for' : late.some((x) => x.d && x.d.lo > 0) ? 'against' : 'noise',
    });
  }
  for (const [run, what] of Object.entries(ABLATIONS)) {
    const c = vsGrpo(run);
    if (!c) continue;
    const dir = c.anytime.estimate >= 0 ? "the paper's direction" : 'the opposite direction';
    const verdict = `${dir}, ${excludesZero(c.anytime) ? 'significant' : 'within noise'}`;
    claims.push({ claim: `ablation: ${what} improves on GRPO`, subject: run, verdict, evidence: `anytime ${fmtDiff(c.anytime)}, final ${fmtDiff(c.final)} points`, direction: directionOf(c.anytime) });
  }
  return claims;
}

export async function writeReport(outDir: string, preset: ReproducePreset): Promise<ReportSummary> {
  const baseEval = readJson<EvalResult>(join(outDir, 'base', 'eval.json'));
  const variance = readJson<VarianceStudy>(join(outDir, 'base', 'variance.json'));
  const results = new Map<string, RunResult[]>();
  const metrics = new Map<string, StepMetrics[][]>();
  for (const run of preset.runs) {
    const seeds = seedsOf(preset, run as RunName);
    const rs = readRunResults(outDir, run, seeds);
    if (rs.length > 0) results.set(run, rs);
    metrics.set(
      run,
      Array.from({ length: seeds }, (_, seed) => readMetrics(join(runDir(outDir, run, seed), 'metrics.jsonl'))).filter((m) => m.length > 0),
    );
  }
  const runs = [...results].map(([run, rs]) => summarizeRun(run, rs));
  const grpo = results.get('grpo');
  const comparisons = grpo ? [...results].filter(([run]) => run !== 'grpo').map(([run, rs]) => compareRuns(run, rs, 'grpo', grpo)) : [];
  const claims = paperClaims(comparisons, variance);
  const base = baseEval ? summarizeBase(baseEval) : null;

  const files: string[] = [];
  const write = (name: string, content: string) => {
    writeFileAtomic(join(outDir, name), content);
    files.push(name);
  };
  const names = ['base policy', ...runs.map((r) => r.run)];
  const colors = runColors(names);
  const seedNote = (rs: { seeds: number }[]) => {
    const counts = [...new Set(rs.map((r) => r.seeds))].sort();
    return counts.length === 1 ? `${counts[0]} seed${counts[0] === 1 ? '' : 's'} per run` : `${counts.join(' or ')} seeds per run`;
  };
  if (runs.length > 0 || baseEval) {
    const series = [
      ...(baseEval ? [{ name: 'base policy', points: baseEval.budgets.map((b, s) => ({ x: b, y: baseEval.accuracy[s] })) }] : []),
      ...runs.map((r) => ({ name: r.run, points: r.budgets.map((b, s) => ({ x: b, y: r.accuracy[s].estimate, lo: r.accuracy[s].lo, hi: r.accuracy[s].hi })) })),
    ];
    write(
      'accuracy-vs-budget.svg',
      await lineChartSvg({
        title: `Held-out accuracy vs budget (${seedNote(runs)}; 95% CI)`,
        xLabel: 'thinking budget (tokens)',
        yLabel: 'accuracy',
        series,
        yDomain: [0, 1],
        intervals: 'band',
        colors,
      }),
    );
  }
  if (comparisons.length > 0) write('difference-vs-grpo.svg', await differenceChartSvg('GRPO', runs[0].budgets, comparisons, colors));
  const withCurve = runs.filter((r) => r.curve.length > 1);
  if (withCurve.length > 0) {
    write(
      'heldout-anytime-over-training.svg',
      await lineChartSvg({
        title: `Held-out anytime accuracy over training (${seedNote(withCurve)})`,
        xLabel: 'training step',
        yLabel: 'anytime accuracy',
        series: withCurve.map((r) => ({ name: r.run, points: r.curve.map((p) => ({ x: p.step, y: p.anytime.estimate, lo: p.anytime.lo, hi: p.anytime.hi })) })),
        intervals: 'band',
        colors,
      }),
    );
  }
  const trained = [...metrics].filter(([, m]) => m.length > 0);
  if (trained.length > 0) {
    const smooth = (ms: StepMetrics[][], pick: (m: StepMetrics) => number) => smoothedMean(ms, pick, 25);
    const n = seedNote(trained.map(([, m]) => ({ seeds: m.length })));
    write(
      'training-reward.svg',
      await lineChartSvg({
        title: `Training reward at b_max (${n}; 25-step average)`,
        xLabel: 'step',
        yLabel: 'reward',
        series: trained.map(([run, m]) => ({ name: run, points: smooth(m, (x) => x.reward) })),
        colors,
      }),
    );
    // One common prior for every run (uniform over the training budgets), so the curves compare.
    write(
      'training-anytime-reward.svg',
      await lineChartSvg({
        title: `Training anytime reward, uniform prior (${n}; 25-step avg.)`,
        xLabel: 'step',
        yLabel: 'anytime reward (uniform prior)',
        series: trained.map(([run, m]) => ({ name: run, points: smooth(m, (x) => x.scoreByBudget.reduce((a, b) => a + b, 0) / x.scoreByBudget.length) })),
        colors,
      }),
    );
  }
  if (variance && Object.values(variance.ratio).some((r) => r.some((x) => x !== null))) {
    write(
      'variance-ratio.svg',
      await lineChartSvg({
        title: `Var[R − V] / Var[R], base-policy rollouts (Fig. 3; 95% CI)`,
        xLabel: 'thinking budget (tokens)',
        yLabel: 'variance ratio',
        series: (['group-mean', 'own-progress', 'brpo'] as const)
          .map((b) => ({
            name: b,
            points: variance.budgets.flatMap((x, s) => {
              const y = variance.ratio[b][s];
              const ci = variance.ratioCI?.[b]?.[s];
              return y === null ? [] : [{ x, y, ...(ci ? { lo: Math.min(ci[0], y), hi: Math.max(ci[1], y) } : {}) }];
            }),
          }))
          .filter((s) => s.points.length > 0),
        intervals: 'band',
        rules: [{ y: 1 }],
      }),
    );
  }

  const maxBudget = preset.train.maxBudget ?? null;
  const lines = reportMarkdown(preset, { base, runs, comparisons, claims, variance, maxBudget, files });
  write('report.md', lines.join('\n'));
  const summary: ReportSummary = { preset: preset.name, task: preset.task, maxBudget, base, runs, comparisons, claims, variance, files: [...files, 'summary.json'] };
  writeJsonAtomic(join(outDir, 'summary.json'), summary);
  return summary;
}

/**
 * Each comparison's `run − reference` accuracy per budget, in points, with its paired intervals as
 * a band around a line per run and a dashed line at 0.
 */
export async function differenceChartSvg(
  reference: string,
  budgets: number[],
  comparisons: { run: string; accuracy: Interval[] }[],
  colors: Record<string, string>,
): Promise<string> {
  return lineChartSvg({
    title: `Difference from ${reference} per budget (paired 95% CI)`,
    xLabel: 'thinking budget (tokens)',
    yLabel: `accuracy − ${reference} (points)`,
    series: comparisons.map((c) => ({
      name: c.run,
      points: budgets.map((b, s) => ({ x: b, y: 100 * c.accuracy[s].estimate, lo: 100 * c.accuracy[s].lo, hi: 100 * c.accuracy[s].hi })),
    })),
    intervals: 'band',
    rules: [{ y: 0 }],
    colors,
  });
}

function summarizeBase(e: EvalResult): NonNullable<ReportSummary['base']> {
  const S = e.budgets.length;
  const ci = bootstrapMeans([questionColumns(e)], { resamples: RESAMPLES, seed: 1 });
  const { questionScores: _q, questionLengths: _l, ...rest } = e;
  return { ...rest, anytimeCI: ci[S], finalCI: ci[S + 1] };
}

/** Mean over seeds of a per-step metric, smoothed by a trailing moving average of `window` steps. */
function smoothedMean(ms: StepMetrics[][], pick: (m: StepMetrics) => number, window: number): { x: number; y: number }[] {
  const steps = Math.max(...ms.map((m) => m.length));
  const mean = Array.from({ length: steps }, (_, i) => {
    const ys = ms.filter((m) => m.length > i).map((m) => pick(m[i]));
    return ys.reduce((a, b) => a + b, 0) / ys.length;
  });
  return mean.map((_, i) => {
    const from = Math.max(0, i - window + 1);
    const slice = mean.slice(from, i + 1);
    return { x: i + 1, y: slice.reduce((a, b) => a + b, 0) / slice.length };
  });
}

function reportMarkdown(
  preset: ReproducePreset,
  r: Pick<ReportSummary, 'base' | 'runs' | 'comparisons' | 'claims' | 'variance' | 'maxBudget' | 'files'>,
): string[] {
  const { base, runs, comparisons, claims, variance } = r;
  const lines: string[] = [];
  lines.push(`# Reproduction report: preset \`${preset.name}\``, '');
  // The seeds actually in the set: a set stopped part-way (or written with --report-only) can hold fewer.
  const found = (run: string) => runs.find((x) => x.run === run)?.seeds ?? 0;
  const seeds = preset.runs.map((run) => `${run} ${found(run)}`).join(', ');
  const short = preset.runs.filter((run) => found(run) < seedsOf(preset, run));
  lines.push(`${preset.description}. Task \`${preset.task}\`${r.maxBudget ? `, b_max ${r.maxBudget}` : ''}; seeds per run in this set: ${seeds}.`, '');
  if (short.length > 0) {
    lines.push(
      `**Not complete:** ${short.map((run) => `${run} has ${found(run)} of the preset's ${seedsOf(preset, run)} seeds`).join('; ')}. ` +
        'Intervals of a run with one seed cover question sampling only, not the spread between training seeds. ' +
        'Rerunning the same command trains the missing seeds (finished runs are kept).',
      '',
    );
  }
  const settings = (o: object) => Object.entries(o).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
  lines.push(`Training: ${settings(preset.train)}. Warm start: ${settings(preset.warmStart) || 'defaults'}.`, '');
  const any = runs[0];
  if (any) {
    const e = { questions: 0, samples: 0 };
    const b = base;
    if (b) Object.assign(e, { questions: b.questions, samples: b.samples });
    lines.push(
      `Evaluation: ${e.questions || '?'} held-out questions × ${e.samples || '?'} sample${e.samples === 1 ? '' : 's'} at ${any.budgets.length} budgets, the same questions and sampling streams for every run and seed (paired). ` +
        `Largest standard error of one seed's accuracy at any budget: ${pct(Math.max(...runs.map((x) => x.maxSeedSE)))} points. ` +
        'Intervals: 95% percentile bootstrap over seeds and questions (2,000 replicates); differences from GRPO are paired over questions.',
      '',
    );
  }
  lines.push('| run | seeds | anytime accuracy (%) [95% CI] | final accuracy (%) [95% CI] | mean thinking length | cut at b_max |', '| --- | --- | --- | --- | --- | --- |');
  if (base) {
    lines.push(`| base policy | – | ${fmtInterval(base.anytimeCI)} | ${fmtInterval(base.finalCI)} | ${base.meanLength.toFixed(1)} | ${pct(1 - base.finishedFraction)}% |`);
  }
  for (const x of runs) {
    const len = x.seeds > 1 ? `${x.meanLength.mean.toFixed(1)} ± ${x.meanLength.std.toFixed(1)}` : `${x.meanLength.mean.toFixed(1)} (1 seed)`;
    lines.push(`| ${x.run} | ${x.seeds} | ${fmtInterval(x.anytime)} | ${fmtInterval(x.final)} | ${len} | ${pct(x.cutFraction)}% |`);
  }
  lines.push('', 'Anytime accuracy: uniform-prior mean of held-out accuracy over the evaluation budgets (the discrete area under the curve). Final: at b_max.', '');
  if (comparisons.length > 0) {
    lines.push('## Each run against GRPO (paired differences, points)', '');
    lines.push('| run | anytime Δ [95% CI] | final Δ [95% CI] | budgets above GRPO | budgets below GRPO |', '| --- | --- | --- | --- | --- |');
    for (const c of comparisons) {
      const S = c.accuracy.length;
      lines.push(`| ${c.run} | ${fmtDiff(c.anytime)} | ${fmtDiff(c.final)} | ${c.budgetsAbove} of ${S} | ${c.budgetsBelow} of ${S} |`);
    }
    lines.push('', '"Above"/"below": the budget\'s 95% interval excludes 0.', '');
  }
  if (claims.length > 0) {
    lines.push("## The paper's claims, as measured", '');
    lines.push('| claim | run | verdict | evidence |', '| --- | --- | --- | --- |');
    for (const c of claims) lines.push(`| ${c.claim} | ${c.subject} | **${c.verdict}** | ${c.evidence} |`);
    lines.push(
      '',
      'Rules: significant = the 95% interval excludes 0. "Beat GRPO at every budget": reproduced when the anytime difference and every budget\'s difference are significantly above 0; in part when the anytime difference is but some budgets are not. "Final not below GRPO": reproduced unless significantly below. Variance: "late budgets" are the second half of the study\'s budgets.',
      '',
    );
  }
  if (runs.length > 0) {
    const budgets = runs[0].budgets;
    lines.push('## Accuracy per budget (%, mean over seeds)', '');
    lines.push(`| run | ${budgets.join(' | ')} |`, `| --- |${budgets.map(() => ' --- |').join('')}`);
    if (base) lines.push(`| base policy | ${base.accuracy.map((a) => pct(a)).join(' | ')} |`);
    for (const x of runs) lines.push(`| ${x.run} | ${x.accuracy.map((a) => pct(a.estimate)).join(' | ')} |`);
    lines.push('', `Half-width of the 95% interval, largest over budgets: ${runs.map((x) => `${x.run} ${pct(Math.max(...x.accuracy.map((a) => (a.hi - a.lo) / 2)))}`).join(', ')} points.`, '');
    if (comparisons.length > 0) {
      lines.push('## Difference from GRPO per budget (points [95% CI])', '');
      lines.push(`| run | ${budgets.join(' | ')} |`, `| --- |${budgets.map(() => ' --- |').join('')}`);
      for (const c of comparisons) lines.push(`| ${c.run} | ${c.accuracy.map(fmtDiff).join(' | ')} |`);
      lines.push('');
    }
  }
  const withCurve = runs.filter((x) => x.curve.length > 1);
  if (withCurve.length > 0) {
    const steps = withCurve[0].curve.map((p) => p.step);
    lines.push('## Held-out anytime accuracy over training (%, [95% CI])', '');
    lines.push(`| run | ${steps.map((s) => `step ${s}`).join(' | ')} |`, `| --- |${steps.map(() => ' --- |').join('')}`);
    for (const x of withCurve) lines.push(`| ${x.run} | ${x.curve.map((p) => fmtInterval(p.anytime)).join(' | ')} |`);
    lines.push('', 'On the first questions of the evaluation set (those of the evaluations during training); the last column is the final evaluation restricted to them.', '');
  }
  if (variance) {
    lines.push('## Variance reduction (Fig. 3)', '');
    lines.push(`Var[R − V]/Var[R] per budget, ${variance.questions} questions × G = ${variance.groupSize} base-policy traces, ${variance.prior} prior; [95% CI over questions].`, '');
    lines.push(`| baseline | ${variance.budgets.join(' | ')} |`, `| --- |${variance.budgets.map(() => ' --- |').join('')}`);
    for (const b of ['group-mean', 'own-progress', 'brpo'] as const) {
      lines.push(
        `| ${b} | ${variance.ratio[b]
          .map((x, s) => {
            const ci = variance.ratioCI?.[b]?.[s];
            return x === null ? 'n/a' : ci ? `${x.toFixed(2)} [${ci[0].toFixed(2)}, ${ci[1].toFixed(2)}]` : x.toFixed(2);
          })
          .join(' | ')} |`,
      );
    }
    if (variance.brpoMinusGroupMean) {
      lines.push(`| brpo − group-mean | ${variance.brpoMinusGroupMean.map((d) => (d ? `${signed2(d.estimate)} [${signed2(d.lo)}, ${signed2(d.hi)}]` : 'n/a')).join(' | ')} |`);
    }
    lines.push('');
  }
  lines.push('## Plots', '', ...r.files.filter((f) => f.endsWith('.svg')).map((f) => `![${f}](${f})`), '');
  return lines;
}
