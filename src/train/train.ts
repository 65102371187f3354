/**
 * One RL run of the tiny policy: GRPO or an AnytimeReasoner variant, chosen by the config.
 * Reads top to bottom: sample a batch of questions, roll out G traces each with forced summaries
 * at every training budget, score them, compute thinking and summary advantages, and take
 * `updatesPerBatch` AdamW steps on the clipped surrogate. Checkpoints let a killed run resume
 * with identical results: every random draw of step t is derived from (seed, t).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { budgetSupport, makePrior } from '../core/budget.js';
import { deriveSeed } from '../core/rng.js';
import { bestSoFar, overthinkingCount, varianceRatio } from '../core/metrics.js';
import { thinkingValues, type Matrix } from '../core/advantages.js';
import { appendJsonLine, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { getTask } from '../tasks/index.js';
import { heldOutSet, trainingSampler } from '../tasks/splits.js';
import { sampleRollouts, requiredSeqLen } from '../model/sampler.js';
import { TransformerPolicy } from '../model/transformer.js';
import { readCheckpoint, saveCheckpoint, type CheckpointTensor } from '../model/checkpoint.js';
import { checkTrainConfig, type TrainConfig } from './config.js';
import { AdamW } from './optim.js';
import { groupTargets, traceTargets } from './targets.js';
import { chunkGradient, gradientChunks, sumInChunkOrder, traceTree, unflattenGradient, type LossGradient } from './gradient.js';
import { evaluatePolicy, evalSnapshot, type EvalResult, type EvalSnapshot } from './evaluate.js';

export interface StepMetrics {
  step: number;
  /** Mean score at b_max over the batch's traces (the GRPO reward). */
  reward: number;
  /** Prior-weighted mean score Σ_j p_j r̄_j (the anytime reward the run optimises). */
  anytimeReward: number;
  /** Mean score per training budget. */
  scoreByBudget: number[];
  /** Mean best-so-far score per training budget. */
  bestSoFarByBudget: number[];
  /** Mean number of budgets per trace scoring below an earlier budget. */
  overthinking: number;
  /** Var[R−V]/Var[R] per training budget for each baseline, on this batch. */
  varianceRatio: Record<'group-mean' | 'own-progress' | 'brpo', number[]>;
  meanLength: number;
  finishedFraction: number;
  loss: number;
  gradNorm: number;
  thinkingTokens: number;
  summaryTokens: number;
  seconds: number;
}

export interface RunResult {
  config: TrainConfig;
  steps: number;
  eval: EvalResult;
  /** Evaluations during training (every `evalEvery` steps, on the first `evalEveryQuestions` questions). */
  evalHistory: EvalSnapshot[];
}

export interface TrainOptions {
  /** Folder of this run: checkpoint, metrics.jsonl, result.json. */
  outDir: string;
  /** Base (warm-started) policy checkpoint every run starts from. */
  basePolicy: string;
  /** Called after every step (progress display). */
  onStep?: (m: StepMetrics, total: number) => void;
  /** Stop after this step as if killed (tests of resume). */
  stopAfterStep?: number;
}

/** Seed of the evaluation's sampling streams: a function of `config.evalSeed` only, never of the run. */
export const evalStreamSeed = (evalSeed: number): number => deriveSeed(evalSeed, 'eval');

const BASELINES_FOR_VARIANCE = ['group-mean', 'own-progress', 'brpo'] as const;

export async function train(configIn: TrainConfig, opts: TrainOptions): Promise<RunResult | null> {
  const config = checkTrainConfig(configIn);
  const task = getTask(config.task);
  const bMax = config.maxBudget || task.maxThinking;
  const budgets = budgetSupport(bMax, config.trainBudgetCount);
  const prior = makePrior(config.prior, budgets);
  const ckptPath = join(opts.outDir, 'checkpoint.bin');
  const metricsPath = join(opts.outDir, 'metrics.jsonl');
  const resultPath = join(opts.outDir, 'result.json');
  if (existsSync(resultPath)) return JSON.parse(readFileSync(resultPath, 'utf8')) as RunResult;

  // ---- policy and optimiser: from the run's checkpoint when resuming, else the base policy ----
  const resuming = existsSync(ckptPath);
  const ckpt = readCheckpoint(resuming ? ckptPath : opts.basePolicy);
  const need = requiredSeqLen(task.maxPromptLength, bMax, task.summaryMaxTokens);
  if (ckpt.config.maxSeqLen < need) {
    throw new Error(`base policy maxSeqLen ${ckpt.config.maxSeqLen} < ${need} needed for b_max ${bMax}`);
  }
  const policy = new TransformerPolicy(ckpt.config, ckpt.weights);
  const variables = policy.variables();
  const optimizer = new AdamW(variables, config);
  let startStep = 0;
  let evalHistory: RunResult['evalHistory'] = [];
  if (resuming) {
    startStep = Number(ckpt.meta.step);
    evalHistory = (ckpt.meta.evalHistory as RunResult['evalHistory']) ?? [];
    optimizer.setState({
      step: Number(ckpt.meta.optimizerStep),
      m: variables.map((_, i) => ckpt.extra.get(`adam.m${i}`)!.values),
      v: variables.map((_, i) => ckpt.extra.get(`adam.v${i}`)!.values),
    });
    // Drop metrics written after the checkpoint: they are recomputed, identically.
    if (existsSync(metricsPath)) {
      const kept = readFileSync(metricsPath, 'utf8')
        .split('\n')
        .filter((l) => l.trim() && (JSON.parse(l) as StepMetrics).step <= startStep);
      writeFileAtomic(metricsPath, kept.map((l) => l + '\n').join(''));
    }
  } else {
    writeJsonAtomic(join(opts.outDir, 'config.json'), config);
    writeFileAtomic(metricsPath, '');
  }
  // The same questions and sampling streams for every run and seed (paired comparisons).
  const evalSet = heldOutSet(task, config.evalQuestions, 0);
  const evaluate = (questions: number) =>
    evaluatePolicy(policy, task, evalSet.slice(0, questions), {
      maxBudget: bMax,
      budgetCount: config.evalBudgetCount,
      samples: config.evalSamples,
      temperature: config.evalTemperature,
      seed: evalStreamSeed(config.evalSeed),
    });

  const G = config.groupSize;
  const Q = config.questionsPerStep;
  const surrogate = { temperature: config.temperature, clipLow: config.clipLow, clipHigh: config.clipHigh };
  for (let step = startStep + 1; step <= config.steps; step++) {
    const started = Date.now();
    // ---- 1. questions and rollouts: G traces per question, summaries at every budget ----
    const draw = trainingSampler(task, deriveSeed(config.seed, 'problems', step));
    const questions = Array.from({ length: Q }, () => draw());
    const rollouts = await sampleRollouts(
      policy,
      task,
      questions.flatMap((q) => Array.from({ length: G }, () => q)),
      { budgets, summariesPerGroup: config.summariesPerBudget, seed: deriveSeed(config.seed, 'rollouts', step), temperature: config.temperature, bMax },
    );

    // ---- 2. advantages per question group (§3-§5) ----
    const groups = questions.map((_, q) =>
      groupTargets(rollouts.slice(q * G, (q + 1) * G), prior.probs, {
        baseline: config.baseline,
        discount: config.discount,
        summaryMode: config.summaryMode,
      }),
    );

    // ---- 3. one PPO epoch: updatesPerBatch minibatches of whole question groups ----
    let lossSum = 0;
    let gradNorm = 0;
    let thinkingTokens = 0;
    let summaryTokens = 0;
    const perUpdate = Math.ceil(Q / config.updatesPerBatch);
    for (let u = 0; u < config.updatesPerBatch; u++) {
      const qs = questions.map((_, q) => q).slice(u * perUpdate, (u + 1) * perUpdate);
      if (qs.length === 0) continue;
      const mb = qs.flatMap((q) => rollouts.slice(q * G, (q + 1) * G));
      const thinking = qs.flatMap((q) => groups[q].thinking);
      const summary = {
        advantages: qs.flatMap((q) => groups[q].summary.advantages),
        trainable: qs.flatMap((q) => groups[q].summary.trainable),
      };
      const targets = traceTargets(mb, thinking, summary, budgets, config.aggregation, bMax);
      thinkingTokens += targets.thinkingTokens;
      summaryTokens += targets.summaryTokens;
      // The gradient is a sum of chunk gradients in chunk order (src/train/gradient.ts): the
      // chunks are fixed by the data and config.gradientChunks, so threads change no bit of it.
      const chunks = gradientChunks(mb.map(traceTree), targets.traces, config.gradientChunks);
      const parts: LossGradient[] = [];
      for (const chunk of chunks) parts.push(await chunkGradient(policy, chunk, surrogate));
      const { loss, grads } = sumInChunkOrder(parts);
      lossSum += loss;
      const gradTensors = unflattenGradient(variables, grads);
      gradNorm = await optimizer.apply(gradTensors);
      tf.dispose(gradTensors);
    }

    // ---- 4. metrics (§8) ----
    const scores = groups.flatMap((g) => g.scores);
    const S = budgets.length;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const column = (m: Matrix, s: number) => mean(m.map((row) => row[s]));
    const best = scores.map(bestSoFar);
    const variance = {} as StepMetrics['varianceRatio'];
    for (const b of BASELINES_FOR_VARIANCE) {
      const RV = groups.map((g) => thinkingValues(g.scores, prior.probs, { baseline: b, discount: config.discount }));
      variance[b] = varianceRatio(RV.flatMap((x) => x.R), RV.flatMap((x) => x.V)).map((x) => (Number.isNaN(x) ? null : x)) as number[];
    }
    const metrics: StepMetrics = {
      step,
      reward: column(scores, S - 1),
      anytimeReward: mean(scores.map((row) => row.reduce((a, r, s) => a + prior.probs[s] * r, 0))),
      scoreByBudget: budgets.map((_, s) => column(scores, s)),
      bestSoFarByBudget: budgets.map((_, s) => column(best, s)),
      overthinking: mean(scores.map(overthinkingCount)),
      varianceRatio: variance,
      meanLength: mean(rollouts.map((r) => r.thinking.length)),
      finishedFraction: mean(rollouts.map((r) => (r.finished ? 1 : 0))),
      loss: lossSum,
      gradNorm,
      thinkingTokens,
      summaryTokens,
      seconds: (Date.now() - started) / 1000,
    };
    appendJsonLine(metricsPath, metrics);
    opts.onStep?.(metrics, config.steps);

    if (config.evalEvery > 0 && step % config.evalEvery === 0 && step < config.steps) {
      evalHistory.push(evalSnapshot(step, await evaluate(config.evalEveryQuestions)));
    }
    if (step % config.checkpointEvery === 0 || step === config.steps) {
      const state = await optimizer.getState();
      const extra = new Map<string, CheckpointTensor>();
      variables.forEach((v, i) => {
        extra.set(`adam.m${i}`, { shape: v.shape, values: state.m[i] });
        extra.set(`adam.v${i}`, { shape: v.shape, values: state.v[i] });
      });
      await saveCheckpoint(ckptPath, policy, { meta: { step, optimizerStep: state.step, evalHistory, run: config.run }, extra });
    }
    if (opts.stopAfterStep !== undefined && step >= opts.stopAfterStep) {
      optimizer.dispose();
      policy.dispose();
      return null;
    }
  }

  // ---- 5. final evaluation on the held-out set ----
  const result: RunResult = { config, steps: config.steps, eval: await evaluate(config.evalQuestions), evalHistory };
  writeJsonAtomic(resultPath, result);
  optimizer.dispose();
  policy.dispose();
  return result;
}
