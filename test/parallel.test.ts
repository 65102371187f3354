/**
 * What makes a run's numbers independent of how many threads compute it: a rollout row is
 * computed alike in any batch (so rows can be split across threads), and a minibatch gradient is
 * a fixed sum of chunk gradients (so chunks can be computed anywhere).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend.js';
import { seededRng } from '../src/core/rng.js';
import { budgetSupport, makePrior } from '../src/core/budget.js';
import { TransformerPolicy, makeConfig } from '../src/model/transformer.js';
import { sampleRollouts, requiredSeqLen, type Rollout } from '../src/model/sampler.js';
import { packTraces, packedLogProbs, traceTreeLength } from '../src/model/forward.js';
import { columnTargets, groupTargets, traceTargets } from '../src/train/targets.js';
import { chunkGradient, gradientChunks, splitIntoChunks, sumInChunkOrder, traceTree } from '../src/train/gradient.js';
import { clippedSurrogateLoss } from '../src/train/loss.js';
import { toyTask } from './modelToyTask.js';

const budgets = [2, 4, 6, 8];
const G = 4;
let policy: TransformerPolicy;
// Prompts of 2–5 digits: rows of one batch are left-padded by different amounts.
const problems = Array.from({ length: 24 }, (_, i) => toyTask.sample(seededRng(300 + i)));
const options = { budgets, summariesPerGroup: 3, seed: 11 };
let rollouts: Rollout[];

beforeAll(async () => {
  // As runs use it: wasm with the custom kernels registered.
  await initBackend({ prefer: 'wasm', strict: true });
  const maxSeqLen = requiredSeqLen(toyTask.maxPromptLength, 8, toyTask.summaryMaxTokens);
  policy = new TransformerPolicy(makeConfig({ vocabSize: toyTask.vocab.length, maxSeqLen, seed: 4 }));
  rollouts = await sampleRollouts(policy, toyTask, problems, options);
});
afterAll(() => policy?.dispose());

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

describe('rollout rows do not depend on their batch', () => {
  it('parts sampled separately (firstRow) give the whole batch bit for bit', async () => {
    expect(new Set(problems.map((p) => p.prompt.length)).size).toBeGreaterThan(2);
    expect(rollouts.some((r) => r.finished) && rollouts.some((r) => !r.finished)).toBe(true);
    for (const cuts of [[0, 1, 24], [0, 5, 6, 13, 24], [0, 12, 24], [0, 23, 24]]) {
      const parts: Rollout[] = [];
      for (let i = 0; i + 1 < cuts.length; i++) {
        parts.push(...(await sampleRollouts(policy, toyTask, problems.slice(cuts[i], cuts[i + 1]), { ...options, firstRow: cuts[i] })));
      }
      // toEqual compares numbers with Object.is: the log-probs match exactly.
      expect(parts).toEqual(rollouts);
    }
    // Fewer summary rows per decoding batch: the same again.
    expect(await sampleRollouts(policy, toyTask, problems, { ...options, maxBranchRows: 7 })).toEqual(rollouts);
  });
  it('rejects a bad firstRow, naming it', async () => {
    await expect(sampleRollouts(policy, toyTask, problems, { ...options, firstRow: -1 })).rejects.toThrow(/firstRow: must be an integer ≥ 0/);
  });
});

describe('chunked gradients', () => {
  const prior = makePrior('uniform', budgets);
  const settings = { temperature: 1, clipLow: 0.2, clipHigh: 0.2 };
  const minibatch = () => {
    const groups = Array.from({ length: rollouts.length / G }, (_, q) =>
      groupTargets(rollouts.slice(q * G, (q + 1) * G), prior.probs, { baseline: 'brpo', discount: 2, summaryMode: 'all-budgets' }),
    );
    const thinking = groups.flatMap((g) => g.thinking);
    // Untrained random policies score ~0 everywhere: give every token some advantage to learn from.
    const summary = { advantages: groups.flatMap((g) => g.summary.advantages).map((r, i) => r.map((s) => s.map((a, k) => a + ((i + k) % 3) - 1))), trainable: groups.flatMap((g) => g.summary.trainable) };
    const skewed = thinking.map((row, i) => row.map((a, s) => a + ((i + s) % 2 ? 0.5 : -0.5)));
    return { thinking: skewed, summary };
  };

  it('splitIntoChunks: every trace once, ascending, balanced by tree length, by the data alone', () => {
    const traces = rollouts.map(traceTree);
    const chunks = splitIntoChunks(traces, 4);
    expect(chunks.flat().sort((a, b) => a - b)).toEqual(traces.map((_, i) => i));
    for (const c of chunks) expect(c).toEqual([...c].sort((a, b) => a - b));
    const loads = chunks.map((c) => c.reduce((n, i) => n + traceTreeLength(traces[i]), 0));
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(Math.max(...traces.map(traceTreeLength)));
    expect(splitIntoChunks(traces, 4)).toEqual(chunks);
    expect(splitIntoChunks(traces.slice(0, 2), 5)).toHaveLength(2); // no empty chunks
    expect(() => splitIntoChunks(traces, 0)).toThrow(/chunks: must be a positive integer/);
  });

  it('the chunk gradients add up to the one-pass minibatch gradient, and per-trace targets match columnTargets', async () => {
    const { thinking, summary } = minibatch();
    const targets = traceTargets(rollouts, thinking, summary, budgets, 'seq-mean-token-sum-norm', 8);
    // One pass over the whole minibatch, as train.ts did before chunking.
    const batch = packTraces(rollouts, policy.config.maxSeqLen);
    const cols = columnTargets(batch.layout, rollouts, thinking, summary, budgets, 'seq-mean-token-sum-norm', 8);
    expect(cols.thinkingTokens).toBe(targets.thinkingTokens);
    const vars = policy.variables();
    const [old, adv, w] = [cols.oldLogp, cols.advantages, cols.weights].map((a) => tf.tensor1d(a)) as tf.Tensor1D[];
    const { value, grads } = tf.variableGrads(() => clippedSurrogateLoss(packedLogProbs(policy, batch).logp, old, adv, w, 0.2, 0.2), vars);
    const whole = vars.flatMap((v) => Array.from(grads[v.name].dataSync()));
    const wholeLoss = value.dataSync()[0];
    tf.dispose([value, old, adv, w, ...Object.values(grads)]);

    const tensorsBefore = tf.memory().numTensors;
    const chunks = gradientChunks(rollouts.map(traceTree), targets.traces, 3);
    expect(chunks).toHaveLength(3);
    const parts = [];
    for (const c of chunks) parts.push(await chunkGradient(policy, c, settings));
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const sum = sumInChunkOrder(parts);
    const scale = Math.max(...whole.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    const worst = Math.max(...whole.map((g, i) => Math.abs(g - sum.grads[i])));
    expect(worst / scale).toBeLessThan(1e-5);
    expect(sum.loss).toBeCloseTo(wholeLoss, 6);
    // And it is a pure function of the chunks: again, the same bits.
    const again = [];
    for (const c of chunks) again.push(await chunkGradient(policy, c, settings));
    expect(bytes(sumInChunkOrder(again).grads)).toBe(bytes(sum.grads));
  });
});
