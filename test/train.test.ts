import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budgetSupport, makePrior } from '../src/core/budget.js';
import { ppoClipLoss } from '../src/core/loss.js';
import { getTask } from '../src/tasks/index.js';
import { trainingSampler } from '../src/tasks/splits.js';
import { SPECIAL } from '../src/tasks/types.js';
import { warmStart } from '../src/model/warmstart.js';
import { saveCheckpoint } from '../src/model/checkpoint.js';
import { sampleRollouts, type Rollout } from '../src/model/sampler.js';
import { packTraces, packedLogProbs, TokenKind } from '../src/model/forward.js';
import type { TransformerPolicy } from '../src/model/transformer.js';
import { DEFAULT_TRAIN_CONFIG, PAPER_RUN_NAMES, RUN_PRESETS, runConfig, checkTrainConfig } from '../src/train/config.js';
import { columnTargets, groupTargets } from '../src/train/targets.js';
import { clippedSurrogateLoss } from '../src/train/loss.js';
import { AdamW } from '../src/train/optim.js';
import { train, type StepMetrics } from '../src/train/train.js';

const task = getTask('arithmetic');
const bMax = task.maxThinking;
const budgets = budgetSupport(bMax, 4);
let policy: TransformerPolicy;
let basePath: string;
let rollouts: Rollout[];
const G = 4;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  // A briefly warm-started policy: enough for traces of varied length and some right answers.
  ({ policy } = await warmStart(task, { steps: 30, batchSize: 16, seed: 3 }));
  basePath = join(mkdtempSync(join(tmpdir(), 'anytime-train-')), 'base.ckpt');
  await saveCheckpoint(basePath, policy);
  const draw = trainingSampler(task, 11);
  const questions = Array.from({ length: 2 }, () => draw());
  rollouts = await sampleRollouts(policy, task, questions.flatMap((q) => Array(G).fill(q)), { budgets, summariesPerGroup: 2, seed: 4 });
}, 240_000);
afterAll(() => policy?.dispose());

describe('run configs (§7)', () => {
  it('every paper run is a preset with the table\'s prior, summaries and baseline', () => {
    expect(PAPER_RUN_NAMES).toEqual(['grpo', 'ar-base', 'ar-linear', 'ar-uniform', 'grpo-dense', 'grpo-decouple', 'grpo-vr']);
    const grpo = runConfig('grpo');
    expect([grpo.prior, grpo.trainBudgetCount, grpo.summariesPerBudget, grpo.summaryMode, grpo.baseline]).toEqual(['base', 1, 1, 'final-only', 'group-mean']);
    const ar = runConfig('ar-uniform');
    expect([ar.prior, ar.trainBudgetCount, ar.summariesPerBudget, ar.summaryMode, ar.baseline]).toEqual(['uniform', 4, 4, 'all-budgets', 'brpo']);
    expect(RUN_PRESETS['grpo-dense'].prior).toBe('linear');
    expect(RUN_PRESETS['grpo-decouple'].baseline).toBe('group-mean');
    expect(RUN_PRESETS['grpo-vr'].baseline).toBe('brpo');
  });
  it('rejects bad fields by name', () => {
    expect(() => runConfig('ppo' as never)).toThrow(/run: must be one of 'grpo'/);
    expect(() => checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, prior: 'flat' as never })).toThrow(/config.prior: must be one of 'base', 'uniform'/);
    expect(() => checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, lr: -1 })).toThrow(/config.lr/);
    expect(() => checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, groupSize: 0 })).toThrow(/config.groupSize: must be a positive integer/);
    expect(() => checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, updatesPerBatch: 9, questionsPerStep: 8 })).toThrow(/config.updatesPerBatch/);
  });
});

describe('targets on real rollouts', () => {
  it('finished traces merge their late budgets; scores are per prefix group', () => {
    for (const r of rollouts) {
      const L = r.thinking.length;
      expect(r.finished).toBe(r.thinking[L - 1] === SPECIAL.THINK_END);
      for (const c of r.plan.cuts) expect(c.cutLength).toBe(Math.min(c.budget, L));
      if (r.finished) {
        const late = r.plan.cuts.filter((c) => c.budget >= L);
        expect(new Set(late.map((c) => c.group)).size).toBeLessThanOrEqual(1);
      }
      expect(r.groups.length).toBe(r.plan.groups.length);
      for (const g of r.groups) expect(g.summaries.length).toBe(2);
    }
  });
  it('column targets: thinking by segment, summaries once per prefix, forcing never', () => {
    const prior = makePrior('uniform', budgets);
    const groups = [0, 1].map((q) => groupTargets(rollouts.slice(q * G, (q + 1) * G), prior.probs, { baseline: 'brpo', discount: 2, summaryMode: 'all-budgets' }));
    const batch = packTraces(rollouts, policy.config.maxSeqLen);
    const thinking = groups.flatMap((g) => g.thinking);
    const summary = { advantages: groups.flatMap((g) => g.summary.advantages), trainable: groups.flatMap((g) => g.summary.trainable) };
    const t = columnTargets(batch.layout, rollouts, thinking, summary, budgets, 'token-mean', bMax);
    const { kind, rollout, thinkIndex } = batch.layout;
    let summaryCols = 0;
    for (let c = 0; c < kind.length; c++) {
      if (kind[c] === TokenKind.FORCING || kind[c] === TokenKind.NONE) expect(t.weights[c]).toBe(0);
      if (kind[c] === TokenKind.THINKING) {
        const s = budgets.findIndex((b) => thinkIndex[c] < b);
        expect(t.advantages[c]).toBeCloseTo(thinking[rollout[c]][s], 6);
        expect(t.weights[c]).toBeGreaterThan(0);
      }
      if (kind[c] === TokenKind.SUMMARY) summaryCols++;
    }
    // Every sampled summary token is trained exactly once in all-budgets mode.
    const sampled = rollouts.reduce((a, r) => a + r.groups.reduce((x, g) => x + g.summaries.reduce((y, s) => y + s.tokens.length, 0), 0), 0);
    expect(summaryCols).toBe(sampled);
    expect(t.summaryTokens).toBe(sampled);
    expect(t.thinkingTokens).toBe(rollouts.reduce((a, r) => a + r.thinking.length, 0));
    // token-mean: weights sum to 1 over trainable tokens.
    expect(t.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });
  it('final-only trains just the last budget\'s summaries', () => {
    const prior = makePrior('base', budgets);
    const groups = [0, 1].map((q) => groupTargets(rollouts.slice(q * G, (q + 1) * G), prior.probs, { baseline: 'group-mean', discount: 2, summaryMode: 'final-only' }));
    const batch = packTraces(rollouts, policy.config.maxSeqLen);
    const summary = { advantages: groups.flatMap((g) => g.summary.advantages), trainable: groups.flatMap((g) => g.summary.trainable) };
    const t = columnTargets(batch.layout, rollouts, groups.flatMap((g) => g.thinking), summary, budgets, 'token-mean', bMax);
    const lastGroupTokens = rollouts.reduce((a, r) => a + r.groups[r.groups.length - 1].summaries.reduce((y, s) => y + s.tokens.length, 0), 0);
    expect(t.summaryTokens).toBe(lastGroupTokens);
  });
  it('the tensor loss equals ppoClipLoss of the core, and AdamW steps reduce it on a fixed batch', async () => {
    const prior = makePrior('uniform', budgets);
    const groups = [0, 1].map((q) => groupTargets(rollouts.slice(q * G, (q + 1) * G), prior.probs, { baseline: 'brpo', discount: 2, summaryMode: 'all-budgets' }));
    const batch = packTraces(rollouts, policy.config.maxSeqLen);
    const summary = { advantages: groups.flatMap((g) => g.summary.advantages), trainable: groups.flatMap((g) => g.summary.trainable) };
    const t = columnTargets(batch.layout, rollouts, groups.flatMap((g) => g.thinking), summary, budgets, 'token-mean', bMax);
    // The real advantages may all be 0 on a tiny batch (every trace wrong); give every trainable
    // token a fixed non-zero advantage so the step has something to learn.
    const advantages = t.advantages.map((a, c) => (t.weights[c] > 0 ? a + (c % 3 === 0 ? 1 : -0.5) : 0));
    t.advantages.set(advantages);
    const [old, adv, w] = [t.oldLogp, t.advantages, t.weights].map((a) => tf.tensor1d(a)) as tf.Tensor1D[];
    const lossNow = async () => {
      const l = tf.tidy(() => clippedSurrogateLoss(packedLogProbs(policy, batch).logp, old, adv, w, 0.2, 0.2));
      const v = (await l.data())[0];
      l.dispose();
      return v;
    };
    // Reference: the core's ppoClipLoss over trainable columns, with perturbed log-probs to exercise clipping.
    const logp = tf.tidy(() => packedLogProbs(policy, batch).logp);
    const lp = Array.from(await logp.data()).map((x, c) => x + 0.3 * Math.sin(c));
    logp.dispose();
    const cols = [...Array(lp.length).keys()].filter((c) => t.weights[c] > 0);
    const core = ppoClipLoss([cols.map((c) => lp[c])], [cols.map((c) => t.oldLogp[c])], [cols.map((c) => t.advantages[c])], [cols.map(() => 1)]);
    const tensor = tf.tidy(() => clippedSurrogateLoss(tf.tensor1d(lp), old, adv, w, 0.2, 0.2));
    expect((await tensor.data())[0]).toBeCloseTo(core.loss, 4);
    tensor.dispose();

    const before = await lossNow();
    const vars = policy.variables();
    const saved = await policy.weights();
    const opt = new AdamW(vars, { lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 0, gradClip: 1 });
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(() => clippedSurrogateLoss(packedLogProbs(policy, batch).logp, old, adv, w, 0.2, 0.2), vars);
      await opt.apply(vars.map((v) => grads[v.name]));
      tf.dispose([value, ...Object.values(grads)]);
    }
    const after = await lossNow();
    expect(after).toBeLessThan(before);
    opt.dispose();
    policy.setWeights(saved);
    tf.dispose([old, adv, w]);
  });
});

describe('train loop', () => {
  // One thread: starting worker threads per run would only slow these tests (test/parallel.test.ts covers threads).
  const overrides = { steps: 4, questionsPerStep: 2, groupSize: 2, evalQuestions: 4, evalSamples: 1, evalBudgetCount: 4, checkpointEvery: 2, threads: 1 };
  const strip = (path: string) =>
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const { seconds: _s, ...rest } = JSON.parse(l) as StepMetrics;
        return rest;
      });
  it('killed and resumed, a run gives the same metrics and result as an uninterrupted one; no tensors leak', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anytime-run-'));
    const config = runConfig('ar-uniform', { ...overrides, seed: 7 });
    const tensorsBefore = tf.memory().numTensors;
    const full = await train(config, { outDir: join(dir, 'full'), basePolicy: basePath });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    // Killed after step 3: the checkpoint is from step 2, so step 3 is redone on resume.
    const stopped = await train(config, { outDir: join(dir, 'resumed'), basePolicy: basePath, stopAfterStep: 3 });
    expect(stopped).toBeNull();
    expect(strip(join(dir, 'resumed', 'metrics.jsonl')).length).toBe(3);
    const resumed = await train(config, { outDir: join(dir, 'resumed'), basePolicy: basePath });
    expect(strip(join(dir, 'resumed', 'metrics.jsonl'))).toEqual(strip(join(dir, 'full', 'metrics.jsonl')));
    expect(resumed!.eval).toEqual(full!.eval);
    expect(existsSync(join(dir, 'resumed', 'result.json'))).toBe(true);
    const m = strip(join(dir, 'full', 'metrics.jsonl'));
    expect(m.map((x) => x.step)).toEqual([1, 2, 3, 4]);
    expect(m[0].scoreByBudget.length).toBe(4);
    expect(full!.eval.accuracy.length).toBe(4);
  }, 240_000);
  it('different seeds give different runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anytime-run-'));
    const a = await train(runConfig('grpo', { ...overrides, steps: 1, seed: 1 }), { outDir: join(dir, 'a'), basePolicy: basePath });
    const b = await train(runConfig('grpo', { ...overrides, steps: 1, seed: 2 }), { outDir: join(dir, 'b'), basePolicy: basePath });
    expect(strip(join(dir, 'a', 'metrics.jsonl'))).not.toEqual(strip(join(dir, 'b', 'metrics.jsonl')));
    expect(a && b).toBeTruthy();
  }, 120_000);
});
