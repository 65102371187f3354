/**
 * What makes a run's numbers independent of how many threads compute it: a rollout row is
 * computed alike in any batch (so rows can be split across threads), and a minibatch gradient is
 * a fixed sum of chunk gradients (so chunks can be computed anywhere).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { seededRng } from '../src/core/rng.js';
import { budgetSupport, makePrior } from '../src/core/budget.js';
import { TransformerPolicy, makeConfig } from '../src/model/transformer.js';
import { generate, sampleRollouts, requiredSeqLen, type Rollout } from '../src/model/sampler.js';
import { packTraces, packedLogProbs, traceTreeLength } from '../src/model/forward.js';
import { columnTargets, groupTargets, traceTargets } from '../src/train/targets.js';
import { chunkGradient, gradientChunks, splitIntoChunks, sumInChunkOrder, traceTree } from '../src/train/gradient.js';
import { clippedSurrogateLoss } from '../src/train/loss.js';
import { warmStartHash } from '../src/model/warmstart.js';
import { warmStartFor } from '../src/train/presets.js';
import { getTask } from '../src/tasks/index.js';
import { runConfig } from '../src/train/config.js';
import { reproduce } from '../src/train/reproduce.js';
import { ComputePool } from '../src/train/parallel.js';
import { train, type RunResult, type StepMetrics } from '../src/train/train.js';
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
  }, 120_000);
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
  }, 120_000);
});

describe('compute settings', () => {
  it('are validated by name: threads, gradientChunks, threadsPerRun', async () => {
    expect(runConfig('grpo').threads).toBe(0);
    expect(runConfig('grpo').gradientChunks).toBe(4);
    expect(() => runConfig('grpo', { threads: -1 })).toThrow(/config.threads: must be an integer ≥ 0 \(0 = every core\)/);
    expect(() => runConfig('grpo', { threads: 1.5 })).toThrow(/config.threads/);
    expect(() => runConfig('grpo', { gradientChunks: 0 })).toThrow(/config.gradientChunks: must be a positive integer/);
    await expect(reproduce({ preset: 'smoke', threadsPerRun: 0, out: mkdtempSync(join(tmpdir(), 'anytime-par-rep-')) })).rejects.toThrow(/threadsPerRun: must be a positive integer/);
  });
});

describe('one run on every core (ComputePool)', () => {
  // The committed search base policy (data/base/): it scores often enough at small budgets that
  // advantages, losses and gradients are not all 0.
  const task = getTask('search');
  const basePath = join('data', 'base', `search-${warmStartHash(task, warmStartFor('search'))}.ckpt`);
  // Tiny sizes: b_max 16, 3 steps of 4 questions × 2 traces.
  const overrides = {
    task: 'search', maxBudget: 16, steps: 3, questionsPerStep: 4, groupSize: 2, updatesPerBatch: 2, gradientChunks: 3,
    evalQuestions: 6, evalSamples: 2, evalBudgetCount: 4, evalEvery: 2, evalEveryQuestions: 4, checkpointEvery: 1,
  };
  const cores = availableParallelism();
  /** Everything a run wrote that its numbers define: metrics without timings, result, checkpoint bytes. */
  const outputs = (dir: string) => ({
    metrics: readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const { seconds: _s, ...rest } = JSON.parse(l) as StepMetrics;
        return rest;
      }),
    // The result repeats the config, whose `threads` differs by design.
    result: { ...(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult), config: undefined },
    checkpoint: createHash('sha256').update(readFileSync(join(dir, 'checkpoint.bin'))).digest('hex'),
  });

  it('threads 1, every core and 3 give byte-identical metrics, evaluations and weights; a run resumes on another thread count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anytime-par-run-'));
    const config = (threads: number) => runConfig('ar-uniform', { ...overrides, seed: 5, threads });
    const tensorsBefore = tf.memory().numTensors;
    await train(config(1), { outDir: join(dir, 't1'), basePolicy: basePath });
    await train(config(0), { outDir: join(dir, 'all'), basePolicy: basePath });
    await train(config(3), { outDir: join(dir, 't3'), basePolicy: basePath });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const one = outputs(join(dir, 't1'));
    expect(one.metrics).toHaveLength(3);
    expect(one.metrics.some((m) => m.loss !== 0 && m.gradNorm > 0)).toBe(true);
    expect(outputs(join(dir, 'all'))).toEqual(one);
    expect(outputs(join(dir, 't3'))).toEqual(one);
    // Killed after step 2 on every core, resumed on one thread: the same run.
    expect(await train(config(0), { outDir: join(dir, 'resumed'), basePolicy: basePath, stopAfterStep: 2 })).toBeNull();
    await train(config(1), { outDir: join(dir, 'resumed'), basePolicy: basePath });
    expect(outputs(join(dir, 'resumed'))).toEqual(one);
    // The loop's numbers really depend on its chunking (so the test above could fail).
    await train({ ...config(1), gradientChunks: 1 }, { outDir: join(dir, 'c1'), basePolicy: basePath });
    expect(outputs(join(dir, 'c1')).checkpoint).not.toBe(one.checkpoint);
  }, 300_000);

  it(`uses ${cores} threads (every core) for threads: 0, no tensors leak in this thread or the workers, close() ends them`, async () => {
    const pool = await ComputePool.start(0);
    try {
      expect(pool.threads).toBe(cores);
    } finally {
      await pool.close();
    }
    const two = await ComputePool.start(2);
    try {
      expect(two.threads).toBe(2);
      const G = 4;
      const prior = makePrior('uniform', budgets);
      const groups = Array.from({ length: rollouts.length / G }, (_, q) =>
        groupTargets(rollouts.slice(q * G, (q + 1) * G), prior.probs, { baseline: 'brpo', discount: 2, summaryMode: 'all-budgets' }),
      );
      const targets = traceTargets(rollouts, groups.flatMap((g) => g.thinking), { advantages: groups.flatMap((g) => g.summary.advantages), trainable: groups.flatMap((g) => g.summary.trainable) }, budgets, 'token-mean', 8);
      const chunks = gradientChunks(rollouts.map(traceTree), targets.traces, 4);
      const settings = { temperature: 1, clipLow: 0.2, clipHigh: 0.2 };
      const here = tf.memory().numTensors;
      const first = await two.gradient(policy, chunks, settings);
      expect(await two.sampleRollouts(policy, toyTask, problems, options)).toEqual(rollouts); // toyTask is not registered: runs here
      // generate split over the threads: the continuations of one batch, bit for bit.
      const prefixes = problems.map((p) => [1, ...p.prompt]);
      const genOptions = { maxTokens: 6, seed: 3, stopTokens: [2] };
      expect(await two.generate(policy, prefixes, genOptions)).toEqual(await generate(policy, prefixes, genOptions));
      const inWorkers = (await two.workerStats()).map((w) => w.tensors);
      for (let i = 0; i < 3; i++) {
        const again = await two.gradient(policy, chunks, settings);
        expect(bytes(again.grads)).toBe(bytes(first.grads));
      }
      expect((await two.workerStats()).map((w) => w.tensors)).toEqual(inWorkers);
      expect(tf.memory().numTensors).toBe(here);
      // Same bits as this thread alone.
      const alone = [];
      for (const c of chunks) alone.push(await chunkGradient(policy, c, settings));
      expect(bytes(sumInChunkOrder(alone).grads)).toBe(bytes(first.grads));
    } finally {
      await two.close();
    }
    await expect(two.workerStats()).rejects.toThrow(/pool: is closed/);
  }, 120_000);

  it('an error in a worker rejects the call with the worker\'s message, and the pool still works', async () => {
    const pool = await ComputePool.start(2);
    try {
      const good = traceTree(rollouts[0]);
      // A trace longer than the policy's positions fails in packTraces; chunk 1 is the worker's.
      const bad = { ...good, thinking: Array(200).fill(good.thinking[0]), thinkingLogp: Array(200).fill(-1) };
      const target = { thinkingAdvantage: Array(200).fill(0), thinkingWeight: Array(200).fill(0), summaries: good.groups.map((g) => g.summaries.map(() => ({ advantage: 0, weight: 0 }))) };
      const zero = { thinkingAdvantage: good.thinking.map(() => 1), thinkingWeight: good.thinking.map(() => 1), summaries: target.summaries };
      const settings = { temperature: 1, clipLow: 0.2, clipHigh: 0.2 };
      await expect(pool.gradient(policy, [{ traces: [good], targets: [zero] }, { traces: [bad], targets: [target] }], settings)).rejects.toThrow(
        /worker thread 1 failed: traces: trace 0 reaches position \d+ but the policy's maxSeqLen is/,
      );
      const ok = await pool.gradient(policy, [{ traces: [good], targets: [zero] }, { traces: [good], targets: [zero] }], settings);
      expect(ok.grads.some((g) => g !== 0)).toBe(true);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it('Ctrl-C while training on every core ends the process promptly', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/parallel-sigint-child.ts', basePath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // Wait until the run is mid-training with its workers up.
    for (let t = 0; !out.includes('step 1 done') && t < 1200; t++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('threads 2');
    expect(out).toContain('step 1 done');
    const sent = Date.now();
    child.kill('SIGINT');
    const { code, signal } = await exited;
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(code === 130 || signal === 'SIGINT').toBe(true);
  }, 180_000);
});
