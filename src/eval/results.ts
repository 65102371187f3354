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
import { accuracyByBudget, anytimeScore } from '../core/metrics.js';
import { writeFileAtomic } from '../util/fs.js';

export const RESULTS_VERSION = 1;

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
  formatted: boolean;
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
  thinkingLength: number;
  finished: boolean;
  eos: boolean;
  thinkEndAdded: boolean;
  alignmentFallback: boolean;
  /** Mean summary score at each budget (same order as the header's budgets). */
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

export interface EvalAggregate {
  budgets: number[];
  prior: { kind: PriorKind; probs: number[] };
  /** Samples aggregated (problems × samples). */
  count: number;
  problems: number;
  /** Mean score at each budget. */
  accuracy: number[];
  /** Standard error of the accuracy at each budget, over problems (samples averaged per problem). */
  stderr: number[];
  /** Σ_j p_j · accuracy_j. */
  anytime: number;
  /** Accuracy at the largest budget. */
  final: number;
  /** Mean thinking tokens at the cap (end-of-thinking included). */
  meanThinkingLength: number;
  /** Fraction of traces that closed their thinking within the cap. */
  finishedFraction: number;
  /** Fraction of summaries with a parseable answer (a `\boxed{}`) among those requested. */
  formattedFraction: number;
}

/** Accuracy per budget, anytime score under `prior`, final accuracy and mean thinking length. */
export function aggregate(records: SampleRecord[], budgets: number[], priorKind: PriorKind): EvalAggregate {
  if (records.length === 0) fail('results', 'no samples to aggregate');
  const prior = makePrior(priorKind, budgets);
  const accuracy = accuracyByBudget(records.map((r) => r.scores));
  // Standard error over problems: samples of one problem are averaged first (they are not independent draws of the benchmark).
  const perProblem = new Map<number, number[][]>();
  for (const r of records) perProblem.set(r.problem, [...(perProblem.get(r.problem) ?? []), r.scores]);
  const problemMeans = [...perProblem.values()].map((rows) => accuracyByBudget(rows));
  const P = problemMeans.length;
  const stderr = budgets.map((_, j) => {
    if (P < 2) return 0;
    const mean = problemMeans.reduce((a, m) => a + m[j], 0) / P;
    const variance = problemMeans.reduce((a, m) => a + (m[j] - mean) ** 2, 0) / (P - 1);
    return Math.sqrt(variance / P);
  });
  let formatted = 0;
  let summaries = 0;
  for (const r of records) for (const g of r.groups) for (const s of g.summaries) {
    summaries++;
    if (s.formatted) formatted++;
  }
  return {
    budgets,
    prior: { kind: priorKind, probs: prior.probs },
    count: records.length,
    problems: P,
    accuracy,
    stderr,
    anytime: anytimeScore(accuracy, prior),
    final: accuracy[accuracy.length - 1],
    meanThinkingLength: records.reduce((a, r) => a + r.thinkingLength, 0) / records.length,
    finishedFraction: records.filter((r) => r.finished).length / records.length,
    formattedFraction: summaries > 0 ? formatted / summaries : 0,
  };
}

/** A fixed-width table of accuracy per budget, for the terminal. */
export function formatAggregate(agg: EvalAggregate): string {
  const pct = (x: number) => (100 * x).toFixed(1).padStart(5);
  const lines = ['budget  accuracy  ±stderr  prior'];
  agg.budgets.forEach((b, j) => lines.push(`${String(b).padStart(6)}  ${pct(agg.accuracy[j])}%   ${pct(agg.stderr[j])}%  ${agg.prior.probs[j].toFixed(3)}`));
  lines.push(
    `anytime accuracy (${agg.prior.kind} prior): ${pct(agg.anytime).trim()}%`,
    `final accuracy (budget ${agg.budgets[agg.budgets.length - 1]}): ${pct(agg.final).trim()}%`,
    `mean thinking length: ${agg.meanThinkingLength.toFixed(1)} tokens; finished ${pct(agg.finishedFraction).trim()}% of traces; ` +
      `${pct(agg.formattedFraction).trim()}% of summaries had an answer`,
    `samples: ${agg.count} (${agg.problems} problems)`,
  );
  return lines.join('\n');
}
