/**
 * The units of work of a reproduction, runnable in a worker thread or in-process:
 * `base` (warm start once, evaluate the base policy, the Fig. 3 variance study) and
 * `run` (one training run of one seed). Each skips what its result files already hold.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveSeed } from '../core/rng.js';
import { getTask } from '../tasks/index.js';
import { heldOutSet } from '../tasks/splits.js';
import { basePolicy, WARM_START_DEFAULTS } from '../model/warmstart.js';
import { loadCheckpoint } from '../model/checkpoint.js';
import { writeJsonAtomic } from '../util/fs.js';
import { runConfig, DEFAULT_TRAIN_CONFIG, type RunName } from './config.js';
import { evaluatePolicy } from './evaluate.js';
import { baselineVarianceStudy } from './variance.js';
import { evalStreamSeed, train } from './train.js';
import type { ReproducePreset } from './presets.js';

export type Job = { kind: 'base' } | { kind: 'run'; run: RunName; seed: number };

export interface JobProgress {
  /** Job id, e.g. 'base' or 'grpo/s0'. */
  id: string;
  phase: string;
  done: number;
  total: number;
  /** Short status shown after the bar, e.g. 'reward=0.41'. */
  status: string;
}

export const jobId = (job: Job): string => (job.kind === 'base' ? 'base' : `${job.run}/s${job.seed}`);
export const runDir = (outDir: string, run: string, seed: number): string => join(outDir, 'runs', `${run}-s${seed}`);

/** Where the warm-started base policy is cached (shared by every preset and run). */
export const BASE_POLICY_DIR = join('data', 'base');

export async function runJob(
  job: Job,
  preset: ReproducePreset,
  outDir: string,
  onProgress: (p: JobProgress) => void,
  baseDir = BASE_POLICY_DIR,
): Promise<void> {
  const task = getTask(preset.task);
  const id = jobId(job);
  const basePath = join(outDir, 'base', 'base.json');
  if (job.kind === 'base') {
    const steps = preset.warmStart.steps ?? WARM_START_DEFAULTS.steps;
    const { policy, path, cached } = await basePolicy(
      task,
      {
        ...preset.warmStart,
        onStep: ({ step, loss }) => onProgress({ id, phase: 'warm start', done: step + 1, total: steps, status: `loss=${loss.toFixed(3)}` }),
      },
      baseDir,
    );
    writeJsonAtomic(basePath, { path, cached });
    const c = { ...DEFAULT_TRAIN_CONFIG, ...preset.train };
    const bMax = c.maxBudget || task.maxThinking;
    const evalPath = join(outDir, 'base', 'eval.json');
    if (!existsSync(evalPath)) {
      onProgress({ id, phase: 'evaluate base', done: 0, total: 2, status: '' });
      const result = await evaluatePolicy(policy, task, heldOutSet(task, c.evalQuestions, 0), {
        maxBudget: bMax,
        budgetCount: c.evalBudgetCount,
        samples: c.evalSamples,
        temperature: c.evalTemperature,
        seed: evalStreamSeed(c.evalSeed),
      });
      writeJsonAtomic(evalPath, result);
    }
    const variancePath = join(outDir, 'base', 'variance.json');
    if (!existsSync(variancePath)) {
      onProgress({ id, phase: 'variance study', done: 1, total: 2, status: '' });
      const v = preset.variance;
      // Questions for the study come from the training distribution's held-out slice, seed 1.
      const study = await baselineVarianceStudy(policy, task, heldOutSet(task, v.questions, 1), {
        maxBudget: bMax,
        budgetCount: v.budgetCount,
        groupSize: v.groupSize,
        summaries: v.summaries,
        temperature: v.temperature,
        seed: deriveSeed(0, 'variance-study'),
      });
      writeJsonAtomic(variancePath, study);
    }
    onProgress({ id, phase: 'done', done: 2, total: 2, status: '' });
    policy.dispose();
    return;
  }
  if (!existsSync(basePath)) throw new Error(`run job ${id} needs the base job's ${basePath}`);
  const { path } = JSON.parse(readFileSync(basePath, 'utf8')) as { path: string };
  // Validate the base checkpoint early, with a clear error if it is missing or corrupt.
  loadCheckpoint(path).policy.dispose();
  const config = runConfig(job.run, { ...preset.train, task: preset.task, seed: job.seed });
  await train(config, {
    outDir: runDir(outDir, job.run, job.seed),
    basePolicy: path,
    onStep: (m, total) =>
      onProgress({ id, phase: 'train', done: m.step, total, status: `reward=${m.reward.toFixed(2)} anytime=${m.anytimeReward.toFixed(2)}` }),
  });
  onProgress({ id, phase: 'done', done: config.steps, total: config.steps, status: '' });
}
