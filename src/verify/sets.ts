/**
 * Answers that describe a set of real numbers, compared by membership: intervals, unions,
 * finite sets, one-variable inequalities (also chained, with `|x|` or `x^2` in the
 * middle), lists of inequalities joined by "or", `x \in S`, `\mathbb{R}`, `\emptyset` and
 * `A \setminus B`.
 *
 * Two such answers are equal when every test point is in both or in neither. The test
 * points are the boundaries both answers state (interval ends, the constant sides of the
 * inequalities, and their negatives), points just beside each, midpoints between them, and
 * a fixed spread of points out to ±10⁷, plus the boundaries a side implies without stating
 * them (`x^2 < 5` changes at ±√5), located by bisection wherever its membership changes
 * between two test points. So `[-5,-2] \cup [2,5]` = `2 \le |w| \le 5` and `x \ne 3` =
 * `(-\infty,3) \cup (3,\infty)`, while `x^2 < 5` ≠ `(-2.2, 2.2)`. A part of a set that
 * lies wholly between two neighbouring test points (a single excluded point no side
 * states, an interval narrower than the spacing) can go unseen: this is a sampled check
 * (docs/verifier.md).
 */
import type { Answer, RelOp } from './structure.js';
import { parseAnswer } from './structure.js';
import { EvalUnsupported, evaluate, freeVariables, isReal, type Complex, type MathJson } from './evaluate.js';
import { constantValue } from './numbers.js';
import { parseLatex } from './symbolic.js';

/** A subset of ℝ: membership (null when a point cannot be decided) and its stated boundaries. */
export interface RealSet {
  contains(x: number): boolean | null;
  boundaries: number[];
}

const EPS = 1e-9;
const near = (x: number, e: number) => Number.isFinite(e) && Math.abs(x - e) <= EPS * Math.max(1, Math.abs(e));

const ALL: RealSet = { contains: () => true, boundaries: [] };
const NONE: RealSet = { contains: () => false, boundaries: [] };

function endpoint(text: string): number | null {
  const t = text.replace(/\s+/g, '');
  if (t === '\\infty' || t === '+\\infty') return Infinity;
  if (t === '-\\infty') return -Infinity;
  const v = constantValue(text);
  return v !== null && isReal(v) ? v[0] : null;
}

function interval(a: Extract<Answer, { kind: 'tuple' }>): RealSet | null {
  if (a.items.length !== 2 || a.items.some((x) => x.kind !== 'scalar')) return null;
  const lo = endpoint((a.items[0] as { text: string }).text);
  const hi = endpoint((a.items[1] as { text: string }).text);
  if (lo === null || hi === null || !(lo < hi)) return null;
  const loClosed = a.open === '[';
  const hiClosed = a.close === ']';
  return {
    contains: (x) => {
      if (near(x, lo)) return loClosed;
      if (near(x, hi)) return hiClosed;
      return x > lo && x < hi;
    },
    boundaries: [lo, hi].filter(Number.isFinite),
  };
}

function finiteSet(items: Answer[]): RealSet | null {
  const points: number[] = [];
  for (const item of items) {
    if (item.kind !== 'scalar') return null;
    const v = endpoint(item.text);
    if (v === null || !Number.isFinite(v)) return null;
    points.push(v);
  }
  return { contains: (x) => points.some((p) => near(x, p)), boundaries: points };
}

function union(sets: RealSet[]): RealSet {
  return {
    contains: (x) => {
      let undecided = false;
      for (const s of sets) {
        const c = s.contains(x);
        if (c === true) return true;
        if (c === null) undecided = true;
      }
      return undecided ? null : false;
    },
    boundaries: sets.flatMap((s) => s.boundaries),
  };
}

function holds(op: RelOp, l: number, r: number): boolean {
  const tol = EPS * Math.max(1, Math.abs(l), Math.abs(r));
  switch (op) {
    case '<':
      return l < r - tol;
    case '>':
      return l > r + tol;
    case '\\le':
      return l <= r + tol;
    case '\\ge':
      return l >= r - tol;
    case '\\ne':
      return Math.abs(l - r) > tol;
    case '=':
      return Math.abs(l - r) <= tol;
  }
}

/** An inequality (or chain) in exactly one variable, e.g. `2 \le |w| \le 5`, `x^2 < 9`. */
function inequality(r: Extract<Answer, { kind: 'relation' }>): RealSet | null {
  if (!r.ops.some((op) => op !== '=')) return null;
  const trees: MathJson[] = [];
  for (const part of r.parts) {
    const json = parseLatex(part);
    if (json === null) return null;
    trees.push(json);
  }
  const names = new Set<string>();
  for (const t of trees) freeVariables(t, names);
  if (names.size !== 1) return null;
  const [name] = [...names];
  const boundaries: number[] = [];
  for (const part of r.parts) {
    const v = endpoint(part);
    if (v !== null && Number.isFinite(v)) boundaries.push(v);
  }
  return {
    contains: (x) => {
      const vars = new Map<string, Complex>([[name, [x, 0]]]);
      try {
        const values = trees.map((t) => evaluate(t, vars));
        // Undefined or not real (`\sqrt{x}` at x < 0): the point is outside the domain.
        if (values.some((v) => Number.isNaN(v[0]) || Number.isNaN(v[1]) || Math.abs(v[1]) > 1e-9 * Math.max(1, Math.abs(v[0])))) return false;
        return r.ops.every((op, k) => holds(op, values[k][0], values[k + 1][0]));
      } catch (e) {
        if (e instanceof EvalUnsupported) return null;
        throw e;
      }
    },
    boundaries,
  };
}

const REALS = /^(?:\\mathbb\{?R\}?|\\R|\\Bbb\{?R\}?|\\mathbf\{?R\}?|ℝ|\(-\\infty,\\infty\))$/;
const EMPTY = /^(?:\\emptyset|\\varnothing|∅|\\\{\\\}|\{\})$/;

/** The set an answer describes, or null when it is not a set of reals we can read. */
export function realSetOf(a: Answer, depth = 0): RealSet | null {
  if (depth > 6) return null;
  switch (a.kind) {
    case 'tuple':
      return interval(a);
    case 'set':
      return finiteSet(a.items);
    case 'union': {
      const parts = a.items.map((x) => realSetOf(x, depth + 1));
      return parts.every((p): p is RealSet => p !== null) ? union(parts) : null;
    }
    case 'element':
      return realSetOf(a.set, depth + 1);
    case 'relation':
      return inequality(a);
    case 'list': {
      // "x < 1 or x > 4": only lists of inequalities or intervals read as a union.
      if (!a.items.every((x) => x.kind === 'relation' || x.kind === 'tuple' || x.kind === 'union')) return null;
      const parts = a.items.map((x) => realSetOf(x, depth + 1));
      return parts.every((p): p is RealSet => p !== null) ? union(parts) : null;
    }
    case 'scalar': {
      const t = a.text.replace(/\s+/g, '');
      if (REALS.test(t)) return ALL;
      if (EMPTY.test(t)) return NONE;
      const minus = a.text.split('\\setminus');
      if (minus.length === 2) {
        const left = realSetOf(parseAnswer(minus[0]), depth + 1);
        const right = realSetOf(parseAnswer(minus[1]), depth + 1);
        if (left === null || right === null) return null;
        return {
          contains: (x) => {
            const l = left.contains(x);
            const r = right.contains(x);
            return l === null || r === null ? null : l && !r;
          },
          boundaries: [...left.boundaries, ...right.boundaries],
        };
      }
      return null;
    }
    default:
      return null;
  }
}

/** Whether the answer uses set notation beyond one interval or tuple (so membership is worth comparing). */
export function isSetNotation(a: Answer): boolean {
  switch (a.kind) {
    case 'union':
    case 'set':
    case 'element':
      return true;
    case 'relation':
      return a.ops.some((op) => op !== '=');
    case 'list':
      return a.items.length > 0 && a.items.every((x) => x.kind === 'relation' && x.ops.some((op) => op !== '='));
    case 'scalar':
      return /\\setminus|\\mathbb|\\emptyset|\\varnothing|∅|ℝ/.test(a.text);
    default:
      return false;
  }
}

const SPREAD = [0, 0.37, 1.37, 2.71, 4.4, 7.3, 13.1, 27.9, 61.7, 130.3, 1000.3, 1e5 + 0.3, 1e7 + 0.3];

/** The points both sets are tested at. */
function testPoints(boundaries: number[]): number[] {
  const b = [...new Set(boundaries.flatMap((x) => [x, -x]))].sort((x, y) => x - y);
  const pts: number[] = [];
  for (const x of b) {
    const d = 1e-6 * Math.max(1, Math.abs(x));
    pts.push(x, x - d, x + d);
  }
  for (let k = 1; k < b.length; k++) pts.push((b[k - 1] + b[k]) / 2);
  if (b.length > 0) pts.push(b[0] - 1, b[b.length - 1] + 1);
  for (const s of SPREAD) pts.push(s, -s);
  return pts;
}

/** Where `set` changes membership between `lo` (membership `atLo`) and `hi`, by bisection. */
function boundaryBetween(set: RealSet, lo: number, hi: number, atLo: boolean): number {
  for (let k = 0; k < 60 && hi - lo > 1e-12 * Math.max(1, Math.abs(lo)); k++) {
    const mid = (lo + hi) / 2;
    if (set.contains(mid) === atLo) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * 'equal' when both sets agree on every test point, 'different' when one point is in one
 * and not the other, 'undecided' when some point could not be decided for either. A
 * boundary neither set states (`x^2 < 5` changes at ±√5) is located by bisection
 * between test points where that set's membership changes, and tested on both sides.
 */
export function compareRealSets(a: RealSet, b: RealSet, outOfTime: () => boolean = () => false): 'equal' | 'different' | 'undecided' {
  const points = testPoints([...a.boundaries, ...b.boundaries]).sort((x, y) => x - y);
  const found: number[] = [];
  for (const set of [a, b]) {
    if (outOfTime()) return 'undecided';
    let prev: { x: number; in: boolean | null } | null = null;
    for (const x of points) {
      const c = set.contains(x);
      if (prev !== null && prev.in !== null && c !== null && c !== prev.in) found.push(boundaryBetween(set, prev.x, x, prev.in));
      prev = { x, in: c };
    }
  }
  for (const x of found) {
    const d = 1e-7 * Math.max(1, Math.abs(x));
    points.push(x - d, x + d);
  }
  if (outOfTime()) return 'undecided';
  let undecided = false;
  for (const x of points) {
    const ca = a.contains(x);
    const cb = b.contains(x);
    if (ca === null || cb === null) {
      undecided = true;
      continue;
    }
    if (ca !== cb) return 'different';
  }
  return undecided ? 'undecided' : 'equal';
}
