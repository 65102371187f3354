/**
 * Numbers as written: plain and scientific literals, the decimal-comma reading of `3,75`,
 * and equality of a rounded decimal with an exact value (`0.67` vs `\frac23`).
 */
import { EvalUnsupported, evaluate, isFiniteComplex, type Complex } from './evaluate.js';
import { parseLatex } from './symbolic.js';

const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const SCI_NUMBER = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?:\\times|\\cdot|\*|x)\s*10\s*\^\s*(?:\{\s*([+-]?\d+)\s*\}|([+-]?\d))$/;
const POWER_OF_TEN = /^10\s*\^\s*(?:\{\s*([+-]?\d+)\s*\}|([+-]?\d))$/;

/** A plain decimal or scientific-notation number, else null. */
export function plainNumber(s: string): number | null {
  const t = s.trim();
  if (PLAIN_NUMBER.test(t)) return Number(t);
  let m = SCI_NUMBER.exec(t);
  if (m) return Number(m[1]) * Math.pow(10, Number(m[2] ?? m[3]));
  m = POWER_OF_TEN.exec(t);
  if (m) return Math.pow(10, Number(m[1] ?? m[2]));
  return null;
}

/**
 * The decimal reading of a whole answer written `a,b` with no spaces when its digit
 * groups cannot be thousands: `3,75` → `3.75`, `0,111` → `0.111`, `1000,99` → `1000.99`.
 * Null for `12,500` (a thousands group: normalisation already made it `12500`) and for
 * anything else. `1,2` has both readings (the list 1, 2 and the decimal 1.2): compare.ts
 * uses the decimal one only against a single number.
 */
export function decimalCommaReading(s: string): string | null {
  const m = /^([+-]?\d+),(\d+)$/.exec(s.trim());
  if (!m) return null;
  const whole = m[1].replace(/^[+-]/, '');
  const thousands = m[2].length === 3 && whole.length <= 3 && !whole.startsWith('0');
  return thousands ? null : `${m[1]}.${m[2]}`;
}

/** Fewest decimal places for the rounding rule: `0.7` is not read as a rounding of `\frac23`. */
export const MIN_ROUNDING_DECIMALS = 2;

/** Digits after the point of a plain decimal literal (`0.67` → 2), or 0 for anything else. */
export function decimalPlaces(s: string): number {
  const m = /^[+-]?\d*\.(\d+)$/.exec(s.trim());
  return m ? m[1].length : 0;
}

/**
 * Whether `literal` (a plain decimal with at least {@link MIN_ROUNDING_DECIMALS} places)
 * is `value` rounded to the places it shows: `0.67` for 2/3, `1.4286` for 10/7, `3.14`
 * for π; not `1.428` for 10/7 (truncated) nor `0.66`.
 */
export function isRoundingOf(literal: string, value: number): boolean {
  const places = decimalPlaces(literal);
  if (places < MIN_ROUNDING_DECIMALS || !Number.isFinite(value)) return false;
  const shown = Number(literal);
  const halfUnit = 0.5 * Math.pow(10, -places);
  return Math.abs(value - shown) <= halfUnit * (1 + 1e-9) + 1e-12 * Math.abs(value);
}

/**
 * The value of a LaTeX expression without free variables (`\frac{10}{7}`, `\sqrt2\pi`),
 * as a complex number; null when it does not parse, has variables or does not evaluate.
 */
export function constantValue(latex: string): Complex | null {
  const json = parseLatex(latex);
  if (json === null) return null;
  try {
    const v = evaluate(json, new Map());
    return isFiniteComplex(v) ? v : null;
  } catch (e) {
    if (e instanceof EvalUnsupported) return null;
    throw e;
  }
}
