/**
 * Shared pieces of the serve tests: a quickly warm-started arithmetic checkpoint, a small
 * held-out problem set as JSONL, the eval arguments used against the server, and the same
 * evaluation run in-process (the eval pipeline with a client that calls the engine directly).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { saveCheckpoint } from '../src/model/checkpoint.js';
import { warmStart } from '../src/model/warmstart.js';
import { getTask, heldOutSet } from '../src/tasks/index.js';
import { DEFAULT_FORCE_ANSWER, DEFAULT_FORCE_CUT, DEFAULT_PROMPT_TEMPLATE, DEFAULT_THINK_END } from '../src/eval/planner.js';
import { runEval, runIdentity, type EvalSettings } from '../src/eval/runner.js';
import { loadProblems } from '../src/eval/data.js';
import type { SampleRecord } from '../src/eval/results.js';
import { gradeSummary } from '../src/verify/index.js';
import { InProcessClient } from '../src/serve/client.js';
import type { CompletionEngine } from '../src/serve/engine.js';

export const task = getTask('arithmetic');

/**
 * Warm-starts a small arithmetic policy (30 steps of 8 traces at a high learning rate: about
 * 7 s here) and saves it with `meta.task`. It is weak but not trivial: it closes some traces,
 * gets cut at others, and answers some problems right, so every path of the eval is used.
 */
export async function makeCheckpoint(dir: string, name = 'arith-tiny'): Promise<string> {
  const { policy } = await warmStart(task, { steps: 30, batchSize: 8, lr: 0.02 });
  const path = join(dir, `${name}.ckpt`);
  await saveCheckpoint(path, policy, { meta: { kind: 'warm-start', task: task.name } });
  policy.dispose();
  return path;
}

/** Writes `n` held-out problems as JSONL (problem = decoded prompt, answer = gold). */
export function writeProblems(dir: string, n: number): string {
  const path = join(dir, 'problems.jsonl');
  const lines = heldOutSet(task, n, 3).map((p) => JSON.stringify({ id: p.id, problem: task.decode(p.prompt), answer: p.answer }));
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

export const BUDGETS = [24, 48, 72, 96];
/** The eval's arguments for the tiny policy (default prompt strings: the server's paper text map reads them). */
export function evalArgs(opts: { baseUrl: string; model: string; data: string; out: string; extra?: string[] }): string[] {
  return [
    '--base-url', opts.baseUrl, '--model', opts.model, '--data', opts.data, '--out', opts.out,
    '--max-budget', '96', '--budgets', BUDGETS.join(','), '--summary-tokens', '3',
    '--samples', '2', '--summaries', '2', '--temperature', '0.6', '--seed', '0',
    ...(opts.extra ?? []),
  ];
}

/** The settings `anytime eval` builds from `evalArgs`. */
export function evalSettings(model: string): EvalSettings {
  return {
    model,
    maxBudget: 96,
    budgets: BUDGETS,
    samples: 2,
    summaries: 2,
    summaryTokens: 3,
    temperature: 0.6,
    topP: null,
    seed: 0,
    strings: { promptTemplate: DEFAULT_PROMPT_TEMPLATE, forceCut: DEFAULT_FORCE_CUT, forceAnswer: DEFAULT_FORCE_ANSWER, thinkEnd: DEFAULT_THINK_END },
    saveThinking: false,
  };
}

/** The same evaluation without HTTP: each request answered by `engine.complete` alone. */
export async function inProcessEval(engine: CompletionEngine, dataPath: string, resultsPath: string): Promise<SampleRecord[]> {
  const settings = evalSettings(engine.options.modelId);
  const sha256 = createHash('sha256').update(readFileSync(dataPath)).digest('hex');
  const { records } = await runEval({
    problems: loadProblems(dataPath),
    settings,
    identity: runIdentity(settings, { path: dataPath, sha256 }, null),
    client: new InProcessClient(engine),
    grade: gradeSummary,
    resultsPath,
    concurrency: 1,
  });
  return records;
}

/** What must agree between two evaluations of the same samples: every trace and graded summary. */
export function comparable(records: SampleRecord[]): unknown[] {
  return [...records]
    .sort((a, b) => a.problem - b.problem || a.sample - b.sample)
    .map((r) => ({
      key: `${r.problem}:${r.sample}`,
      length: r.thinkingLength,
      finished: r.finished,
      eos: r.eos,
      scores: r.scores,
      groups: r.groups.map((g) => ({ cutLength: g.cutLength, cut: g.cut, zero: g.scoresZero, summaries: g.summaries.map((s) => [s.text, s.finishReason, s.score]) })),
    }));
}
