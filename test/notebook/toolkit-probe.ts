/**
 * A representative set of toolkit calls whose results must be identical wherever the toolkit
 * runs: Node ESM (vitest, tsx), tslab's CommonJS kernel and Deno's kernel. test/notebook-kernels
 * runs it in each and compares the JSON. Covers the verifier (which once loaded compute-engine as
 * `{}` under CommonJS and silently judged `0.5` ≠ `\frac12`), returns and advantages, a short
 * seeded rollout of the committed chain base policy, and a plot rendered to PNG.
 */
import { budgetReturns, makePrior, summaryAdvantages, thinkingAdvantages, thinkingValues } from '../../src/core/index.js';
import { verifyAnswer, gradeSummary } from '../../src/verify/index.js';
import { initBackend } from '../../src/backend.js';
import { getPreset } from '../../src/train/presets.js';
import { getTask, heldOutSet } from '../../src/tasks/index.js';
import { basePolicy } from '../../src/model/warmstart.js';
import { sampleRollouts } from '../../src/model/sampler.js';
import { lineChartSvg, svgToPng } from '../../src/plot/index.js';

/** Verifier cases: [prediction, gold]. */
export const VERIFIER_CASES: [string, string][] = [
  ['0.5', '\\frac12'],
  ['2\\sqrt{2}', '\\sqrt{8}'],
  ['1/2', '\\frac{1}{2}'],
  ['\\dfrac{3}{4}', '0.75'],
  ['x^2+2x+1', '(x+1)^2'],
  ['(2,1)', '(1,2)'],
  ['\\{2,1\\}', '\\{1,2\\}'],
  ['(1,2)', '[1,2]'],
  ['10\\%', '10'],
  ['\\pi/2', '\\frac{\\pi}{2}'],
];

/** FNV-1a of bytes, as hex: a short fingerprint of a PNG. */
function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

export async function toolkitProbe(): Promise<Record<string, unknown>> {
  const verifier = VERIFIER_CASES.map(([p, g]) => {
    const v = verifyAnswer(`\\boxed{${p}}`, g);
    return { p, g, correct: v.correct, reason: v.reason ?? null };
  });
  const graded = gradeSummary('**Final Answer**\n\\boxed{\\frac{1}{2}}', '0.5').score;

  const scores = [
    [0, 0.25, 0.75, 1],
    [0.25, 0.5, 1, 1],
    [0, 0.5, 0.5, 0.5],
    [0, 0, 0, 0.25],
  ];
  const probs = makePrior('uniform', [24, 48, 72, 96]).probs;
  const brpo = thinkingValues(scores, probs, { baseline: 'brpo' });
  const advantages = {
    returns: budgetReturns(scores, probs),
    brpoV: brpo.V,
    brpo: thinkingAdvantages(scores, probs, { baseline: 'brpo' }),
    groupMean: thinkingAdvantages(scores, probs, { baseline: 'group-mean' }),
    linearPrior: budgetReturns(scores, makePrior('linear', [24, 48, 72, 96]).probs),
    summaries: summaryAdvantages(scores.map((row) => row.map((r) => [r, 1 - r, r])), { mode: 'all-budgets', lastSegment: [3, 2, 1, 3] }).advantages,
  };

  const backend = await initBackend({ prefer: 'wasm' });
  const preset = getPreset('notebook');
  const task = getTask(preset.task);
  const base = await basePolicy(task, preset.warmStart);
  if (!base.cached) throw new Error(`the committed base policy ${base.path} was not found: the probe must not train one`);
  const problems = heldOutSet(task, 2, 0);
  const rollouts = await sampleRollouts(base.policy, task, [problems[0], problems[0], problems[1], problems[1]], { budgets: [24, 48, 72, 96], summariesPerGroup: 2, seed: 11, temperature: 1 });
  base.policy.dispose();
  const rollout = rollouts.map((r) => ({
    thinking: r.thinking,
    finished: r.finished,
    // Sampling log-probs to 6 significant digits: the same kernels give the same floats; printing all 17 digits would only test JSON.
    logp: r.thinkingLogp.slice(0, 8).map((x) => Number(x.toPrecision(6))),
    summaries: r.groups.map((g) => g.summaries.map((s) => ({ tokens: s.tokens, score: s.score }))),
  }));

  const png = await svgToPng(await lineChartSvg({ title: 'probe', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [{ x: 1, y: 2 }, { x: 2, y: 3 }] }] }));
  return { verifier, graded, advantages, backend: { name: backend.name, simd: backend.simd }, rollout, png: { bytes: png.length, fnv1a: fnv1a(png) } };
}
