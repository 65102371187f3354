/**
 * Assertion cells for the notebooks: each states a fact the notebook teaches, prints it with a
 * ✓ when it holds, and throws when it does not, so `npm run notebooks` (which fails on any cell
 * error) fails too. The printed line carries the checked value, so runs under different kernels
 * can be compared line for line.
 *
 * A failed check throws at once (even if the caller forgets `await`); a passing one returns the
 * promise of its printed line: `await` it, so the line is out before the cell ends (see printLine).
 */
import { printLine } from './display.js';

/** A fact a notebook states did not hold. */
export class NotebookCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotebookCheckError';
  }
}

/** A nested array of numbers (a vector, matrix, …) or one number. */
export type NumberTree = number | readonly NumberTree[];

/** Short, stable text of a value for the ✓ line (numbers to 6 significant digits). */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (Array.isArray(value)) return `[${value.map(describeValue).join(', ')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}: ${describeValue(v)}`).join(', ')}}`;
  return JSON.stringify(value);
}

/** Checks that a condition holds. `detail` says what was seen (shown either way). */
export function check(fact: string, holds: boolean, detail?: string): Promise<void> {
  const suffix = detail === undefined ? '' : ` (${detail})`;
  if (!holds) throw new NotebookCheckError(`✗ ${fact}${suffix}`);
  return printLine(`✓ ${fact}${suffix}`);
}

/** Largest |a − e| over two number trees of the same shape (Infinity when the shapes differ). */
export function maxAbsDifference(actual: NumberTree, expected: NumberTree): number {
  if (typeof expected === 'number') return typeof actual === 'number' ? Math.abs(actual - expected) : Infinity;
  if (!Array.isArray(actual) || actual.length !== expected.length) return Infinity;
  let d = 0;
  for (let i = 0; i < expected.length; i++) d = Math.max(d, maxAbsDifference(actual[i], expected[i]));
  return d;
}

/** Checks that two numbers (or nested arrays of them) agree within `tolerance`. */
export function checkClose(fact: string, actual: NumberTree, expected: NumberTree, tolerance = 1e-9): Promise<void> {
  const d = maxAbsDifference(actual, expected);
  return check(fact, d <= tolerance, d <= tolerance ? describeValue(actual) : `got ${describeValue(actual)}, expected ${describeValue(expected)}, |difference| ${d}`);
}

/** Checks that two values are structurally equal (as JSON). */
export function checkEqual(fact: string, actual: unknown, expected: unknown): Promise<void> {
  const same = JSON.stringify(actual) === JSON.stringify(expected);
  return check(fact, same, same ? describeValue(actual) : `got ${describeValue(actual)}, expected ${describeValue(expected)}`);
}
