// %% [markdown]
// # 04 · Verifying answers
//
// **What this shows.** The reward $r(x, y) \in \{0, 1\}$ of a forced summary comes from the verifier
// (method: [`docs/method.md`](../docs/method.md)): `gradeSummary(summary, gold)` finds the final `\boxed{…}`
// answer of the summary (`extractFinalAnswer`) and `verifyAnswer` compares it with the gold answer (LaTeX
// normalisation, answer structure — tuples, sets, intervals, matrices, equations — numeric sampling and a
// symbolic fallback).
//
// 1. The verifier on the benchmark answer sets the paper evaluates on (AIME 2024, AMC 2022-23, MATH500, Minerva,
//    OlympiadBench), vendored in `data/math/`.
// 2. Cases where grading styles disagree: exact string match, normalised string match, and the verifier.
// 3. The two final-answer rules: `'paper'` (the authors' extraction, the default) and `'lenient'`.
// 4. Plugging in your own verifier.
//
// The verifier must give the same verdicts in every environment (Node, both notebook kernels, the browser):
// the ✓ cells below check the ones this notebook relies on, inside whichever kernel runs it.
//
// **How long it takes.** Measured by the test command (`npm run notebooks -- --kernel all`) on the idle 2-core
// development machine: 12 s under tslab, 5 s under Deno.
// Source: the paired script [`04-verification.ts`](04-verification.ts).

// %%
import * as aq from 'arquero';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as verify from '../src/verify/index.js';
import type { GoldAnswer, Verifier } from '../src/verify/index.js';
import { display, check, checkEqual, printLine } from '../src/notebook/index.js';

const started = performance.now();
const boxed = (s: string) => `\\boxed{${s}}`;
const normKey = (s: string) => verify.answerKey(verify.normalizeAnswer(s));
await printLine(JSON.stringify(verify.verifyAnswer(boxed('\\frac{1}{2}'), '0.5')));

// %%
// ✓ The verdicts the README and this notebook promise, computed inside this kernel.
await check('\\frac12 equals 0.5', verify.verifyAnswer(boxed('0.5'), '\\frac12').correct);
await check('2\\sqrt2 equals \\sqrt8', verify.verifyAnswer(boxed('2\\sqrt{2}'), '\\sqrt{8}').correct);
await check('1/2 equals \\frac{1}{2}', verify.verifyAnswer(boxed('1/2'), '\\frac{1}{2}').correct);
await check('(2,1) does not equal (1,2): tuples are ordered', !verify.verifyAnswer(boxed('(2,1)'), '(1,2)').correct);
await checkEqual('the default verifier scores a correct boxed summary 1', verify.gradeSummary('**Final Answer**\n\\boxed{\\frac{1}{2}}', '0.5').score, 1);

// %% [markdown]
// ## 1. The benchmark answer sets
//
// For every gold answer: its shape; a **self-check** (the gold, boxed, must verify against itself); three
// **re-renderings** a model might write instead (`\frac` → `\dfrac`, an integer `n` → `n.0`, and `x = ` in front) and
// which grading style accepts them; and a **false-positive probe**: consecutive answers of the file whose
// normalised strings differ, which the verifier should judge different.

// %%
const DATA = join('data', 'math');
const files = readdirSync(DATA).filter((f) => f.endsWith('.json')).sort();
const rerender = (g: string): string[] => [
  ...(g.includes('\\frac') ? [g.replace(/\\frac/g, '\\dfrac')] : []),
  ...(/^-?\d+$/.test(g) ? [`${g}.0`] : []),
  // only for answers that are not already a relation (=, <, \le, \geqslant, \in, …)
  ...(!/[=<>$]|\\(in|le|ge|lt|gt|neq?)/.test(g) ? [`x = ${g}`] : []),
];
const rows: Record<string, unknown>[] = [];
const probes: string[] = [];
const rejected: string[] = [];
let selfChecked = 0, golds = 0;
for (const f of files) {
  const answers = (JSON.parse(readFileSync(join(DATA, f), 'utf8')) as { answer: GoldAnswer }[]).map((r) => r.answer);
  const first = (g: GoldAnswer) => String(Array.isArray(g) ? g[0] : g);
  const kinds: Record<string, number> = {};
  let self = 0, calls = 0, variants = 0, exact = 0, normalised = 0, verified = 0, pairs = 0, equalPairs = 0;
  const t0 = performance.now();
  for (const g of answers) {
    const text = first(g);
    const kind = verify.parseAnswer(verify.normalizeAnswer(text)).kind;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    self += verify.verifyAnswer(boxed(text), g).correct ? 1 : 0;
    calls++;
    for (const v of rerender(text)) {
      variants++;
      exact += v === text ? 1 : 0;
      normalised += normKey(v) === normKey(text) ? 1 : 0;
      const ok = verify.verifyAnswer(boxed(v), g).correct;
      verified += ok ? 1 : 0;
      if (!ok) rejected.push(`${f}: \`${v}\` for the gold \`${text}\``);
      calls++;
    }
  }
  for (let i = 0; i + 1 < answers.length; i++) {
    const a = first(answers[i]), b = first(answers[i + 1]);
    if (normKey(a) === normKey(b)) continue;
    pairs++;
    calls++;
    if (verify.verifyAnswer(boxed(a), answers[i + 1]).correct) {
      equalPairs++;
      probes.push(`${f}: \`${a}\` judged equal to \`${b}\``);
    }
  }
  selfChecked += self;
  golds += answers.length;
  rows.push({
    benchmark: f.replace('.json', ''),
    answers: answers.length,
    shapes: Object.entries(kinds).sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${n}`).join(', '),
    'self-check': `${self}/${answers.length}`,
    're-renderings': variants,
    'accepted: exact': exact,
    'accepted: normalised': normalised,
    'accepted: verifier': verified,
    'distinct pairs judged equal': `${equalPairs}/${pairs}`,
    'ms per call': ((performance.now() - t0) / calls).toFixed(2),
  });
}
await display.table(`The verifier on the ${golds} gold answers of data/math/`, aq.from(rows));
const list = (title: string, items: string[]) => `**${title}:** ${items.length === 0 ? 'none' : '\n\n' + items.map((p) => `- ${p}`).join('\n')}`;
await display.markdown(list('Re-renderings the verifier rejected', rejected) + '\n\n' + list('Distinct answers the verifier judged equal', probes));
await checkEqual('every gold answer, boxed, verifies against itself', `${selfChecked}/${golds}`, `${golds}/${golds}`);

// %% [markdown]
// Minerva and OlympiadBench store every gold as a list of accepted alternatives (any may match). A prediction
// `x = 5` matches the gold `5`: an equation that names a single variable is read as its value, on purpose
// (models often write it); so a file holding both `5` and `x=5` shows up in the probe above. A rejected
// `x = …` re-rendering of a gold with a comma (e.g. `58,500`) is ambiguous: after `x =` the comma can also
// separate two solutions.
//
// ## 2. Where grading styles disagree

// %%
const cases: [string, GoldAnswer, string, boolean][] = [
  ['0.5', '\\frac12', 'decimal vs fraction (numeric sampling)', true],
  ['10\\%', '10', 'percent sign dropped by normalisation', true],
  ['(1,2)', '[1,2]', 'open vs closed interval: different answers', false],
  ['142.0', '142', 'trailing .0 (AMC golds are stored as 142.0)', true],
  ['142', 142.0, 'gold stored as the number 142.0', true],
  ['\\dfrac{1}{2}', '\\frac{1}{2}', '\\dfrac vs \\frac', true],
  ['x=3', '3', 'equation naming one variable', true],
  ['\\{2,1\\}', '\\{1,2\\}', 'sets are unordered', true],
  ['(2,1)', '(1,2)', 'tuples are ordered', false],
  ['2\\sqrt{2}', '\\sqrt{8}', 'equal values, different forms', true],
  ['1/2', '\\frac{1}{2}', 'slash vs \\frac', true],
  ['10^{\\circ}', '10', 'degree sign', true],
  ['\\text{(B)}', 'B', 'multiple-choice letter', true],
];
const verdicts = cases.map(([prediction, gold, why, expected]) => {
  const v = verify.verifyAnswer(boxed(prediction), gold);
  return {
    prediction,
    gold: typeof gold === 'number' ? `${gold} (number)` : String(gold),
    'exact string': prediction === String(gold),
    'normalised string': normKey(prediction) === normKey(String(gold)),
    verifier: v.correct,
    'verifier reason': v.reason,
    expected,
    case: why,
  };
});
await display.table('Three grading styles on the same predictions', aq.from(verdicts));
await checkEqual('the verifier gives the expected verdict on all 13 cases', verdicts.filter((v) => v.verifier !== v.expected).map((v) => `${v.prediction} vs ${v.gold}`), []);

// %% [markdown]
// ## 3. The final-answer rule: `'paper'` vs `'lenient'`
//
// `'paper'` (the default) reproduces the authors' extraction: the summary is read as starting with
// `**Final Answer**\n`; only the first paragraph that starts with the header counts, and only a `\boxed{…}` in it.
// `'lenient'` takes the last box after the last header, else the last box anywhere, and also reads `\fbox{}` and
// `\boxed 42`. Both reject a summary that closes its thinking a second time.

// %%
const summaries = [
  '**Final Answer**\n\\boxed{42}',
  'The answer is \\boxed{42}.',
  '**Final Answer**\nLet me check once more.\n\nSo it is \\boxed{42}',
  '\\boxed{41}\n\n**Final Answer**\n\\boxed{42}',
  '**Final Answer**\n\\fbox{42}',
  '**Final Answer**\n\\boxed 42',
  '**Final Answer**\n\\boxed{41}, no wait: \\boxed{42}',
  '...</think>\n\n**Final Answer**\n\\boxed{42}</think>',
];
const rules = summaries.map((s) => ({
  summary: JSON.stringify(s),
  'paper: extracted': String(verify.extractFinalAnswer(s, 'paper')),
  'paper: score': verify.gradeSummary(s, '42').score,
  'lenient: extracted': String(verify.extractFinalAnswer(s, 'lenient')),
  'lenient: score': verify.gradeSummary(s, '42', { rule: 'lenient' }).score,
}));
await display.table('Extraction and score of each summary under both rules (gold 42)', aq.from(rules));
await checkEqual("'paper' ignores a box outside the header's first paragraph, \\fbox and \\boxed 42", [rules[2], rules[4], rules[5]].map((r) => r['paper: score']), [0, 0, 0]);
await checkEqual("'lenient' reads all three", [rules[2], rules[4], rules[5]].map((r) => r['lenient: score']), [1, 1, 1]);
await checkEqual('both rules reject a summary that closes its thinking again', [rules[7]['paper: score'], rules[7]['lenient: score']], [0, 0]);

// %% [markdown]
// ## 4. Plugging in your own verifier
//
// A verifier is any function `(prediction, gold) => { correct, extracted?, reason? }` that does not throw
// (`Verifier` in `src/verify/verify.ts`). `gradeSummary(summary, gold, { verifier })` hands it the extracted answer
// re-boxed (`\boxed{…}`) once per gold alternative; the default is `defaultVerifier` (`verifyAnswer` with default
// options). Two examples: a strict string matcher, and a numeric verifier with a 1% tolerance that falls back to
// the default for anything that is not a plain number.

// %%
const exactMatch: Verifier = (prediction, gold) => {
  const extracted = verify.extractBoxed(prediction);
  return { correct: extracted !== null && extracted.trim() === gold.trim(), extracted };
};
const numericWithin1pct: Verifier = (prediction, gold) => {
  const extracted = verify.extractBoxed(prediction);
  const x = Number(extracted), y = Number(gold);
  if (extracted === null || extracted.trim() === '' || !Number.isFinite(x) || !Number.isFinite(y)) return verify.defaultVerifier(prediction, gold);
  return { correct: Math.abs(x - y) <= 0.01 * Math.max(Math.abs(y), 1e-12), extracted, reason: 'within 1%' };
};
const graded: [string, GoldAnswer][] = [
  ['**Final Answer**\n\\boxed{3.14}', '3.1416'],
  ['**Final Answer**\n\\boxed{\\frac{1}{2}}', '0.5'],
  ['**Final Answer**\n\\boxed{142}', 142.0],
  ['**Final Answer**\n\\boxed{x = 7}', '7'],
  ['**Final Answer**\n\\boxed{(1, 2)}', '(1,2)'],
];
const custom = graded.map(([summary, gold]) => ({
  summary: JSON.stringify(summary),
  gold: String(gold),
  default: verify.gradeSummary(summary, gold).score,
  'exact match': verify.gradeSummary(summary, gold, { verifier: exactMatch }).score,
  'numeric ±1%': verify.gradeSummary(summary, gold, { verifier: numericWithin1pct }).score,
}));
await display.table('Scores under the default and two custom verifiers', aq.from(custom));
await checkEqual('default verifier: 3.14 ≠ 3.1416, the other four correct', custom.map((r) => r.default), [0, 1, 1, 1, 1]);
await checkEqual('numeric ±1% accepts 3.14 for 3.1416', custom[0]['numeric ±1%'], 1);

// %% [markdown]
// ## Takeaways
//
// - The default verifier accepts the equivalent forms models write (`0.5` for `\frac12`, `2\sqrt2` for `\sqrt8`,
//   `x = 3` for `3`) and keeps apart what differs (open vs closed intervals, ordered tuples).
// - The final-answer rule matters as much as the comparison: `'paper'` reproduces the authors' numbers, `'lenient'`
//   is kinder to free-form summaries.
// - Any `(prediction, gold) => { correct }` function plugs in as the verifier of training and evaluation.
//
// **Next:** [05 · Backends and kernels](05-backends-and-kernels.ipynb)

// %%
await printLine(`cells ran in ${((performance.now() - started) / 1000).toFixed(1)} s`);
