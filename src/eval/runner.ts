/**
 * Runs an anytime evaluation: for each (problem, sample), one thinking request up to the
 * maximum budget, then the forced summaries at every budget (one request of `A` summaries per
 * distinct prefix), graded against the gold answer. Each finished sample is appended to the
 * results file at once; samples already in it are skipped, so a killed run resumes where it
 * stopped.
 */
import { setMaxListeners } from 'node:events';
import { deriveSeed } from '../core/rng.js';
import { appendJsonLine } from '../util/fs.js';
import { EvalServerError, anySignal, type CompletionRequest } from './client.js';
import type { Completer } from './pool.js';
import type { EvalProblem } from './data.js';
import { planSummaries, renderPrompt, type PromptStrings } from './planner.js';
import { openResults, sampleKey, type GradedSummary, type RunIdentity, type SampleRecord, type SummaryGroupRecord } from './results.js';
import { readThinking } from './trace.js';

/** Grades one summary against the gold answer (the project's verifier: `gradeSummary`). */
export type Grader = (summary: string, gold: string) => { score: 0 | 1; formatted: boolean; extracted: string | null };

export interface EvalSettings {
  model: string;
  maxBudget: number;
  budgets: number[];
  /** Thinking traces per problem. */
  samples: number;
  /** Summaries per prefix (`A`). */
  summaries: number;
  /** Cap on summary tokens. */
  summaryTokens: number;
  temperature: number;
  topP: number | null;
  /** Base seed for per-request seeds; null sends none (the server's own randomness). */
  seed: number | null;
  strings: PromptStrings;
  /** Keep the thinking text in each record (large). */
  saveThinking: boolean;
}

/** The header identity of a run (everything that changes a sample's result). */
export function runIdentity(settings: EvalSettings, data: { path: string; sha256: string }, limit: number | null): RunIdentity {
  return {
    model: settings.model,
    data: data.path,
    dataSha256: data.sha256,
    maxBudget: settings.maxBudget,
    budgets: settings.budgets,
    samples: settings.samples,
    summaries: settings.summaries,
    summaryTokens: settings.summaryTokens,
    temperature: settings.temperature,
    topP: settings.topP,
    seed: settings.seed,
    limit,
    promptTemplate: settings.strings.promptTemplate,
    forceCut: settings.strings.forceCut,
    forceAnswer: settings.strings.forceAnswer,
    thinkEnd: settings.strings.thinkEnd,
  };
}

export interface RunEvalOptions {
  problems: EvalProblem[];
  settings: EvalSettings;
  identity: RunIdentity;
  /** One server (`CompletionsClient`) or several replicas (`ServerPool`). */
  client: Completer;
  grade: Grader;
  /** JSONL results file (created with a header, or resumed). */
  resultsPath: string;
  /** Samples worked on at once (their requests also share the client's limit). */
  concurrency: number;
  signal?: AbortSignal;
  /** Called once the results file is open, before any request: samples to do and skipped. */
  onStart?: (info: { total: number; resumed: number }) => void;
  /** Called after each sample is written, with the counts of this run. */
  onSample?: (record: SampleRecord, progress: { done: number; total: number }) => void;
}

export interface RunEvalResult {
  /** Every sample of the run (resumed and new), ordered by problem then sample. */
  records: SampleRecord[];
  /** Samples found in the results file and skipped. */
  resumed: number;
  /** Samples evaluated now. */
  evaluated: number;
}

/** Evaluates one sample: thinking, summaries per prefix, grades. */
export async function evaluateSample(
  problem: EvalProblem,
  sampleIndex: number,
  opts: Pick<RunEvalOptions, 'settings' | 'client' | 'grade' | 'signal'>,
): Promise<SampleRecord> {
  const { settings: s, client, grade, signal } = opts;
  const prompt = renderPrompt(s.strings.promptTemplate, problem.problem);
  const seedFor = (...labels: (string | number)[]) => (s.seed === null ? {} : { seed: deriveSeed(s.seed, ...labels) });
  const sampling = { model: s.model, temperature: s.temperature, ...(s.topP === null ? {} : { top_p: s.topP }) };

  const thinkingRequest: CompletionRequest = {
    ...sampling,
    prompt,
    max_tokens: s.maxBudget,
    stop: [s.strings.thinkEnd],
    logprobs: 1,
    ...seedFor('thinking', problem.index, sampleIndex),
  };
  const thinking = await client.complete(thinkingRequest, signal);
  const trace = await readThinking(thinking, { thinkEnd: s.strings.thinkEnd, budgets: s.budgets, calls: client.calls, signal });
  if (trace.unaligned === null && trace.generated > s.maxBudget) {
    throw new EvalServerError('protocol', `the server returned ${trace.generated} thinking tokens for max_tokens = ${s.maxBudget}; it does not honour max_tokens`);
  }
  const base = {
    type: 'sample' as const,
    problem: problem.index,
    id: problem.id,
    sample: sampleIndex,
    format: trace.format,
    generated: trace.generated,
    thinkingLength: trace.length,
    finished: trace.finished,
    eos: trace.eos,
    unaligned: trace.unaligned,
    ...(s.saveThinking ? { thinking: trace.text } : {}),
  };
  // A response that does not determine a cut exactly is recorded and reported, not scored.
  if (trace.unaligned !== null) return { ...base, scores: [], groups: [] };

  const { jobs } = planSummaries(prompt, trace, s.budgets, s.strings);
  const groups: SummaryGroupRecord[] = await Promise.all(
    jobs.map(async (job): Promise<SummaryGroupRecord> => {
      const base = { cutLength: job.cutLength, cut: job.cut, budgetIndices: job.budgetIndices };
      if (job.scoresZero) return { ...base, summaries: [], scoresZero: true };
      const res = await client.complete(
        { ...sampling, prompt: job.prompt, max_tokens: s.summaryTokens, n: s.summaries, ...seedFor('summary', problem.index, sampleIndex, job.cutLength) },
        signal,
      );
      const summaries = res.choices.map((c): GradedSummary => {
        const g = grade(c.text, problem.answer);
        // The prompt already closed the thinking; a summary that closes it again has more than
        // one end-of-thinking and scores 0 (§1).
        const extraThinkEnd = c.text.includes(s.strings.thinkEnd);
        return { text: c.text, finishReason: c.finish_reason, score: extraThinkEnd ? 0 : g.score, formatted: g.formatted, extraThinkEnd, extracted: g.extracted };
      });
      return { ...base, summaries, scoresZero: false };
    }),
  );

  const scores = new Array<number>(s.budgets.length).fill(0);
  for (const g of groups) {
    const mean = g.scoresZero ? 0 : g.summaries.reduce((a, x) => a + x.score, 0) / g.summaries.length;
    for (const j of g.budgetIndices) scores[j] = mean;
  }
  return { ...base, scores, groups };
}

/**
 * Evaluates every (problem, sample) not yet in the results file, `concurrency` at a time.
 * The first failure stops the run (samples in flight are abandoned, finished ones are kept)
 * and is rethrown; so is an abort of `signal`.
 */
export async function runEval(opts: RunEvalOptions): Promise<RunEvalResult> {
  const { problems, settings } = opts;
  const { done } = openResults(opts.resultsPath, opts.identity);
  const todo: [EvalProblem, number][] = [];
  let resumed = 0;
  for (const p of problems) {
    for (let k = 0; k < settings.samples; k++) {
      if (done.has(sampleKey(p.index, k))) resumed++;
      else todo.push([p, k]);
    }
  }
  const total = todo.length;
  opts.onStart?.({ total, resumed });
  const stop = new AbortController();
  const combined = opts.signal ? anySignal([opts.signal, stop.signal]) : { signal: stop.signal, dispose: () => {} };
  const signal = combined.signal;
  // Every request in flight listens to this signal (one listener each, removed when it ends).
  setMaxListeners(0, signal);
  let firstError: unknown = null;
  let next = 0;
  let finished = 0;

  const worker = async () => {
    while (next < todo.length && !signal.aborted) {
      const [problem, k] = todo[next++];
      try {
        const record = await evaluateSample(problem, k, { ...opts, signal });
        if (signal.aborted) return; // a result that arrives after an abort is not written
        appendJsonLine(opts.resultsPath, record);
        done.set(sampleKey(problem.index, k), record);
        finished++;
        opts.onSample?.(record, { done: finished, total });
      } catch (e) {
        if (firstError === null) firstError = e;
        stop.abort(e);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, total)) }, worker));
  combined.dispose();
  if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
  if (firstError !== null) throw firstError;

  const records = problems.flatMap((p) => Array.from({ length: settings.samples }, (_, k) => done.get(sampleKey(p.index, k))!));
  return { records, resumed, evaluated: finished };
}
