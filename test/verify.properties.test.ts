/**
 * Property tests of the verifier (fast-check): equal forms of random rationals, intervals
 * and tuples are judged equal and changed ones are not; a prediction never matches a gold
 * it does not contain; and any input gives a verdict without throwing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyAnswer } from '../src/verify/index.js';

const RUNS = { numRuns: 150, seed: 14 };

const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));

/** A reduced fraction p/q with q ≥ 1. */
const rational = fc
  .tuple(fc.integer({ min: -400, max: 400 }), fc.integer({ min: 1, max: 48 }))
  .map(([p, q]) => {
    const g = gcd(p, q) || 1;
    return { p: p / g, q: q / g };
  });

/** Ways of writing p/q that every grader should accept as the same number. */
function rationalForms({ p, q }: { p: number; q: number }, k: number): string[] {
  const sign = p < 0 ? '-' : '';
  const a = Math.abs(p);
  const forms = [
    q === 1 ? `${p}` : `${sign}\\frac{${a}}{${q}}`,
    `${p}/${q}`,
    `\\dfrac{${p * k}}{${q * k}}`,
    `${sign}\\left(\\frac{${a * k}}{${q * k}}\\right)`,
    `\\boxed{${sign}\\tfrac{${a}}{${q}}}`,
    `The answer is $${sign}\\frac{${a}}{${q}}$.`,
  ];
  if (a > q && q > 1) forms.push(`${sign}${Math.floor(a / q)}\\frac{${a % q}}{${q}}`);
  // A terminating decimal (q has only the factors 2 and 5), written exactly.
  let r = q;
  while (r % 2 === 0) r /= 2;
  while (r % 5 === 0) r /= 5;
  if (r === 1) forms.push(String(p / q));
  return forms;
}

describe('equal forms of random rationals', () => {
  it('every form equals every other form of the same rational', () => {
    fc.assert(
      fc.property(rational, fc.integer({ min: 2, max: 9 }), (x, k) => {
        const forms = rationalForms(x, k);
        for (const a of forms) {
          for (const b of forms) {
            if (b.includes('\\boxed') || b.includes('answer')) continue; // golds are bare answers
            const r = verifyAnswer(a, b);
            if (!r.correct) throw new Error(`${a} vs ${b}: ${r.reason}`);
          }
        }
      }),
      RUNS,
    );
  });

  it('a rounded decimal with at least two places equals the exact fraction; other rationals do not', () => {
    fc.assert(
      fc.property(rational, rational, fc.integer({ min: 2, max: 5 }), (x, y, places) => {
        const exact = `\\frac{${x.p}}{${x.q}}`;
        const rounded = (x.p / x.q).toFixed(places);
        // toFixed rounds half away from zero on the binary value; accept only clear cases.
        const scaled = (Math.abs(x.p / x.q) * 10 ** places) % 1;
        fc.pre(Math.abs(scaled - 0.5) > 1e-6);
        expect(verifyAnswer(rounded, exact).correct, `${rounded} vs ${exact}`).toBe(true);
        fc.pre(x.p * y.q !== y.p * x.q);
        expect(verifyAnswer(`\\frac{${y.p}}{${y.q}}`, exact).correct, `${y.p}/${y.q} vs ${exact}`).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('intervals', () => {
  const bounds = fc
    .tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.boolean())
    .map(([lo, width, loClosed, hiClosed]) => ({ lo, hi: lo + width, loClosed, hiClosed }));

  it('interval, inequality, membership and mirrored inequality forms are equal; a changed bracket is not', () => {
    fc.assert(
      fc.property(bounds, ({ lo, hi, loClosed, hiClosed }) => {
        const open = loClosed ? '[' : '(';
        const close = hiClosed ? ']' : ')';
        const le = (closed: boolean) => (closed ? '\\le' : '<');
        const ge = (closed: boolean) => (closed ? '\\ge' : '>');
        const interval = `${open}${lo}, ${hi}${close}`;
        const forms = [interval, `${lo} ${le(loClosed)} x ${le(hiClosed)} ${hi}`, `x \\in ${interval}`, `${hi} ${ge(hiClosed)} x ${ge(loClosed)} ${lo}`];
        for (const a of forms) for (const b of forms) expect(verifyAnswer(a, b).correct, `${a} vs ${b}`).toBe(true);
        const flipped = `${loClosed ? '(' : '['}${lo}, ${hi}${close}`;
        for (const a of forms) expect(verifyAnswer(flipped, a).correct, `${flipped} vs ${a}`).toBe(false);
      }),
      RUNS,
    );
  });

  it('a union of two disjoint intervals equals itself in either order and the inequalities joined by "or"', () => {
    fc.assert(
      fc.property(fc.integer({ min: -30, max: 30 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), (a, gap, width) => {
        const b = a + width;
        const c = b + gap;
        const d = c + width;
        const union = `[${a}, ${b}] \\cup (${c}, ${d})`;
        expect(verifyAnswer(`(${c}, ${d}) \\cup [${a}, ${b}]`, union).correct).toBe(true);
        expect(verifyAnswer(`${a} \\le x \\le ${b} \\text{ or } ${c} < x < ${d}`, union).correct).toBe(true);
        expect(verifyAnswer(`[${a}, ${d})`, union).correct).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('tuples', () => {
  const tuple = fc.array(fc.integer({ min: -99, max: 99 }), { minLength: 2, maxLength: 4 });

  it('written forms of one tuple are equal; a reordering that changes it is not', () => {
    fc.assert(
      fc.property(tuple, fc.integer({ min: 1, max: 3 }), (xs, shift) => {
        const forms = [
          `(${xs.join(', ')})`,
          `\\left(${xs.join(',')}\\right)`,
          `(${xs.join('; ')})`,
          `\\begin{pmatrix}${xs.join(' \\\\ ')}\\end{pmatrix}`,
          `\\boxed{(${xs.join(',\\ ')})}`,
        ];
        for (const a of forms) expect(verifyAnswer(a, forms[0]).correct, a).toBe(true);
        const rotated = xs.map((_, k) => xs[(k + shift) % xs.length]);
        fc.pre(rotated.some((v, k) => v !== xs[k]));
        expect(verifyAnswer(`(${rotated.join(', ')})`, forms[0]).correct).toBe(false);
      }),
      RUNS,
    );
  });

  it('a list of tuples matches in any order, each tuple keeping its own order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 10, max: 19 })), { minLength: 2, maxLength: 4 }), (pairs) => {
        const gold = pairs.map(([a, b]) => `(${a},${b})`).join(', ');
        const reversed = [...pairs].reverse().map(([a, b]) => `\\boxed{(${a}, ${b})}`).join(' and ');
        expect(verifyAnswer(reversed, gold).correct).toBe(true);
        const swapped = pairs.map(([a, b]) => `(${b},${a})`).join(', ');
        expect(verifyAnswer(swapped, gold).correct).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('a prediction never matches a gold it does not contain', () => {
  const WORDS = ['the', 'answer', 'so', 'we', 'get', 'value', 'is', 'and', 'then', 'total', 'count', 'ways', 'step', 'note', 'check', 'code', 'abc'];
  const joiner = fc.constantFrom(' ', '. ', ', ', '; ', '\n');
  const wrap = fc.constantFrom('plain', 'boxed', 'math', 'phrase');

  it('text made of words, other numbers and the gold inside words is never judged equal to the gold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }).chain((gold) => {
          // Numbers near the gold, the gold itself, and the gold inside words (`QX7B`, `v7`, `7th`).
          const token = fc.oneof(
            fc.constantFrom(...WORDS),
            fc.integer({ min: 0, max: 100_000 }).map(String),
            fc.constantFrom(gold + 1, gold - 1, gold * 10, gold + 10).map(String),
            fc.constantFrom(String(gold), `QX${gold}B`, `v${gold}`, `${gold}th`, `x${gold}`),
          );
          return fc.tuple(fc.constant(gold), fc.array(fc.tuple(token, joiner), { minLength: 1, maxLength: 12 }), wrap);
        }),
        ([gold, parts, how]) => {
          const text = parts.map(([t, j]) => t + j).join('').trim();
          // The gold is contained when its digits appear in the standalone numbers (joined, so
          // that `12 345` counts as containing 12345); numbers inside words do not count.
          const standalone = parts.map(([t]) => t).filter((t) => /^-?\d+$/.test(t)).join('');
          fc.pre(!standalone.includes(String(gold)));
          const prediction =
            how === 'boxed' ? `\\boxed{${text}}` : how === 'math' ? `$${text}$` : how === 'phrase' ? `The answer is ${text}` : text;
          const r = verifyAnswer(prediction, String(gold));
          if (r.correct) throw new Error(`${JSON.stringify(prediction)} matched ${gold}: ${r.reason}`);
        },
      ),
      { numRuns: 500, seed: 14 },
    );
  });
});

describe('totality', () => {
  const latexish = fc.string({ unit: fc.constantFrom(...'\\{}()[]$^_=<>,;:.+-*/ 0123456789xyabAB'.split(''), '\\frac', '\\boxed', '\\sqrt', '\\begin{pmatrix}', '\\end{pmatrix}', '\\cup', '\\le', '\\approx', ' and ', ' is '), maxLength: 60 });

  it('any pair of strings gets a boolean verdict and a reason, without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(latexish, fc.string({ unit: 'grapheme', maxLength: 40 })), latexish, (prediction, gold) => {
        const r = verifyAnswer(prediction, gold, { timeoutMs: 200 });
        expect(typeof r.correct).toBe('boolean');
        expect(typeof r.reason).toBe('string');
      }),
      { numRuns: 400, seed: 14 },
    );
  });
});
