/**
 * Search: reach a target by combining two of the given digits with +, - or *, naming each
 * candidate by the prompt positions of its digits (a locally identifiable Countdown).
 *
 *   prompt   "3 7 2 9 : 1 4 ?"     digits at positions 1-4; target 14, always two digits
 *   thinking "1 3 * 2 7 = 2 1 ; 1 3 + 3 2 = 0 5 ; 1 3 - 3 2 = 0 1 ; ... ; 2 7 * 3 2 = 1 4 ;"
 *   summary  "2 * 3"               positions 2 and 3: 7 * 2 = 14
 *
 * (Decoded text joins digit runs: "3729 : 14 ?", "13 * 27 = 21 ;".) Each line of thinking is
 * `i a op j b = v v ;` (9 tokens): the prompt position i of the first digit and the digit a
 * there, the operation, the position j > i of the second digit and the digit b there, and the
 * value as two digits (leading zero; `-` is the distance |a - b|). The summary is `i op j`;
 * it scores when the digits at two different positions i, j make the target (either order),
 * so any solution counts, not only the one the problem was built from.
 *
 * Why this format (and not `countdown`'s "a op b = v ;"): there the tiny policy stays at chance
 * because it cannot tell which pairs it has tried, and the operands are not identifiable by
 * position. Here every token is a local look-up, as in `chain`: the candidates run through a
 * fixed cycle (pairs (1,2), (1,3), ..., (3,4) in order, and within a pair + - *), so the next
 * i, op, j follow from the previous line's at a fixed offset (lines are always 9 tokens); a and
 * b are the prompt digits at positions i and j (the token just before each); the value is a
 * table look-up of a, op, b; a hit is the two value digits equal to the target's two digits at
 * fixed prompt positions; and the summary copies i, op, j of the last line.
 * A first try wrote the target with 1-2 digits and the summary as digits "a op b" (larger first
 * for -): after 3000 warm-start steps the policy was at chance (held-out .09-.14 at every
 * budget at temperature 1; at temperature 0 it never closed its thinking): it had not learned
 * when a line hits the variable-width target (teacher-forced loss 0.32 nats after ';', 0.60 on
 * summaries). Fixed-width target and positional summaries are this version.
 *
 * Why anytime reasoning matters here (the teacher that the warm start imitates):
 * - The order of search matters. The teacher starts the cycle at a seeded random candidate, so
 *   where the first solution falls, and thus the trace length, varies from one line to past
 *   b_max. A policy can learn to start where solutions are likely (a target above 18 needs *).
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
 *     0 356 0 323 313 0 248 241 0 227 237 0 207 199 0 174   over b_max: 1475
 *   (a) 10 of 16 segments hit (lines are 9 tokens, so lengths are 9n + 1 and 6 of the 6-token
 *       segments hold none), mean length 83.1, 36.9% cut at b_max
 *   (b) accuracy by budget:
 *     .098 .171 .254 .253 .325 .379 .383 .436 .489 .486 .529 .587 .588 .630 .670 .672
 *   (c) accuracy at b_max 0.672; summary of the full, uncut trace 0.926; anytime (uniform) 0.434
 *   Seed 2 gives the same picture (b_max 0.672, cut 35.6%, full trace 0.923).
 * For scale (seed 1): without slips or re-checks, 24.3% cut, 0.800 at b_max, full trace 1.000
 * (anytime 0.517); with slips but no re-checks, 29.3% cut, 0.742 at b_max, full trace 0.955.
 *
 * Measured warm-started policy (`nice -n 5 npx tsx scripts/warmstart.ts search --steps 3000`,
 * 2 layers, d_model 64, 110424 parameters; held-out n = 256, budgets 12, 24, ..., 96; 2-core
 * machine shared with other jobs) — NOT LEARNED, in both formats tried:
 *   this format (309 s, loss 3.19 → 0.25; data/base/search-9aceb1a218f3.ckpt):
 *     temperature 1: .125 .090 .109 .129 .145 .121 .160 .137   (63% finish, mean 65.0 tokens)
 *     temperature 0: .141 .141 .082 .105 .105 .094 .078 .070   (0% finish: never closes)
 *   first format (316 s, loss 3.19 → 0.27; same file name, overwritten: the warm-start hash
 *   covers the task name, vocabulary and model, not the prompt/trace format):
 *     temperature 1: .086 .145 .109 .121 .109 .133 .129 .137   (61% finish, mean 67.1 tokens)
 *     temperature 0: .113 .113 .129 .113 .141 .117 .098 .113   (0% finish)
 *   Chance (a uniform guess of one of 18 candidates) is about .10. The policy copies the line
 *   format and the cycle (teacher-forced loss 0.04-0.29 nats on line tokens, 0.93 on the free
 *   first line, 0.36 after ';', 0.52 on summaries; scripts/teacher-loss.ts, 64 traces), and
 *   stops at the teacher's rate at temperature 1, but not after hits: on teacher traces (128,
 *   teacher-forced) THINK_END after a hit line costs 2.04 nats (p ≈ 0.13, where the teacher
 *   stops always), against 0.20 nats for the next line after a miss. It has not learned
 *   "the two value digits equal the prompt's two target digits"; that one decision carries
 *   the whole task, yet it is one token per trace, so it barely moves the mean loss. Kept for the record and for larger policies;
 *   the reproduction presets use `chain`.
 */
import { checkPositiveInt, fail } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { randInt } from '../core/rng.js';
import type { Task, TaskProblem } from './types.js';
import { SPECIAL } from './types.js';
import {
  type Op,
  SYMBOLIC_VOCAB,
  TOKEN,
  beforeEos,
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

/** Tokens per thinking line `i a op j b = v v ;`. */
export const SEARCH_LINE_LENGTH = 9;

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

/** Value a line writes for `a op b`: sum, distance |a - b|, or product. */
export function lineValue(a: number, op: Op, b: number): number {
  return op === '+' ? a + b : op === '-' ? Math.abs(a - b) : a * b;
}

/** Every candidate of `count` positions, in the teacher's cycle order: pairs in order, then + - *. */
export function searchCycle(count: number): SearchCandidate[] {
  const out: SearchCandidate[] = [];
  for (let i = 1; i <= count; i++) {
    for (let j = i + 1; j <= count; j++) for (const op of OP_CYCLE) out.push({ i, j, op });
  }
  return out;
}

/** The line `i a op j b = v v ;` of a candidate that writes value `value` (0-99). */
export function searchLine(numbers: readonly number[], k: SearchCandidate, value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 99) fail('value', `must be an integer 0-99, got ${String(value)}`);
  return [
    digitToken(k.i),
    digitToken(numbers[k.i - 1]),
    opToken(k.op),
    digitToken(k.j),
    digitToken(numbers[k.j - 1]),
    TOKEN.EQUALS,
    ...twoDigits(value),
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
 * The well-formed 9-token lines completed in a trace, read from its start in steps of 9 and
 * stopping at the first malformed line (positions in 1..count, digits matching the prompt).
 */
export function searchLines(numbers: readonly number[], thinking: ArrayLike<number>): SearchLine[] {
  const out: SearchLine[] = [];
  for (let at = 0; at + SEARCH_LINE_LENGTH <= thinking.length; at += SEARCH_LINE_LENGTH) {
    const t = (k: number) => thinking[at + k];
    const [i, a, j, b, v1, v0] = [t(0), t(1), t(3), t(4), t(6), t(7)].map(tokenDigit);
    const op = tokenOp(t(2));
    const ok =
      op !== null && i >= 1 && j > i && j <= numbers.length && a === numbers[i - 1] && b === numbers[j - 1] &&
      t(5) === TOKEN.EQUALS && v1 >= 0 && v0 >= 0 && t(8) === TOKEN.SEMI;
    if (!ok) break;
    out.push({ i, j, op, a, b, value: 10 * v1 + v0 });
  }
  return out;
}

/** The summary "i op j" of a candidate: its two prompt positions and the operation. */
function summaryOf(k: SearchCandidate): number[] {
  return [digitToken(k.i), opToken(k.op), digitToken(k.j)];
}

/** A value 0-99 as two digit tokens (leading zero): lines and the prompt's target are fixed-width. */
function twoDigits(value: number): number[] {
  return [digitToken(Math.floor(value / 10)), digitToken(value % 10)];
}

function checkConfig(c: SearchConfig): void {
  checkPositiveInt('search.count', c.count);
  if (c.count < 2 || c.count > 5) fail('search.count', `must be 2-5 (prompt ≤ 16 tokens), got ${c.count}`);
  checkPositiveInt('search.maxThinking', c.maxThinking);
  checkPositiveInt('search.traceCap', c.traceCap);
  for (const key of ['slipProb', 'productSlipProb', 'checkSlipProb'] as const) {
    if (!(c[key] >= 0 && c[key] <= 1)) fail(`search.${key}`, `must be a probability in [0, 1], got ${c[key]}`);
  }
  if (!(c.maxCarefulness >= 0 && c.maxCarefulness < 1)) {
    fail('search.maxCarefulness', `must be in [0, 1) so checks end, got ${c.maxCarefulness}`);
  }
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
    // Pick the operation first so that products are a third of targets; distance 0 is no target.
    const op = OP_CYCLE[randInt(rng, 0, 2)];
    const value = (k: SearchCandidate) => lineValue(numbers[k.i - 1], k.op, numbers[k.j - 1]);
    const withOp = cycle.filter((k) => k.op === op && value(k) > 0);
    const pool = withOp.length > 0 ? withOp : cycle.filter((k) => k.op === '+');
    const gold = pool[randInt(rng, 0, pool.length - 1)];
    const prompt = [...numbers.map(digitToken), TOKEN.COLON, ...twoDigits(value(gold)), TOKEN.QUERY];
    const answer = symbolicCodec.decode(summaryOf(gold));
    const data: SearchData = { numbers, target: value(gold) };
    return { id: `search:${symbolicCodec.decode(prompt)}`, prompt, answer, data: { ...data } };
  }

  function slipValue(right: number, rng: Rng): number {
    const ok = [-10, -2, -1, 1, 2, 10].map((o) => right + o).filter((v) => v >= 0 && v <= 99);
    return ok[randInt(rng, 0, ok.length - 1)];
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
    const said = beforeEos(summary, SPECIAL.EOS);
    if (said.length !== 3) return 0;
    const i = tokenDigit(said[0]);
    const op = tokenOp(said[1]);
    const j = tokenDigit(said[2]);
    // Two different prompt positions (either order: +, * and the distance are symmetric).
    if (op === null || i < 1 || j < 1 || i > numbers.length || j > numbers.length || i === j) return 0;
    return lineValue(numbers[i - 1], op, numbers[j - 1]) === target ? 1 : 0;
  }

  return {
    name: 'search',
    vocab: SYMBOLIC_VOCAB,
    maxPromptLength: c.count + 4,
    maxThinking: c.maxThinking,
    summaryMaxTokens: 5,
    sample,
    teacherTrace,
    teacherSummary,
    score,
    encode: symbolicCodec.encode,
    decode: symbolicCodec.decode,
  };
}

/** The default search task. */
export const search: Task = makeSearchTask();
