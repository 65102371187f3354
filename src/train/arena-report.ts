/**
 * The arena's report (docs/arena.md), written next to the reproduction's own report when a preset
 * trains any arena method: each method against GRPO and against AR-uniform with paired 95%
 * intervals, its mean thinking length with an interval, its accuracy over short and long budgets,
 * which method wins where (and which differences are within noise), and the accuracy–length
 * frontier. Files: arena.md, arena-summary.json and SVG plots, each written atomically.
 *
 * Rules (stated in arena.md too):
 * - short budgets are the evaluation budgets ≤ b_max/2, long budgets those above; a method's
 *   short (long) accuracy is its mean accuracy over them, per question;
 * - mean length is the mean thinking length at b_max (L1: when asked for b_max), per question;
 * - for each criterion the *leader* is the method with the best estimate (highest accuracy, or
 *   shortest length); a method is *within noise* of the leader when their paired 95% interval
 *   contains 0, else significantly behind;
 * - a method is on the *frontier* when no other method has at least its anytime accuracy with at
 *   most its mean length, one of them strictly (point estimates).
 */
import { join } from 'node:path';
import { bootstrapMeans, excludesZero, pairedBootstrapDiff, type Interval } from '../core/stats.js';
import { lineChartSvg, runColors, scatterChartSvg } from '../plot/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { ARENA_RUN_NAMES, type RunName } from './config.js';
import { questionColumns, type EvalResult } from './evaluate.js';
import { seedsOf, type ReproducePreset } from './presets.js';
import type { AskedEvalResult } from './prompt-targets.js';
import { differenceChartSvg, fmtDiff, fmtInterval, readRunResults } from './report.js';
import type { RunResult } from './train.js';

/** Replicates of every bootstrap (fixed seeds: the same results give the same report). */
const RESAMPLES = 2000;

/** The criteria the arena ranks methods by; `higher` says which way is better. */
export const ARENA_CRITERIA = [
  { key: 'short', label: 'short budgets (≤ b_max/2)', higher: true },
  { key: 'long', label: 'long budgets (> b_max/2)', higher: true },
  { key: 'anytime', label: 'anytime accuracy', higher: true },
  { key: 'final', label: 'final accuracy (b_max)', higher: true },
  { key: 'meanLength', label: 'mean thinking length', higher: false },
] as const;
export type ArenaCriterion = (typeof ARENA_CRITERIA)[number]['key'];

/** What the arena measures of a method (or of a difference between two), each with its interval. */
export interface ArenaMeasures {
  run: string;
  anytime: Interval;
  final: Interval;
  /** Mean accuracy over the short budgets (≤ b_max/2) and over the long ones. */
  short: Interval;
  long: Interval;
  /** Mean thinking length at b_max (tokens), over seeds and questions. */
  meanLength: Interval;
  /** Accuracy per budget. */
  accuracy: Interval[];
}

export interface ArenaMethod extends ArenaMeasures {
  seeds: number;
  /** L1 only: mean thinking length when asked for each budget (mean over seeds). */
  lengthAskedByBudget?: number[];
}

/** `run − reference` on every measure, paired over questions. */
export interface ArenaComparison extends ArenaMeasures {
  reference: string;
  /** Budgets whose interval lies above / below 0. */
  budgetsAbove: number;
  budgetsBelow: number;
}

export interface ArenaVerdict {
  criterion: ArenaCriterion;
  label: string;
  leader: string;
  /** Methods whose difference from the leader is within noise (paired interval contains 0). */
  withinNoise: string[];
  /** Every other method's difference from the leader (method − leader). */
  differences: { run: string; diff: Interval }[];
}

export interface ArenaSummary {
  preset: string;
  task: string;
  budgets: number[];
  shortBudgets: number[];
  longBudgets: number[];
  methods: ArenaMethod[];
  comparisons: ArenaComparison[];
  verdicts: ArenaVerdict[];
  /** Methods on the anytime-accuracy / mean-length frontier. */
  frontier: string[];
  files: string[];
}

/** Column layout of the arena's per-question values. */
interface Layout {
  S: number;
  col: Record<'anytime' | 'final' | 'short' | 'long' | 'meanLength', number>;
}
const layoutOf = (S: number): Layout => ({ S, col: { anytime: S, final: S + 1, short: S + 2, long: S + 3, meanLength: S + 4 } });

/**
 * Per question of one evaluation: the score at each budget, anytime, final (`questionColumns`),
 * then the mean over short budgets, over long budgets, and the thinking length.
 */
export function arenaColumns(e: EvalResult): number[][] {
  const half = e.budgets[e.budgets.length - 1] / 2;
  const short = e.budgets.map((b, s) => (b <= half ? s : -1)).filter((s) => s >= 0);
  const long = e.budgets.map((b, s) => (b > half ? s : -1)).filter((s) => s >= 0);
  const mean = (row: number[], idx: number[]) => (idx.length ? idx.reduce((a, s) => a + row[s], 0) / idx.length : 0);
  const base = questionColumns(e);
  return e.questionScores.map((row, q) => [...base[q], mean(row, short), mean(row, long), e.questionLengths[q]]);
}

const arenaValues = (results: RunResult[]): number[][][] => results.map((r) => arenaColumns(r.eval));
/** The same values restricted to one column (cheap bootstraps of one criterion). */
const column = (values: number[][][], k: number): number[][][] => values.map((seed) => seed.map((row) => [row[k]]));

/** The measures of one interval per arena column (`arenaColumns`' layout). */
function measures(run: string, S: number, ci: Interval[]): ArenaMeasures {
  const { col } = layoutOf(S);
  return { run, anytime: ci[col.anytime], final: ci[col.final], short: ci[col.short], long: ci[col.long], meanLength: ci[col.meanLength], accuracy: ci.slice(0, S) };
}

export function summarizeMethod(run: string, results: RunResult[]): ArenaMethod {
  const S = results[0].eval.budgets.length;
  const ci = bootstrapMeans(arenaValues(results), { resamples: RESAMPLES, seed: 11 });
  const asked = results.map((r) => (r.eval as Partial<AskedEvalResult>).lengthByBudget).filter((x): x is number[] => Array.isArray(x));
  return {
    ...measures(run, S, ci),
    seeds: results.length,
    ...(asked.length > 0 ? { lengthAskedByBudget: asked[0].map((_, j) => asked.reduce((a, l) => a + l[j], 0) / asked.length) } : {}),
  };
}

/** `run − reference` on every arena column, paired over questions. */
export function compareMethods(run: string, a: RunResult[], reference: string, b: RunResult[]): ArenaComparison {
  const S = a[0].eval.budgets.length;
  const m = measures(run, S, pairedBootstrapDiff(arenaValues(a), arenaValues(b), { resamples: RESAMPLES, seed: 12 }));
  return { ...m, reference, budgetsAbove: m.accuracy.filter((i) => i.lo > 0).length, budgetsBelow: m.accuracy.filter((i) => i.hi < 0).length };
}

/** For each criterion, the leader and who is within noise of it (module comment). */
export function arenaVerdicts(methods: ArenaMethod[], results: Map<string, RunResult[]>): ArenaVerdict[] {
  if (methods.length === 0) return [];
  const { col } = layoutOf(methods[0].accuracy.length);
  const values = new Map([...results].map(([run, rs]) => [run, arenaValues(rs)]));
  return ARENA_CRITERIA.map(({ key, label, higher }) => {
    const sign = higher ? 1 : -1;
    const leader = methods.reduce((best, m) => (sign * m[key].estimate > sign * best[key].estimate ? m : best));
    const differences = methods
      .filter((m) => m.run !== leader.run)
      .map((m) => ({ run: m.run, diff: pairedBootstrapDiff(column(values.get(m.run)!, col[key]), column(values.get(leader.run)!, col[key]), { resamples: RESAMPLES, seed: 13 })[0] }));
    return { criterion: key, label, leader: leader.run, withinNoise: differences.filter((d) => !excludesZero(d.diff)).map((d) => d.run), differences };
  });
}

/** Methods no other method dominates on (anytime accuracy ↑, mean length ↓), point estimates. */
export function frontierOf(methods: ArenaMethod[]): string[] {
  return methods
    .filter((m) => !methods.some((o) => o !== m && o.anytime.estimate >= m.anytime.estimate && o.meanLength.estimate <= m.meanLength.estimate && (o.anytime.estimate > m.anytime.estimate || o.meanLength.estimate < m.meanLength.estimate)))
    .map((m) => m.run);
}

export async function writeArenaReport(outDir: string, preset: ReproducePreset): Promise<ArenaSummary | null> {
  const results = new Map<string, RunResult[]>();
  for (const run of preset.runs) {
    const rs = readRunResults(outDir, run, seedsOf(preset, run as RunName));
    if (rs.length > 0) results.set(run, rs);
  }
  if (results.size === 0) return null;
  const first = [...results.values()][0][0].eval;
  const budgets = first.budgets;
  const half = budgets[budgets.length - 1] / 2;
  const methods = [...results].map(([run, rs]) => summarizeMethod(run, rs));
  const comparisons: ArenaComparison[] = [];
  for (const reference of ['grpo', 'ar-uniform']) {
    const ref = results.get(reference);
    if (!ref) continue;
    for (const [run, rs] of results) if (run !== reference) comparisons.push(compareMethods(run, rs, reference, ref));
  }
  const verdicts = arenaVerdicts(methods, results);
  const frontier = frontierOf(methods);

  const files: string[] = [];
  const write = (name: string, content: string) => {
    writeFileAtomic(join(outDir, name), content);
    files.push(name);
  };
  const colors = runColors(methods.map((m) => m.run));
  for (const key of ['anytime', 'final'] as const) {
    write(
      `arena-frontier-${key}.svg`,
      await scatterChartSvg({
        title: `${key === 'anytime' ? 'Anytime' : 'Final'} accuracy vs mean thinking length (95% CI over seeds and questions)`,
        xLabel: 'mean thinking length at b_max (tokens)',
        yLabel: `${key} accuracy`,
        points: methods.map((m) => ({
          name: m.run,
          x: m.meanLength.estimate,
          xLo: m.meanLength.lo,
          xHi: m.meanLength.hi,
          y: m[key].estimate,
          yLo: m[key].lo,
          yHi: m[key].hi,
        })),
        colors,
      }),
    );
  }
  const vsAr = comparisons.filter((c) => c.reference === 'ar-uniform');
  if (vsAr.length > 0) write('arena-difference-vs-ar-uniform.svg', await differenceChartSvg('AR-uniform', budgets, vsAr, colors));
  const asked = methods.filter((m) => m.lengthAskedByBudget);
  if (asked.length > 0) {
    write(
      'arena-l1-length-following.svg',
      await lineChartSvg({
        title: 'L1: thinking length when asked for each budget (mean over seeds)',
        xLabel: 'length asked for (tokens)',
        yLabel: 'thinking length (tokens)',
        series: [
          ...asked.map((m) => ({ name: m.run, points: budgets.map((b, j) => ({ x: b, y: m.lengthAskedByBudget![j] })) })),
          { name: 'asked', points: budgets.map((b) => ({ x: b, y: b })) },
        ],
        colors: { ...colors, asked: '#999999' },
      }),
    );
  }

  const summary: ArenaSummary = {
    preset: preset.name,
    task: preset.task,
    budgets,
    shortBudgets: budgets.filter((b) => b <= half),
    longBudgets: budgets.filter((b) => b > half),
    methods,
    comparisons,
    verdicts,
    frontier,
    files: [...files, 'arena.md', 'arena-summary.json'],
  };
  write('arena.md', arenaMarkdown(preset, summary).join('\n'));
  writeJsonAtomic(join(outDir, 'arena-summary.json'), summary);
  return summary;
}

const tokens = (i: Interval) => `${i.estimate.toFixed(1)} [${i.lo.toFixed(1)}, ${i.hi.toFixed(1)}]`;
const tokenDiff = (i: Interval) => {
  const s = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;
  return `${s(i.estimate)} [${s(i.lo)}, ${s(i.hi)}]`;
};
const mark = (i: Interval) => (excludesZero(i) ? ' *' : '');

function arenaMarkdown(preset: ReproducePreset, a: ArenaSummary): string[] {
  const lines: string[] = [];
  const arena = a.methods.filter((m) => (ARENA_RUN_NAMES as string[]).includes(m.run)).map((m) => m.run);
  lines.push(`# The arena: preset \`${preset.name}\`, task \`${a.task}\``, '');
  lines.push(
    `Budget-aware RL methods (${arena.join(', ')}) against GRPO and AnytimeReasoner, trained by one trainer from one base policy and evaluated by one anytime evaluation at ${a.budgets.length} budgets (docs/arena.md). ` +
      `Intervals are 95% bootstrap intervals over seeds and questions; differences are paired over questions; * marks a difference whose interval excludes 0.`,
    '',
  );
  lines.push(`Short budgets: ${a.shortBudgets.join(', ')}; long budgets: ${a.longBudgets.join(', ')} tokens.`, '');
  lines.push('| method | seeds | anytime (%) | final (%) | short budgets (%) | long budgets (%) | mean thinking length |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const m of a.methods) {
    lines.push(`| ${m.run} | ${m.seeds} | ${fmtInterval(m.anytime)} | ${fmtInterval(m.final)} | ${fmtInterval(m.short)} | ${fmtInterval(m.long)} | ${tokens(m.meanLength)} |`);
  }
  lines.push('');
  for (const reference of ['grpo', 'ar-uniform']) {
    const cs = a.comparisons.filter((c) => c.reference === reference);
    if (cs.length === 0) continue;
    lines.push(`## Each method − ${reference} (points; length in tokens)`, '');
    lines.push('| method | anytime | final | short budgets | long budgets | mean length | budgets above / below |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const c of cs) {
      lines.push(
        `| ${c.run} | ${fmtDiff(c.anytime)}${mark(c.anytime)} | ${fmtDiff(c.final)}${mark(c.final)} | ${fmtDiff(c.short)}${mark(c.short)} | ${fmtDiff(c.long)}${mark(c.long)} | ${tokenDiff(c.meanLength)}${mark(c.meanLength)} | ${c.budgetsAbove} / ${c.budgetsBelow} of ${c.accuracy.length} |`,
      );
    }
    lines.push('');
  }
  lines.push('## Who wins where', '');
  lines.push('The leader of each criterion is the method with the best estimate; the others are listed as within noise of it when their paired interval with it contains 0.', '');
  lines.push('| criterion | leader | within noise of the leader | significantly behind |', '| --- | --- | --- | --- |');
  for (const v of a.verdicts) {
    const behind = v.differences.filter((d) => excludesZero(d.diff)).map((d) => d.run);
    lines.push(`| ${v.label} | ${v.leader} | ${v.withinNoise.join(', ') || '–'} | ${behind.join(', ') || '–'} |`);
  }
  lines.push('');
  lines.push(`Accuracy–length frontier (no other method has at least its anytime accuracy with at most its mean length): ${a.frontier.join(', ')}.`, '');
  const asked = a.methods.filter((m) => m.lengthAskedByBudget);
  if (asked.length > 0) {
    lines.push('## L1: thinking length when asked for each budget (tokens, mean over seeds)', '');
    lines.push(`| method | ${a.budgets.join(' | ')} |`, `| --- |${a.budgets.map(() => ' --- |').join('')}`);
    for (const m of asked) lines.push(`| ${m.run} | ${m.lengthAskedByBudget!.map((x) => x.toFixed(1)).join(' | ')} |`);
    lines.push('');
  }
  lines.push('## Plots', '', ...a.files.filter((f) => f.endsWith('.svg')).map((f) => `![${f}](${f})`), '');
  return lines;
}
