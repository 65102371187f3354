/**
 * Search: reach a target digit by combining two of the given digits with +, - or * (mod 10),
 * naming each candidate by the prompt positions of its digits (a locally identifiable Countdown).
 *
 *   prompt   "3 7 2 9 : 8 ?"     digits at positions 1-4; target 8, one digit
 *   thinking "1 3 * 2 7 = 1 ; 1 3 + 3 2 = 5 ; 1 3 - 3 2 = 1 ; ... ; 3 2 * 4 9 = 8 ;"
 *   summary  "3 * 4"             positions 3 and 4: 2 * 9 = 18, last digit 8
 *
 * (Decoded text joins digit runs: "3729 : 8 ?", "13 * 27 = 1 ;".) Each line of thinking is
 * `i a op j b = v ;` (8 tokens): the prompt position i of the first digit and the digit a
 * there, the operation, the position j > i of the second digit and the digit b there, and the
 * value v: the last digit of a + b or a * b, or the distance |a - b|. The summary is `i op j`;
 * it scores when the digits at two different positions i, j make the target (either order),
 * so any solution counts, not only the one the problem was built from.
 *
 * Why this format (and not `countdown`'s "a op b = v ;"): there the tiny policy stays at chance
 * because it cannot tell which pairs it has tried, and the operands are not identifiable by
 * position. Here every token is a local look-up, as in `chain`: the candidates run through a
 * fixed cycle (pairs (1,2), (1,3), ..., (3,4) in order, and within a pair + - *), so the next
 * i, op, j follow from the previous line's at a fixed offset; a and b are the prompt digits at
 * positions i and j (the token just before each); the value is a table look-up of a, op, b; a
 * hit is the value equal to the target digit at a fixed prompt position; and the summary
 * copies i, op, j of the last line.
 * Two earlier versions had a two-digit target (values up to 81, lines `... = v v ;`): after 3000
 * warm-start steps the policy was at chance (held-out .09-.16 at every budget, never closing
 * its thinking at temperature 0). It copied the line format and the cycle but never learned
 * to stop on a hit (teacher-forced p(THINK_END | hit line) ≈ 0.13).
 *
 * Why anytime reasoning matters here (the teacher that the warm start imitates):
 * - The order of search matters. The teacher starts the cycle at a seeded random candidate, so
 *   where the first solution falls, and thus the trace length, varies from one line to past
 *   b_max; a policy can learn where to start and which candidates to skip.
 * - Wasted work and slips. Each trace draws a carefulness c ~ U(0, maxCarefulness) and re-checks
 *   the line just written with probability c (the same candidate again). A first computation is
 *   wrong with probability slipProb (productSlipProb for *), a re-check with checkSlipProb: a
 *   slip can hide the solution (the search goes on round the cycle) or fake one (the trace stops
 *   with a wrong answer). A re-check can catch a hidden hit, but mostly it costs tokens (and
 *   gives one more chance to fake a hit): re-checks are waste a policy can learn to drop.
 * - Graceful cuts. The summary of a trace with no hit guesses a candidate it has not tried yet,
 *   uniformly, so a cut trace still scores with probability (solutions left) / (candidates left).
 *
 * Measured teacher profile (defaults; `teacherBudgetProfile(search, 4000, 16, 1)`, budgets
 * 6, 12, ..., 96; a length counts THINK_END; `formatProfile` prints these lines):
 *   length histogram per segment (b_{j-1}, b_j]:
 *     0 645 428 0 395 349 298 0 259 216 190 0 164 150 119 0   over b_max: 787
 *   (a) 11 of 16 segments hit (lines are 8 tokens, so lengths are 8n + 1 and 5 of the 6-token
 *       segments hold none), mean length 55.5, 19.7% cut at b_max
 *   (b) accuracy by budget:
 *     .155 .283 .370 .452 .447 .514 .579 .642 .643 .684 .717 .746 .752 .782 .802 .829
 *   (c) accuracy at b_max 0.829; summary of the full, uncut trace 0.940; anytime (uniform) 0.587
 *   Seed 2 gives the same picture (b_max 0.831, cut 18.9%, full trace 0.945).
 *
 * Measured warm-started policy (`npx tsx scripts/warmstart.ts search --steps N`, 2 layers,
 * d_model 64, 110360 parameters; held-out n = 256, budgets 12, 24, ..., 96; 2-core machine
 * shared with other jobs):
 *   3000 steps (238 s, loss 3.20 → 0.28) — not learned:
 *     temperature 1: .137 .164 .137 .137 .133 .152 .141 .133   (90% finish, mean 36.9 tokens)
 *     temperature 0: .207 .203 .145 .125 .180 .160 .145 .156   (0% finish: never closes)
 *     Teacher-forced (128 traces, scripts/teacher-loss.ts and a per-decision split): the value
 *     digit costs 0.35 nats (near the slips' own entropy), but p(THINK_END | hit line) is 0.18.
 *   6000 steps (433 s, loss 3.20 → 0.23; data/base/search-589bd02ce235.ckpt, the presets' base):
 *     temperature 1: .270 .391 .531 .590 .660 .719 .789 .805   (83% finish, mean 47.4 tokens)
 *     temperature 0: .336 .492 .586 .664 .789 .824 .871 .895   (88% finish, mean 41.9 tokens)
 *     p(THINK_END | hit line) 0.999. The loss sits at 0.27-0.29 from step 1000 to ~4500 and then
 *     drops to 0.23: stopping on a hit is learned late, in one go.
 *   (a) lengths spread over the support with 17% cut at b_max; (b) accuracy rises gradually,
 *   .27 → .81; (c) .81 at b_max leaves room (the full teacher trace scores .94).
 */
import { checkPositiveInt, fail } from '../core/errors.js';
import { checkTeacherKnobs, readDigitOpDigit, symbolicTask } from './common.js';
import type { Rng } from '../core/rng.js';
import { randInt } from '../core/rng.js';
import type { Task, TaskProblem } from './types.js';
import {
  type Op,
  TOKEN,
  digitToken,
  opToken,
  symbolicCodec,
  tokenDigit,
  tokenOp,
} from './vocab.js';

/** Knobs of the search task and its teacher. */
export interface SearchConfig {
  /** How many digits the prompt gives (2-5; 4 gives 18 candidates). */
  count: number;
  /** Default b_max (thinking tokens, THINK_END included). */
  maxThinking: number;
  /** Probability that a first computation of a sum or distance is wrong. */
  slipProb: number;
  /** Probability that a first computation of a product is wrong. */
  productSlipProb: number;
  /** Probability that a re-check is wrong. */
  checkSlipProb: number;
  /** Each trace re-checks the line just written with probability c ~ U(0, maxCarefulness). */
  maxCarefulness: number;
  /** Teacher traces are truncated at this many tokens (only lengths ≤ b_max matter). */
  traceCap: number;
}

export const SEARCH_DEFAULTS: Readonly<SearchConfig> = {
  count: 4,
  maxThinking: 96,
  slipProb: 0.05,
  productSlipProb: 0.15,
  checkSlipProb: 0.02,
  maxCarefulness: 0.4,
  traceCap: 192,
};

/** Tokens per thinking line `i a op j b = v ;`. */
export const SEARCH_LINE_LENGTH = 8;

const OP_CYCLE: readonly Op[] = ['+', '-', '*'];

/** One candidate: the digits at prompt positions i < j (1-based) combined by op. */
export interface SearchCandidate {
  i: number;
  j: number;
  op: Op;
}

/** The problem data the teacher and verifier use. */
export interface SearchData {
  numbers: number[];
  target: number;
}

/** Value a line writes for `a op b`: the last digit of the sum, the distance |a - b|, or the product. */
export function lineValue(a: number, op: Op, b: number): number {
  return (op === '+' ? a + b : op === '-' ? Math.abs(a - b) : a * b) % 10;
}

/** Every candidate of `count` positions, in the teacher's cycle order: pairs in order, then + - *. */
export function searchCycle(count: number): SearchCandidate[] {
  const out: SearchCandidate[] = [];
  for (let i = 1; i <= count; i++) {
    for (let j = i + 1; j <= count; j++) for (const op of OP_CYCLE) out.push({ i, j, op });
  }
  return out;
}

/** The line `i a op j b = v ;` of a candidate that writes value `value` (one digit). */
export function searchLine(numbers: readonly number[], k: SearchCandidate, value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 9) fail('value', `must be a digit 0-9, got ${String(value)}`);
  return [
    digitToken(k.i),
    digitToken(numbers[k.i - 1]),
    opToken(k.op),
    digitToken(k.j),
    digitToken(numbers[k.j - 1]),
    TOKEN.EQUALS,
    digitToken(value),
    TOKEN.SEMI,
  ];
}

/** A completed line of a (possibly cut, possibly malformed) trace. */
export interface SearchLine extends SearchCandidate {
  a: number;
  b: number;
  value: number;
}

/**
 * The well-formed 8-token lines completed in a trace, read from its start in steps of 8 and
 * stopping at the first malformed line (positions in 1..count, digits matching the prompt).
 */
export function searchLines(numbers: readonly number[], thinking: ArrayLike<number>): SearchLine[] {
  const out: SearchLine[] = [];
  for (let at = 0; at + SEARCH_LINE_LENGTH <= thinking.length; at += SEARCH_LINE_LENGTH) {
    const t = (k: number) => thinking[at + k];
    const [i, a, j, b, v] = [t(0), t(1), t(3), t(4), t(6)].map(tokenDigit);
    const op = tokenOp(t(2));
    const ok =
      op !== null && i >= 1 && j > i && j <= numbers.length && a === numbers[i - 1] && b === numbers[j - 1] &&
      t(5) === TOKEN.EQUALS && v >= 0 && t(7) === TOKEN.SEMI;
    if (!ok) break;
    out.push({ i, j, op, a, b, value: v });
  }
  return out;
}

/** The summary "i op j" of a candidate: its two prompt positions and the operation. */
function summaryOf(k: SearchCandidate): number[] {
  return [digitToken(k.i), opToken(k.op), digitToken(k.j)];
}

function checkConfig(c: SearchConfig): void {
  checkPositiveInt('search.count', c.count);
  if (c.count < 2 || c.count > 5) fail('search.count', `must be 2-5 (prompt ≤ 8 tokens), got ${c.count}`);
  checkTeacherKnobs('search', c, ['slipProb', 'productSlipProb', 'checkSlipProb'], ['maxCarefulness']);
}

/** Reads a problem's data, failing clearly when it is not a search problem. */
function dataOf(problem: TaskProblem): SearchData {
  const d = problem.data as Partial<SearchData>;
  if (!Array.isArray(d.numbers) || typeof d.target !== 'number') {
    fail('problem.data', `is not a search problem (id '${problem.id}')`);
  }
  return d as SearchData;
}

/** Builds the search task; `config` overrides SEARCH_DEFAULTS. */
export function makeSearchTask(config: Partial<SearchConfig> = {}): Task {
  const c: SearchConfig = { ...SEARCH_DEFAULTS, ...config };
  checkConfig(c);
  const cycle = searchCycle(c.count);

  function sample(rng: Rng): TaskProblem {
    const numbers = Array.from({ length: c.count }, () => randInt(rng, 1, 9));
    // The target is the value of one candidate drawn uniformly, so every problem has a solution.
    const gold = cycle[randInt(rng, 0, cycle.length - 1)];
    const value = (k: SearchCandidate) => lineValue(numbers[k.i - 1], k.op, numbers[k.j - 1]);
    const prompt = [...numbers.map(digitToken), TOKEN.COLON, digitToken(value(gold)), TOKEN.QUERY];
    const answer = symbolicCodec.decode(summaryOf(gold));
    const data: SearchData = { numbers, target: value(gold) };
    return { id: `search:${symbolicCodec.decode(prompt)}`, prompt, answer, data: { ...data } };
  }

  /** A wrong digit near the right one (off by 1 or 2, mod 10). */
  function slipValue(right: number, rng: Rng): number {
    const offsets = [-2, -1, 1, 2];
    return (right + offsets[randInt(rng, 0, offsets.length - 1)] + 10) % 10;
  }

  function teacherTrace(problem: TaskProblem, rng: Rng): number[] {
    const { numbers, target } = dataOf(problem);
    const carefulness = rng() * c.maxCarefulness;
    const out: number[] = [];
    let at = randInt(rng, 0, cycle.length - 1);
    while (out.length < c.traceCap) {
      const k = cycle[at];
      const right = lineValue(numbers[k.i - 1], k.op, numbers[k.j - 1]);
      let v = rng() < (k.op === '*' ? c.productSlipProb : c.slipProb) ? slipValue(right, rng) : right;
      out.push(...searchLine(numbers, k, v));
      while (v !== target && rng() < carefulness && out.length < c.traceCap) {
        v = rng() < c.checkSlipProb ? slipValue(right, rng) : right;
        out.push(...searchLine(numbers, k, v));
      }
      if (v === target) break;
      at = (at + 1) % cycle.length;
    }
    return out.slice(0, c.traceCap);
  }

  function teacherSummary(problem: TaskProblem, thinking: number[], rng: Rng): number[] {
    const { numbers, target } = dataOf(problem);
    const lines = searchLines(numbers, thinking);
    const hits = lines.filter((l) => l.value === target);
    if (hits.length > 0) return summaryOf(hits[hits.length - 1]);
    const tried = new Set(lines.map((l) => `${l.i}${l.op}${l.j}`));
    const untried = cycle.filter((k) => !tried.has(`${k.i}${k.op}${k.j}`));
    const pool = untried.length > 0 ? untried : cycle;
    return summaryOf(pool[randInt(rng, 0, pool.length - 1)]);
  }

  function score(problem: TaskProblem, summary: number[]): 0 | 1 {
    const { numbers, target } = dataOf(problem);
    const said = readDigitOpDigit(summary);
    if (!said) return 0;
    const { x: i, op, y: j } = said;
    // Two different prompt positions (either order: +, * and the distance are symmetric).
    if (i < 1 || j < 1 || i > numbers.length || j > numbers.length || i === j) return 0;
    return lineValue(numbers[i - 1], op, numbers[j - 1]) === target ? 1 : 0;
  }

  return symbolicTask({
    name: 'search',
    version: 3,
    maxPromptLength: c.count + 3,
    maxThinking: c.maxThinking,
    summaryMaxTokens: 5,
    sample,
    teacherTrace,
    teacherSummary,
    score,
  });
}

/** The default search task. */
export const search: Task = makeSearchTask();
