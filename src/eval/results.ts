/**
 * The results file (JSON Lines) and what is computed from it.
 *
 * Line 1 is a header naming everything that changes a sample's result (model, data, budgets,
 * sampling, prompt strings, seed). Each further line is one finished sample, appended and
 * flushed as soon as it is graded, so a killed run loses only the samples in flight. A rerun
 * reads the file, checks the header against its own arguments, skips finished samples and
 * drops a half-written last line. Aggregates are recomputed from the records, so the prior
 * (which does not change any sample) can differ between runs on the same file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fail } from '../core/errors.js';
import { makePrior, type PriorKind } from '../core/budget.js';
import { anytimeScore } from '../core/metrics.js';
import { bootstrapMeans, clusteredMean, type Interval } from '../core/stats.js';
import { writeFileAtomic } from '../util/fs.js';
import type { ServerFormat } from './formats.js';

/** 2: records carry the server format, generated tokens and why a sample is unaligned. */
export const RESULTS_VERSION = 2;

/** Arguments that change a sample's result; two runs may share a file only if these match. */
export interface RunIdentity {
  model: string;
  /** Path of the data file as given, and the SHA-256 of its bytes. */
  data: string;
  dataSha256: string;
  maxBudget: number;
  budgets: number[];
  samples: number;
  summaries: number;
  summaryTokens: number;
  temperature: number;
  topP: number | null;
  seed: number | null;
  limit: number | null;
  promptTemplate: string;
  forceCut: string;
  forceAnswer: string;
  thinkEnd: string;
}

export interface RunHeader {
  type: 'header';
  version: number;
  createdAt: string;
  identity: RunIdentity;
}

export interface GradedSummary {
  text: string;
  finishReason: string | null;
  score: 0 | 1;
  /** The grader found an answer (`\boxed{}`) to read. */
  formatted: boolean;
  /** The summary wrote the end-of-thinking again (more than one in all: scores 0, §1). */
  extraThinkEnd: boolean;
  extracted: string | null;
}

export interface SummaryGroupRecord {
  cutLength: number;
  cut: boolean;
  budgetIndices: number[];
  /** Empty when `scoresZero` (no request was sent). */
  summaries: GradedSummary[];
  scoresZero: boolean;
}

/** One sample: a thinking trace of one problem and its graded summaries at every budget. */
export interface SampleRecord {
  type: 'sample';
  /** Index of the problem in the data file. */
  problem: number;
  id: string;
  /** 0-based sample number for this problem. */
  sample: number;
  /** Per-token layout the server answered in. */
  format: ServerFormat;
  /** Tokens the server generated for the thinking (stop and end-of-sequence tokens included). */
  generated: number;
  /** Thinking length (the convention of ./trace.ts: the end-of-thinking or end-of-sequence counts as one token). */
  thinkingLength: number;
  finished: boolean;
  eos: boolean;
  /** Why the response does not determine the cuts exactly; such a sample is not scored. */
  unaligned: string | null;
  /** Mean summary score at each budget (same order as the header's budgets); empty when unaligned. */
  scores: number[];
  groups: SummaryGroupRecord[];
  /** Thinking text, only with --save-thinking. */
  thinking?: string;
}

export const sampleKey = (problem: number, sample: number): string => `${problem}:${sample}`;

/** Lists the identity fields that differ, as `field: old → new`. */
export function identityDiff(previous: RunIdentity, current: RunIdentity): string[] {
  const keys = new Set([...Object.keys(previous), ...Object.keys(current)]) as Set<keyof RunIdentity>;
  const diffs: string[] = [];
  for (const k of keys) {
    const a = JSON.stringify(previous[k]);
    const b = JSON.stringify(current[k]);
    if (a !== b) diffs.push(`${k}: ${a} → ${b}`);
  }
  return diffs;
}

export interface ResultsFile {
  header: RunHeader | null;
  records: SampleRecord[];
  /** A last line that was cut off by a kill (dropped on resume). */
  truncatedTail: boolean;
}

/** Reads a results file; a malformed line other than a cut-off last line is an error. */
export function readResults(path: string): ResultsFile {
  if (!existsSync(path)) return { header: null, records: [], truncatedTail: false };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const endsClean = text.endsWith('\n') || text === '';
  let header: RunHeader | null = null;
  const records: SampleRecord[] = [];
  let truncatedTail = false;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const isLast = i === lines.length - 1;
    let value: { type?: string };
    try {
      value = JSON.parse(line);
    } catch {
      if (isLast && !endsClean) {
        truncatedTail = true;
        return;
      }
      fail(path, `line ${i + 1} is not valid JSON; the results file is damaged (move it away to start over)`);
    }
    if (value.type === 'header') {
      if (i !== 0) fail(path, `line ${i + 1} is a second header; results of different runs were mixed`);
      header = value as RunHeader;
    } else if (value.type === 'sample') {
      if (isLast && !endsClean) truncatedTail = true; // complete JSON but no newline: rewrite it cleanly
      records.push(value as SampleRecord);
    } else {
      fail(path, `line ${i + 1} has unknown type ${JSON.stringify(value.type)}`);
    }
  });
  if (records.length > 0 && !header) fail(path, 'has sample lines but no header line; it was not written by `anytime eval`');
  return { header, records, truncatedTail };
}

/**
 * Opens a results file for a run: checks that it belongs to the same arguments, drops a
 * cut-off last line, and returns the samples already done. Writes the header for a new file.
 */
export function openResults(path: string, identity: RunIdentity): { done: Map<string, SampleRecord> } {
  const file = readResults(path);
  if (file.header) {
    if (file.header.version !== RESULTS_VERSION) fail(path, `was written by results version ${file.header.version}, this is version ${RESULTS_VERSION}`);
    const diffs = identityDiff(file.header.identity, identity);
    if (diffs.length > 0) {
      fail(
        path,
        `holds results of a run with different arguments, refusing to mix them:\n  ${diffs.join('\n  ')}\n` +
          'rerun with the original arguments to resume, or choose another --out',
      );
    }
  }
  const done = new Map<string, SampleRecord>();
  for (const r of file.records) {
    const key = sampleKey(r.problem, r.sample);
    if (done.has(key)) fail(path, `holds sample ${key} twice; the file is damaged`);
    done.set(key, r);
  }
  const header: RunHeader = file.header ?? { type: 'header', version: RESULTS_VERSION, createdAt: new Date().toISOString(), identity };
  if (!file.header || file.truncatedTail) {
    // Rewrite atomically: the header for a new file, or the file without its cut-off tail.
    const lines = [header, ...file.records].map((v) => JSON.stringify(v) + '\n').join('');
    writeFileAtomic(path, lines);
  }
  return { done };
}

/** Unbiased pass@k from `n` samples with `c` correct: `1 − C(n−c, k) / C(n, k)` (Chen et al. 2021, Codex). */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    fail('passAtK', `needs integers 0 ≤ c ≤ n and 1 ≤ k ≤ n, got n=${n}, c=${c}, k=${k}`);
  }
  if (n - c < k) return 1;
  // C(n−c, k) / C(n, k) = Π_{i=n−c+1..n} (1 − k/i), stable for large n.
  let ratio = 1;
  for (let i = n - c + 1; i <= n; i++) ratio *= 1 - k / i;
  return 1 - ratio;
}

/** The k reported for A summaries: 1..A when A ≤ 8, else powers of two and A. */
export function passKs(summaries: number): number[] {
  if (summaries <= 8) return Array.from({ length: summaries }, (_, i) => i + 1);
  const ks: number[] = [];
  for (let k = 1; k < summaries; k *= 2) ks.push(k);
  return [...ks, summaries];
}

/** A mean with its standard error (over questions) and a bootstrap percentile interval. */
export interface Estimate {
  mean: number;
  /** Standard error over questions (samples of one question are correlated: `clusteredMean`). */
  se: number;
  /** 95% percentile bootstrap interval over questions (`bootstrapMeans`). */
  lo: number;
  hi: number;
}

export interface EvalAggregate {
  budgets: number[];
  prior: { kind: PriorKind; probs: number[] };
  /** Samples in the file, and those scored (the others are unaligned). */
  count: number;
  scored: number;
  /** Questions with at least one scored sample. */
  problems: number;
  /** Mean score at each budget (over scored samples). */
  accuracy: number[];
  /** Standard error of the accuracy at each budget, over questions. */
  stderr: number[];
  /** 95% bootstrap interval of the accuracy at each budget. */
  ci: { lo: number; hi: number }[];
  /** Σ_j p_j · accuracy_j, with its interval. */
  anytime: number;
  anytimeCi: { lo: number; hi: number };
  /** Accuracy at the largest budget. */
  final: number;
  /** pass@k at each budget for each reported k (only when summaries > 1). */
  passAtK: { k: number; byBudget: Estimate[] }[];
  /** Mean thinking length (convention of ./trace.ts). */
  meanThinkingLength: number;
  /** Fraction of scored traces that closed their thinking within the cap. */
  finishedFraction: number;
  /** Fraction of requested summaries with a parseable answer (a `\boxed{}`). */
  formattedFraction: number;
  counts: {
    /** Scored traces cut mid-thinking at each budget (longer than it, or never closed). */
    cutAtBudget: number[];
    /** Scored traces that ended on end-of-sequence without closing their thinking. */
    eosEnded: number;
    /** Summaries without an answer to read. */
    unparseableSummaries: number;
    /** Summaries that wrote the end-of-thinking again (scored 0). */
    extraThinkEndSummaries: number;
    /** Samples whose response does not determine the cuts (not scored), and why. */
    unaligned: number;
    unalignedReasons: { reason: string; count: number }[];
  };
}

/** Per-question rows of scored records: `[question][sample]` of `pick(record)`. */
function byQuestion<T>(records: SampleRecord[], pick: (r: SampleRecord) => T): T[][] {
  const groups = new Map<number, T[]>();
  for (const r of records) groups.set(r.problem, [...(groups.get(r.problem) ?? []), pick(r)]);
  return [...groups.keys()].sort((a, b) => a - b).map((q) => groups.get(q)!);
}

/** Per question: mean score at each budget, then the anytime score under `probs` (for the bootstrap). */
export function questionValues(records: SampleRecord[], probs: number[]): { questions: number[]; values: number[][] } {
  const scored = records.filter((r) => r.unaligned === null);
  const ids = [...new Set(scored.map((r) => r.problem))].sort((a, b) => a - b);
  const rows = byQuestion(scored, (r) => r.scores);
  const values = rows.map((samples) => {
    const means = samples[0].map((_, j) => samples.reduce((a, s) => a + s[j], 0) / samples.length);
    return [...means, means.reduce((a, m, j) => a + probs[j] * m, 0)];
  });
  return { questions: ids, values };
}

/** Accuracy per budget with intervals, anytime score, pass@k and counts, from a run's records. */
export function aggregate(records: SampleRecord[], budgets: number[], priorKind: PriorKind, opts: { resamples?: number; seed?: number } = {}): EvalAggregate {
  if (records.length === 0) fail('results', 'no samples to aggregate');
  const scored = records.filter((r) => r.unaligned === null);
  if (scored.length === 0) fail('results', `none of the ${records.length} samples could be aligned exactly (first reason: ${records[0].unaligned}); nothing to score`);
  const prior = makePrior(priorKind, budgets);
  const m = budgets.length;
  const perBudget = budgets.map((_, j) => clusteredMean(byQuestion(scored, (r) => r.scores[j])));
  const accuracy = perBudget.map((e) => e.mean);
  const P = perBudget[0].clusters;
  const se = (x: number) => (Number.isFinite(x) ? x : 0);
  const { values } = questionValues(scored, prior.probs);
  const intervals: Interval[] = bootstrapMeans([values], { resamples: opts.resamples ?? 2000, seed: opts.seed ?? 0 });

  const summariesPer = Math.max(0, ...scored.flatMap((r) => r.groups.map((g) => g.summaries.length)));
  const passAtKRows = summariesPer > 1
    ? passKs(summariesPer).map((k) => {
        // pass@k of one sample at budget j: from the summaries of the prefix that budget uses.
        const perSample = (r: SampleRecord, j: number): number => {
          const g = r.groups.find((x) => x.budgetIndices.includes(j))!;
          if (g.scoresZero) return 0;
          const c = g.summaries.reduce((a, x) => a + x.score, 0);
          return passAtK(g.summaries.length, c, Math.min(k, g.summaries.length));
        };
        const kValues = byQuestion(scored, (r) => budgets.map((_, j) => perSample(r, j)));
        const kIntervals = bootstrapMeans([kValues.map((samples) => budgets.map((_, j) => samples.reduce((a, s) => a + s[j], 0) / samples.length))], {
          resamples: opts.resamples ?? 2000,
          seed: opts.seed ?? 0,
        });
        return {
          k,
          byBudget: budgets.map((_, j) => {
            const e = clusteredMean(kValues.map((samples) => samples.map((s) => s[j])));
            return { mean: e.mean, se: se(e.se), lo: kIntervals[j].lo, hi: kIntervals[j].hi };
          }),
        };
      })
    : [];

  let formatted = 0;
  let summaries = 0;
  let extra = 0;
  for (const r of scored) for (const g of r.groups) for (const x of g.summaries) {
    summaries++;
    if (x.formatted) formatted++;
    if (x.extraThinkEnd) extra++;
  }
  const reasons = new Map<string, number>();
  for (const r of records) if (r.unaligned !== null) reasons.set(r.unaligned, (reasons.get(r.unaligned) ?? 0) + 1);
  return {
    budgets,
    prior: { kind: priorKind, probs: prior.probs },
    count: records.length,
    scored: scored.length,
    problems: P,
    accuracy,
    stderr: perBudget.map((e) => se(e.se)),
    ci: budgets.map((_, j) => ({ lo: intervals[j].lo, hi: intervals[j].hi })),
    anytime: anytimeScore(accuracy, prior),
    anytimeCi: { lo: intervals[m].lo, hi: intervals[m].hi },
    final: accuracy[m - 1],
    passAtK: passAtKRows,
    meanThinkingLength: scored.reduce((a, r) => a + r.thinkingLength, 0) / scored.length,
    finishedFraction: scored.filter((r) => r.finished).length / scored.length,
    formattedFraction: summaries > 0 ? formatted / summaries : 0,
    counts: {
      cutAtBudget: budgets.map((_, j) => scored.filter((r) => r.groups.some((g) => g.budgetIndices.includes(j) && g.cut && !g.scoresZero)).length),
      eosEnded: scored.filter((r) => r.eos).length,
      unparseableSummaries: summaries - formatted,
      extraThinkEndSummaries: extra,
      unaligned: records.length - scored.length,
      unalignedReasons: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
    },
  };
}

/** A fixed-width table of accuracy per budget with intervals and counts, for the terminal. */
export function formatAggregate(agg: EvalAggregate): string {
  const pct = (x: number) => (100 * x).toFixed(1);
  const ks = agg.passAtK.map((p) => p.k).filter((k) => k > 1);
  const header = ['budget', 'accuracy', '±se', '95% CI', 'cut', 'prior', ...ks.map((k) => `pass@${k}`)];
  const rows = agg.budgets.map((b, j) => [
    String(b),
    `${pct(agg.accuracy[j])}%`,
    pct(agg.stderr[j]),
    `${pct(agg.ci[j].lo)}–${pct(agg.ci[j].hi)}`,
    String(agg.counts.cutAtBudget[j]),
    agg.prior.probs[j].toFixed(3),
    ...ks.map((k) => `${pct(agg.passAtK.find((p) => p.k === k)!.byBudget[j].mean)}%`),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((x, c) => x.padStart(widths[c])).join('  ');
  const lines = [line(header), ...rows.map(line)];
  lines.push(
    `anytime accuracy (${agg.prior.kind} prior): ${pct(agg.anytime)}% (95% CI ${pct(agg.anytimeCi.lo)}–${pct(agg.anytimeCi.hi)})`,
    `final accuracy (budget ${agg.budgets[agg.budgets.length - 1]}): ${pct(agg.final)}% ± ${pct(agg.stderr[agg.stderr.length - 1])}`,
    `mean thinking length: ${agg.meanThinkingLength.toFixed(1)} tokens; finished ${pct(agg.finishedFraction)}% of traces; ` +
      `${agg.counts.eosEnded} ended on end-of-sequence; ${agg.counts.unparseableSummaries} summaries without an answer` +
      (agg.counts.extraThinkEndSummaries > 0 ? `, ${agg.counts.extraThinkEndSummaries} with a second end-of-thinking` : ''),
    `samples: ${agg.scored} scored of ${agg.count} (${agg.problems} problems)` +
      (agg.counts.unaligned > 0 ? `; ${agg.counts.unaligned} unaligned, not scored: ${agg.counts.unalignedReasons.map((r) => `${r.count}× ${r.reason}`).join('; ')}` : ''),
  );
  return lines.join('\n');
}
