/**
 * The synthetic reasoning tasks, by name. `getTask('countdown')` gives a task with default
 * settings; the `make*Task(config)` factories give variants (noisier teacher, other b_max).
 */
import { fail } from '../core/errors.js';
import { arithmetic } from './arithmetic.js';
import { countdown } from './countdown.js';
import { chain } from './chain.js';
import { search } from './search.js';
import type { Task } from './types.js';

export const TASKS: Readonly<Record<string, Task>> = { arithmetic, countdown, chain, search };

/** Names accepted by getTask. */
export const TASK_NAMES: readonly string[] = Object.keys(TASKS);

/** The task called `name`; a clear error listing the allowed names otherwise. */
export function getTask(name: string): Task {
  const task = Object.prototype.hasOwnProperty.call(TASKS, name) ? TASKS[name] : undefined;
  if (!task) fail('task', `must be one of ${TASK_NAMES.map((n) => `'${n}'`).join(', ')}, got '${String(name)}'`);
  return task;
}

export type { Task, TaskProblem } from './types.js';
export { SPECIAL, SPECIAL_TOKENS, forcingTokens } from './types.js';
export { arithmetic, makeArithmeticTask, ARITHMETIC_DEFAULTS, applyOp, lastValue } from './arithmetic.js';
export type { ArithmeticConfig, ArithmeticData } from './arithmetic.js';
export { countdown, makeCountdownTask, COUNTDOWN_DEFAULTS, candidates, completedLines, evaluate } from './countdown.js';
export type { CountdownConfig, CountdownData, Candidate } from './countdown.js';
export { chain, makeChainTask, CHAIN_DEFAULTS, chainLine, currentValue } from './chain.js';
export type { ChainConfig, ChainData } from './chain.js';
export { search, makeSearchTask, SEARCH_DEFAULTS, SEARCH_LINE_LENGTH, searchCycle, searchLine, searchLines, lineValue } from './search.js';
export type { SearchConfig, SearchData, SearchCandidate, SearchLine } from './search.js';
export { SYMBOLIC_VOCAB, SYMBOLS, TOKEN, symbolicCodec, makeCodec, digitToken, tokenDigit, numberTokens } from './vocab.js';
export type { Codec, Op } from './vocab.js';
export { heldOutSet, trainingSampler, isHeldOut, promptHash, HELD_OUT_MODULUS } from './splits.js';
export { teacherBudgetProfile, profileFromSamples, evenBudgets, thinkingAtBudget, formatProfile } from './profile.js';
export type { TeacherBudgetProfile, BudgetSample } from './profile.js';
