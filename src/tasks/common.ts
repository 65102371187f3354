/**
 * Pieces every synthetic task shares: the checks of its teacher's knobs, the scoring of a
 * one-digit answer, and the Task object over the shared symbolic vocabulary.
 */
import { checkPositiveInt, fail } from '../core/errors.js';
import type { Task, TaskProblem } from './types.js';
import { SPECIAL } from './types.js';
import { type Op, SYMBOLIC_VOCAB, beforeEos, symbolicCodec, tokenDigit, tokenOp } from './vocab.js';

/** Knobs every task's teacher has: a default b_max and a cap on trace length. */
export interface TeacherLimits {
  maxThinking: number;
  traceCap: number;
}

/**
 * Checks b_max and the trace cap, each named `probabilities` key as a probability in [0, 1],
 * and each named `stopping` key in [0, 1) (a repeat probability that must let the loop end).
 * Errors name the field as `<task>.<key>`.
 */
export function checkTeacherKnobs<C extends TeacherLimits>(
  task: string,
  c: C,
  probabilities: readonly (keyof C & string)[],
  stopping: readonly (keyof C & string)[] = [],
): void {
  checkPositiveInt(`${task}.maxThinking`, c.maxThinking);
  checkPositiveInt(`${task}.traceCap`, c.traceCap);
  for (const key of probabilities) {
    const p = c[key] as unknown as number;
    if (!(p >= 0 && p <= 1)) fail(`${task}.${key}`, `must be a probability in [0, 1], got ${String(p)}`);
  }
  for (const key of stopping) {
    const p = c[key] as unknown as number;
    if (!(p >= 0 && p < 1)) fail(`${task}.${key}`, `must be in [0, 1) so repeats end, got ${String(p)}`);
  }
}

/** 1 when the summary (up to EOS) is exactly the one digit of the problem's answer. */
export function scoreOneDigit(problem: TaskProblem, summary: number[]): 0 | 1 {
  const said = beforeEos(summary, SPECIAL.EOS);
  return said.length === 1 && tokenDigit(said[0]) === Number(problem.answer) ? 1 : 0;
}

/**
 * A summary (up to EOS) of exactly three tokens `x op y`, digits around an operation, read as
 * numbers; null for anything else. What `countdown` (`a op b`) and `search` (`i op j`) answer.
 */
export function readDigitOpDigit(summary: number[]): { x: number; op: Op; y: number } | null {
  const said = beforeEos(summary, SPECIAL.EOS);
  if (said.length !== 3) return null;
  const x = tokenDigit(said[0]);
  const op = tokenOp(said[1]);
  const y = tokenDigit(said[2]);
  return x < 0 || op === null || y < 0 ? null : { x, op, y };
}

/** A Task over the shared symbolic vocabulary and its codec. */
export function symbolicTask(spec: Omit<Task, 'vocab' | 'encode' | 'decode'>): Task {
  return { ...spec, vocab: SYMBOLIC_VOCAB, encode: symbolicCodec.encode, decode: symbolicCodec.decode };
}
