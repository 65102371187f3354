/**
 * Cutting a thinking trace at each budget and forcing a summary (ANYTIME.md §1).
 *
 * For budget `b`, `z≤b` is the trace cut to its first `b` tokens (all of it when `|z| ≤ b`).
 * A summary is then forced: a cut trace (or one that never closed its thinking) gets the cut
 * suffix and the answer header; a trace that finished before `b` gets the answer header only.
 * Budgets whose prefixes are identical — every budget past a finished trace's end — share
 * one prefix, so their summaries are generated once and reused (one merged group).
 */
import { fail } from './errors.js';
import { checkBudgets } from './budget.js';

/** Appended to a cut trace: the authors' forcing text, closing the thinking. */
export const CUT_SUFFIX = '...\n\n...\n\n</think>';
/** The answer header every summary starts from. */
export const ANSWER_HEADER = '\n\n**Final Answer**\n';
/** The end-of-thinking marker. */
export const THINK_END = '</think>';

export interface BudgetCut {
  /** The budget `b_j`. */
  budget: number;
  /** Tokens of the trace kept: `min(floor(b_j), traceLength)`. */
  cutLength: number;
  /**
   * True when the summary gets the cut suffix: the trace is longer than the budget, or it
   * never closed its thinking. False when the trace finished on its own within the budget.
   */
  cut: boolean;
  /** Index into `CutPlan.groups` of the prefix this budget uses. */
  group: number;
}

export interface PrefixGroup {
  cutLength: number;
  cut: boolean;
  /** Indices of the budgets that share this prefix (more than one only for merged prefixes). */
  budgetIndices: number[];
}

export interface CutPlan {
  cuts: BudgetCut[];
  /** Distinct prefixes in budget order; summaries are generated once per group. */
  groups: PrefixGroup[];
  /**
   * Index of the first budget whose prefix is the whole trace (`floor(b_j) ≥ traceLength`), i.e.
   * the last segment that holds thinking tokens; budgets from here on share one merged prefix.
   * `budgets.length − 1` when the trace is longer than every budget.
   */
  lastSegment: number;
}

/**
 * Plans the cut of one trace at every budget.
 *
 * @param traceLength thinking tokens generated, the trace's own end-of-thinking token included
 * @param finished whether the trace closed its thinking on its own
 * @param budgets strictly increasing budgets `b_1 < … < b_m`
 */
export function cutPlan(traceLength: number, finished: boolean, budgets: number[]): CutPlan {
  if (!Number.isInteger(traceLength) || traceLength < 0) {
    fail('traceLength', `must be an integer ≥ 0, got ${String(traceLength)}`);
  }
  if (typeof finished !== 'boolean') fail('finished', `must be true or false, got ${String(finished)}`);
  checkBudgets(budgets);
  const cuts: BudgetCut[] = [];
  const groups: PrefixGroup[] = [];
  for (let j = 0; j < budgets.length; j++) {
    const limit = Math.floor(budgets[j]);
    const cutLength = Math.min(limit, traceLength);
    const cut = traceLength > limit || !finished;
    const prev = groups[groups.length - 1];
    let group: number;
    if (prev && prev.cutLength === cutLength && prev.cut === cut) {
      prev.budgetIndices.push(j);
      group = groups.length - 1;
    } else {
      groups.push({ cutLength, cut, budgetIndices: [j] });
      group = groups.length - 1;
    }
    cuts.push({ budget: budgets[j], cutLength, cut, group });
  }
  const firstWhole = budgets.findIndex((b) => Math.floor(b) >= traceLength);
  const lastSegment = firstWhole === -1 ? budgets.length - 1 : firstWhole;
  return { cuts, groups, lastSegment };
}

export interface ForcingStrings {
  /** Text appended to a cut trace before the answer header (default `CUT_SUFFIX`). */
  cutSuffix?: string;
  /** The answer header (default `ANSWER_HEADER`). */
  answerHeader?: string;
  /** The end-of-thinking marker (default `THINK_END`). */
  thinkEnd?: string;
}

/**
 * The text a summary is generated from (§1). Cut: `thinking + "...\n\n...\n\n</think>" +
 * "\n\n**Final Answer**\n"`. Finished: `thinking + "\n\n**Final Answer**\n"`, where a finished
 * thinking must end in `</think>`; servers that strip the stop string return it without, so it
 * is restored — the summary always sees exactly one end-of-thinking.
 */
export function forcedSummaryText(thinking: string, cut: boolean, strings: ForcingStrings = {}): string {
  if (typeof thinking !== 'string') fail('thinking', `must be a string, got ${typeof thinking}`);
  const { cutSuffix = CUT_SUFFIX, answerHeader = ANSWER_HEADER, thinkEnd = THINK_END } = strings;
  if (cut) return thinking + cutSuffix + answerHeader;
  const closed = thinking.trimEnd().endsWith(thinkEnd) ? thinking : thinking + thinkEnd;
  return closed + answerHeader;
}
