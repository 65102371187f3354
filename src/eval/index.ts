/** Anytime evaluation of reasoning models served by an OpenAI-compatible server. */
export { CompletionsClient, EvalServerError, apiRoot } from './client.js';
export type { ClientOptions, CompletionRequest, CompletionResponse, CompletionChoice, CompletionLogprobs } from './client.js';
export { loadProblems, parseProblems, type EvalProblem } from './data.js';
export {
  DEFAULT_PROMPT_TEMPLATE,
  DEFAULT_FORCE_CUT,
  DEFAULT_FORCE_ANSWER,
  DEFAULT_THINK_END,
  DEFAULT_SUMMARY_TOKENS,
  renderPrompt,
  resolveBudgets,
  planSummaries,
  type PromptStrings,
  type SummaryJob,
} from './planner.js';
export { readThinking, type ThinkingTrace, type TokenizerCalls } from './trace.js';
export { alignTokenStrings, readLlamaEntries, readTokenIds, readTokenStrings, type TokenLayout, type ServerFormat, type TraceEnd } from './formats.js';
export { ServerPool, type Completer, type PoolOptions } from './pool.js';
export { FORCING_PRESETS, QWEN3_EARLY_EXIT, forcingStrings, type ForcingPreset } from './presets.js';
export { evaluateSample, runEval, runIdentity, type Grader, type EvalSettings, type RunEvalOptions, type RunEvalResult } from './runner.js';
export {
  aggregate,
  passAtK,
  passKs,
  questionValues,
  formatAggregate,
  identityDiff,
  openResults,
  readResults,
  RESULTS_VERSION,
  type EvalAggregate,
  type Estimate,
  type RunHeader,
  type RunIdentity,
  type SampleRecord,
  type GradedSummary,
  type SummaryGroupRecord,
} from './results.js';
export { accuracyPlotSvg } from './plot.js';
export { compareRuns, comparisonPlotSvg, formatComparison, loadRun, type Comparison, type EvaluatedRun } from './compare.js';
