/**
 * Reproduction presets: which runs, how many seeds, and the sizes that make them fit the
 * machine (2 CPU cores). `quick` is the README's main command; `full` is the committed table.
 */
import { checkOneOf } from '../core/errors.js';
import type { WarmStartOptions } from '../model/warmstart.js';
import { RUN_NAMES, type RunName, type TrainConfig } from './config.js';

export interface VarianceStudySettings {
  questions: number;
  groupSize: number;
  budgetCount: number;
  summaries: number;
  temperature: number;
}

export interface ReproducePreset {
  name: string;
  description: string;
  task: string;
  warmStart: Partial<WarmStartOptions>;
  runs: RunName[];
  seeds: number;
  /** Overrides applied to every run's config. */
  train: Partial<TrainConfig>;
  variance: VarianceStudySettings;
}

/**
 * The chain task's base policy: 3000 warm-start steps (~4–6 min on 2 cores, cached in data/base/).
 * At the default 800 the policy's accuracy stops rising with the budget (measured in src/tasks/chain.ts).
 */
const CHAIN_WARM_START = { steps: 3000 };

const VARIANCE: VarianceStudySettings = { questions: 48, groupSize: 8, budgetCount: 8, summaries: 4, temperature: 1 };

export const PRESETS: Record<string, ReproducePreset> = {
  quick: {
    name: 'quick',
    description: 'GRPO vs AR-uniform, one seed each (≤ 15 min on 2 cores)',
    task: 'chain',
    warmStart: CHAIN_WARM_START,
    runs: ['grpo', 'ar-uniform'],
    seeds: 1,
    train: { steps: 100, questionsPerStep: 8, groupSize: 8, evalQuestions: 64, evalSamples: 4, checkpointEvery: 10 },
    variance: VARIANCE,
  },
  notebook: {
    name: 'notebook',
    description: 'GRPO vs AR-uniform, one seed, sized for a notebook cell (≤ 10 min on 2 cores)',
    task: 'chain',
    warmStart: CHAIN_WARM_START,
    runs: ['grpo', 'ar-uniform'],
    seeds: 1,
    train: { steps: 60, questionsPerStep: 8, groupSize: 8, evalQuestions: 48, evalSamples: 4, checkpointEvery: 10 },
    variance: { ...VARIANCE, questions: 32 },
  },
  full: {
    name: 'full',
    description: 'all 7 runs of §7 × 3 seeds (≤ 90 min on 2 cores)',
    task: 'chain',
    warmStart: CHAIN_WARM_START,
    runs: [...RUN_NAMES],
    seeds: 3,
    train: { steps: 150, questionsPerStep: 8, groupSize: 8, evalQuestions: 64, evalSamples: 4, checkpointEvery: 10 },
    variance: VARIANCE,
  },
  /** A seconds-long preset for tests of the pipeline (not meaningful results). */
  smoke: {
    name: 'smoke',
    description: 'tiny pipeline check for tests',
    task: 'arithmetic',
    warmStart: { steps: 3, batchSize: 4 },
    runs: ['grpo', 'ar-uniform'],
    seeds: 1,
    train: { steps: 2, questionsPerStep: 2, groupSize: 2, evalQuestions: 4, evalSamples: 1, evalBudgetCount: 4, checkpointEvery: 1 },
    variance: { questions: 2, groupSize: 2, budgetCount: 4, summaries: 1, temperature: 1 },
  },
};

export const PRESET_NAMES = Object.keys(PRESETS);

export function getPreset(name: string): ReproducePreset {
  checkOneOf('preset', name, PRESET_NAMES);
  return PRESETS[name];
}
