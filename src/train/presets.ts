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
  /** Seeds per run (seeds 0 … n−1). */
  seeds: number;
  /** Seeds of particular runs, overriding `seeds` (e.g. 5 for the headline runs, 3 for ablations). */
  seedsByRun?: Partial<Record<RunName, number>>;
  /** Overrides applied to every run's config. */
  train: Partial<TrainConfig>;
  variance: VarianceStudySettings;
  /**
   * A budget-pressure sweep: the whole preset is run once per b_max in this list (each in its own
   * sub-folder `b<N>/`, with its own base evaluation), and a study report compares them.
   */
  maxBudgets?: number[];
}

/** How many seeds `run` gets under `preset`. */
export function seedsOf(preset: ReproducePreset, run: RunName): number {
  return preset.seedsByRun?.[run] ?? preset.seeds;
}

/**
 * Warm-start settings of each task's base policy (cached in data/base/), measured in the task files:
 * - chain: 3000 steps (~4–6 min on 2 cores); at the default 800 accuracy stops rising with the budget.
 * - search: 6000 steps (~7 min); the loss sits on a plateau until ~4500 steps, where the policy
 *   learns to stop on a hit, and at 3000 steps it is still at chance.
 * Other tasks use the warm-start defaults (their tiny policies stay near chance either way).
 */
export const TASK_WARM_START: Readonly<Record<string, Partial<WarmStartOptions>>> = {
  chain: { steps: 3000 },
  search: { steps: 6000 },
};

/** The warm-start settings a preset uses for `task`. */
export function warmStartFor(task: string): Partial<WarmStartOptions> {
  return TASK_WARM_START[task] ?? {};
}

const CHAIN_WARM_START = TASK_WARM_START.chain;

const VARIANCE: VarianceStudySettings = { questions: 48, groupSize: 8, budgetCount: 8, summaries: 4, temperature: 1 };
/** The variance study of the committed sets: enough questions for intervals over questions. */
const VARIANCE_LARGE: VarianceStudySettings = { questions: 256, groupSize: 8, budgetCount: 8, summaries: 4, temperature: 1 };

/**
 * Evaluation of the committed sets: 2,560 held-out questions × 1 sample, so the standard error of
 * a single run's accuracy at any budget is at most 0.5/√2560 ≈ 0.99 points; a held-out curve every
 * 150 steps on the first 512 questions.
 */
const PRECISE_EVAL: Partial<TrainConfig> = { evalQuestions: 2560, evalSamples: 1, evalEvery: 150, evalEveryQuestions: 512 };

export const PRESETS: Record<string, ReproducePreset> = {
  quick: {
    name: 'quick',
    description: 'GRPO vs AR-uniform, one seed each (about 1 min on 2 cores)',
    task: 'chain',
    warmStart: CHAIN_WARM_START,
    runs: ['grpo', 'ar-uniform'],
    seeds: 1,
    train: { steps: 100, questionsPerStep: 8, groupSize: 8, evalQuestions: 512, evalSamples: 1, checkpointEvery: 10 },
    variance: VARIANCE,
  },
  notebook: {
    name: 'notebook',
    description: 'GRPO vs AR-uniform, one seed, sized for a notebook cell (≤ 10 min on 2 cores)',
    task: 'chain',
    warmStart: CHAIN_WARM_START,
    runs: ['grpo', 'ar-uniform'],
    seeds: 1,
    train: { steps: 60, questionsPerStep: 8, groupSize: 8, evalQuestions: 256, evalSamples: 1, checkpointEvery: 10 },
    variance: { ...VARIANCE, questions: 32 },
  },
  full: {
    name: 'full',
    description: 'the headline set: all 7 runs of §7, 5 seeds for GRPO and the AR priors, 3 for the ablations, 600 steps, paired evaluation on 2,560 questions',
    task: 'chain',
    warmStart: CHAIN_WARM_START,
    runs: [...RUN_NAMES],
    seeds: 3,
    seedsByRun: { grpo: 5, 'ar-base': 5, 'ar-linear': 5, 'ar-uniform': 5 },
    train: { steps: 600, questionsPerStep: 8, groupSize: 8, checkpointEvery: 25, ...PRECISE_EVAL },
    variance: VARIANCE_LARGE,
  },
  pressure: {
    name: 'pressure',
    description: 'budget pressure: GRPO vs AR-uniform, 5 seeds, 600 steps, at b_max 96, 64, 48 and 32 (the base policy cut at b_max in 19%, 34%, 48% and 65% of its traces on search)',
    task: 'search',
    warmStart: TASK_WARM_START.search,
    runs: ['grpo', 'ar-uniform'],
    seeds: 5,
    train: { steps: 600, questionsPerStep: 8, groupSize: 8, checkpointEvery: 25, ...PRECISE_EVAL },
    variance: VARIANCE,
    maxBudgets: [96, 64, 48, 32],
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
