/**
 * Chain arithmetic mod 10 with numbered steps: apply a chain of operations to a start digit,
 * one numbered line per step.
 *
 *   prompt   "3 + 4 * 7 - 9 ?"               start 3, then (+4), (*7), (-9), all mod 10
 *   thinking "13 + 4 = 7 ; 27 * 7 = 9 ; 27 * 7 = 9 ; 39 - 9 = 0 ;"
 *   summary  "0"
 *
 * Each line of thinking is `i a op d = r ;` (7 tokens): the step number i (1-7), the value a
 * it starts from, the i-th operation of the prompt, and the result r. (The decoded text joins
 * the digits i and a: "27 * 7 = 9" is step 2, 7 * 7 = 9.) A line that repeats the previous
 * line's step number is a re-check of that step, recomputed from the same a; the value
 * written last is the one carried forward.
 *
 * Why this format (and not `arithmetic`'s "a op d = r ;"): a tiny policy warm-started on
 * `arithmetic` has to infer which prompt step comes next, which re-checks make non-local
 * (held-out ~0.17 at b_max). Here every token is a local look-up: the step number is the
 * previous line's (+1 or a re-check), a is the previous line's r (or a, on a re-check) at a
 * fixed offset, op and d sit at prompt positions 2i and 2i+1 (the prompt starts at a fixed
 * position), and r is a table look-up of the three tokens before `=`.
 * A first try, rewrite lines (the expression with its first operation applied, "7 * 7 - 9 ;
 * 9 - 9 ; 0 ;"), did not train: copying a tail that shifts by two tokens every line stayed at
 * ~0.9 nats per operand, and the policy scored 0.13 at b_max (1500 warm-start steps).
 *
 * Why anytime reasoning matters here (the teacher that the warm start imitates):
 * - Variable redundancy. Each trace draws a carefulness c ~ U(0, maxCarefulness); after every
 *   line it re-checks the step again with probability c. A first computation is wrong with
 *   probability slipProb, a re-check only with checkSlipProb, so a re-check that differs
 *   from the line before corrects a slip: redundancy buys accuracy but costs tokens.
 * - Graceful cuts. The summary of a cut trace is the result of the last complete line (the
 *   start digit when no line is complete): right when the cut falls after the last step,
 *   otherwise right only by chance, so accuracy rises as more traces finish.
 * - Room to improve. Unchecked slips and traces cut at b_max keep the teacher's final
 *   accuracy well below 100%.
 *
 * Measured teacher profile (defaults; `teacherBudgetProfile(chain, 4000, 16, 1)`, budgets
 * 6, 12, ..., 96; a length counts THINK_END; `formatProfile` prints these lines):
 *   length histogram per segment (b_{j-1}, b_j]:
 *     0 0 325 353 408 419 0 413 452 353 221 169 163 0 136 104   over b_max: 484
 *   (a) 12 of 16 segments hit (lines are 7 tokens, so lengths are 7n + 1 and a few 6-token
 *       segments hold none), mean length 55.5, 12.1% cut at b_max
 *   (b) accuracy by budget:
 *     .103 .103 .174 .248 .319 .387 .457 .521 .521 .573 .605 .630 .655 .669 .688 .688
 *   (c) accuracy at b_max 0.688; summary of the full, uncut trace 0.747; anytime (uniform) 0.459
 *   Seed 2 gives the same picture (b_max 0.688, cut 11.3%, full trace 0.749).
 * For scale: without slips or re-checks the teacher writes 15-50 tokens and scores 1.000 from
 * budget 48 on (anytime 0.744). Re-checks trade tokens for accuracy: without them (slips
 * kept) the full-trace accuracy is 0.656 at 32.7 tokens on average, against 0.747 at 55.5.
 *
 * Measured warm-started policy (`npx tsx scripts/warmstart.ts chain --steps N`, 2 layers,
 * d_model 64; held-out n = 256, budgets 12, 24, ..., 96; 2-core machine shared with other jobs):
 *   1500 steps (163 s, loss 3.18 → 0.28; data/base/chain-99e802d4aae9.ckpt):
 *     temperature 1: .094 .254 .266 .281 .289 .285 .289 .289   (93% finish, mean 49.0 tokens)
 *     temperature 0: .098 .348 .469 .477 .477 .477 .477 .477   (100% finish, mean 32.6 tokens)
 *   3000 steps (360 s, loss 3.18 → 0.14; data/base/chain-6a5d18a544be.ckpt):
 *     temperature 1: .121 .215 .395 .504 .543 .586 .570 .582   (91% finish, mean 49.4 tokens)
 *     temperature 0: .094 .355 .664 .941 .941 .941 .941 .941   (100% finish, mean 32.6 tokens)
 *   At 1500 steps the result digit and the prompt look-up of later steps are still being
 *   learned (teacher-forced p(correct operand) 0.90 at step 1, 0.32-0.50 at steps 4-7); the
 *   loss is still falling fast there, and 3000 steps give a base that follows the teacher.
 */
import { fail } from '../core/errors.js';
import { checkTeacherKnobs, scoreOneDigit, symbolicTask } from './common.js';
import type { Rng } from '../core/rng.js';
import { sampleIndex } from '../core/rng.js';
import type { Task, TaskProblem } from './types.js';
import { type Op, TOKEN, digitToken, opToken, symbolicCodec } from './vocab.js';
import { applyOp, drawChain, lastValue, stepWithRechecks, type ArithmeticData } from './arithmetic.js';

/** Knobs of the chain task and its teacher. */
export interface ChainConfig {
  /**
   * stepWeights[k - 1]: relative frequency of chains of k operations, k = 1..7 (at most 7
   * entries, so prompts stay ≤ 16 tokens). Default: 2-7 operations, equally often.
   */
  stepWeights: readonly number[];
  /** Default b_max (thinking tokens, THINK_END included). */
  maxThinking: number;
  /** Probability that the teacher's first computation of a step is wrong. */
  slipProb: number;
  /** Probability that a re-check of a step is wrong (re-checks are more careful). */
  checkSlipProb: number;
  /** Each trace re-checks after a line with probability c ~ U(0, maxCarefulness). */
  maxCarefulness: number;
  /** Teacher traces are truncated at this many tokens (only lengths ≤ b_max matter). */
  traceCap: number;
}

export const CHAIN_DEFAULTS: Readonly<ChainConfig> = {
  stepWeights: [0, 1, 1, 1, 1, 1, 1],
  maxThinking: 96,
  slipProb: 0.1,
  checkSlipProb: 0.02,
  maxCarefulness: 0.7,
  traceCap: 192,
};

/** The problem data the teacher and verifier use: the same chain as `arithmetic` draws (`drawChain`). */
export type ChainData = ArithmeticData;

function checkConfig(c: ChainConfig): void {
  const w = c.stepWeights;
  if (!Array.isArray(w) || w.length === 0 || w.length > 7) {
    fail('chain.stepWeights', `must list 1 to 7 weights (chains of 1..7 operations), got ${Array.isArray(w) ? w.length : typeof w}`);
  }
  if (!w.every((x) => Number.isFinite(x) && x >= 0) || !w.some((x) => x > 0)) {
    fail('chain.stepWeights', `must be finite, ≥ 0 and not all 0, got [${w.join(', ')}]`);
  }
  checkTeacherKnobs('chain', c, ['slipProb', 'checkSlipProb'], ['maxCarefulness']);
}

/** Reads a problem's data, failing clearly when it is not a chain problem. */
function dataOf(problem: TaskProblem): ChainData {
  const d = problem.data as Partial<ChainData>;
  if (typeof d.start !== 'number' || !Array.isArray(d.ops) || !Array.isArray(d.operands) || !Array.isArray(d.values)) {
    fail('problem.data', `is not a chain problem (id '${problem.id}')`);
  }
  return d as ChainData;
}

/**
 * The line "step a op d = r ;" of step `step` (1-based): the step number, the value a it starts
 * from, the step's operation copied from the prompt, and the result r. (Decoded text joins the
 * step number and a, as in "25 * 3 = 5 ;" for step 2, 5 * 3 = 5.)
 */
export function chainLine(step: number, a: number, op: Op, d: number, r: number): number[] {
  return [digitToken(step), digitToken(a), opToken(op), digitToken(d), TOKEN.EQUALS, digitToken(r), TOKEN.SEMI];
}

/** Builds the chain task; `config` overrides CHAIN_DEFAULTS. */
export function makeChainTask(config: Partial<ChainConfig> = {}): Task {
  const c: ChainConfig = { ...CHAIN_DEFAULTS, ...config };
  checkConfig(c);
  const maxSteps = c.stepWeights.reduce((m, w, i) => (w > 0 ? i + 1 : m), 0);

  function sample(rng: Rng): TaskProblem {
    // The same problems as `arithmetic` draws (numbered lines do not need distinct steps; it keeps the problem sets alike).
    const { prompt, data } = drawChain(rng, sampleIndex(c.stepWeights, rng) + 1);
    const answer = String(data.values[data.values.length - 1]);
    return { id: `chain:${symbolicCodec.decode(prompt)}`, prompt, answer, data: { ...data } };
  }

  function teacherTrace(problem: TaskProblem, rng: Rng): number[] {
    const { start, ops, operands } = dataOf(problem);
    const carefulness = rng() * c.maxCarefulness;
    const out: number[] = [];
    const noise = { slipProb: c.slipProb, checkSlipProb: c.checkSlipProb, carefulness };
    const hasRoom = () => out.length < c.traceCap;
    let a = start;
    for (let j = 0; j < ops.length && hasRoom(); j++) {
      const from = a;
      const write = (r: number) => out.push(...chainLine(j + 1, from, ops[j], operands[j], r));
      a = stepWithRechecks(applyOp(from, ops[j], operands[j]), rng, noise, write, hasRoom);
    }
    return out.slice(0, c.traceCap);
  }

  function teacherSummary(problem: TaskProblem, thinking: number[]): number[] {
    return [digitToken(currentValue(dataOf(problem).start, thinking))];
  }

  return symbolicTask({
    name: 'chain',
    maxPromptLength: 2 * maxSteps + 2,
    maxThinking: c.maxThinking,
    summaryMaxTokens: 3,
    sample,
    teacherTrace,
    teacherSummary,
    score: scoreOneDigit,
  });
}

/**
 * The teacher's reading of a (possibly cut) trace: the digit after the last `=` that has one
 * (the result of the last complete line), else the start digit — the same rule as arithmetic's.
 */
export const currentValue = lastValue;

/** The default chain task. */
export const chain: Task = makeChainTask();
