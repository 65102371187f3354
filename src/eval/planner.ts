/**
 * What to ask the server for one sample: the thinking request, then one summary request per
 * distinct prefix of the trace (the core's `cutPlan`: budgets past a finished trace's end
 * share one prefix, so they share one request of `A` summaries).
 */
import { fail } from '../core/errors.js';
import { budgetSupport, checkBudgets } from '../core/budget.js';
import { cutPlan, forcedSummaryText, type CutPlan } from '../core/truncation.js';
import type { ThinkingTrace } from './trace.js';

/** The paper's prompt: DeepSeek-R1 chat format with the thinking opened. */
export const DEFAULT_PROMPT_TEMPLATE =
  "<｜begin▁of▁sentence｜><｜User｜>{problem}\nLet's think step by step and output the final answer within \\boxed{}.<｜Assistant｜><think>\n";
/** Appended to a cut trace before the answer header. */
export const DEFAULT_FORCE_CUT = '...\n\n...\n\n</think>';
/** The answer header every summary starts from. */
export const DEFAULT_FORCE_ANSWER = '\n\n**Final Answer**\n';
/** The end-of-thinking marker: the thinking request stops on it. */
export const DEFAULT_THINK_END = '</think>';
/** Summary cap in tokens (§1). */
export const DEFAULT_SUMMARY_TOKENS = 128;

export interface PromptStrings {
  /** Contains `{problem}` once or more. */
  promptTemplate: string;
  forceCut: string;
  forceAnswer: string;
  thinkEnd: string;
}

/** Fills the prompt template. */
export function renderPrompt(template: string, problem: string): string {
  if (!template.includes('{problem}')) fail('--prompt-template', 'must contain the placeholder {problem}');
  return template.split('{problem}').join(problem);
}

/**
 * Budgets from an explicit list, or `count` evenly spaced up to `maxBudget` (rounded down to
 * whole tokens); all must be whole token counts in (0, maxBudget], strictly increasing.
 */
export function resolveBudgets(maxBudget: number, opts: { budgets?: number[]; count?: number }): number[] {
  if (!Number.isInteger(maxBudget) || maxBudget <= 0) fail('--max-budget', `must be a positive whole number of tokens, got ${String(maxBudget)}`);
  if (opts.budgets && opts.count !== undefined) fail('--budgets', 'give either --budgets or --budget-count, not both');
  let budgets: number[];
  if (opts.budgets) {
    budgets = opts.budgets;
    checkBudgets(budgets, '--budgets');
    budgets.forEach((b, j) => {
      if (!Number.isInteger(b)) fail('--budgets', `[${j}] must be a whole number of tokens, got ${b}`);
      if (b > maxBudget) fail('--budgets', `[${j}] = ${b} is above --max-budget ${maxBudget}`);
    });
  } else {
    const count = opts.count ?? 32;
    if (!Number.isInteger(count) || count <= 0 || count > maxBudget) fail('--budget-count', `must be a whole number in [1, --max-budget = ${maxBudget}], got ${String(count)}`);
    budgets = budgetSupport(maxBudget, count).map(Math.floor);
    checkBudgets(budgets, '--budget-count');
  }
  return budgets;
}

export interface SummaryJob {
  /** Index into `plan.groups`. */
  group: number;
  cutLength: number;
  cut: boolean;
  budgetIndices: number[];
  /** Full prompt: problem prompt, thinking prefix, forcing suffix ('' when `scoresZero`). */
  prompt: string;
  /**
   * True when the prefix is a trace that ended on end-of-sequence without closing its thinking:
   * no request is sent and its summaries score 0 (§1).
   */
  scoresZero: boolean;
}

/** The summary requests for one (aligned) trace at the given budgets. */
export function planSummaries(prompt: string, trace: Pick<ThinkingTrace, 'length' | 'finished' | 'eos' | 'prefix'>, budgets: number[], strings: PromptStrings): { plan: CutPlan; jobs: SummaryJob[] } {
  const plan = cutPlan(trace.length, trace.finished, budgets);
  const forcing = { cutSuffix: strings.forceCut, answerHeader: strings.forceAnswer, thinkEnd: strings.thinkEnd };
  const jobs = plan.groups.map((g, group) => {
    const scoresZero = trace.eos && g.cutLength === trace.length;
    return {
      group,
      cutLength: g.cutLength,
      cut: g.cut,
      budgetIndices: g.budgetIndices,
      prompt: scoresZero ? '' : prompt + forcedSummaryText(trace.prefix(g.cutLength), g.cut, forcing),
      scoresZero,
    };
  });
  return { plan, jobs };
}
