/**
 * Countdown (two-number form): reach a target by combining two of the given digits with
 * +, - or *.
 *
 *   prompt   "3 , 7 , 2 , 9 , 5 : 14 ?"      digits 3, 7, 2, 9, 5; target 14
 *   thinking "3 + 7 = 10 ; 9 - 2 = 7 ; 7 * 2 = 14 ;"
 *   summary  "7 * 2"
 *
 * Each line of thinking tries one candidate `a op b = v ;` (6-7 tokens). The candidates are
 * every pair of positions with + and * (in prompt order) and - (larger minus smaller, when
 * they differ): at most 30 for the default five digits. The trace stops after the first
 * line whose value is the target. Any pair of given digits that reaches the target scores,
 * not only the one the problem was built from.
 *
 * Why anytime reasoning matters here (the teacher that the warm start imitates):
 * - The order of search matters. The teacher tries candidates in a seeded random order and
 *   ignores obvious cues (a target above 18 needs *, a target of 1 suggests -), so the
 *   position of the first solution, and thus the trace length, varies from one line to
 *   past b_max. A policy can learn better orders.
 * - Wasted work. Each trace draws a repeat rate u ~ U(0, maxRepeat) and re-tries an
 *   already tried candidate with probability u before each new one. Products are
 *   miscomputed with probability productSlipProb, sums and differences with sumSlipProb: a
 *   slip can hide the solution (the search goes on, and after exhausting every candidate it
 *   starts over in a new order) or fake one (the trace stops with a wrong answer).
 * - Graceful cuts. The summary of a trace with no hit guesses a candidate it has not tried
 *   yet, uniformly, so a cut trace still scores with probability (solutions left) /
 *   (candidates left), which grows as the search narrows.
 *
 * Measured teacher profile (defaults; `teacherBudgetProfile(countdown, 4000, 16, 1)`,
 * budgets 6, 12, ..., 96; a length counts THINK_END; `formatProfile` prints these lines):
 *   length histogram per segment (b_{j-1}, b_j]:
 *     0 303 248 264 207 219 193 186 182 151 179 154 134 124 118 130   over b_max: 1208
 *   (a) 15 of 16 segments hit (a line is ≥ 6 tokens), mean length 74.5, 30.2% cut at b_max
 *   (b) accuracy by budget:
 *     .133 .175 .223 .279 .322 .363 .412 .460 .503 .530 .576 .606 .631 .665 .690 .717
 *   (c) accuracy at b_max 0.717; summary of the full, uncut trace 0.920; anytime (uniform) 0.455
 *   Seed 2 gives the same picture (b_max 0.692, cut 32.7%, full trace 0.920).
 * For scale: without slips or repeats, the random search order alone still leaves 18.4% of
 * traces cut and 0.852 at b_max (anytime 0.544); a policy that orders its search well can
 * do much better at every budget.
 *
 * Warm-started policy (measured): after 800 warm-start steps (850 s) the tiny transformer is at
 * chance, ~0.07–0.10 held-out accuracy at b_max (loss 0.70): it does not learn to track which pairs
 * it has tried. Kept as a harder task; the reproduction presets use `chain`.
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
  numberTokens,
  opToken,
  readNumber,
  symbolicCodec,
  tokenDigit,
  tokenOp,
} from './vocab.js';

/** Knobs of the Countdown task and its teacher. */
export interface CountdownConfig {
  /** How many digits the prompt gives (2-5; 5 gives at most 30 candidates). */
  count: number;
  /** Default b_max (thinking tokens, THINK_END included). */
  maxThinking: number;
  /** Probability that the teacher miscomputes a product. */
  productSlipProb: number;
  /** Probability that the teacher miscomputes a sum or difference. */
  sumSlipProb: number;
  /** Each trace re-tries a seen candidate before a new one with probability u ~ U(0, maxRepeat). */
  maxRepeat: number;
  /** Teacher traces are truncated at this many tokens (only lengths ≤ b_max matter). */
  traceCap: number;
}

export const COUNTDOWN_DEFAULTS: Readonly<CountdownConfig> = {
  count: 5,
  maxThinking: 96,
  productSlipProb: 0.15,
  sumSlipProb: 0.03,
  maxRepeat: 0.45,
  traceCap: 192,
};

/** One way to combine two of the given digits. */
export interface Candidate {
  a: number;
  op: Op;
  b: number;
  value: number;
}

/** The problem data the teacher and verifier use. */
export interface CountdownData {
  numbers: number[];
  target: number;
}

/** Value of `a op b` (plain integers, may be negative for -). */
export function evaluate(a: number, op: Op, b: number): number {
  return op === '+' ? a + b : op === '-' ? a - b : a * b;
}

/** Order-free identity of a candidate: + and * commute, - is written larger first. */
function candidateKey(a: number, op: Op, b: number): string {
  return op === '-' ? `${a}-${b}` : `${Math.min(a, b)}${op}${Math.max(a, b)}`;
}

/** Every candidate of a digit list, without duplicates (equal digits give equal candidates). */
export function candidates(numbers: readonly number[]): Candidate[] {
  const seen = new Set<string>();
  const out: Candidate[] = [];
  const add = (a: number, op: Op, b: number) => {
    const key = candidateKey(a, op, b);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ a, op, b, value: evaluate(a, op, b) });
  };
  for (let i = 0; i < numbers.length; i++) {
    for (let j = i + 1; j < numbers.length; j++) {
      const [x, y] = [numbers[i], numbers[j]];
      add(x, '+', y);
      if (x !== y) add(Math.max(x, y), '-', Math.min(x, y));
      add(x, '*', y);
    }
  }
  return out;
}

/** True when `a` and `b` can be taken from two different positions of `numbers`. */
function usesGivenNumbers(numbers: readonly number[], a: number, b: number): boolean {
  const i = numbers.indexOf(a);
  if (i < 0) return false;
  return numbers.some((n, j) => j !== i && n === b);
}

function checkConfig(c: CountdownConfig): void {
  checkPositiveInt('countdown.count', c.count);
  if (c.count < 2 || c.count > 5) fail('countdown.count', `must be 2-5 (prompt ≤ 16 tokens), got ${c.count}`);
  checkTeacherKnobs('countdown', c, ['productSlipProb', 'sumSlipProb'], ['maxRepeat']);
}

/** Reads a problem's data, failing clearly when it is not a Countdown problem. */
function dataOf(problem: TaskProblem): CountdownData {
  const d = problem.data as Partial<CountdownData>;
  if (!Array.isArray(d.numbers) || typeof d.target !== 'number') {
    fail('problem.data', `is not a countdown problem (id '${problem.id}')`);
  }
  return d as CountdownData;
}

/** The lines `a op b = v ;` completed in a (possibly cut, possibly malformed) trace. */
export function completedLines(thinking: ArrayLike<number>): Candidate[] {
  const out: Candidate[] = [];
  let lineStart = 0;
  for (let i = 0; i < thinking.length; i++) {
    if (thinking[i] !== TOKEN.SEMI) continue;
    const [a, op, b, eq] = [thinking[lineStart], thinking[lineStart + 1], thinking[lineStart + 2], thinking[lineStart + 3]];
    const value = readNumber(thinking, lineStart + 4);
    const o = tokenOp(op);
    if (tokenDigit(a) >= 0 && o && tokenDigit(b) >= 0 && eq === TOKEN.EQUALS && value && value.end === i) {
      out.push({ a: tokenDigit(a), op: o, b: tokenDigit(b), value: value.value });
    }
    lineStart = i + 1;
  }
  return out;
}

/** Builds the Countdown task; `config` overrides COUNTDOWN_DEFAULTS. */
export function makeCountdownTask(config: Partial<CountdownConfig> = {}): Task {
  const c: CountdownConfig = { ...COUNTDOWN_DEFAULTS, ...config };
  checkConfig(c);

  function sample(rng: Rng): TaskProblem {
    const numbers = Array.from({ length: c.count }, () => randInt(rng, 1, 9));
    const all = candidates(numbers);
    // Pick the operation first so that products (rarer as values) are a third of targets.
    const op = (['+', '-', '*'] as const)[randInt(rng, 0, 2)];
    const withOp = all.filter((k) => k.op === op);
    const pool = withOp.length > 0 ? withOp : all;
    const gold = pool[randInt(rng, 0, pool.length - 1)];
    const prompt: number[] = [];
    numbers.forEach((n, i) => {
      if (i > 0) prompt.push(TOKEN.COMMA);
      prompt.push(digitToken(n));
    });
    prompt.push(TOKEN.COLON, ...numberTokens(gold.value), TOKEN.QUERY);
    const data: CountdownData = { numbers, target: gold.value };
    return {
      id: `countdown:${symbolicCodec.decode(prompt)}`,
      prompt,
      answer: `${gold.a} ${gold.op} ${gold.b}`,
      data: { ...data },
    };
  }

  function slipValue(value: number, op: Op, rng: Rng): number {
    const offsets = op === '*' ? [-10, -2, -1, 1, 2, 10] : [-2, -1, 1, 2];
    const ok = offsets.map((o) => value + o).filter((v) => v >= 0);
    return ok[randInt(rng, 0, ok.length - 1)];
  }

  function teacherTrace(problem: TaskProblem, rng: Rng): number[] {
    const { numbers, target } = dataOf(problem);
    const all = candidates(numbers);
    const repeatRate = rng() * c.maxRepeat;
    const out: number[] = [];
    const tried: Candidate[] = [];
    let order: Candidate[] = [];
    while (out.length < c.traceCap) {
      let next: Candidate;
      if (tried.length > 0 && rng() < repeatRate) {
        next = tried[randInt(rng, 0, tried.length - 1)];
      } else {
        // A fresh random order each time the candidates run out: the search starts over.
        if (order.length === 0) order = shuffled(all, rng);
        next = order.pop() as Candidate;
        tried.push(next);
      }
      const slip = rng() < (next.op === '*' ? c.productSlipProb : c.sumSlipProb);
      const value = slip ? slipValue(next.value, next.op, rng) : next.value;
      out.push(digitToken(next.a), opToken(next.op), digitToken(next.b), TOKEN.EQUALS, ...numberTokens(value), TOKEN.SEMI);
      if (value === target) break;
    }
    return out.slice(0, c.traceCap);
  }

  function teacherSummary(problem: TaskProblem, thinking: number[], rng: Rng): number[] {
    const { numbers, target } = dataOf(problem);
    const lines = completedLines(thinking);
    const hits = lines.filter((l) => l.value === target);
    let pick: { a: number; op: Op; b: number };
    if (hits.length > 0) {
      pick = hits[hits.length - 1];
    } else {
      const all = candidates(numbers);
      const triedKeys = new Set(lines.map((l) => candidateKey(l.a, l.op, l.b)));
      const untried = all.filter((k) => !triedKeys.has(candidateKey(k.a, k.op, k.b)));
      const pool = untried.length > 0 ? untried : all;
      pick = pool[randInt(rng, 0, pool.length - 1)];
    }
    return [digitToken(pick.a), opToken(pick.op), digitToken(pick.b)];
  }

  function score(problem: TaskProblem, summary: number[]): 0 | 1 {
    const { numbers, target } = dataOf(problem);
    const said = readDigitOpDigit(summary);
    if (!said || !usesGivenNumbers(numbers, said.x, said.y)) return 0;
    return evaluate(said.x, said.op, said.y) === target ? 1 : 0;
  }

  return symbolicTask({
    name: 'countdown',
    maxPromptLength: 2 * c.count + 3,
    maxThinking: c.maxThinking,
    summaryMaxTokens: 5,
    sample,
    teacherTrace,
    teacherSummary,
    score,
  });
}

/** A uniformly shuffled copy (Fisher-Yates). */
function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randInt(rng, 0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The default Countdown task. */
export const countdown: Task = makeCountdownTask();
