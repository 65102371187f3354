/**
 * Answer extraction (boxed, final-answer header), the summary reward, the pluggable
 * verifier, and robustness: garbage and huge inputs never throw and stay within the
 * time limit.
 */
import { describe, expect, it } from 'vitest';
import {
  defaultVerifier,
  extractBoxed,
  extractFinalAnswer,
  extractPredictionAnswer,
  gradeSummary,
  verifyAnswer,
  type Verifier,
} from '../src/verify/index.js';

describe('extractBoxed', () => {
  it.each([
    ['\\boxed{5}', '5'],
    ['x \\boxed{\\frac{1}{2}} y', '\\frac{1}{2}'],
    ['nested \\boxed{\\left\\{ \\frac{a}{b^{2}} \\right\\}}', '\\left\\{ \\frac{a}{b^{2}} \\right\\}'],
    ['first \\boxed{1} then \\boxed{2}', '2'],
    ['\\boxed{3} and \\fbox{4}', '4'],
    ['\\fbox{4} and \\boxed{3}', '3'],
    ['\\boxed 5', '5'],
    ['so $\\boxed 142$.', '142'],
    ['\\boxed {7}', '7'],
    ['\\boxed{\\{1,2\\}}', '\\{1,2\\}'],
    ['\\boxed{}', ''],
  ])('%s -> %s', (text, expected) => {
    expect(extractBoxed(text)).toBe(expected);
  });

  it.each([
    ['no box here'],
    [''],
    ['\\boxed{unterminated'],
    ['\\boxed{3} then the last box is cut \\boxed{\\frac{1'],
    ['\\boxedsomething{5}'],
    ['\\boxed'],
  ])('%s -> null', (text) => {
    expect(extractBoxed(text)).toBeNull();
  });
});

describe('extractFinalAnswer', () => {
  it('takes the box after the last **Final Answer** header', () => {
    const s = 'thinking \\boxed{1}\n\n**Final Answer**\nfirst try \\boxed{2}\n\n**Final Answer**\n\\boxed{3}';
    expect(extractFinalAnswer(s, 'lenient')).toBe('3');
    // The paper's rule (the default) reads the FIRST paragraph opening with the header.
    expect(extractFinalAnswer(s)).toBe('2');
  });
  it('falls back to the last box anywhere when the chunk after the header has none', () => {
    expect(extractFinalAnswer('so \\boxed{7}\n\n**Final Answer**\nseven', 'lenient')).toBe('7');
    expect(extractFinalAnswer('so \\boxed{7}\n\n**Final Answer**\nseven')).toBeNull();
  });
  it('reads a summary without a header (generated text only)', () => {
    expect(extractFinalAnswer('The answer is \\boxed{\\dfrac{3}{4}}.')).toBe('\\dfrac{3}{4}');
  });
  it('returns null without a complete box', () => {
    expect(extractFinalAnswer('**Final Answer**\nthe answer is 5')).toBeNull();
    expect(extractFinalAnswer('**Final Answer**\n\\boxed{5')).toBeNull();
  });
  it("'paper' rule: first header paragraph only, brace form only, no fallback", () => {
    const forced = '...\n\n...\n\n</think>\n\n**Final Answer**\n';
    expect(extractFinalAnswer(`${forced}\\boxed{12}`, 'paper')).toBe('12');
    expect(extractFinalAnswer('\\boxed{12}', 'paper')).toBe('12'); // header implied
    expect(extractFinalAnswer(`${forced}The answer is\n\n\\boxed{12}`, 'paper')).toBeNull();
    expect(extractFinalAnswer(`${forced}\\boxed 12`, 'paper')).toBeNull();
    expect(extractFinalAnswer(`${forced}\\boxed 12`, 'lenient')).toBe('12');
  });
});

describe('extractPredictionAnswer', () => {
  it.each([
    ['blah \\boxed{4} blah', '4', 'boxed'],
    ['So the final answer is $\\frac{3}{5}$', '$\\frac{3}{5}$', 'answer-phrase'],
    ['Answer: 12 apples\nmore text', '12', 'answer-phrase'],
    ['\\frac{1}{2}', '\\frac{1}{2}', 'bare'],
    ['we find \\(x=4\\) and then \\[y = 9\\] done', 'y = 9', 'math-span'],
    ['there were 3 cats and 1,250 dogs', '1,250', 'last-number'],
  ])('%s', (text, answer, source) => {
    expect(extractPredictionAnswer(text)).toEqual({ answer, source });
  });
  it('returns null when there is nothing', () => {
    expect(extractPredictionAnswer('no digits at all here')).toBeNull();
  });
});

describe('gradeSummary', () => {
  it('scores a correct boxed answer 1', () => {
    expect(gradeSummary('**Final Answer**\n\\boxed{\\frac{1}{2}}', '0.5')).toEqual({ score: 1, formatted: true, extracted: '\\frac{1}{2}' });
  });
  it('scores a wrong boxed answer 0 but formatted', () => {
    expect(gradeSummary('\\boxed{3}', '4')).toEqual({ score: 0, formatted: true, extracted: '3' });
  });
  it('an unboxed answer is unformatted and scores 0 even when right', () => {
    expect(gradeSummary('The answer is 4.', '4')).toEqual({ score: 0, formatted: false, extracted: null });
  });
  it('an empty box is unformatted', () => {
    expect(gradeSummary('\\boxed{}', '4')).toMatchObject({ score: 0, formatted: false });
  });
  it('accepts the forced suffix (one </think>) but not a second </think>', () => {
    const forced = '...\n\n...\n\n</think>\n\n**Final Answer**\n\\boxed{4}';
    expect(gradeSummary(forced, '4')).toMatchObject({ score: 1, formatted: true });
    expect(gradeSummary(`more thinking</think>${forced}`, '4')).toMatchObject({ score: 0, formatted: false });
  });
  it('uses gold alternatives and numeric golds', () => {
    expect(gradeSummary('\\boxed{6630}', ['6630.65', '6630']).score).toBe(1);
    expect(gradeSummary('\\boxed{142}', 142.0).score).toBe(1);
  });
  it('takes a custom verifier, which receives \\boxed{answer}', () => {
    const seen: string[] = [];
    const exactOnly: Verifier = (prediction, gold) => {
      seen.push(prediction);
      return { correct: prediction === `\\boxed{${gold}}` };
    };
    expect(gradeSummary('\\boxed{0.5}', '0.5', { verifier: exactOnly }).score).toBe(1);
    expect(gradeSummary('\\boxed{1/2}', '0.5', { verifier: exactOnly }).score).toBe(0);
    expect(gradeSummary('\\boxed{1/2}', '0.5', { verifier: defaultVerifier }).score).toBe(1);
    expect(seen).toEqual(['\\boxed{0.5}', '\\boxed{1/2}']);
  });
  it('a throwing custom verifier scores 0 instead of throwing', () => {
    const broken: Verifier = () => {
      throw new Error('boom');
    };
    expect(gradeSummary('\\boxed{1}', '1', { verifier: broken })).toEqual({ score: 0, formatted: true, extracted: '1' });
  });
});

describe('never throws, never hangs', () => {
  const huge = 'x'.repeat(100_000);
  const deepBraces = '{'.repeat(20_000) + '1' + '}'.repeat(20_000);
  const garbage: [string, string][] = [
    [huge, '5'],
    [`\\boxed{${huge}}`, '5'],
    [`\\boxed{${'1+'.repeat(50_000)}1}`, '50001'],
    [`\\boxed{${deepBraces}}`, '1'],
    [`\\boxed{${'\\frac{'.repeat(5_000)}`, '1'],
    ['\\boxed{\\frac{', '1'],
    [`\\boxed{${'\\frac{'.repeat(15_000)}1${'}{2}'.repeat(15_000)}}`, '1'],
    [`\\boxed{${'\\frac{'.repeat(1_000)}1${'}{2}'.repeat(1_000)}}`, '1'],
    ['\\boxed{\\frac{1}{0}}', '1'],
    ['\\boxed{0/0}', '0'],
    ['\\boxed{\\sqrt{-1}}', 'i'],
    ['\\boxed{10^{10^{10}}}', '10^{10^{10}}'],
    ['\\boxed{9^{9^{9^{9}}}}', '1'],
    ['\\boxed{1000!}', '1'],
    ['\\boxed{)(][}{}', '1'],
    ['\\boxed{\\left( \\right]}', '(1,2)'],
    ['\\boxed{\\begin{pmatrix}}', '\\begin{pmatrix}1\\end{pmatrix}'],
    ['$$$$$$$\\(\\[', '1'],
    ['\u0000\uffff\ud800', '1'],
    ['\\boxed{x^{2}', 'x^2'],
    ['\\boxed{' + '(1,'.repeat(3000) + '}', '(1,2)'],
    ['\\boxed{' + Array.from({ length: 500 }, (_, k) => `(${k},${k + 1})`).join(',') + '}', Array.from({ length: 500 }, (_, k) => `(${k + 1},${k})`).join(',')],
  ];

  it.each(garbage.map(([p, g], k) => [k, p, g] as const))('case %i returns a result within the time limit', (_k, prediction, gold) => {
    const timeoutMs = 500;
    const start = Date.now();
    const r = verifyAnswer(prediction, gold, { timeoutMs });
    const elapsed = Date.now() - start;
    expect(typeof r.correct).toBe('boolean');
    expect(typeof r.reason).toBe('string');
    // The budget is checked between steps; one step is bounded by the input caps.
    expect(elapsed).toBeLessThan(timeoutMs + 1500);
    const g = gradeSummary(prediction, gold);
    expect([0, 1]).toContain(g.score);
  });

  it('garbage does not compare equal to a real answer', () => {
    expect(verifyAnswer('\\boxed{\\frac{', '1').correct).toBe(false);
    expect(verifyAnswer('\\boxed{0/0}', '0').correct).toBe(false);
    expect(verifyAnswer('\\boxed{\\frac{1}{0}}', '1').correct).toBe(false);
  });

  it('handles non-string inputs from untyped callers', () => {
    const anyVerify = verifyAnswer as unknown as (p: unknown, g: unknown) => ReturnType<typeof verifyAnswer>;
    expect(anyVerify(undefined, '1').correct).toBe(false);
    expect(anyVerify('\\boxed{1}', null).correct).toBe(false);
    expect(anyVerify('\\boxed{1}', { answer: 1 }).correct).toBe(false);
    const anyGrade = gradeSummary as unknown as (s: unknown, g: unknown) => ReturnType<typeof gradeSummary>;
    expect(anyGrade(42, '1')).toEqual({ score: 0, formatted: false, extracted: null });
    expect(extractBoxed(undefined as unknown as string)).toBeNull();
  });

  it('a spent budget answers "not equal" with a reason instead of running on', () => {
    const r = verifyAnswer('\\boxed{(x+1)^2}', 'x^2+2x+1', { timeoutMs: -1 });
    expect(r.correct).toBe(false);
    expect(r.reason).toMatch(/time limit/);
  });
});
