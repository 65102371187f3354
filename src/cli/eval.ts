/**
 * `npx anytime eval`: anytime evaluation of a reasoning model behind an OpenAI-compatible
 * server (vLLM, SGLang, llama.cpp). Every argument is checked, and the data file read, before
 * the first request; results are appended per sample so a rerun resumes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AnytimeInputError, checkOneOf, fail } from '../core/errors.js';
import { PRIOR_KINDS, type PriorKind } from '../core/budget.js';
import { CompletionsClient, EvalServerError } from '../eval/client.js';
import { loadProblems } from '../eval/data.js';
import {
  DEFAULT_FORCE_ANSWER,
  DEFAULT_FORCE_CUT,
  DEFAULT_PROMPT_TEMPLATE,
  DEFAULT_SUMMARY_TOKENS,
  DEFAULT_THINK_END,
  renderPrompt,
  resolveBudgets,
} from '../eval/planner.js';
import { accuracyPlotSvg } from '../eval/plot.js';
import { aggregate, formatAggregate } from '../eval/results.js';
import { runEval, runIdentity, type EvalSettings, type Grader } from '../eval/runner.js';
import { ProgressBar } from '../util/progress.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { gradeSummary } from '../verify/index.js';

export const summary = 'anytime evaluation of a model on an OpenAI-compatible server (vLLM, SGLang, llama.cpp)';

const USAGE = `usage: anytime eval --base-url URL --model NAME --data FILE --out FILE [options]

Generates one thinking trace per sample up to --max-budget tokens (POST /v1/completions with
logprobs, so cuts are exact token counts), forces a summary at each budget (the trace cut at b
tokens + "${esc(DEFAULT_FORCE_CUT)}" + "${esc(DEFAULT_FORCE_ANSWER)}", or only the answer header when the trace
finished before b; budgets past a finished trace's end share one request), grades the
\\boxed{} answers, and reports accuracy per budget, the anytime score, final accuracy and mean
thinking length. A finished trace's length counts its end-of-thinking as one token.

required:
  --base-url URL         server root or its /v1 URL, e.g. http://127.0.0.1:8000
  --model NAME           model name as the server knows it
  --data FILE            JSON array or JSONL of {"problem": ..., "answer": ...} (optional "id")
  --out FILE             summary JSON; FILE.samples.jsonl (per-sample results, resumable)
                         and FILE.svg (accuracy vs budget) are written next to it

budgets:
  --max-budget N         thinking cap in tokens (default 8000)
  --budgets LIST         comma-separated budgets, e.g. 2000,4000,6000,8000 (each ≤ N)
  --budget-count K       K evenly spaced budgets N/K, 2N/K, ..., N (default 32, the paper's)
  --prior KIND           weights of the anytime score: ${PRIOR_KINDS.join(', ')} (default uniform)

sampling:
  --samples k            thinking traces per problem (default 1)
  --summaries A          summaries per budget (default 1)
  --summary-tokens N     summary cap (default ${DEFAULT_SUMMARY_TOKENS})
  --temperature T        (default 0.6)     --top-p P (default: server's)
  --seed S               base of per-request seeds (default 0; "none" sends no seed)
  --limit N              first N problems only

prompt (\\n, \\t and \\\\ are unescaped; @FILE reads the text from a file):
  --prompt-template T    with {problem}; default: DeepSeek-R1 chat format, thinking opened
  --force-cut S          after a cut trace (default "${esc(DEFAULT_FORCE_CUT)}")
  --force-answer S       answer header (default "${esc(DEFAULT_FORCE_ANSWER)}")
  --think-end S          end-of-thinking string the thinking stops on (default "${DEFAULT_THINK_END}")

server:
  --concurrency C        requests in flight (default 8)
  --timeout-ms MS        per request attempt (default 600000)
  --retries R            retries on 429, 5xx, timeouts (default 5; backoff doubles from --retry-base-ms, default 1000)
  --save-thinking        keep the thinking text in the samples file

exit codes: 0 done, 2 bad arguments or data, 3 server error, 130 interrupted (rerun to resume)`;

function esc(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/** Undoes `esc` for text typed on a command line; `@path` reads the text from a file. */
function textArg(name: string, value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (value.startsWith('@')) {
    try {
      return readFileSync(value.slice(1), 'utf8');
    } catch (e) {
      fail(name, `cannot read '${value.slice(1)}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  return value.replace(/\\(\\|n|t)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
}

function numberArg(name: string, value: string | undefined, fallback: number, kind: 'int' | 'positive-int' | 'nonneg-int' | 'number'): number {
  if (value === undefined) return fallback;
  const trimmed = value.trim();
  const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isFinite(n)) fail(name, `must be a number, got '${value}'`);
  if (kind !== 'number' && !Number.isInteger(n)) fail(name, `must be a whole number, got '${value}'`);
  if (kind === 'positive-int' && n <= 0) fail(name, `must be ≥ 1, got ${n}`);
  if (kind === 'nonneg-int' && n < 0) fail(name, `must be ≥ 0, got ${n}`);
  return n;
}

function listArg(name: string, value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  return parts.map((p, j) => {
    if (p === '' || !/^\d+$/.test(p)) fail(name, `entry ${j + 1} '${p}' is not a whole number of tokens (expected e.g. 2000,4000,6000,8000)`);
    return Number(p);
  });
}

const OPTIONS = {
  'base-url': { type: 'string' },
  model: { type: 'string' },
  data: { type: 'string' },
  out: { type: 'string' },
  'max-budget': { type: 'string' },
  budgets: { type: 'string' },
  'budget-count': { type: 'string' },
  prior: { type: 'string' },
  samples: { type: 'string' },
  summaries: { type: 'string' },
  'summary-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  limit: { type: 'string' },
  'prompt-template': { type: 'string' },
  'force-cut': { type: 'string' },
  'force-answer': { type: 'string' },
  'think-end': { type: 'string' },
  concurrency: { type: 'string' },
  'timeout-ms': { type: 'string' },
  retries: { type: 'string' },
  'retry-base-ms': { type: 'string' },
  'save-thinking': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Everything `run` needs, checked; built before any request is sent. */
export interface EvalCommand {
  baseUrl: string;
  dataPath: string;
  out: string;
  resultsPath: string;
  plotPath: string;
  prior: PriorKind;
  limit: number | null;
  concurrency: number;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  settings: EvalSettings;
}

/** Parses and checks the command line (throws AnytimeInputError naming the option). */
export function parseEvalArgs(argv: string[]): EvalCommand | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new AnytimeInputError('arguments', `${(e as Error).message}; see anytime eval --help`);
  }
  if (values.help) return 'help';
  const str = (k: keyof typeof OPTIONS) => values[k] as string | undefined;
  for (const k of ['base-url', 'model', 'data', 'out'] as const) if (!str(k)) fail(`--${k}`, 'is required; see anytime eval --help');
  const baseUrl = str('base-url')!;
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) fail('--base-url', `must be an http(s) URL such as http://127.0.0.1:8000, got '${baseUrl}'`);

  const maxBudget = numberArg('--max-budget', str('max-budget'), 8000, 'positive-int');
  const budgetList = str('budgets') === undefined ? undefined : listArg('--budgets', str('budgets')!);
  const budgetCount = str('budget-count') === undefined ? undefined : numberArg('--budget-count', str('budget-count'), 0, 'positive-int');
  const budgets = resolveBudgets(maxBudget, { budgets: budgetList, count: budgetCount });
  const prior = (str('prior') ?? 'uniform') as PriorKind;
  checkOneOf('--prior', prior, PRIOR_KINDS);

  const temperature = numberArg('--temperature', str('temperature'), 0.6, 'number');
  if (temperature < 0) fail('--temperature', `must be ≥ 0, got ${temperature}`);
  const topP = str('top-p') === undefined ? null : numberArg('--top-p', str('top-p'), 1, 'number');
  if (topP !== null && !(topP > 0 && topP <= 1)) fail('--top-p', `must be in (0, 1], got ${topP}`);
  const seed = str('seed') === 'none' ? null : numberArg('--seed', str('seed'), 0, 'nonneg-int');
  const limitArg = str('limit') === undefined ? null : numberArg('--limit', str('limit'), 0, 'positive-int');

  const strings = {
    promptTemplate: textArg('--prompt-template', str('prompt-template'), DEFAULT_PROMPT_TEMPLATE),
    forceCut: textArg('--force-cut', str('force-cut'), DEFAULT_FORCE_CUT),
    forceAnswer: textArg('--force-answer', str('force-answer'), DEFAULT_FORCE_ANSWER),
    thinkEnd: textArg('--think-end', str('think-end'), DEFAULT_THINK_END),
  };
  renderPrompt(strings.promptTemplate, ''); // checks the {problem} placeholder
  if (strings.thinkEnd === '') fail('--think-end', 'must not be empty');

  const out = str('out')!;
  const stem = out.endsWith('.json') ? out.slice(0, -'.json'.length) : out;
  return {
    baseUrl,
    dataPath: str('data')!,
    out: out.endsWith('.json') ? out : `${out}.json`,
    resultsPath: `${stem}.samples.jsonl`,
    plotPath: `${stem}.svg`,
    prior,
    limit: limitArg,
    concurrency: numberArg('--concurrency', str('concurrency'), 8, 'positive-int'),
    timeoutMs: numberArg('--timeout-ms', str('timeout-ms'), 600_000, 'positive-int'),
    retries: numberArg('--retries', str('retries'), 5, 'nonneg-int'),
    backoffMs: numberArg('--retry-base-ms', str('retry-base-ms'), 1000, 'nonneg-int'),
    settings: {
      model: str('model')!,
      maxBudget,
      budgets,
      samples: numberArg('--samples', str('samples'), 1, 'positive-int'),
      summaries: numberArg('--summaries', str('summaries'), 1, 'positive-int'),
      summaryTokens: numberArg('--summary-tokens', str('summary-tokens'), DEFAULT_SUMMARY_TOKENS, 'positive-int'),
      temperature,
      topP,
      seed,
      strings,
      saveThinking: values['save-thinking'] === true,
    },
  };
}

/** Options for tests: a different grader, an abort signal, where to print. */
export interface EvalRunHooks {
  grade?: Grader;
  signal?: AbortSignal;
  log?: (line: string) => void;
  progressStream?: NodeJS.WritableStream;
}

/** Runs the command; returns the exit code. */
export async function runEvalCommand(argv: string[], hooks: EvalRunHooks = {}): Promise<number> {
  const log = hooks.log ?? ((line: string) => console.log(line));
  const warn = hooks.log ?? ((line: string) => console.error(line));
  let cmd: EvalCommand | 'help';
  let problems;
  let dataSha256: string;
  try {
    cmd = parseEvalArgs(argv);
    if (cmd === 'help') {
      log(USAGE);
      return 0;
    }
    problems = loadProblems(cmd.dataPath);
    if (cmd.limit !== null) problems = problems.slice(0, cmd.limit);
    dataSha256 = createHash('sha256').update(readFileSync(cmd.dataPath)).digest('hex');
  } catch (e) {
    if (e instanceof AnytimeInputError) {
      warn(`anytime eval: ${e.message}`);
      return 2;
    }
    throw e;
  }

  const { settings } = cmd;
  const identity = runIdentity(settings, { path: cmd.dataPath, sha256: dataSha256 }, cmd.limit);
  const client = new CompletionsClient({
    baseUrl: cmd.baseUrl,
    timeoutMs: cmd.timeoutMs,
    retries: cmd.retries,
    backoffMs: cmd.backoffMs,
    concurrency: cmd.concurrency,
    onRetry: ({ attempt, delayMs, reason }) => warn(`retry ${attempt}/${cmd.retries} in ${delayMs} ms: ${reason}`),
  });
  let bar: ProgressBar | null = null;
  let correctAtMax = 0;
  try {
    const models = await client.listModels(hooks.signal);
    if (models.length > 0 && !models.includes(settings.model)) warn(`warning: the server lists models ${JSON.stringify(models)}, not '${settings.model}'`);
    const result = await runEval({
      problems,
      settings,
      identity,
      client,
      grade: hooks.grade ?? gradeSummary,
      resultsPath: cmd.resultsPath,
      concurrency: cmd.concurrency,
      signal: hooks.signal,
      onStart: ({ total, resumed }) => {
        if (resumed > 0) warn(`resuming: ${resumed} samples already in ${cmd.resultsPath}, ${total} to go`);
        bar = new ProgressBar({ label: 'eval', total, unit: 'sample', stream: hooks.progressStream });
      },
      onSample: (record, { done }) => {
        correctAtMax += record.scores[record.scores.length - 1];
        bar!.update(done, `acc@${settings.maxBudget}=${(correctAtMax / done).toFixed(3)} len=${record.thinkingLength}`);
      },
    });
    const agg = aggregate(result.records, settings.budgets, cmd.prior);
    const fallbacks = result.records.filter((r) => r.alignmentFallback).length;
    if (fallbacks > 0) warn(`warning: ${fallbacks} traces had token strings that do not spell the returned text; their prefixes join the token strings`);
    writeJsonAtomic(cmd.out, {
      identity,
      ...agg,
      requests: { attempts: client.stats.attempts, retries: client.stats.retries },
      samplesFile: cmd.resultsPath,
      plot: cmd.plotPath,
    });
    writeFileAtomic(cmd.plotPath, await accuracyPlotSvg([{ name: settings.model, aggregate: agg }], `Accuracy vs thinking budget (${problems.length} problems)`));
    log(formatAggregate(agg));
    log(`wrote ${cmd.out}, ${cmd.resultsPath}, ${cmd.plotPath}`);
    return 0;
  } catch (e) {
    if (hooks.signal?.aborted && e === hooks.signal.reason) {
      warn(`\ninterrupted; finished samples are saved in ${cmd.resultsPath}; rerun the same command to resume`);
      return 130;
    }
    if (e instanceof EvalServerError) {
      warn(`\nanytime eval: server error (${e.kind}): ${e.message}\nfinished samples are saved in ${cmd.resultsPath}; rerun to resume`);
      return 3;
    }
    if (e instanceof AnytimeInputError) {
      warn(`anytime eval: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

/** CLI entry: Ctrl-C stops the run cleanly (samples written so far are kept). */
export async function run(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    return await runEvalCommand(argv, { signal: controller.signal });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
