/**
 * The tensor math of src/tensor/ against the pure-TS reference in src/core/, on random
 * inputs (seeded), on every backend of ANYTIME_TEST_BACKENDS. Values are read back with
 * `await t.array()`, so the same test runs on webgpu in Node.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  budgetReturns,
  ppoClipLoss,
  summaryAdvantages,
  thinkingAdvantages,
  tokenAdvantages,
  LOSS_AGGREGATIONS,
  type PpoClipOptions,
} from '../src/core/index.js';
import { seededRng, randInt, type Rng } from '../src/core/rng.js';
import {
  budgetReturnsTensor,
  ppoClipLossTensor,
  ppoClipStatsTensor,
  summaryAdvantagesTensor,
  thinkingAdvantagesTensor,
  tokenAdvantagesTensor,
  TENSOR_BASELINES,
} from '../src/tensor/index.js';
import { testBackends, useBackend } from './backend-env.js';

const CASES = 12;

type Nested = number | Nested[];
function expectClose(actual: Nested, expected: Nested, what: string, tol = 1e-5): void {
  const walk = (a: Nested, e: Nested, path: string): void => {
    if (typeof e === 'number') {
      expect(typeof a, `${what}${path}`).toBe('number');
      expect(Math.abs((a as number) - e), `${what}${path}: ${String(a)} vs ${e}`).toBeLessThanOrEqual(tol * (1 + Math.abs(e)));
      return;
    }
    expect(Array.isArray(a) && a.length === e.length, `${what}${path}: shape`).toBe(true);
    e.forEach((x, i) => walk((a as Nested[])[i], x, `${path}[${i}]`));
  };
  walk(actual, expected, '');
}

/** A random prior over S budgets, sometimes with zero entries (like the base prior). */
function randomProbs(rng: Rng, S: number): number[] {
  const raw: number[] = Array.from({ length: S }, () => (rng() < 0.2 ? 0 : rng()));
  if (!raw.some((p) => p > 0)) raw[S - 1] = 1;
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((p) => p / sum);
}

/** Mean scores of A binary summaries: multiples of 1/A in [0, 1]. */
function randomScores(rng: Rng, G: number, S: number, A = 4): number[][] {
  return Array.from({ length: G }, () => Array.from({ length: S }, () => randInt(rng, 0, A) / A));
}

/** Runs `body`, then checks it left no tensors behind. */
async function noLeaks(body: () => Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  await body();
  expect(tf.memory().numTensors - before, 'leaked tensors').toBe(0);
}

async function read(t: tf.Tensor): Promise<Nested> {
  const v = (await t.array()) as Nested;
  t.dispose();
  return v;
}

describe.each(testBackends())('tensor math on %s', (backend) => {
  it('budgetReturnsTensor equals budgetReturns', async () => {
    await useBackend(backend);
    const rng = seededRng(101);
    await noLeaks(async () => {
      for (let c = 0; c < CASES; c++) {
        const G = randInt(rng, 1, 8);
        const S = randInt(rng, 1, 6);
        const scores = randomScores(rng, G, S);
        const probs = randomProbs(rng, S);
        expectClose(await read(budgetReturnsTensor(scores, probs)), budgetReturns(scores, probs), `case ${c}`);
      }
    });
  });

  it.each(TENSOR_BASELINES)('thinkingAdvantagesTensor equals thinkingAdvantages (baseline %s)', async (baseline) => {
    await useBackend(backend);
    const rng = seededRng(202);
    await noLeaks(async () => {
      for (let c = 0; c < CASES; c++) {
        const G = randInt(rng, 1, 8);
        const S = randInt(rng, 1, 6);
        const scores = randomScores(rng, G, S);
        const probs = randomProbs(rng, S);
        const discount = c % 2 === 0 ? 2 : 0.5 + 2 * rng();
        const scoresTensor = tf.tensor2d(scores);
        const actual = await read(thinkingAdvantagesTensor(scoresTensor, probs, { baseline, discount }));
        scoresTensor.dispose();
        expectClose(actual, thinkingAdvantages(scores, probs, { baseline, discount }), `case ${c} (G=${G}, S=${S})`);
      }
    });
  });

  it('summaryAdvantagesTensor equals summaryAdvantages (both modes, merged prefixes)', async () => {
    await useBackend(backend);
    const rng = seededRng(303);
    await noLeaks(async () => {
      for (let c = 0; c < CASES; c++) {
        const G = randInt(rng, 1, 6);
        const S = randInt(rng, 1, 5);
        const A = randInt(rng, 1, 4);
        const merged = c % 3 !== 0;
        const lastSegment = merged ? Array.from({ length: G }, () => randInt(rng, 0, S - 1)) : undefined;
        // Past lastSegment[g] the summaries are the merged prefix's, reused: scores repeat.
        const scores = Array.from({ length: G }, (_, g) => {
          const rows = Array.from({ length: S }, () => Array.from({ length: A }, () => (rng() < 0.5 ? 1 : 0)));
          if (lastSegment) for (let s = lastSegment[g] + 1; s < S; s++) rows[s] = [...rows[lastSegment[g]]];
          return rows;
        });
        for (const mode of ['all-budgets', 'final-only'] as const) {
          const expected = summaryAdvantages(scores, { mode, lastSegment });
          const actual = summaryAdvantagesTensor(scores, { mode, lastSegment });
          expectClose(await read(actual.advantages), expected.advantages, `case ${c} ${mode} advantages`);
          expectClose(await read(actual.trainable), expected.trainable.map((r) => r.map((cell) => cell.map(Number))), `case ${c} ${mode} trainable`);
        }
      }
    });
  });

  it('tokenAdvantagesTensor equals tokenAdvantages row by row', async () => {
    await useBackend(backend);
    const rng = seededRng(404);
    await noLeaks(async () => {
      for (let c = 0; c < CASES; c++) {
        const S = randInt(rng, 1, 5);
        const step = 1 + 7 * rng(); // non-integer budgets exercise the floor
        const budgets = Array.from({ length: S }, (_, s) => step * (s + 1));
        const B = randInt(rng, 1, 5);
        const traceLengths = Array.from({ length: B }, () => randInt(rng, 0, Math.ceil(budgets[S - 1]) + 3));
        const offsets = Array.from({ length: B }, () => randInt(rng, 0, 4));
        const T = Math.max(...traceLengths.map((n, b) => n + offsets[b])) + randInt(rng, 0, 3);
        const segment = Array.from({ length: B }, () => Array.from({ length: S }, () => rng() * 2 - 1));
        const actual = tokenAdvantagesTensor(segment, traceLengths, budgets, { offsets, sequenceLength: T });
        const expected = segment.map((row, b) => tokenAdvantages(row, traceLengths[b], budgets, { offset: offsets[b], sequenceLength: T }));
        expectClose(await read(actual.advantages), expected.map((e) => Array.from(e.advantages)), `case ${c} advantages`);
        expectClose(await read(actual.mask), expected.map((e) => Array.from(e.mask)), `case ${c} mask`);
      }
    });
  });

  it('ppoClipLossTensor: loss, gradient and stats equal ppoClipLoss for every aggregation', async () => {
    await useBackend(backend);
    const rng = seededRng(505);
    await noLeaks(async () => {
      for (let c = 0; c < CASES; c++) {
        const B = randInt(rng, 1, 5);
        const T = randInt(rng, 1, 9);
        const mask = Array.from({ length: B }, () => Array.from({ length: T }, () => (rng() < 0.7 ? 1 : 0)));
        if (B > 1) mask[0] = mask[0].map(() => 0); // a row with no trainable token
        // Ratios spread well past the clip range on both sides.
        const oldLogp = mask.map((row) => row.map(() => -3 * rng()));
        const logp = oldLogp.map((row, b) => row.map((o, t) => (mask[b][t] ? o + (rng() * 2 - 1) * 0.8 : 1e30)));
        const adv = mask.map((row) => row.map(() => rng() * 4 - 2));
        const opts: PpoClipOptions = {
          aggregation: LOSS_AGGREGATIONS[c % LOSS_AGGREGATIONS.length],
          clipLow: 0.1 + 0.2 * rng(),
          clipHigh: c % 2 === 0 ? undefined : 0.3,
          dualClip: c % 3 === 0 ? 3 : undefined,
        };
        const expected = ppoClipLoss(logp, oldLogp, adv, mask, opts);
        const logpTensor = tf.tensor2d(logp);
        const lossFn = (lp: tf.Tensor) => ppoClipLossTensor(lp as tf.Tensor2D, oldLogp, adv, mask, opts);
        const { value, grad } = tf.valueAndGrad(lossFn)(logpTensor);
        const what = `case ${c} ${JSON.stringify(opts)}`;
        expectClose(await read(value), expected.loss, `${what} loss`);
        expectClose(await read(grad), expected.grad.map((r) => Array.from(r)), `${what} grad`);
        const stats = await ppoClipStatsTensor(logpTensor, oldLogp, adv, mask, opts);
        logpTensor.dispose();
        expect(stats.tokens).toBe(expected.stats.tokens);
        expectClose([stats.clipFraction, stats.dualClipFraction, stats.approxKl, stats.meanRatio], [expected.stats.clipFraction, expected.stats.dualClipFraction, expected.stats.approxKl, expected.stats.meanRatio], `${what} stats`);
      }
    });
  });

  it('rejects bad shapes and options with the argument named', async () => {
    await useBackend(backend);
    await noLeaks(async () => {
      expect(() => budgetReturnsTensor([[1, 0]], [1])).toThrow(/^probs: must have one probability per budget \(2\), got 1/);
      expect(() => thinkingAdvantagesTensor([[1]], [1], { baseline: 'v2only' as never })).toThrow(/^baseline: must be one of 'brpo', 'group-mean', 'own-progress', 'none'/);
      expect(() => summaryAdvantagesTensor([[[1]]], { mode: 'last' as never })).toThrow(/^mode: must be one of 'all-budgets', 'final-only'/);
      expect(() => summaryAdvantagesTensor([[[1], [0]]], { lastSegment: [2] })).toThrow(/^lastSegment\[0\] must be an integer in \[0, 1\]/);
      expect(() => tokenAdvantagesTensor([[1, 2]], [3], [2, 4], { sequenceLength: 2 })).toThrow(/^sequenceLength: must be a positive integer ≥ max\(offset \+ traceLength\) \(3\)/);
      expect(() => tokenAdvantagesTensor([[1]], [3], [2, 4])).toThrow(/^segmentAdvantages: must have shape \[1, 2\]/);
      const lp = tf.zeros([1, 2]) as tf.Tensor2D;
      expect(() => ppoClipLossTensor(lp, [[0, 0]], [[1, 1]], [[1, 1]], { aggregation: 'mean' as never })).toThrow(/^aggregation: must be one of 'token-mean'/);
      expect(() => ppoClipLossTensor(lp, [[0, 0, 0]], [[1, 1]], [[1, 1]])).toThrow(/^oldLogp: must have shape \[1, 2\] like logp, got \[1, 3\]/);
      lp.dispose();
    });
  });
});
