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
import { EvalServerError } from '../eval/client.js';
import { compareRuns, comparisonPlotSvg, formatComparison, loadRun } from '../eval/compare.js';
import { loadProblems } from '../eval/data.js';
import { DEFAULT_FORCE_ANSWER, DEFAULT_FORCE_CUT, DEFAULT_SUMMARY_TOKENS, DEFAULT_THINK_END, renderPrompt, resolveBudgets } from '../eval/planner.js';
import { accuracyPlotSvg } from '../eval/plot.js';
import { ServerPool } from '../eval/pool.js';
import { FORCING_PRESETS, QWEN3_EARLY_EXIT, forcingStrings, type ForcingPreset } from '../eval/presets.js';
import { aggregate, formatAggregate } from '../eval/results.js';
import { runEval, runIdentity, type EvalSettings, type Grader } from '../eval/runner.js';
import { ProgressBar } from '../util/progress.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { gradeSummary } from '../verify/index.js';

export const summary = 'anytime evaluation of a model on an OpenAI-compatible server (vLLM, SGLang, llama.cpp)';

const USAGE = `usage: anytime eval --base-url URL [--base-url URL …] --model NAME --data FILE --out FILE [options]
       anytime eval --compare A.json B.json [--out FILE] [--prior KIND]

Generates one thinking trace per sample up to --max-budget tokens (POST /v1/completions with
logprobs, so cuts are exact token counts), forces a summary at each budget (the trace cut at b
tokens + the forcing preset's cut suffix + its answer header, or only the answer header when the
trace finished before b; budgets past a finished trace's end share one request), grades the
\\boxed{} answers, and reports accuracy per budget with its standard error and 95% bootstrap
interval, the anytime score, final accuracy, pass@k (with --summaries > 1), thinking length, and
counts of cut traces, traces ended by end-of-sequence, unparseable summaries and unaligned samples.

Thinking length (the same budgets on vLLM and llama.cpp for the same tokenizer): generated
tokens, where the end-of-thinking counts as one token however many tokens spell it, and a trace
that ends on end-of-sequence without closing its thinking counts that token (its cuts at
budgets ≥ its length end in end-of-sequence and score 0). A cut keeps the characters its tokens
complete. A response that does not determine a cut exactly is marked unaligned, reported, and
not scored.

required:
  --base-url URL         server root or its /v1 URL, e.g. http://127.0.0.1:8000; give it once per
                         replica of the model to spread the work (a dead replica's requests go
                         to the others; results do not depend on which replica answers)
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
  --summaries A          summaries per budget (default 1; > 1 also reports pass@k)
  --summary-tokens N     summary cap (default ${DEFAULT_SUMMARY_TOKENS})
  --temperature T        (default 0.6)     --top-p P (default: server's)
  --seed S               base of per-request seeds (default 0; "none" sends no seed)
  --limit N              first N problems only

forcing (\\n, \\t and \\\\ are unescaped; @FILE reads the text from a file):
  --forcing PRESET       ${FORCING_PRESETS.join(' | ')} (default r1):
                           r1     DeepSeek-R1 prompt, cut suffix "${esc(DEFAULT_FORCE_CUT)}", answer header "${esc(DEFAULT_FORCE_ANSWER)}" (the paper's)
                           qwen3  Qwen3 ChatML prompt, cut suffix "\\n\\n${QWEN3_EARLY_EXIT}\\n</think>", answer header "\\n\\n"
                           custom r1's prompt and header with your --force-cut
  --prompt-template T    with {problem}; overrides the preset's prompt
  --force-cut S          after a cut trace; overrides the preset's
  --force-answer S       answer header; overrides the preset's
  --think-end S          end-of-thinking string the thinking stops on (default "${DEFAULT_THINK_END}")

server:
  --concurrency C        requests in flight per server (default 8)
  --timeout-ms MS        per request attempt (default 600000)
  --retries R            retries on 429, 5xx, timeouts, dead servers (default 5; backoff doubles from --retry-base-ms, default 1000)
  --save-thinking        keep the thinking text in the samples file
  --resamples N          bootstrap resamples for the intervals (default 2000)

compare:
  --compare A.json B.json  paired per-budget difference A − B of two runs (summary JSONs or their
                           .samples.jsonl) with 95% intervals (paired bootstrap over the shared
                           questions); refuses runs with different questions or budgets. Writes
                           --out (default A-vs-B.json next to A) and its .svg

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
  'base-url': { type: 'string', multiple: true },
  forcing: { type: 'string' },
  compare: { type: 'boolean' },
  resamples: { type: 'string' },
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
  baseUrls: string[];
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
  resamples: number;
  settings: EvalSettings;
}

/** `--compare A B`: the two runs, where to write, the prior of the anytime difference. */
export interface CompareCommand {
  compare: [string, string];
  out: string;
  prior: PriorKind;
  resamples: number;
}

/** Parses and checks the command line (throws AnytimeInputError naming the option). */
export function parseEvalArgs(argv: string[]): EvalCommand | CompareCommand | 'help' {
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true }));
  } catch (e) {
    throw new AnytimeInputError('arguments', `${(e as Error).message}; see anytime eval --help`);
  }
  if (values.help) return 'help';
  const str = (k: keyof typeof OPTIONS) => values[k] as string | undefined;
  const prior = (str('prior') ?? 'uniform') as PriorKind;
  checkOneOf('--prior', prior, PRIOR_KINDS);
  const resamples = numberArg('--resamples', str('resamples'), 2000, 'positive-int');
  if (resamples < 10) fail('--resamples', `must be ≥ 10, got ${resamples}`);

  if (values.compare) {
    if (positionals.length !== 2) fail('--compare', `takes two result files (A.json B.json), got ${positionals.length}: ${JSON.stringify(positionals)}`);
    const [a, b] = positionals;
    const stemOf = (p: string) => p.replace(/\.samples\.jsonl$|\.json$/, '');
    const out = str('out') ?? `${stemOf(a)}-vs-${stemOf(b).split('/').pop()}.json`;
    return { compare: [a, b], out: out.endsWith('.json') ? out : `${out}.json`, prior, resamples };
  }
  if (positionals.length > 0) fail('arguments', `unexpected argument '${positionals[0]}'; see anytime eval --help`);
  const baseUrls = (values['base-url'] as string[] | undefined) ?? [];
  for (const k of ['model', 'data', 'out'] as const) if (!str(k)) fail(`--${k}`, 'is required; see anytime eval --help');
  if (baseUrls.length === 0) fail('--base-url', 'is required; see anytime eval --help');
  for (const url of baseUrls) if (!/^https?:\/\/[^/]+/.test(url)) fail('--base-url', `must be an http(s) URL such as http://127.0.0.1:8000, got '${url}'`);
  const duplicate = baseUrls.find((u, i) => baseUrls.indexOf(u) !== i);
  if (duplicate) fail('--base-url', `'${duplicate}' is given twice; give each replica once (use --concurrency for more requests per server)`);

  const maxBudget = numberArg('--max-budget', str('max-budget'), 8000, 'positive-int');
  const budgetList = str('budgets') === undefined ? undefined : listArg('--budgets', str('budgets')!);
  const budgetCount = str('budget-count') === undefined ? undefined : numberArg('--budget-count', str('budget-count'), 0, 'positive-int');
  const budgets = resolveBudgets(maxBudget, { budgets: budgetList, count: budgetCount });

  const temperature = numberArg('--temperature', str('temperature'), 0.6, 'number');
  if (temperature < 0) fail('--temperature', `must be ≥ 0, got ${temperature}`);
  const topP = str('top-p') === undefined ? null : numberArg('--top-p', str('top-p'), 1, 'number');
  if (topP !== null && !(topP > 0 && topP <= 1)) fail('--top-p', `must be in (0, 1], got ${topP}`);
  const seed = str('seed') === 'none' ? null : numberArg('--seed', str('seed'), 0, 'nonneg-int');
  const limitArg = str('limit') === undefined ? null : numberArg('--limit', str('limit'), 0, 'positive-int');

  const preset = (str('forcing') ?? 'r1') as ForcingPreset;
  checkOneOf('--forcing', preset, FORCING_PRESETS);
  const given = (name: keyof typeof OPTIONS, flag: string) => (str(name) === undefined ? undefined : textArg(flag, str(name), ''));
  const strings = forcingStrings(preset, {
    promptTemplate: given('prompt-template', '--prompt-template'),
    forceCut: given('force-cut', '--force-cut'),
    forceAnswer: given('force-answer', '--force-answer'),
    thinkEnd: given('think-end', '--think-end'),
  });
  renderPrompt(strings.promptTemplate, ''); // checks the {problem} placeholder
  if (strings.thinkEnd === '') fail('--think-end', 'must not be empty');

  const out = str('out')!;
  const stem = out.endsWith('.json') ? out.slice(0, -'.json'.length) : out;
  return {
    baseUrls,
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
    resamples,
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

/** `--compare`: prints and plots A − B; returns the exit code. */
async function runCompare(cmd: CompareCommand, log: (line: string) => void): Promise<number> {
  const a = loadRun(cmd.compare[0], '--compare A');
  const b = loadRun(cmd.compare[1], '--compare B');
  const c = compareRuns(a, b, { prior: cmd.prior, resamples: cmd.resamples });
  const plot = cmd.out.replace(/\.json$/, '.svg');
  writeJsonAtomic(cmd.out, { ...c, files: { a: a.path, b: b.path }, plot });
  writeFileAtomic(plot, await comparisonPlotSvg(c));
  log(formatComparison(c));
  log(`wrote ${cmd.out}, ${plot}`);
  return 0;
}

/** Runs the command; returns the exit code. */
export async function runEvalCommand(argv: string[], hooks: EvalRunHooks = {}): Promise<number> {
  const log = hooks.log ?? ((line: string) => console.log(line));
  const warn = hooks.log ?? ((line: string) => console.error(line));
  let cmd: EvalCommand | CompareCommand | 'help';
  let problems;
  let dataSha256: string;
  try {
    cmd = parseEvalArgs(argv);
    if (cmd === 'help') {
      log(USAGE);
      return 0;
    }
    if ('compare' in cmd) return await runCompare(cmd, log);
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

  const run: EvalCommand = cmd; // narrowed above; closures below do not keep the narrowing of a `let`
  const { settings } = run;
  const identity = runIdentity(settings, { path: run.dataPath, sha256: dataSha256 }, run.limit);
  const pool = new ServerPool({
    baseUrls: run.baseUrls,
    timeoutMs: run.timeoutMs,
    retries: run.retries,
    backoffMs: run.backoffMs,
    concurrency: run.concurrency,
    onRetry: ({ attempt, delayMs, reason }) => warn(`retry ${attempt}/${run.retries} in ${delayMs} ms: ${reason}`),
    onServerDown: ({ server, restMs }) => warn(`server ${server} is not answering; its requests go to the other servers (retried in ${restMs} ms)`),
  });
  pool.model = settings.model;
  let bar: ProgressBar | null = null;
  let correctAtMax = 0;
  let scored = 0;
  try {
    const { models, down } = await pool.listModels(hooks.signal);
    for (const d of down) warn(`warning: ${d.reason}; going on with the other servers`);
    if (models.length > 0 && !models.includes(settings.model)) warn(`warning: the servers list models ${JSON.stringify(models)}, not '${settings.model}'`);
    const result = await runEval({
      problems,
      settings,
      identity,
      client: pool,
      grade: hooks.grade ?? gradeSummary,
      resultsPath: run.resultsPath,
      concurrency: run.concurrency * run.baseUrls.length,
      signal: hooks.signal,
      onStart: ({ total, resumed }) => {
        if (resumed > 0) warn(`resuming: ${resumed} samples already in ${run.resultsPath}, ${total} to go`);
        bar = new ProgressBar({ label: 'eval', total, unit: 'sample', stream: hooks.progressStream });
      },
      onSample: (record, { done }) => {
        if (record.unaligned === null) {
          scored++;
          correctAtMax += record.scores[record.scores.length - 1];
        }
        bar!.update(done, `acc@${settings.maxBudget}=${scored > 0 ? (correctAtMax / scored).toFixed(3) : '-'} len=${record.thinkingLength}`);
      },
    });
    const agg = aggregate(result.records, settings.budgets, run.prior, { resamples: run.resamples });
    if (agg.counts.unaligned > 0) {
      warn(`warning: ${agg.counts.unaligned} of ${agg.count} samples could not be cut exactly and are not scored (see "unaligned" in ${run.resultsPath})`);
    }
    writeJsonAtomic(run.out, {
      identity,
      ...agg,
      requests: { attempts: pool.stats.attempts, retries: pool.stats.retries },
      servers: pool.roots,
      samplesFile: run.resultsPath,
      plot: run.plotPath,
    });
    writeFileAtomic(run.plotPath, await accuracyPlotSvg([{ name: settings.model, aggregate: agg }], `Accuracy vs thinking budget (${agg.problems} problems)`));
    log(formatAggregate(agg));
    log(`wrote ${run.out}, ${run.resultsPath}, ${run.plotPath}`);
    return 0;
  } catch (e) {
    if (hooks.signal?.aborted && e === hooks.signal.reason) {
      warn(`\ninterrupted; finished samples are saved in ${run.resultsPath}; rerun the same command to resume`);
      return 130;
    }
    if (e instanceof EvalServerError) {
      warn(`\nanytime eval: server error (${e.kind}): ${e.message}\nfinished samples are saved in ${run.resultsPath}; rerun to resume`);
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
