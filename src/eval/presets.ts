/**
 * Forcing presets: the prompt and the strings that force a summary, per reasoning-model family.
 *
 * - `r1`: the paper's (AnytimeReasoner, DeepSeek-R1-Distill): the R1 chat format with the
 *   thinking opened; a cut trace gets "...\n\n...\n\n</think>" and every summary starts from
 *   "\n\n**Final Answer**\n" (ANYTIME.md §1).
 * - `qwen3`: Qwen3's documented way to stop thinking early (the "thinking budget" guide of the
 *   Qwen3 repository and report): the cut trace gets "\n\nConsidering the limited time by the
 *   user, I have to give the solution based on the thinking directly now.\n</think>" followed by
 *   "\n\n", after which Qwen3 answers directly; a trace that closed its own thinking gets "\n\n"
 *   after its `</think>`. The prompt is Qwen3's ChatML with the thinking opened.
 * - `custom`: the r1 prompt and answer header with a cut suffix the user gives (`--force-cut`).
 * Any of `--prompt-template`, `--force-cut`, `--force-answer`, `--think-end` overrides its preset.
 */
import { fail } from '../core/errors.js';
import type { PromptStrings } from './planner.js';
import { DEFAULT_FORCE_ANSWER, DEFAULT_FORCE_CUT, DEFAULT_PROMPT_TEMPLATE, DEFAULT_THINK_END } from './planner.js';

export const FORCING_PRESETS = ['r1', 'qwen3', 'custom'] as const;
export type ForcingPreset = (typeof FORCING_PRESETS)[number];

/** Qwen3's early-exit sentence (its thinking-budget guide), placed before `</think>`. */
export const QWEN3_EARLY_EXIT = 'Considering the limited time by the user, I have to give the solution based on the thinking directly now.';

const PRESETS: Record<Exclude<ForcingPreset, 'custom'>, PromptStrings> = {
  r1: { promptTemplate: DEFAULT_PROMPT_TEMPLATE, forceCut: DEFAULT_FORCE_CUT, forceAnswer: DEFAULT_FORCE_ANSWER, thinkEnd: DEFAULT_THINK_END },
  qwen3: {
    promptTemplate: '<|im_start|>user\n{problem}\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n<think>\n',
    forceCut: `\n\n${QWEN3_EARLY_EXIT}\n${DEFAULT_THINK_END}`,
    forceAnswer: '\n\n',
    thinkEnd: DEFAULT_THINK_END,
  },
};

/**
 * The strings of a preset with the user's overrides. `custom` needs `forceCut` (it is the
 * point of a custom preset); its other strings default to r1's.
 */
export function forcingStrings(preset: ForcingPreset, overrides: Partial<PromptStrings>): PromptStrings {
  if (preset === 'custom' && overrides.forceCut === undefined) fail('--forcing', "custom needs --force-cut (the text appended to a cut trace); or choose 'r1' or 'qwen3'");
  const base = preset === 'custom' ? PRESETS.r1 : PRESETS[preset];
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<PromptStrings>;
  return { ...base, ...defined };
}
