/**
 * The arena's methods in the trainer (docs/arena.md): the paper's runs are unchanged by the new
 * settings (configs and a short run's numbers, against test/fixtures/before-arena.json written by
 * the code before them), the outcome shaping and loss masks by hand on constructed rollouts, L1's
 * prompt targets, and a short run of every arena preset from the committed chain base.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { cutPlan } from '../src/core/truncation.js';
import { getTask } from '../src/tasks/index.js';
import { heldOutSet } from '../src/tasks/splits.js';
import { SPECIAL, forcingTokens } from '../src/tasks/types.js';
import { TOKEN } from '../src/tasks/vocab.js';
import { readCheckpoint } from '../src/model/checkpoint.js';
import { sampleRollouts, type Rollout } from '../src/model/sampler.js';
import { packTraces } from '../src/model/forward.js';
import { TransformerPolicy } from '../src/model/transformer.js';
import { warmStartHash } from '../src/model/warmstart.js';
import { warmStartFor, PRESETS } from '../src/train/presets.js';
import {
  ARENA_RUN_NAMES,
  DEFAULT_TRAIN_CONFIG,
  PAPER_RUN_NAMES,
  RUN_NAMES,
  checkTrainConfig,
  runConfig,
  type RunName,
  type TrainConfig,
} from '../src/train/config.js';
import { columnTargets, groupTargets, type OutcomeShaping } from '../src/train/targets.js';
import { outcomeShaping, usesArena } from '../src/train/arena.js';
import { askFor, levelForBudget, levelToken, LEVEL_TOKEN_LOGIT, targetLevels, withLevelTokens, type AskedEvalResult } from '../src/train/prompt-targets.js';
import { train, type StepMetrics } from '../src/train/train.js';

const fixture = JSON.parse(readFileSync(join('test', 'fixtures', 'before-arena.json'), 'utf8')) as {
  runConfigs: Record<string, TrainConfig>;
  runs: Record<string, { metrics: Omit<StepMetrics, 'seconds'>[]; eval: Record<string, unknown> }>;
};
const chain = getTask('chain');
const chainBase = join('data', 'base', `chain-${warmStartHash(chain, warmStartFor('chain'))}.ckpt`);
const ARENA_FIELDS = ['rewardShape', 'lengthCoef', 'l1Delta', 'overlongBuffer', 'shapeWarmup', 'rolloutCaps', 'truncation', 'dynamicSamplingRounds', 'promptTargets'] as const;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

/** Deep equality with numbers compared to `digits` decimals (float sums may round differently elsewhere). */
function expectClose(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    expect(actual as number, path).toBeCloseTo(expected, 6);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual) && actual.length, path).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, `${path}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    expect(actual, path).toEqual(expected);
  }
}

const readMetrics = (dir: string): StepMetrics[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepMetrics);
const strip = (ms: StepMetrics[]) => ms.map(({ seconds: _s, ...m }) => m);

describe('the paper runs are unchanged', () => {
  it('every paper preset keeps its config; the arena settings are neutral there', () => {
    expect(PAPER_RUN_NAMES).toEqual(Object.keys(fixture.runConfigs));
    for (const name of PAPER_RUN_NAMES) {
      const c = runConfig(name);
      const before = fixture.runConfigs[name];
      expect(Object.fromEntries(Object.keys(before).map((k) => [k, c[k as keyof TrainConfig]]))).toEqual(before);
      for (const k of ARENA_FIELDS) expect(c[k]).toEqual(DEFAULT_TRAIN_CONFIG[k]);
      expect(usesArena(c)).toBe(false);
    }
    // The committed `full` table still trains the paper's seven runs, not the arena's.
    expect(PRESETS.full.runs).toEqual(PAPER_RUN_NAMES);
  });
  it('a short GRPO and AR-uniform run reproduce the numbers of the code before the arena', async () => {
    for (const run of ['grpo', 'ar-uniform'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'anytime-arena-'));
      const config = runConfig(run, { task: 'chain', seed: 5, steps: 2, questionsPerStep: 2, groupSize: 4, evalQuestions: 4, evalSamples: 2, evalBudgetCount: 4, checkpointEvery: 2 });
      const result = await train(config, { outDir: dir, basePolicy: chainBase });
      const metrics = strip(readMetrics(dir));
      expect(metrics.every((m) => !('arena' in m))).toBe(true);
      expectClose(metrics, fixture.runs[run].metrics, `${run}.metrics`);
      expectClose(result!.eval, fixture.runs[run].eval, `${run}.eval`);
    }
  }, 120_000);
});

describe('arena run presets', () => {
  it('every arena method is a valid, one-budget preset built on GRPO', () => {
    expect(ARENA_RUN_NAMES).toEqual(['thinkprune', 'elastic-reasoning', 'l1-exact', 'l1-max', 'dapo', 'kimi-length', 'shorter-better', 'grpo-mask-truncated']);
    expect(RUN_NAMES).toEqual([...PAPER_RUN_NAMES, ...ARENA_RUN_NAMES]);
    const grpo = runConfig('grpo');
    for (const name of ARENA_RUN_NAMES) {
      const c = runConfig(name);
      expect(usesArena(c)).toBe(true);
      expect([c.prior, c.trainBudgetCount, c.summariesPerBudget, c.summaryMode, c.baseline]).toEqual([grpo.prior, 1, 1, 'final-only', 'group-mean']);
    }
    const dapo = runConfig('dapo');
    expect([dapo.clipLow, dapo.clipHigh, dapo.aggregation, dapo.rewardShape, dapo.overlongBuffer, dapo.dynamicSamplingRounds > 0]).toEqual([0.2, 0.28, 'token-mean', 'dapo-overlong', 19, true]);
    expect(runConfig('thinkprune').rolloutCaps).toEqual([64, 48, 32]);
    expect(runConfig('thinkprune').truncation).toBe('zero');
    expect(runConfig('elastic-reasoning').rolloutCaps).toEqual([32]);
    expect(runConfig('grpo-mask-truncated').truncation).toBe('mask');
  });
  it('rejects bad arena settings by name', () => {
    const base = { ...DEFAULT_TRAIN_CONFIG, ...runConfig('grpo') };
    expect(() => checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, rewardShape: 'kimi-length' })).toThrow(/config.rewardShape: is an outcome-reward setting of the arena and needs trainBudgetCount = 1.*got trainBudgetCount 4/);
    expect(() => checkTrainConfig({ ...base, rewardShape: 'short' as never })).toThrow(/config.rewardShape: must be one of 'correctness', 'l1-exact'/);
    expect(() => checkTrainConfig({ ...base, rewardShape: 'l1-exact' })).toThrow(/config.promptTargets: must be ≥ 1 for the 'l1-exact' reward/);
    expect(() => checkTrainConfig({ ...base, rewardShape: 'dapo-overlong' })).toThrow(/config.overlongBuffer: must be ≥ 1 token/);
    expect(() => checkTrainConfig({ ...base, truncation: 'drop' as never })).toThrow(/config.truncation: must be one of 'summary', 'zero', 'mask'/);
    expect(() => checkTrainConfig({ ...base, rolloutCaps: [64, 0] })).toThrow(/config.rolloutCaps\[1\] must be a positive integer/);
    expect(() => checkTrainConfig({ ...base, maxBudget: 48, rolloutCaps: [64] })).toThrow(/config.rolloutCaps\[0\] = 64 exceeds maxBudget 48/);
    expect(() => checkTrainConfig({ ...base, shapeWarmup: 1 })).toThrow(/config.shapeWarmup: must be a fraction/);
    expect(() => checkTrainConfig({ ...base, dynamicSamplingRounds: -1 })).toThrow(/config.dynamicSamplingRounds: must be an integer ≥ 0/);
  });
  it('the shape warms up on the correctness alone (Kimi), then switches on', () => {
    const c = runConfig('kimi-length', { steps: 10 });
    expect(outcomeShaping(c, 2, 96, null)).toBeUndefined();
    expect(outcomeShaping(c, 3, 96, null)?.shape).toBe('kimi-length');
    expect(outcomeShaping(runConfig('grpo'), 1, 96, null)).toBeUndefined();
    expect(outcomeShaping(runConfig('thinkprune', { steps: 10 }), 1, 64, null)).toMatchObject({ shape: 'correctness', truncation: 'zero', context: { maxLength: 64 } });
  });
});

/** A constructed rollout: `length` thinking tokens, one summary scoring `score`, cap 32. */
function rollout(length: number, finished: boolean, score: 0 | 1): Rollout {
  const thinking = Array.from({ length }, (_, i) => (finished && i === length - 1 ? SPECIAL.THINK_END : TOKEN.SEMI));
  const plan = cutPlan(length, finished, [32]);
  const prompt = [TOKEN.SEMI, TOKEN.QUERY];
  return {
    problem: { id: 'p', prompt, answer: '0', data: {} },
    prompt,
    thinking,
    thinkingLogp: thinking.map(() => -1),
    finished,
    plan,
    groups: plan.groups.map((g) => ({ ...g, budgetIndices: [...g.budgetIndices], forcing: forcingTokens(g.cut), summaries: [{ tokens: [TOKEN.SEMI, SPECIAL.EOS], logp: [-1, -1], score }] })),
  };
}

describe('outcome shaping and loss masks on constructed rollouts (cap 32)', () => {
  // Two finished traces (right, wrong) and two cut at the cap (right, wrong).
  const rs = [rollout(20, true, 1), rollout(32, false, 1), rollout(25, true, 0), rollout(32, false, 0)];
  const opts = { baseline: 'group-mean' as const, discount: 2, summaryMode: 'final-only' as const };
  const shaping = (shape: OutcomeShaping['shape'], truncation: OutcomeShaping['truncation']): OutcomeShaping => ({
    shape,
    truncation,
    context: { maxLength: 32, target: null, lengthCoef: 0.5, l1Delta: 0.5, overlongBuffer: 8 },
  });
  it('plain GRPO: r − mean(r) for thinking and summaries', () => {
    const t = groupTargets(rs, [1], opts);
    expect(t.thinking.map((x) => x[0])).toEqual([0.5, 0.5, -0.5, -0.5]);
    expect(t.trainThinking).toEqual([true, true, true, true]);
  });
  it('ThinkPrune (zero): cut traces score 0 and their summaries do not train', () => {
    const t = groupTargets(rs, [1], { ...opts, outcome: shaping('correctness', 'zero') });
    expect(t.thinking.map((x) => x[0])).toEqual([0.75, -0.25, -0.25, -0.25]);
    expect(t.summary.trainable.map((g) => g[0][0])).toEqual([true, false, true, false]);
    expect(t.summary.advantages.map((g) => g[0][0])).toEqual([0.5, 0, -0.5, 0]);
    expect(t.trainThinking).toEqual([true, true, true, true]);
  });
  it('mask: cut traces keep their place in the baseline but leave the loss', () => {
    const t = groupTargets(rs, [1], { ...opts, outcome: shaping('correctness', 'mask') });
    expect(t.thinking.map((x) => x[0])).toEqual([0.5, 0, -0.5, 0]);
    expect(t.trainThinking).toEqual([true, false, true, false]);
    expect(t.summary.trainable.map((g) => g[0][0])).toEqual([true, false, true, false]);
    // Their thinking tokens leave the token-mean's denominator too.
    const batch = packTraces(rs, 128);
    const summary = t.summary;
    const c = columnTargets(batch.layout, rs, t.thinking, summary, [32], 'token-mean', 32, t.trainThinking);
    expect(c.thinkingTokens).toBe(20 + 25);
    expect(c.summaryTokens).toBe(2 + 2);
    expect(c.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const all = columnTargets(batch.layout, rs, t.thinking, summary, [32], 'token-mean', 32);
    expect(all.thinkingTokens).toBe(20 + 32 + 25 + 32);
  });
  it('DAPO overlong by hand: L_max 32, L_cache 8, weight ½', () => {
    // Penalties 0, −1, −1/8, −1 → rewards 1, 0.5, −0.0625, −0.5; mean 0.234375.
    const t = groupTargets(rs, [1], { ...opts, outcome: shaping('dapo-overlong', 'summary') });
    [0.765625, 0.265625, -0.296875, -0.734375].forEach((a, g) => expect(t.thinking[g][0]).toBeCloseTo(a, 12));
    // The summaries keep their correctness advantages: score − mean score.
    expect(t.summary.advantages.map((g) => g[0][0])).toEqual([0.5, 0.5, -0.5, -0.5]);
  });
});

describe('L1 prompt targets', () => {
  it('the query mark becomes the level token; the largest level ≤ each budget is asked for', () => {
    const p = heldOutSet(chain, 1, 0)[0];
    const asked = askFor(p, 3, chain);
    expect(asked.prompt.length).toBe(p.prompt.length);
    expect(asked.prompt.slice(0, -1)).toEqual(p.prompt.slice(0, -1));
    expect(asked.prompt[asked.prompt.length - 1]).toBe(levelToken(chain, 3));
    expect(levelToken(chain, 0)).toBe(chain.vocab.length);
    expect(() => askFor({ ...p, prompt: [TOKEN.SEMI] }, 0, chain)).toThrow(/problem.prompt: must end with the query mark/);
    const levels = targetLevels(96, 16);
    expect(levels[0]).toBe(6);
    expect(levelForBudget(levels, 6)).toBe(0);
    expect(levelForBudget(levels, 50)).toBe(7);
    expect(levelForBudget(levels, 96)).toBe(15);
    expect(levelForBudget(targetLevels(96, 4), 12)).toBe(0);
  });
  it('the grown policy samples exactly as the base at step 0, never a level token; the base file is untouched', async () => {
    const before = readFileSync(chainBase);
    const ckpt = readCheckpoint(chainBase);
    const grown = withLevelTokens(ckpt, chain, 16);
    expect(grown.config.vocabSize).toBe(chain.vocab.length + 16);
    expect(grown.weights.get('head.b')![chain.vocab.length + 5]).toBe(LEVEL_TOKEN_LOGIT);
    expect(withLevelTokens(grown, chain, 16).weights).toBe(grown.weights);
    expect(ckpt.config.vocabSize).toBe(chain.vocab.length);
    const basePolicy = new TransformerPolicy(ckpt.config, ckpt.weights);
    const grownPolicy = new TransformerPolicy(grown.config, grown.weights);
    const problems = heldOutSet(chain, 6, 0);
    const opts = { budgets: [48, 96], summariesPerGroup: 1, seed: 3, temperature: 1 };
    const a = await sampleRollouts(basePolicy, chain, problems, opts);
    const b = await sampleRollouts(grownPolicy, chain, problems.map((p, i) => askFor(p, i % 16, chain)), opts);
    expect(b.map((r) => r.thinking)).toEqual(a.map((r) => r.thinking));
    b.forEach((r, i) => r.thinkingLogp.forEach((lp, t) => expect(lp).toBeCloseTo(a[i].thinkingLogp[t], 5)));
    expect(b.flatMap((r) => r.thinking).every((t) => t < chain.vocab.length)).toBe(true);
    basePolicy.dispose();
    grownPolicy.dispose();
    expect(readFileSync(chainBase).equals(before)).toBe(true);
    expect(() => withLevelTokens({ ...ckpt, config: { ...ckpt.config, vocabSize: 30 } }, chain, 16)).toThrow(/policy.config.vocabSize: must be the task's 24 tokens/);
    expect(() => withLevelTokens({ ...ckpt, config: { ...ckpt.config, tiedHead: true } }, chain, 16)).toThrow(/policy.config.tiedHead: must be false/);
  });
});

describe('every arena preset trains from the committed chain base', () => {
  const tiny = { task: 'chain', seed: 1, steps: 3, questionsPerStep: 2, groupSize: 4, evalQuestions: 4, evalSamples: 1, evalBudgetCount: 4, checkpointEvery: 1 };
  const tensorsBefore = { n: 0 };
  beforeAll(() => {
    tensorsBefore.n = tf.memory().numTensors;
  });
  afterAll(() => {
    expect(tf.memory().numTensors).toBe(tensorsBefore.n);
  });
  for (const name of ['thinkprune', 'elastic-reasoning', 'dapo', 'kimi-length', 'shorter-better', 'grpo-mask-truncated'] as RunName[]) {
    it(`${name}: runs, logs its arena metrics, follows its cap schedule`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'anytime-arena-'));
      const config = runConfig(name, tiny);
      const result = await train(config, { outDir: dir, basePolicy: chainBase });
      const ms = readMetrics(dir);
      expect(ms.map((m) => m.arena!.rolloutCap)).toEqual(name === 'thinkprune' ? [64, 48, 32] : name === 'elastic-reasoning' ? [32, 32, 32] : [96, 96, 96]);
      for (const m of ms) {
        expect(m.meanLength).toBeLessThanOrEqual(m.arena!.rolloutCap);
        expect(Number.isFinite(m.arena!.shapedReward)).toBe(true);
        expect(m.arena!.informativeGroups).toBeLessThanOrEqual(tiny.questionsPerStep);
        if (config.dynamicSamplingRounds > 0) {
          expect([2, 4, 6, 8]).toContain(m.arena!.sampledGroups);
          // More rounds are drawn only while the batch still lacks informative groups.
          if (m.arena!.sampledGroups > 2) expect(m.arena!.sampledGroups === 8 || m.arena!.informativeGroups === 2).toBe(true);
        } else {
          expect(m.arena!.sampledGroups).toBe(2);
        }
      }
      // Evaluation always runs up to b_max.
      expect(result!.eval.budgets).toEqual([24, 48, 72, 96]);
    }, 60_000);
  }
  it('l1-exact: asks for each budget at evaluation, and a killed run resumes to the same numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anytime-arena-'));
    const config = runConfig('l1-exact', tiny);
    const full = await train(config, { outDir: join(dir, 'full'), basePolicy: chainBase });
    expect(await train(config, { outDir: join(dir, 'resumed'), basePolicy: chainBase, stopAfterStep: 2 })).toBeNull();
    expect(readCheckpoint(join(dir, 'resumed', 'checkpoint.bin')).config.vocabSize).toBe(chain.vocab.length + 16);
    const resumed = await train(config, { outDir: join(dir, 'resumed'), basePolicy: chainBase });
    expect(strip(readMetrics(join(dir, 'resumed')))).toEqual(strip(readMetrics(join(dir, 'full'))));
    expect(resumed!.eval).toEqual(full!.eval);
    const ev = full!.eval as AskedEvalResult;
    expect(ev.levelByBudget).toEqual([3, 7, 11, 15]);
    expect(ev.lengthByBudget.length).toBe(4);
    expect(ev.meanLength).toBe(ev.lengthByBudget[3]);
    for (const m of readMetrics(join(dir, 'full'))) {
      expect(m.arena!.meanTarget).toBeGreaterThanOrEqual(6);
      expect(m.arena!.meanTarget).toBeLessThanOrEqual(96);
    }
  }, 180_000);
});
