/**
 * Chain arithmetic mod 10: apply a chain of operations to a start digit.
 *
 *   prompt   "3 + 4 * 7 - 9 ?"               start 3, then (+4), (*7), (-9), all mod 10
 *   thinking "3 + 4 = 7 ; 3 + 4 = 7 ; 7 * 7 = 9 ; 9 - 9 = 0 ;"
 *   summary  "0"
 *
 * Each line of thinking is `a op d = r ;` (6 tokens): the running value, the next operation
 * copied from the prompt, and the new value. A line that repeats the previous line's `a op d`
 * is a re-check; the value written last is the one carried forward.
 *
 * Why anytime reasoning matters here (the teacher that the warm start imitates):
 * - Variable redundancy. Each trace draws a carefulness c ~ U(0, maxCarefulness); after every
 *   line it re-checks the step again with probability c. A fraction of traces also
 *   re-verifies the whole chain from the start after finishing. Checks catch slips (a first
 *   computation is wrong with probability slipProb, a re-check only with checkSlipProb), so
 *   redundancy buys accuracy but costs tokens: the budget trade-off RL should learn.
 * - Graceful cuts. The summary of a cut trace is the last value written (the start digit
 *   when no line is complete): right when the cut falls after the last step, otherwise right
 *   only by chance (about 1 in 10). Accuracy therefore rises as more traces finish, and a
 *   policy could learn to do the remaining step(s) in the summary.
 * - Room to improve. Unchecked slips and traces cut at b_max keep the teacher's final
 *   accuracy well below 100%.
 *
 * Measured teacher profile (defaults; `teacherBudgetProfile(arithmetic, 4000, 16, 1)`,
 * budgets 6, 12, ..., 96; a length counts THINK_END; `formatProfile` prints these lines):
 *   length histogram per segment (b_{j-1}, b_j]:
 *     0 0 298 326 373 372 402 396 329 246 210 171 135 103 97 91   over b_max: 451
 *   (a) 14 of 16 segments hit (a trace is ≥ 13 tokens), mean length 52.2, 11.3% cut at b_max
 *   (b) accuracy by budget:
 *     .100 .181 .249 .320 .374 .443 .492 .538 .565 .593 .620 .632 .642 .659 .671 .682
 *   (c) accuracy at b_max 0.682; summary of the full, uncut trace 0.725; anytime (uniform) 0.485
 *   Seed 2 gives the same picture (b_max 0.669, cut 11.6%, full trace 0.720).
 * For scale: a teacher with no slips and no redundancy writes 13-43 tokens and scores 1.000
 * from budget 42 on (anytime 0.803), the headroom an efficient, accurate policy can reach.
 * Re-checks trade tokens for accuracy: with maxCarefulness 0.9 (no re-verification) the
 * full-trace accuracy is 0.747 against 0.668 without checks, at 64 against 28 tokens on
 * average, and the two are equal at b_max (0.670 / 0.668) because the careful traces get cut.
 *
 * Warm-started policy (measured): the 2-layer tiny transformer does NOT learn this format well —
 * held-out accuracy ~0.17 at b_max and flat across budgets after 800 warm-start steps (loss 0.53),
 * ~0.18 after 3000 (loss 0.40), against the teacher's 0.68: without a step index in each line it
 * cannot tell which operation of the prompt comes next. The `chain` task fixes that with numbered
 * lines and is the one the reproduction presets use.
 */
import { checkPositiveInt, fail } from '../core/errors.js';
import { checkTeacherKnobs, scoreOneDigit, symbolicTask } from './common.js';
import type { Rng } from '../core/rng.js';
import { randInt } from '../core/rng.js';
import type { Task, TaskProblem } from './types.js';
import {
  type Op,
  OPS,
  TOKEN,
  digitToken,
  opToken,
  symbolicCodec,
  tokenDigit,
} from './vocab.js';

/** Knobs of the chain-arithmetic task and its teacher. */
export interface ArithmeticConfig {
  /** Fewest operations in a chain (≥ 1). */
  minSteps: number;
  /** Most operations in a chain (≤ 7, so the prompt stays ≤ 16 tokens). */
  maxSteps: number;
  /** Default b_max (thinking tokens, THINK_END included). */
  maxThinking: number;
  /** Probability that the teacher's first computation of a step is wrong. */
  slipProb: number;
  /** Probability that a re-check of a step is wrong (re-checks are more careful). */
  checkSlipProb: number;
  /** Each trace re-checks after a line with probability c ~ U(0, maxCarefulness). */
  maxCarefulness: number;
  /** Probability that a trace re-verifies the whole chain from the start after finishing. */
  reverifyProb: number;
  /** Teacher traces are truncated at this many tokens (only lengths ≤ b_max matter). */
  traceCap: number;
}

export const ARITHMETIC_DEFAULTS: Readonly<ArithmeticConfig> = {
  minSteps: 2,
  maxSteps: 7,
  maxThinking: 96,
  slipProb: 0.1,
  checkSlipProb: 0.02,
  maxCarefulness: 0.6,
  reverifyProb: 0.25,
  traceCap: 192,
};

/** The problem data the teacher and verifier use. */
export interface ArithmeticData {
  start: number;
  ops: Op[];
  operands: number[];
  /** Exact running values after each step (the last one is the answer). */
  values: number[];
}

/** One step mod 10. */
export function applyOp(a: number, op: Op, d: number): number {
  const r = op === '+' ? a + d : op === '-' ? a - d : a * d;
  return ((r % 10) + 10) % 10;
}

/** (op, operand) pairs a chain may use: operands 1-9, no multiplication by 1 (a no-op). */
const STEP_CHOICES: readonly [Op, number][] = OPS.flatMap((op) =>
  [1, 2, 3, 4, 5, 6, 7, 8, 9].filter((d) => !(op === '*' && d === 1)).map((d): [Op, number] => [op, d]),
);

function checkConfig(c: ArithmeticConfig): void {
  checkPositiveInt('arithmetic.minSteps', c.minSteps);
  checkPositiveInt('arithmetic.maxSteps', c.maxSteps);
  if (c.maxSteps > 7) fail('arithmetic.maxSteps', `must be ≤ 7 (prompt ≤ 16 tokens), got ${c.maxSteps}`);
  if (c.minSteps > c.maxSteps) fail('arithmetic.minSteps', `must be ≤ maxSteps (${c.maxSteps}), got ${c.minSteps}`);
  checkTeacherKnobs('arithmetic', c, ['slipProb', 'checkSlipProb', 'reverifyProb'], ['maxCarefulness']);
}

/** Reads a problem's data, failing clearly when it is not an arithmetic problem. */
function dataOf(problem: TaskProblem): ArithmeticData {
  const d = problem.data as Partial<ArithmeticData>;
  if (typeof d.start !== 'number' || !Array.isArray(d.ops) || !Array.isArray(d.operands) || !Array.isArray(d.values)) {
    fail('problem.data', `is not an arithmetic problem (id '${problem.id}')`);
  }
  return d as ArithmeticData;
}

/** A digit other than `right`, uniformly: what a slip writes. Shared with `chain`. */
export function wrongDigit(right: number, rng: Rng): number {
  return (right + randInt(rng, 1, 9)) % 10;
}

/**
 * The teacher's work on one step whose right result is `right`: a first line that slips with
 * probability `slipProb`, then re-checks of the same step while `rng() < carefulness` (each
 * slipping with `checkSlipProb`) and `hasRoom()`. `write(r)` emits a line with result r.
 * Returns the result written last, the one carried forward.
 */
export function stepWithRechecks(
  right: number,
  rng: Rng,
  noise: { slipProb: number; checkSlipProb: number; carefulness: number },
  write: (r: number) => void,
  hasRoom: () => boolean,
): number {
  let r = rng() < noise.slipProb ? wrongDigit(right, rng) : right;
  write(r);
  while (rng() < noise.carefulness && hasRoom()) {
    r = rng() < noise.checkSlipProb ? wrongDigit(right, rng) : right;
    write(r);
  }
  return r;
}

/** Builds the chain-arithmetic task; `config` overrides ARITHMETIC_DEFAULTS. */
export function makeArithmeticTask(config: Partial<ArithmeticConfig> = {}): Task {
  const c: ArithmeticConfig = { ...ARITHMETIC_DEFAULTS, ...config };
  checkConfig(c);

  function sample(rng: Rng): TaskProblem {
    const { prompt, data } = drawChain(rng, randInt(rng, c.minSteps, c.maxSteps));
    const answer = String(data.values.length > 0 ? data.values[data.values.length - 1] : data.start);
    return { id: `arithmetic:${symbolicCodec.decode(prompt)}`, prompt, answer, data: { ...data } };
  }

  function teacherTrace(problem: TaskProblem, rng: Rng): number[] {
    const { start, ops, operands } = dataOf(problem);
    const carefulness = rng() * c.maxCarefulness;
    const passes = rng() < c.reverifyProb ? 2 : 1;
    const out: number[] = [];
    const line = (a: number, j: number, r: number) =>
      out.push(digitToken(a), opToken(ops[j]), digitToken(operands[j]), TOKEN.EQUALS, digitToken(r), TOKEN.SEMI);
    const noise = { slipProb: c.slipProb, checkSlipProb: c.checkSlipProb, carefulness };
    const hasRoom = () => out.length < c.traceCap;
    for (let pass = 0; pass < passes && hasRoom(); pass++) {
      let a = start;
      for (let j = 0; j < ops.length && hasRoom(); j++) {
        const from = a;
        a = stepWithRechecks(applyOp(from, ops[j], operands[j]), rng, noise, (r) => line(from, j, r), hasRoom);
      }
    }
    return out.slice(0, c.traceCap);
  }

  function teacherSummary(problem: TaskProblem, thinking: number[]): number[] {
    return [digitToken(lastValue(dataOf(problem).start, thinking))];
  }

  return symbolicTask({
    name: 'arithmetic',
    maxPromptLength: 2 * c.maxSteps + 2,
    maxThinking: c.maxThinking,
    summaryMaxTokens: 3,
    sample,
    teacherTrace,
    teacherSummary,
    score: scoreOneDigit,
  });
}

/**
 * Draws a chain of `k` steps — distinct (op, operand) pairs, so a line of thinking identifies its
 * step in the prompt, then a start digit — and its prompt `start op d op d … ?`. Shared with `chain`.
 */
export function drawChain(rng: Rng, k: number): { prompt: number[]; data: ArithmeticData } {
  const pool = STEP_CHOICES.slice();
  const ops: Op[] = [];
  const operands: number[] = [];
  for (let j = 0; j < k; j++) {
    const [op, d] = pool.splice(randInt(rng, 0, pool.length - 1), 1)[0];
    ops.push(op);
    operands.push(d);
  }
  const start = randInt(rng, 0, 9);
  const values: number[] = [];
  let v = start;
  for (let j = 0; j < k; j++) values.push((v = applyOp(v, ops[j], operands[j])));
  const prompt = [digitToken(start)];
  for (let j = 0; j < k; j++) prompt.push(opToken(ops[j]), digitToken(operands[j]));
  prompt.push(TOKEN.QUERY);
  return { prompt, data: { start, ops, operands, values } };
}

/**
 * The teacher's reading of a (possibly cut) trace: the digit after the last `=` that has one,
 * else the start digit. Works on any token sequence, so it also reads policy traces.
 */
export function lastValue(start: number, thinking: ArrayLike<number>): number {
  for (let i = thinking.length - 1; i > 0; i--) {
    if (thinking[i - 1] === TOKEN.EQUALS && tokenDigit(thinking[i]) >= 0) return tokenDigit(thinking[i]);
  }
  return start;
}

/** The default chain-arithmetic task. */
export const arithmetic: Task = makeArithmeticTask();
