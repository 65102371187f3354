/**
 * The public verifier: `verifyAnswer` (free-form prediction vs gold), `gradeSummary` (the
 * {0,1} reward of a forced summary, ANYTIME.md §1) and the pluggable `Verifier` type.
 *
 * Every extraction, normalisation and comparison rule, and which way we decide where
 * public graders differ, is stated in docs/verifier.md. In short: the answer is the last
 * group of boxes, else the answer after an answer phrase, else a bare answer, else the
 * value the last sentence states; `10\%` = `10` ≠ `0.1`; equality is by value (`2/4` =
 * `\frac12` = `0.5`), with relative tolerance 1e-6, and a decimal with at least two places
 * equals an exact value it rounds (`0.67` = `\frac23`); lists and sets are order-free
 * multisets, tuples ordered (a round-bracket tuple equals the bare list in the same
 * order); a predicted equation stands for the value it states, a gold one only when its
 * left side is a label; sets of reals compare by membership; matrices entry by entry,
 * after evaluating matrix arithmetic; expressions by evaluation at shared sample points,
 * with the compute-engine's `isEqual` as a fallback.
 *
 * Time: every call has a budget (default 2000 ms). JS cannot interrupt a running
 * function, so the budget is checked between steps: when it is spent, remaining
 * comparisons answer "not equal" and the reason says so. Inputs are bounded (predictions
 * over 200k characters are rejected; extracted answers over 8,000 characters must match
 * verbatim; answers over 2,000 characters after normalisation compare as strings only;
 * the engine sees at most 400 characters), so no single step runs long.
 */
import { extractBoxedGroup, extractFinalAnswer, extractPredictionAnswer, type FinalAnswerRule } from './extract.js';
import { normalizeAnswer, answerKey } from './normalize.js';
import { equalAnswers, newContext } from './compare.js';
import { computeEngineClass } from './engine-loader.js';
import { AnytimeDependencyError } from '../core/errors.js';

/**
 * What a catch-all in this module does with an exception: a broken installation
 * ({@link AnytimeDependencyError}) is rethrown, since grading without the parser would
 * give wrong verdicts; anything else becomes the reason string.
 */
function reasonOf(e: unknown): string {
  if (e instanceof AnytimeDependencyError) throw e;
  return `error: ${e instanceof Error ? e.message : String(e)}`;
}

/** What a verifier reports. */
export interface VerifyResult {
  correct: boolean;
  /** The answer taken from the prediction (before normalisation), or null if none. */
  extracted: string | null;
  /** Why: which extraction and comparison decided, or what went wrong. */
  reason: string;
}

/**
 * A pluggable verifier, for evaluation/training code that takes a `verifier` option.
 * It must not throw on any input (a broken installation may throw
 * `AnytimeDependencyError`); `defaultVerifier` is {@link verifyAnswer} with default options.
 */
export type Verifier = (prediction: string, gold: string) => { correct: boolean; extracted?: string | null; reason?: string };

export interface VerifyOptions {
  /** Time budget for the call in milliseconds (default 2000). */
  timeoutMs?: number;
  /** Relative tolerance for numbers (default 1e-6). */
  relTol?: number;
  /** Allow the compute-engine fallback (default true). */
  symbolic?: boolean;
  /**
   * Accept answers whose normalised strings are equal without parsing them (default
   * true). Off is a diagnostic: it makes every comparison take the structural/numeric
   * path (plain words and infinities still compare as strings).
   */
  stringShortcut?: boolean;
}

/** A gold answer as the benchmark files store it: a string, a number, or alternatives. */
export type GoldAnswer = string | number | readonly (string | number)[];

/** Longest prediction text accepted; longer text is judged incorrect at once. */
export const MAX_PREDICTION_CHARS = 200_000;
/** Extracted answers longer than this are compared verbatim (whitespace aside), not normalised. */
export const MAX_NORMALIZED_INPUT_CHARS = 8_000;
/** Answers longer than this (after extraction) are compared as normalised strings only. */
export const MAX_STRUCTURED_ANSWER_CHARS = 2_000;

/**
 * The accepted gold strings: numbers stringified (`142` for a stored `142.0`), arrays as
 * alternatives (any may match), whitespace trimmed. A gold holding `\boxed{…}` (a gold
 * written as a whole solution) is its last group of boxes, as for predictions
 * (`\boxed{3} and \boxed{5}` → the list `3; 5`).
 */
export function goldAlternatives(gold: GoldAnswer): string[] {
  const list = Array.isArray(gold) ? gold : [gold];
  const out: string[] = [];
  for (const g of list as readonly unknown[]) {
    if (typeof g !== 'string' && typeof g !== 'number') continue;
    let s = String(g).trim();
    if (s.includes('\\boxed') || s.includes('\\fbox')) s = extractBoxedGroup(s)?.join('; ') ?? s;
    if (s !== '') out.push(s);
  }
  return out;
}

/**
 * Compares two answers that are already extracted (no boxed/phrase extraction): the
 * core of {@link verifyAnswer}. Never throws on any input; throws `AnytimeDependencyError`
 * when `@cortex-js/compute-engine` cannot be loaded (see {@link verifyAnswer}).
 */
export function compareAnswers(prediction: string, gold: GoldAnswer, opts: VerifyOptions = {}): { correct: boolean; reason: string } {
  computeEngineClass(); // a broken installation throws on every call, whatever the input
  try {
    const golds = goldAlternatives(gold);
    if (golds.length === 0) return { correct: false, reason: 'gold answer is empty' };
    if (typeof prediction !== 'string' || prediction.trim() === '') return { correct: false, reason: 'empty answer' };
    if (prediction.length > MAX_NORMALIZED_INPUT_CHARS) {
      // Too long to normalise within bounds (nested \frac rewriting is quadratic in
      // depth): only a verbatim match (ignoring whitespace) can count.
      const key = prediction.replace(/\s+/g, '');
      const hit = golds.some((g) => g.replace(/\s+/g, '') === key);
      return { correct: hit, reason: hit ? 'equal: string (verbatim, long answer)' : 'not equal (answer too long to normalise)' };
    }
    const ctx = newContext(opts.timeoutMs ?? 2000, opts.relTol ?? 1e-6, opts.symbolic ?? true, opts.stringShortcut ?? true);
    const p = normalizeAnswer(prediction);
    for (const g of golds) {
      const gn = normalizeAnswer(g);
      if (p.length > MAX_STRUCTURED_ANSWER_CHARS || gn.length > MAX_STRUCTURED_ANSWER_CHARS) {
        if (answerKey(p) === answerKey(gn) && (opts.stringShortcut ?? true)) return { correct: true, reason: 'equal: string (long answer)' };
        continue;
      }
      if (equalAnswers(p, gn, ctx)) {
        return { correct: true, reason: `equal: ${[...ctx.methods].join('+') || 'structure'}` };
      }
      if (ctx.timedOut) return { correct: false, reason: `not equal: time limit of ${opts.timeoutMs ?? 2000} ms reached` };
      ctx.methods.clear();
    }
    return { correct: false, reason: 'not equal' };
  } catch (e) {
    return { correct: false, reason: reasonOf(e) };
  }
}

/**
 * Whether a free-form prediction answers `gold`. The answer is taken from the prediction
 * by {@link extractPredictionAnswer} (boxed, then "answer is …", then a bare answer, then
 * the last math span, then the last number); a prediction equal to the gold as a whole
 * (after normalisation) is accepted first. Gold may carry `$…$`, may be a number, or a
 * list of alternatives. Bounded by `opts.timeoutMs` (see the module notes).
 *
 * Never throws on any input. The one exception is a broken installation: when
 * `@cortex-js/compute-engine` cannot be loaded it throws `AnytimeDependencyError` naming
 * the package, on every call and whatever the input, instead of returning verdicts that a
 * verifier without its parser would get wrong.
 */
export function verifyAnswer(prediction: string, gold: GoldAnswer, opts: VerifyOptions = {}): VerifyResult {
  computeEngineClass(); // a broken installation throws on every call, whatever the input
  try {
    if (typeof prediction !== 'string') return { correct: false, extracted: null, reason: 'prediction is not a string' };
    if (prediction.length > MAX_PREDICTION_CHARS) {
      return { correct: false, extracted: null, reason: `prediction longer than ${MAX_PREDICTION_CHARS} characters` };
    }
    const golds = goldAlternatives(gold);
    if (golds.length === 0) return { correct: false, extracted: null, reason: 'gold answer is empty' };
    const whole = prediction.trim();
    const shortcut = opts.stringShortcut ?? true;
    if (shortcut && whole.length <= MAX_STRUCTURED_ANSWER_CHARS && !whole.includes('\\boxed') && !whole.includes('\\fbox')) {
      const key = answerKey(normalizeAnswer(whole));
      if (key !== '' && golds.some((g) => answerKey(normalizeAnswer(g)) === key)) {
        return { correct: true, extracted: whole, reason: 'equal: string (whole prediction)' };
      }
    }
    const found = extractPredictionAnswer(prediction);
    if (found === null) return { correct: false, extracted: null, reason: 'no answer found in prediction' };
    const verdict = compareAnswers(found.answer, golds, opts);
    return { correct: verdict.correct, extracted: found.answer, reason: `${found.source}; ${verdict.reason}` };
  } catch (e) {
    return { correct: false, extracted: null, reason: reasonOf(e) };
  }
}

/** {@link verifyAnswer} with default options, as a {@link Verifier}. */
export const defaultVerifier: Verifier = (prediction, gold) => verifyAnswer(prediction, gold);

/** The reward of one summary. */
export interface SummaryGrade {
  score: 0 | 1;
  /** A non-empty boxed answer was found and the summary has at most one `</think>`. */
  formatted: boolean;
  /** The boxed answer from the summary, or null. */
  extracted: string | null;
}

export interface GradeOptions {
  /** Verifier deciding correctness (default {@link defaultVerifier}). */
  verifier?: Verifier;
  /** Which final-answer rule to use (default `'paper'`, see {@link extractFinalAnswer}). */
  rule?: FinalAnswerRule;
}

const THINK_END = '</think>';

/**
 * The {0,1} reward of a forced summary (ANYTIME.md §1): the answer in the summary's
 * `\boxed{}` (found by {@link extractFinalAnswer}) verified against `gold`.
 *
 * `summary` may be just the generated text after the `**Final Answer**` header, or include
 * the forced suffix (`…</think>\n\n**Final Answer**\n`). It is `formatted` when a
 * non-empty boxed answer was found and it contains at most one `</think>` (the forced one;
 * the paper requires exactly one end-of-thinking across trace and summary, so a summary
 * that reopens and closes thinking again is malformed). Unformatted summaries score 0.
 * The verifier receives `\boxed{answer}` as its prediction, so any verifier that reads
 * boxed answers works. A cut that ended in end-of-sequence (score 0 in the paper) is the
 * caller's check: it is a property of the trace, not of the summary text. Never throws on
 * any input; a verifier's `AnytimeDependencyError` (a broken installation) is passed on.
 */
export function gradeSummary(summary: string, gold: GoldAnswer, opts: GradeOptions = {}): SummaryGrade {
  try {
    if (typeof summary !== 'string') return { score: 0, formatted: false, extracted: null };
    const extracted = summary.length > MAX_PREDICTION_CHARS ? null : extractFinalAnswer(summary, opts.rule ?? 'paper');
    let thinkEnds = 0;
    for (let at = summary.indexOf(THINK_END); at >= 0; at = summary.indexOf(THINK_END, at + THINK_END.length)) thinkEnds++;
    const formatted = extracted !== null && extracted.trim() !== '' && thinkEnds <= 1;
    if (!formatted) return { score: 0, formatted: false, extracted };
    const verifier = opts.verifier ?? defaultVerifier;
    const prediction = `\\boxed{${extracted}}`;
    let correct = false;
    for (const g of goldAlternatives(gold)) {
      let ok = false;
      try {
        ok = verifier(prediction, g).correct === true;
      } catch (e) {
        if (e instanceof AnytimeDependencyError) throw e; // a broken installation, not a wrong answer
        ok = false; // a custom verifier that throws otherwise counts as "not correct"
      }
      if (ok) {
        correct = true;
        break;
      }
    }
    return { score: correct ? 1 : 0, formatted: true, extracted };
  } catch (e) {
    if (e instanceof AnytimeDependencyError) throw e;
    return { score: 0, formatted: false, extracted: null };
  }
}
