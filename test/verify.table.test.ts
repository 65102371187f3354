/**
 * A table of (prediction, gold, expected) cases: one or more per normalisation rule,
 * per structural rule and per known disagreement between graders (see the decisions in
 * src/verify/verify.ts), plus cases that must NOT be judged equal.
 */
import { describe, expect, it } from 'vitest';
import { verifyAnswer } from '../src/verify/index.js';

type Case = [prediction: string, gold: string, expected: boolean, rule: string];

const CASES: Case[] = [
  // Normalisation rules.
  ['\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}', '(3, \\frac{\\pi}{2})', true, '\\left/\\right'],
  ['\\boxed{\\dfrac{3}{56}}', '\\frac{3}{56}', true, '\\dfrac'],
  ['\\boxed{\\tfrac{1}{4}}', '\\frac14', true, '\\tfrac and \\frac14'],
  ['\\boxed{\\text{Evelyn}}', 'Evelyn', true, '\\text unwrap'],
  ['\\boxed{\\mathrm{east}}', '\\text{east}', true, '\\mathrm unwrap'],
  ['\\boxed{\\mbox{even}}', '\\text{even}', true, '\\mbox unwrap'],
  ['\\boxed{EVELYN}', '\\text{Evelyn}', true, 'text answers are case-insensitive'],
  ['\\boxed{12 \\text{ cm}}', '12', true, '\\text unit'],
  ['\\boxed{864}', '864 \\mbox{ inches}^2', true, '\\mbox unit with exponent'],
  ['\\boxed{12 inches}', '12', true, 'plain unit word'],
  ['\\boxed{5 dollars}', '5', true, 'dollars word'],
  ['\\boxed{\\$32,\\!348}', '32348', true, '\\$ and ,\\! thousands'],
  ['\\boxed{\\dollar 5}', '5', true, '\\dollar'],
  ['\\boxed{90^\\circ}', '90', true, '^\\circ'],
  ['\\boxed{90^{\\circ}}', '90^\\circ', true, '^{\\circ}'],
  ['\\boxed{30 degrees}', '30^\\circ', true, 'degrees word'],
  ['\\boxed{\\frac{270}{7}}', '\\frac{270}7\\text{ degrees}', true, '\\frac{270}7 and trailing \\text unit'],
  ['\\boxed{1,000}', '1000', true, 'thousands separator'],
  ['\\boxed{11,111,111,100}', '11,\\! 111,\\! 111,\\! 100', true, 'thousands with ,\\! and spaces'],
  ['\\boxed{.5}', '\\frac{1}{2}', true, '.5 -> 0.5'],
  ['\\boxed{0.0000672}', '.0000672', true, 'leading-dot gold'],
  ['\\boxed{\\frac12}', '\\frac{1}{2}', true, '\\frac12'],
  ['\\boxed{\\frac 59}', '\\frac{5}{9}', true, '\\frac 59 with a space'],
  ['\\boxed{\\sqrt3}', '\\sqrt{3}', true, '\\sqrt3'],
  ['\\boxed{11\\sqrt2}', '11 \\sqrt{2}', true, '\\sqrt2 with a coefficient'],
  ['\\boxed{k = 3}', '3', true, 'k= prefix'],
  ['\\boxed{3}', 'x = 3', true, 'x = prefix in gold'],
  ['\\boxed{10\\!080}', '10080', true, '\\! removed'],
  ['\\boxed{10\\,080}', '10080', true, '\\, removed'],
  ['\\boxed{2~\\text{cm}}', '2', true, '~ and unit'],
  ['\\boxed{5.}', '5', true, 'trailing period'],
  ['The answer is $7$.', '7', true, '"answer is" with trailing period'],
  ['Answer: 13', '13', true, '"Answer:" form'],
  ['We get $x = 2$ and finally $y=5$', '5', true, 'last math span'],
  ['so there are 41 ways in total', '41', true, 'last number'],
  ['\\boxed{\\fbox{4}}', '4', true, 'nested box'],
  ['\\boxed{3.0}', '3', true, '3.0 vs 3'],
  ['\\boxed{1.77 \\times 10^{-6}}', '1.77 \\times 10^{-6}', true, 'scientific notation'],
  ['\\boxed{4.4e7}', '4.4 \\times 10^7', true, 'e-notation vs \\times 10^'],
  ['\\boxed{(C)}', '\\text{(C)}', true, 'choice letter'],
  ['\\boxed{−5}', '-5', true, 'unicode minus'],

  // Known disagreements between graders (our choice in each case).
  ['\\boxed{0.5}', '\\frac12', true, '0.5 vs \\frac12: equal by value'],
  ['\\boxed{2/4}', '1/2', true, '2/4 vs 1/2: equal by value (authors\' grader says no)'],
  ['\\boxed{\\frac{6}{2}}', '3', true, 'unsimplified integer: equal by value'],
  ['\\boxed{(1,2)}', '[1,2]', false, '(1,2) vs [1,2]: brackets differ'],
  ['\\boxed{(1,2]}', '(1,2)', false, 'half-open vs open interval'],
  ['\\boxed{10\\%}', '10', true, '10\\% vs 10: equal'],
  ['\\boxed{10}', '10\\%', true, '10 vs 10\\%: equal'],
  ['\\boxed{10%}', '10\\%', true, '% vs \\%'],
  ['\\boxed{0.1}', '10\\%', false, '0.1 vs 10\\%: not equal (percent sign dropped)'],
  ['\\boxed{2, 1}', '1,2', true, 'order of list items'],
  ['\\boxed{x=-2 \\text{ or } x=1}', '1,-2', true, 'solutions with "or" and prefixes'],
  ['\\boxed{\\{1, 2\\}}', '2, 1', true, 'set vs list'],
  ['\\boxed{142}', '142.0', true, 'AMC float gold'],
  ['\\boxed{(1,2)}', '1, 2', true, 'a round-bracket tuple equals the bare list in the same order'],
  ['\\boxed{(1,2)}', '2, 1', false, 'a tuple against a bare list keeps its order'],
  ['\\boxed{[1,2]}', '1, 2', false, 'an interval is not a list'],
  ['\\boxed{1,1,2}', '1,2', false, 'lists compare as multisets'],

  // Structures.
  ['\\boxed{(3,4),(1,2)}', '(1,2), (3,4)', true, 'list of tuples unordered'],
  ['\\boxed{(2,1),(3,4)}', '(1,2), (3,4)', false, 'tuples inside a list stay ordered'],
  ['\\boxed{\\begin{pmatrix} -\\frac13 \\\\ \\frac23 \\\\ \\frac53 \\end{pmatrix}}', '\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}', true, 'pmatrix entries'],
  ['\\boxed{\\begin{bmatrix} -1 & 0 \\\\ 0 & -1 \\end{bmatrix}}', '\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}', true, 'bmatrix vs pmatrix'],
  ['\\boxed{\\begin{pmatrix} 0 & -1 \\\\ -1 & 0 \\end{pmatrix}}', '\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}', false, 'matrix entries differ'],
  ['\\boxed{(-2,-14,-7)}', '\\begin{pmatrix} -2 \\\\ -14 \\\\ -7 \\end{pmatrix}', true, 'column vector as tuple'],
  ['\\boxed{y = 2x+1}', '2x+1 = y', true, 'equation sides swapped'],
  ['\\boxed{2y = 4x+2}', 'y = 2x + 1', true, 'equation scaled'],
  ['\\boxed{5x - 7y + 11z = -4}', '5x - 7y + 11z + 4 = 0', true, 'plane equation rearranged'],
  ['\\boxed{y = 2x+2}', 'y = 2x + 1', false, 'different equations'],
  ['\\boxed{x > 2}', '2 < x', true, 'mirrored inequality'],
  ['\\boxed{x > 2}', '(2,\\infty)', true, 'inequality vs interval'],
  ['\\boxed{x \\ge 2}', '(2,\\infty)', false, 'closed vs open end'],
  ['\\boxed{k \\geq 2}', 'k \\geqslant 2', true, '\\geq vs \\geqslant'],
  ['\\boxed{-2 \\le x \\le 7}', 'x \\in [-2,7]', true, 'chained inequality vs \\in interval'],
  ['\\boxed{(9,36) \\cup (0,9)}', '(0,9) \\cup (9,36)', true, 'union order'],
  ['\\boxed{1+\\sqrt{19}, 1-\\sqrt{19}}', '1 \\pm \\sqrt{19}', true, '\\pm expands to two answers'],
  ['\\boxed{(-\\infty, 0]}', '(-\\infty, 0]', true, 'infinite interval'],

  // Symbolic / numeric equivalence.
  ['\\boxed{\\frac{\\sqrt{3}}{3}}', '\\frac{1}{\\sqrt{3}}', true, 'rationalised surd'],
  ['\\boxed{2(k+1)}', '2k+2', true, 'expanded expression'],
  ['\\boxed{-q + p}', 'p - q', true, 'reordered terms'],
  ['\\boxed{(x-1)(x^4+x^2+1)}', 'x^5 - x^4 + x^3 - x^2 + x - 1', true, 'factored polynomial'],
  ['\\boxed{-5i + 6}', '6 - 5i', true, 'complex number'],
  ['\\boxed{\\frac{9}{5}}', '1\\frac{4}{5}', true, 'mixed number'],
  ['\\boxed{\\frac{c}{\\sqrt{2}}}', '\\frac{1}{\\sqrt{2}}c', true, 'minerva alternative form'],
  ['\\boxed{\\sin^2\\theta + \\cos^2\\theta}', '1', true, 'identity'],
  ['\\boxed{2^{1009}}', '2 \\cdot 2^{1008}', true, 'large power'],

  // Must NOT be equal.
  ['\\boxed{0.33}', '\\frac{1}{3}', true, '0.33 is \\frac13 rounded to the two places shown'],
  ['\\boxed{0.33333}', '\\frac{1}{3}', true, '0.33333 is \\frac13 rounded to the five places shown'],
  ['\\boxed{0.3}', '\\frac{1}{3}', false, 'one decimal place is too few to read as a rounding'],
  ['\\boxed{0.34}', '\\frac{1}{3}', false, '0.34 is not \\frac13 rounded'],
  ['\\boxed{4}', 'x=3', false, 'x=3 vs 4'],
  ['\\boxed{(2,1)}', '(1,2)', false, 'ordered tuple reversed'],
  ['\\boxed{2}', '\\sqrt{2}', false, '\\sqrt{2} vs 2'],
  ['\\boxed{3.14}', '\\pi', true, '3.14 is \\pi rounded to two places'],
  ['\\boxed{3.15}', '\\pi', false, '3.15 is not \\pi rounded'],
  ['\\boxed{3.1}', '\\pi', false, 'one decimal place is too few to read as a rounding'],
  ['\\boxed{\\frac{\\pi}{2}}', '90^\\circ', false, 'degrees are not converted'],
  ['\\boxed{x^2+1}', 'x^2-1', false, 'different polynomials'],
  ['\\boxed{143}', '142.0', false, 'different AMC answer'],
  ['\\boxed{1,2,3}', '1,2', false, 'extra list item'],
  ['\\boxed{\\text{west}}', '\\text{east}', false, 'different word'],
  ['\\boxed{x=3}', 'y = 3', false, 'different variables in equations'],
  ['\\boxed{}', '5', false, 'empty box'],
  ['no answer here', '5', false, 'nothing to extract'],
];

describe('verifyAnswer table', () => {
  it('has at least 60 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  it.each(CASES)('%s vs %s -> %s (%s)', (prediction, gold, expected) => {
    const r = verifyAnswer(prediction, gold);
    expect(r.correct, r.reason).toBe(expected);
  });

  it('is symmetric on the bare answers of the table', () => {
    // Swapping prediction and gold (both as bare answers) gives the same verdict.
    for (const [prediction, gold, expected] of CASES) {
      const boxed = /^\\boxed\{([\s\S]*)\}$/.exec(prediction);
      if (!boxed || boxed[1] === '' || boxed[1].includes('\\fbox')) continue;
      expect(verifyAnswer(gold, boxed[1]).correct, `${gold} vs ${boxed[1]}`).toBe(expected);
    }
  });

  it('accepts any of several gold alternatives and a numeric gold', () => {
    expect(verifyAnswer('\\boxed{6630}', ['6630.65\n', '6630\n']).correct).toBe(true);
    expect(verifyAnswer('\\boxed{6631}', ['6630.65\n', '6630\n']).correct).toBe(false);
    expect(verifyAnswer('\\boxed{142}', 142.0).correct).toBe(true);
    expect(verifyAnswer('\\boxed{5}', '\\boxed{5}').correct).toBe(true);
  });

  it('reports what it extracted and why', () => {
    const r = verifyAnswer('so the total is $\\frac{1}{2}$. The answer is $\\frac{1}{2}$', '0.5');
    expect(r).toMatchObject({ correct: true, extracted: '$\\frac{1}{2}$' });
    expect(r.reason).toMatch(/^answer-phrase; equal/);
  });
});
