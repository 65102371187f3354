/**
 * What a synthetic reasoning task provides to the tiny-policy reproduction.
 *
 * Token layout of one rollout (ids index `Task.vocab`):
 *
 *   [BOS, ...prompt, ...thinking (≤ b_max tokens, ends with THINK_END if it finished),
 *    ...forcing suffix, ...summary, EOS]
 *
 * The forcing suffix mirrors the paper's (§1 of docs ANYTIME.md): a trace that was cut, or never
 * closed its thinking, gets [ELLIPSIS, THINK_END, ANSWER]; a trace that finished on its own
 * before the budget gets [ANSWER] only. Forcing tokens are never trained.
 */
import type { Rng } from '../core/rng.js';

/** Special token ids, shared by every task: the first six entries of every vocabulary. */
export const SPECIAL = {
  PAD: 0,
  BOS: 1,
  /** End of the summary (end of sequence). */
  EOS: 2,
  /** End of thinking, `</think>`. */
  THINK_END: 3,
  /** The answer header, `**Final Answer**`. */
  ANSWER: 4,
  /** The forced-cut marker, `...`. */
  ELLIPSIS: 5,
} as const;

export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '</think>', '<answer>', '...'] as const;

/** Forcing suffix appended to a thinking prefix before the summary is generated. */
export function forcingTokens(cut: boolean): number[] {
  return cut ? [SPECIAL.ELLIPSIS, SPECIAL.THINK_END, SPECIAL.ANSWER] : [SPECIAL.ANSWER];
}

export interface TaskProblem {
  /** Stable id (task name + index or hash) for logging and held-out sets. */
  id: string;
  /** Prompt token ids, without BOS. */
  prompt: number[];
  /** Gold answer as text (what a correct summary decodes to). */
  answer: string;
  /** Task-specific data the verifier or teacher needs (numbers, target, …). */
  data: Record<string, unknown>;
}

export interface Task {
  readonly name: string;
  /**
   * Format version: bumped whenever the prompt, trace format, generator or teacher changes, so
   * that a base policy cached for an older version (data/base/) is never loaded for this one.
   */
  readonly version?: number;
  /** Token strings; index = id; entries 0..5 are SPECIAL_TOKENS. */
  readonly vocab: readonly string[];
  /** Longest prompt the generator produces (tokens, without BOS). */
  readonly maxPromptLength: number;
  /** Default maximum thinking budget b_max for this task (tokens, THINK_END included). */
  readonly maxThinking: number;
  /** Cap on generated summary tokens (EOS included). */
  readonly summaryMaxTokens: number;
  /** Draws a problem; deterministic given the rng state. */
  sample(rng: Rng): TaskProblem;
  /**
   * A teacher thinking trace for the supervised warm start: the tokens between the prompt
   * and THINK_END (THINK_END not included). Seeded variability in length and search order.
   */
  teacherTrace(problem: TaskProblem, rng: Rng): number[];
  /**
   * The teacher's summary tokens (EOS not included) after reading `thinking` (a prefix of a
   * teacher trace, possibly cut): its best answer given the work so far.
   */
  teacherSummary(problem: TaskProblem, thinking: number[], rng: Rng): number[];
  /** 1 when the summary tokens (EOS and anything after it excluded) state the gold answer. */
  score(problem: TaskProblem, summary: number[]): 0 | 1;
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}
