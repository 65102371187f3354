/**
 * Every hyperparameter of a training run, in one typed config with its default and meaning,
 * the paper's runs (ANYTIME.md §7) and the arena's budget-aware RL methods (docs/arena.md) as
 * named presets over it.
 */
import { checkOneOf, checkPositiveInt, fail } from '../core/errors.js';
import { PRIOR_KINDS, type PriorKind } from '../core/budget.js';
import { SUMMARY_MODES, type BaselineName, type SummaryMode } from '../core/advantages.js';
import { LOSS_AGGREGATIONS, type LossAggregation } from '../core/loss.js';
import { REWARD_SHAPE_NAMES, TRUNCATION_MODES, type RewardShapeName, type TruncationMode } from '../core/rewards.js';

export interface TrainConfig {
  /** Run label (one of RUN_NAMES for the paper's runs). */
  run: string;
  /** Synthetic task name (see src/tasks). */
  task: string;
  /** Seed of everything stochastic in the run: problems, rollouts, minibatch order. */
  seed: number;

  // ---- budgets and the anytime objective ----
  /** b_max: the thinking budget cap (tokens, end-of-thinking included); 0 = the task's default. */
  maxBudget: number;
  /** S: number of evenly spaced training budgets b_j = b_max·j/S (GRPO: 1). */
  trainBudgetCount: number;
  /** Prior over the training budgets (§2). */
  prior: PriorKind;
  /** A: summaries sampled per prefix (per budget). */
  summariesPerBudget: number;
  /** Which summaries are trained (§5): all of them, or the final budget's only (GRPO). */
  summaryMode: SummaryMode;
  /** Thinking baseline (§4). */
  baseline: BaselineName;
  /** Own-progress discount base d (2 = the paper's 2^k weights). */
  discount: number;

  // ---- rollouts ----
  /** Questions per rollout batch. */
  questionsPerStep: number;
  /** G: traces per question. */
  groupSize: number;
  /** Rollout batches (training steps). */
  steps: number;
  /** Optimiser steps per rollout batch (the batch is split into this many minibatches; one PPO epoch). */
  updatesPerBatch: number;
  /** Sampling temperature for training rollouts. */
  temperature: number;

  // ---- loss ----
  /** ε_low of the clipped surrogate. */
  clipLow: number;
  /** ε_high (clip-higher); equal to clipLow in the paper. */
  clipHigh: number;
  /** Loss aggregation; the paper sums over trainable tokens and divides by a constant. */
  aggregation: LossAggregation;

  // ---- optimiser (AdamW) ----
  /** Learning rate (the paper's 1e-6 is for a 1.5B model; the tiny policy trains from scratch). */
  lr: number;
  /** Decoupled weight decay. */
  weightDecay: number;
  /** Global gradient-norm clip. */
  gradClip: number;
  beta1: number;
  beta2: number;

  // ---- evaluation ----
  /** Evenly spaced evaluation budgets up to b_max. */
  evalBudgetCount: number;
  /** Held-out questions. */
  evalQuestions: number;
  /** k: samples per held-out question. */
  evalSamples: number;
  /** Evaluation sampling temperature. */
  evalTemperature: number;
  /**
   * Seed of the evaluation's sampling streams. It is the same for every run and training seed, so
   * all runs are evaluated on the same questions with the same streams: differences are paired.
   */
  evalSeed: number;
  /** Evaluate every this many steps during training (0: only at the end), for curves over steps. */
  evalEvery: number;
  /** Questions of those evaluations during training (the first ones of the held-out set; ≤ evalQuestions when evalEvery > 0). */
  evalEveryQuestions: number;
  /** Checkpoint every this many steps (the last step always checkpoints). */
  checkpointEvery: number;

  // ---- compute (src/train/parallel.ts) ----
  /**
   * Threads the run computes on: 0 = every core of the machine; 1 = this thread only; N = this
   * thread and N − 1 worker threads, each with its own tfjs-wasm. Rollouts are split by rows and
   * gradients by `gradientChunks`, so no number changes with it (a run may resume on another count).
   */
  threads: number;
  /**
   * Chunks each minibatch's gradient is summed from, in chunk order (traces split by length, a
   * rule of the data alone): fixes the float reduction order, so results do not depend on
   * `threads`. At most this many threads share an update. Changing it changes the run's numbers.
   */
  gradientChunks: number;

  // ---- budget-aware RL methods of the arena (docs/arena.md); the defaults leave GRPO and AR as they are ----
  // Each needs trainBudgetCount = 1: they shape the outcome reward of one budget, the rollout cap.
  /** Reward of a trace for its thinking (REWARD_SHAPES in src/core/rewards.ts); `correctness` = its score. */
  rewardShape: RewardShapeName;
  /** The shape's per-token coefficient or weight: L1's α, ShorterBetter's β/α, Kimi's and DAPO's weight. */
  lengthCoef: number;
  /** L1-Max's δ: the reward of a right answer exactly at the asked length. */
  l1Delta: number;
  /** DAPO's L_cache (tokens): the overlong penalty ramps from 0 to −1 over this many tokens before the cap. */
  overlongBuffer: number;
  /** Fraction of the steps trained on the correctness alone before the shape starts (Kimi k1.5's warm-up). */
  shapeWarmup: number;
  /**
   * Thinking caps of the training rollouts (tokens, each ≤ b_max), one per equal round of the run:
   * ThinkPrune's tightening limits, Elastic Reasoning's budget t. Empty: b_max throughout.
   * Evaluation always runs up to b_max.
   */
  rolloutCaps: readonly number[];
  /** What becomes of a trace cut at the rollout cap (`summary`, ThinkPrune's `zero`, DAPO's `mask`). */
  truncation: TruncationMode;
  /** DAPO's dynamic sampling: up to this many extra rounds of questionsPerStep questions to fill the batch with groups whose correctness varies; 0 = off. */
  dynamicSamplingRounds: number;
  /**
   * L1: the prompt asks for a thinking length, one of this many levels b_max·l/L (l = 1..L), drawn
   * per question in training and asked for each evaluation budget. 0: the prompt asks for none.
   */
  promptTargets: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  run: 'ar-uniform',
  task: 'arithmetic',
  seed: 0,
  maxBudget: 0,
  trainBudgetCount: 4,
  prior: 'uniform',
  summariesPerBudget: 4,
  summaryMode: 'all-budgets',
  baseline: 'brpo',
  discount: 2,
  questionsPerStep: 8,
  groupSize: 8,
  steps: 60,
  updatesPerBatch: 2,
  temperature: 1.0,
  clipLow: 0.2,
  clipHigh: 0.2,
  aggregation: 'seq-mean-token-sum-norm',
  lr: 1e-4,
  weightDecay: 0.01,
  gradClip: 1.0,
  beta1: 0.9,
  beta2: 0.999,
  evalBudgetCount: 16,
  evalQuestions: 64,
  evalSamples: 4,
  evalTemperature: 0.6,
  evalSeed: 0,
  evalEvery: 0,
  evalEveryQuestions: 256,
  checkpointEvery: 5,
  threads: 0,
  gradientChunks: 4,
  rewardShape: 'correctness',
  lengthCoef: 0,
  l1Delta: 0.5,
  overlongBuffer: 0,
  shapeWarmup: 0,
  rolloutCaps: [],
  truncation: 'summary',
  dynamicSamplingRounds: 0,
  promptTargets: 0,
};

/** GRPO's settings (§7): one budget (the cap), the group-mean baseline, the final summary trained. */
const GRPO = { prior: 'base', trainBudgetCount: 1, summariesPerBudget: 1, summaryMode: 'final-only', baseline: 'group-mean' } as const;

/** The paper's runs and ablations (§7), as overrides of the defaults. */
export const PAPER_RUN_PRESETS = {
  grpo: GRPO,
  'ar-base': { prior: 'base', trainBudgetCount: 4, summariesPerBudget: 4, summaryMode: 'all-budgets', baseline: 'brpo' },
  'ar-linear': { prior: 'linear', trainBudgetCount: 4, summariesPerBudget: 4, summaryMode: 'all-budgets', baseline: 'brpo' },
  'ar-uniform': { prior: 'uniform', trainBudgetCount: 4, summariesPerBudget: 4, summaryMode: 'all-budgets', baseline: 'brpo' },
  'grpo-dense': { prior: 'linear', trainBudgetCount: 4, summariesPerBudget: 1, summaryMode: 'final-only', baseline: 'group-mean' },
  'grpo-decouple': { prior: 'base', trainBudgetCount: 4, summariesPerBudget: 4, summaryMode: 'all-budgets', baseline: 'group-mean' },
  'grpo-vr': { prior: 'base', trainBudgetCount: 4, summariesPerBudget: 1, summaryMode: 'final-only', baseline: 'brpo' },
} as const satisfies Record<string, Partial<TrainConfig>>;

/**
 * The arena's budget-aware RL methods (docs/arena.md): each is GRPO plus its paper's one idea,
 * with our defaults scaled to the 96-token tasks (b_max 96; the docs give the paper's values and
 * the scaling).
 */
export const ARENA_RUN_PRESETS = {
  /** ThinkPrune (arXiv 2504.01296): a cut at the limit scores 0; limits 64 → 48 → 32 (the paper's 4k → 3k → 2k). */
  thinkprune: { ...GRPO, rolloutCaps: [64, 48, 32], truncation: 'zero' },
  /** Elastic Reasoning, E1 (arXiv 2505.05315): thinking forced to end at t = 32, the answer within the task's summary cap s. */
  'elastic-reasoning': { ...GRPO, rolloutCaps: [32], truncation: 'summary' },
  /** L1-Exact (arXiv 2503.04697): a length level in the prompt; r = correct − α·|target − length|, α = 0.0003·4096/96. */
  'l1-exact': { ...GRPO, promptTargets: 16, rewardShape: 'l1-exact', lengthCoef: 0.0128 },
  /** L1-Max: r = correct · clip(α·(target − length) + δ, 0, 1), δ = 0.5. */
  'l1-max': { ...GRPO, promptTargets: 16, rewardShape: 'l1-max', lengthCoef: 0.0128, l1Delta: 0.5 },
  /** DAPO (arXiv 2503.14476): soft overlong punishment over the last 19 tokens (4096/20480 of b_max), dynamic sampling, token-level loss, clip-higher. */
  dapo: { ...GRPO, rewardShape: 'dapo-overlong', lengthCoef: 0.5, overlongBuffer: 19, dynamicSamplingRounds: 3, aggregation: 'token-mean', clipLow: 0.2, clipHigh: 0.28 },
  /** Kimi k1.5 (arXiv 2501.12599): the group length reward, weight 1, after a warm-up of 20% of the steps. */
  'kimi-length': { ...GRPO, rewardShape: 'kimi-length', lengthCoef: 1, shapeWarmup: 0.2 },
  /** ShorterBetter (arXiv 2504.21370): r = correct − (β/α)·|length − SOL|, β/α = 0.0005·6000/96. */
  'shorter-better': { ...GRPO, rewardShape: 'shorter-better', lengthCoef: 0.03125 },
  /** GRPO with traces cut at b_max left out of the loss (DAPO's overlong filtering). */
  'grpo-mask-truncated': { ...GRPO, truncation: 'mask' },
} as const satisfies Record<string, Partial<TrainConfig>>;

/** Every run preset by name: the paper's and the arena's. */
export const RUN_PRESETS = { ...PAPER_RUN_PRESETS, ...ARENA_RUN_PRESETS } as const satisfies Record<string, Partial<TrainConfig>>;

export type RunName = keyof typeof RUN_PRESETS;
export const RUN_NAMES = Object.keys(RUN_PRESETS) as RunName[];
/** The paper's runs (§7), in its table's order. */
export const PAPER_RUN_NAMES = Object.keys(PAPER_RUN_PRESETS) as RunName[];
/** The arena's methods. */
export const ARENA_RUN_NAMES = Object.keys(ARENA_RUN_PRESETS) as RunName[];

/** A run's config: defaults, then the run's preset, then explicit overrides. */
export function runConfig(run: RunName, overrides: Partial<TrainConfig> = {}): TrainConfig {
  checkOneOf('run', run, RUN_NAMES);
  return checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, ...RUN_PRESETS[run], run, ...overrides });
}

const BASELINES = ['brpo', 'group-mean', 'own-progress', 'none'] as const;

/** Checks every field, naming the bad one and what is allowed. */
export function checkTrainConfig(c: TrainConfig): TrainConfig {
  const ints: (keyof TrainConfig)[] = [
    'trainBudgetCount', 'summariesPerBudget', 'questionsPerStep', 'groupSize', 'steps', 'updatesPerBatch',
    'evalBudgetCount', 'evalQuestions', 'evalSamples', 'evalEveryQuestions', 'checkpointEvery', 'gradientChunks',
  ];
  for (const k of ints) checkPositiveInt(`config.${k}`, c[k] as number);
  if (!Number.isInteger(c.maxBudget) || c.maxBudget < 0) fail('config.maxBudget', `must be an integer ≥ 0 (0 = task default), got ${c.maxBudget}`);
  if (!Number.isInteger(c.evalEvery) || c.evalEvery < 0) fail('config.evalEvery', `must be an integer ≥ 0, got ${c.evalEvery}`);
  if (!Number.isInteger(c.seed)) fail('config.seed', `must be an integer, got ${c.seed}`);
  if (!Number.isInteger(c.evalSeed)) fail('config.evalSeed', `must be an integer, got ${c.evalSeed}`);
  if (c.evalEvery > 0 && c.evalEveryQuestions > c.evalQuestions) {
    fail('config.evalEveryQuestions', `must be ≤ evalQuestions (${c.evalQuestions}), got ${c.evalEveryQuestions}`);
  }
  if (!Number.isInteger(c.threads) || c.threads < 0) fail('config.threads', `must be an integer ≥ 0 (0 = every core), got ${c.threads}`);
  checkOneOf('config.prior', c.prior, PRIOR_KINDS);
  checkOneOf('config.summaryMode', c.summaryMode, SUMMARY_MODES);
  checkOneOf('config.baseline', c.baseline, BASELINES);
  checkOneOf('config.aggregation', c.aggregation, LOSS_AGGREGATIONS);
  const positive: (keyof TrainConfig)[] = ['temperature', 'lr', 'gradClip', 'evalTemperature', 'discount'];
  for (const k of positive) {
    const v = c[k] as number;
    if (!(Number.isFinite(v) && v > 0)) fail(`config.${k}`, `must be a finite number > 0, got ${String(v)}`);
  }
  for (const k of ['clipLow', 'clipHigh', 'weightDecay'] as const) {
    if (!(Number.isFinite(c[k]) && c[k] >= 0)) fail(`config.${k}`, `must be a finite number ≥ 0, got ${String(c[k])}`);
  }
  if (c.clipLow >= 1) fail('config.clipLow', `must be < 1, got ${c.clipLow}`);
  for (const k of ['beta1', 'beta2'] as const) {
    if (!(c[k] >= 0 && c[k] < 1)) fail(`config.${k}`, `must be in [0, 1), got ${String(c[k])}`);
  }
  if (c.updatesPerBatch > c.questionsPerStep) {
    fail('config.updatesPerBatch', `must be ≤ questionsPerStep (${c.questionsPerStep}): each minibatch holds whole question groups`);
  }
  if (c.summaryMode === 'final-only' && c.summariesPerBudget < 1) fail('config.summariesPerBudget', 'must be ≥ 1');
  checkArenaFields(c);
  return c;
}

/** The arena's fields (docs/arena.md): each checked, and the methods need one training budget. */
function checkArenaFields(c: TrainConfig): void {
  checkOneOf('config.rewardShape', c.rewardShape, REWARD_SHAPE_NAMES);
  checkOneOf('config.truncation', c.truncation, TRUNCATION_MODES);
  if (!(Number.isFinite(c.lengthCoef) && c.lengthCoef >= 0)) fail('config.lengthCoef', `must be a finite number ≥ 0, got ${String(c.lengthCoef)}`);
  if (!(c.l1Delta >= 0 && c.l1Delta <= 1)) fail('config.l1Delta', `must be in [0, 1], got ${String(c.l1Delta)}`);
  if (!(c.shapeWarmup >= 0 && c.shapeWarmup < 1)) fail('config.shapeWarmup', `must be a fraction of the steps in [0, 1), got ${String(c.shapeWarmup)}`);
  for (const k of ['overlongBuffer', 'dynamicSamplingRounds', 'promptTargets'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 0) fail(`config.${k}`, `must be an integer ≥ 0, got ${String(c[k])}`);
  }
  if (!Array.isArray(c.rolloutCaps)) fail('config.rolloutCaps', `must be an array of token counts, got ${typeof c.rolloutCaps}`);
  c.rolloutCaps.forEach((cap, i) => {
    if (!Number.isInteger(cap) || cap < 1) fail('config.rolloutCaps', `[${i}] must be a positive integer (tokens), got ${String(cap)}`);
    if (c.maxBudget > 0 && cap > c.maxBudget) fail('config.rolloutCaps', `[${i}] = ${cap} exceeds maxBudget ${c.maxBudget}`);
  });
  if (c.rewardShape === 'dapo-overlong' && c.overlongBuffer < 1) fail('config.overlongBuffer', `must be ≥ 1 token for the 'dapo-overlong' reward, got ${c.overlongBuffer}`);
  if ((c.rewardShape === 'l1-exact' || c.rewardShape === 'l1-max') && c.promptTargets < 1) {
    fail('config.promptTargets', `must be ≥ 1 for the '${c.rewardShape}' reward (the target length is asked for in the prompt), got ${c.promptTargets}`);
  }
  const used: [keyof TrainConfig, boolean][] = [
    ['rewardShape', c.rewardShape !== 'correctness'],
    ['rolloutCaps', c.rolloutCaps.length > 0],
    ['truncation', c.truncation !== 'summary'],
    ['dynamicSamplingRounds', c.dynamicSamplingRounds > 0],
    ['promptTargets', c.promptTargets > 0],
  ];
  for (const [k, on] of used) {
    if (on && c.trainBudgetCount !== 1) {
      fail(`config.${k}`, `is an outcome-reward setting of the arena and needs trainBudgetCount = 1 (one budget, the rollout cap), got trainBudgetCount ${c.trainBudgetCount}`);
    }
  }
}
