/**
 * The trainer's whole RL step for `npm run bench`, timed as `train` runs it: the reproduction's
 * AR-uniform run on the `chain` task from its committed base policy (data/base/), with the quick
 * preset's sizes (8 questions × G = 8 traces, 4 training budgets × A = 4 forced summaries, two
 * updates per batch): rollouts with forced summaries at every budget, advantages, packing, the
 * clipped-surrogate updates and AdamW, metrics. `train()` itself runs; the step time is the
 * interval between its consecutive `onStep` calls (no evaluation or checkpoint falls in them).
 *
 * For the PyTorch reference (scripts/bench_torch.py --rl) it writes what each step did: the
 * rollouts `train` sampled (its `onRollouts` hook) and the packed minibatches the update
 * consumed, rebuilt from them with the functions `train` uses. PyTorch replays the tokens on the
 * sampler's schedule and runs the same updates (one packed pass per minibatch: `train` sums the
 * gradients of `gradientChunks` chunks, the same math), so both sides do the same work, and the
 * bench compares each step's loss and gradient norm with the ones `train` reported.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budgetSupport, makePrior } from '../src/core/budget.js';
import { packTraces } from '../src/model/forward.js';
import { readCheckpoint } from '../src/model/checkpoint.js';
import type { Rollout } from '../src/model/sampler.js';
import { parameterShapes, type TransformerConfig } from '../src/model/transformer.js';
import { warmStartHash } from '../src/model/warmstart.js';
import { getTask } from '../src/tasks/index.js';
import { runConfig, type TrainConfig } from '../src/train/config.js';
import type { ComputePool } from '../src/train/parallel.js';
import { getPreset, warmStartFor } from '../src/train/presets.js';
import { columnTargets, groupTargets } from '../src/train/targets.js';
import { train, type StepMetrics } from '../src/train/train.js';
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js';
import { forwardFlops } from './bench-tiny-inputs.js';
import { peakMemoryOf, type PeakMemory } from './bench-memory.js';

/** Which run the RL step is taken from. */
export const RL_BENCH = { run: 'ar-uniform', task: 'chain', preset: 'quick', maxBranchRows: 512 } as const;

/** The run's config for `steps` steps: the preset's sizes, no evaluation, no checkpoint. */
export function rlBenchConfig(steps: number): TrainConfig {
  const preset = getPreset(RL_BENCH.preset);
  return runConfig(RL_BENCH.run, { ...preset.train, task: RL_BENCH.task, steps, evalEvery: 0, checkpointEvery: 1_000_000 });
}

/** The committed base policy the reproduction starts from (data/base/<task>-<hash>.ckpt). */
export function rlBasePolicyPath(): string {
  const task = getTask(RL_BENCH.task);
  const path = join('data', 'base', `${task.name}-${warmStartHash(task, warmStartFor(task.name))}.ckpt`);
  if (!existsSync(path)) {
    throw new Error(`RL step: base policy ${path} missing (it is committed; 'anytime reproduce' rebuilds it if the warm start changed)`);
  }
  return path;
}

/** What one RL step computed: the same on both sides of the comparison. */
export interface RlStepWork {
  traces: number;
  thinkingTokens: number;
  summaryRows: number;
  summaryTokens: number;
  /** Packed update batches, rows × columns each. */
  minibatches: [number, number][];
  /** FLOPs of the step's model work on the replay's schedule (scripts/bench_torch.py), counted like `forwardFlops`. */
  flops: number;
}

export interface RlBenchResult {
  /** Wall time of each timed step. */
  timesMs: number[];
  /** `train`'s loss and gradient norm of every step, warm-up included (PyTorch's are compared with these). */
  steps: { loss: number; gradNorm: number }[];
  /** Work of each timed step. */
  work: RlStepWork[];
}

/**
 * Runs `train` for warmup + reps steps on `pool`'s threads (`train(config, { pool })`: the
 * config's own `threads`, 0 = every core, would not say which configuration was timed); returns
 * the timings and, with `replayDir`, writes the replay for PyTorch.
 */
export async function runRlBench(opts: { warmup: number; reps: number; pool: ComputePool; replayDir?: string }): Promise<RlBenchResult> {
  const { warmup, reps } = opts;
  if (!(Number.isInteger(warmup) && warmup >= 1)) throw new Error(`RL step: warmup must be an integer >= 1 (the first step compiles the kernels), got ${warmup}`);
  const total = warmup + reps;
  const basePolicy = rlBasePolicyPath();
  const config = rlBenchConfig(total + 1);
  const outDir = mkdtempSync(join(tmpdir(), 'anytime-bench-rl-'));
  const stamps: number[] = [];
  const metrics: StepMetrics[] = [];
  const rollouts = new Map<number, Rollout[]>();
  try {
    await train(config, {
      outDir,
      basePolicy,
      pool: opts.pool,
      stopAfterStep: total,
      onRollouts: (step, r) => rollouts.set(step, r),
      onStep: (m) => {
        stamps.push(performance.now());
        metrics.push(m);
      },
    });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  if (stamps.length !== total) throw new Error(`RL step: train ran ${stamps.length} steps, expected ${total}`);
  const timesMs = stamps.slice(warmup).map((t, i) => t - stamps[warmup + i - 1]);
  const ckpt = readCheckpoint(basePolicy);
  const replay = [...Array(total).keys()].map((i) => stepReplay(config, ckpt.config, rollouts.get(i + 1)!));
  if (opts.replayDir) writeReplay(opts.replayDir, config, basePolicy, warmup, replay);
  return {
    timesMs,
    steps: metrics.map((m) => ({ loss: m.loss, gradNorm: m.gradNorm })),
    work: replay.slice(warmup).map((r) => r.work),
  };
}

/**
 * Peak memory of one RL step: tensor bytes (tf.profile) and process RSS, over a separate
 * one-step `train` run on `pool` (untimed), so that profiling costs no timed step anything. The
 * tensor bytes are this thread's; the RSS is the process's, the pool's workers included.
 */
export async function rlStepMemory(pool: ComputePool): Promise<PeakMemory> {
  const outDir = mkdtempSync(join(tmpdir(), 'anytime-bench-rl-mem-'));
  try {
    return await peakMemoryOf(async () => {
      await train(rlBenchConfig(2), { outDir, basePolicy: rlBasePolicyPath(), pool, stopAfterStep: 1 });
    });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

interface StepReplay {
  rollouts: Rollout[];
  minibatches: ReturnType<typeof minibatchesOf>;
  work: RlStepWork;
}

/** The minibatches `train` builds from a step's rollouts (same functions, same order). */
function minibatchesOf(config: TrainConfig, model: TransformerConfig, rollouts: Rollout[]) {
  const task = getTask(config.task);
  const bMax = config.maxBudget || task.maxThinking;
  const budgets = budgetSupport(bMax, config.trainBudgetCount);
  const prior = makePrior(config.prior, budgets);
  const G = config.groupSize;
  const Q = config.questionsPerStep;
  const groups = [...Array(Q).keys()].map((q) =>
    groupTargets(rollouts.slice(q * G, (q + 1) * G), prior.probs, { baseline: config.baseline, discount: config.discount, summaryMode: config.summaryMode }),
  );
  const perUpdate = Math.ceil(Q / config.updatesPerBatch);
  const out = [];
  for (let u = 0; u < config.updatesPerBatch; u++) {
    const qs = [...Array(Q).keys()].slice(u * perUpdate, (u + 1) * perUpdate);
    if (qs.length === 0) continue;
    const mb = qs.flatMap((q) => rollouts.slice(q * G, (q + 1) * G));
    const thinking = qs.flatMap((q) => groups[q].thinking);
    const summary = { advantages: qs.flatMap((q) => groups[q].summary.advantages), trainable: qs.flatMap((q) => groups[q].summary.trainable) };
    const batch = packTraces(mb, model.maxSeqLen);
    const targets = columnTargets(batch.layout, mb, thinking, summary, budgets, config.aggregation, bMax);
    out.push({ batch, targets });
  }
  return out;
}

function stepReplay(config: TrainConfig, model: TransformerConfig, rollouts: Rollout[]): StepReplay {
  const minibatches = minibatchesOf(config, model, rollouts);
  const prefixColumns = 1 + getTask(config.task).maxPromptLength;
  return { rollouts, minibatches, work: stepWork(model, rollouts, minibatches.map((m) => [m.batch.rows, m.batch.length]), prefixColumns) };
}

/**
 * The step's work on the replay's schedule (scripts/bench_torch.py `replay_rollouts`): the
 * thinking prefill and one decoding step per token of the longest trace for every row, summary
 * branches `maxBranchRows` at a time each attending its chunk's longest prefix, and the updates
 * (forward + backward ≈ 3 forwards) over the packed minibatches.
 */
function stepWork(model: TransformerConfig, rollouts: Rollout[], minibatches: [number, number][], prefixColumns: number): RlStepWork {
  const B = rollouts.length;
  const Lp = Math.max(prefixColumns, ...rollouts.map((r) => 1 + r.prompt.length));
  const longest = Math.max(...rollouts.map((r) => r.thinking.length));
  let flops = forwardFlops(model, B * Lp, Lp);
  for (let k = 0; k + 1 < longest; k++) flops += forwardFlops(model, B, Lp + k + 1);
  const branches = rollouts.flatMap((r) =>
    r.groups.flatMap((g) => {
      const inCache = Math.min(g.cutLength, r.thinking.length - 1);
      const pending = g.cutLength - inCache + g.forcing.length;
      return g.summaries.map((s) => ({ keyEnd: Lp + inCache, steps: pending + s.tokens.length - 1 }));
    }),
  );
  for (let start = 0; start < branches.length; start += RL_BENCH.maxBranchRows) {
    const chunk = branches.slice(start, start + RL_BENCH.maxBranchRows);
    const T0 = Math.max(...chunk.map((b) => b.keyEnd));
    const steps = Math.max(...chunk.map((b) => b.steps));
    for (let s = 0; s < steps; s++) flops += forwardFlops(model, chunk.length, T0 + s + 1);
  }
  for (const [rows, length] of minibatches) flops += 3 * forwardFlops(model, rows * length, length);
  return {
    traces: B,
    thinkingTokens: rollouts.reduce((n, r) => n + r.thinking.length, 0),
    summaryRows: branches.length,
    summaryTokens: rollouts.reduce((n, r) => n + r.groups.reduce((m, g) => m + g.summaries.reduce((k, s) => k + s.tokens.length, 0), 0), 0),
    minibatches,
    flops,
  };
}

const b64 = (a: Int32Array | Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** Writes the replay (format in scripts/bench_torch.py `load_rl`). */
function writeReplay(dir: string, config: TrainConfig, basePolicy: string, warmup: number, steps: StepReplay[]): void {
  const ckpt = readCheckpoint(basePolicy);
  const shapes = parameterShapes(ckpt.config);
  const flat = new Float32Array(shapes.reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0));
  let offset = 0;
  for (const [name] of shapes) {
    const w = ckpt.weights.get(name)!;
    flat.set(w, offset);
    offset += w.length;
  }
  writeFileAtomic(join(dir, 'params.f32'), new Uint8Array(flat.buffer));
  const names = steps.map((_, i) => `step-${i + 1}.json`);
  steps.forEach((step, i) => {
    writeJsonAtomic(join(dir, names[i]), {
      rollouts: step.rollouts.map((r) => ({
        prompt: r.prompt,
        thinking: r.thinking,
        thinkingLogp: r.thinkingLogp,
        groups: r.groups.map((g) => ({ cutLength: g.cutLength, forcing: g.forcing, summaries: g.summaries.map((s) => ({ tokens: s.tokens, logp: s.logp })) })),
      })),
      minibatches: step.minibatches.map(({ batch, targets }) => ({
        rows: batch.rows,
        length: batch.length,
        ids: b64(batch.ids),
        pos: b64(batch.pos),
        targets: b64(batch.targets),
        attend: b64(Uint8Array.from(batch.mask, (m) => (m === 0 ? 1 : 0))),
        oldLogp: b64(targets.oldLogp),
        advantages: b64(targets.advantages),
        weights: b64(targets.weights),
      })),
    });
  });
  const task = getTask(config.task);
  writeJsonAtomic(join(dir, 'manifest.json'), {
    run: config.run,
    task: config.task,
    basePolicy,
    config: ckpt.config,
    params: shapes,
    warmupSteps: warmup,
    steps: names,
    // Prompts left-padded to the task's longest, as src/model/sampler.ts pads them.
    sampler: { temperature: config.temperature, maxBranchRows: RL_BENCH.maxBranchRows, prefixColumns: 1 + task.maxPromptLength, summaryMaxTokens: task.summaryMaxTokens },
    train: {
      lr: config.lr,
      beta1: config.beta1,
      beta2: config.beta2,
      epsilon: 1e-8, // AdamW's default (src/train/optim.ts)
      weightDecay: config.weightDecay,
      gradClip: config.gradClip,
      temperature: config.temperature,
      clipLow: config.clipLow,
      clipHigh: config.clipHigh,
      updatesPerBatch: config.updatesPerBatch,
    },
  });
}
