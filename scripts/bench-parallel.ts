/**
 * One run on one thread vs on every core (src/train/parallel.ts), same process, same inputs:
 *
 *   npx tsx scripts/bench-parallel.ts [--threads N] [--rounds 5] [--reps 3] [--steps 4] [--out build/bench]
 *
 * Workloads (each timed with a ComputePool of 1 thread and of N threads, order alternating by
 * round, so load from other processes hits both alike; ratios are paired by round):
 *   - sample: KV-cache sampling of 80 tokens for the 64 prompts of the tiny-policy benchmark
 *     (scripts/bench-tiny-inputs.ts), no stop token: `pool.generate`;
 *   - rollouts: the trainer's rollouts, 8 questions × 8 traces of the committed chain base policy
 *     with forced summaries at 4 budgets × 4 (`pool.sampleRollouts`);
 *   - train: the trainer's update on the benchmark's 64 × 96 batch: the clipped surrogate
 *     (advantage 1, the benchmark's loss weights) over `gradientChunks` chunks + AdamW
 *     (`pool.update`); `train-1pass` is the same update in one pass on one thread (the trainer
 *     before chunking), to show what the chunking costs;
 *   - rl-step: the whole RL step as `train()` runs it (ar-uniform on chain, the default sizes:
 *     rollouts with forced summaries, advantages, 2 updates), the median of `StepMetrics.seconds`
 *     over `--steps` steps after the first.
 * The API the repository's other benchmarks can call is the same: `ComputePool.start(threads)`,
 * then `pool.generate`, `pool.sampleRollouts`, `pool.update`, or `train({ ...config, threads })`.
 * Writes <out>/parallel.json and <out>/parallel.md.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { budgetSupport } from '../src/core/budget.js';
import { getTask } from '../src/tasks/index.js';
import { trainingSampler } from '../src/tasks/splits.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { TransformerPolicy } from '../src/model/transformer.js';
import { warmStartHash } from '../src/model/warmstart.js';
import { runConfig, DEFAULT_TRAIN_CONFIG } from '../src/train/config.js';
import { gradientChunks, type GradientChunk } from '../src/train/gradient.js';
import { AdamW } from '../src/train/optim.js';
import { ComputePool } from '../src/train/parallel.js';
import { warmStartFor } from '../src/train/presets.js';
import { train } from '../src/train/train.js';
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js';
import { TINY_BENCH, makeTinyInputs } from './bench-tiny-inputs.js';

interface Options {
  threads: number;
  rounds: number;
  reps: number;
  steps: number;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { threads: availableParallelism(), rounds: 5, reps: 3, steps: 4, out: 'build/bench' };
  for (let i = 0; i < argv.length; i++) {
    const [name, value] = [argv[i], argv[++i]];
    const n = Number(value);
    if (name === '--out') opts.out = value;
    else if (['--threads', '--rounds', '--reps', '--steps'].includes(name) && Number.isInteger(n) && n >= 1) (opts as unknown as Record<string, number>)[name.slice(2)] = n;
    else throw new Error(`bench-parallel: bad argument '${name} ${value}' (allowed: --threads N, --rounds N, --reps N, --steps N ≥ 1, --out DIR)`);
  }
  if (opts.threads < 2) throw new Error('bench-parallel: --threads must be ≥ 2 (it compares with one thread)');
  return opts;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const log = (msg: string) => process.stderr.write(`[bench-parallel] ${msg}\n`);

/** The benchmark's 64 × 96 training batch as the trainer's chunks: advantage 1, its loss weights. */
function tinyChunks(chunks: number): GradientChunk[] {
  const inputs = makeTinyInputs();
  const perRow = inputs.lossWeights.find((w) => w > 0)!;
  const traces = inputs.prompts.map((p, r) => ({
    prompt: p.slice(1),
    thinking: Array.from(inputs.batch.targets.subarray(r * inputs.batch.length + p.length - 1, (r + 1) * inputs.batch.length - 1)),
    thinkingLogp: Array<number>(TINY_BENCH.newTokens).fill(-3),
    groups: [],
  }));
  const targets = traces.map((t) => ({ thinkingAdvantage: t.thinking.map(() => 1), thinkingWeight: t.thinking.map(() => perRow), summaries: [] }));
  return gradientChunks(traces, targets, chunks);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  await initBackend({ prefer: 'wasm', strict: true });
  const loadStart = loadavg()[0];
  const inputs = makeTinyInputs();
  const tiny = new TransformerPolicy(inputs.config, inputs.weights);
  const chain = getTask('chain');
  const basePath = join('data', 'base', `chain-${warmStartHash(chain, warmStartFor('chain'))}.ckpt`);
  const base = loadCheckpoint(basePath).policy;
  const settings = { temperature: 1, clipLow: 0.2, clipHigh: 0.2 };
  const chunked = tinyChunks(DEFAULT_TRAIN_CONFIG.gradientChunks);
  const onePass = tinyChunks(1);
  const draw = trainingSampler(chain, 17);
  const questions = Array.from({ length: 8 }, () => draw());
  const problems = questions.flatMap((q) => Array(8).fill(q));
  const rolloutOptions = { budgets: budgetSupport(chain.maxThinking, 4), summariesPerGroup: 4, seed: 3, bMax: chain.maxThinking };

  const pools = { 1: await ComputePool.start(1), N: await ComputePool.start(opts.threads) };
  const optimizer = new AdamW(tiny.variables(), { lr: 1e-6, beta1: 0.9, beta2: 0.999, weightDecay: 0, gradClip: 1 });
  type Key = 1 | 'N';
  const work: Record<string, (pool: ComputePool) => Promise<unknown>> = {
    sample: (pool) => pool.generate(tiny, inputs.prompts, { maxTokens: TINY_BENCH.newTokens, stopTokens: [], temperature: 1, seed: 1 }),
    rollouts: (pool) => pool.sampleRollouts(base, chain, problems, rolloutOptions),
    train: (pool) => pool.update(tiny, optimizer, chunked, settings),
  };
  const times: Record<string, Record<Key, number[][]>> = {};
  const record = (name: string, key: Key, round: number, ms: number) => {
    times[name] ??= { 1: [], N: [] };
    (times[name][key][round] ??= []).push(ms);
  };
  for (const fn of Object.values(work)) for (const key of [1, 'N'] as Key[]) await fn(pools[key]); // warm-up
  const tensorsBefore = tf.memory().numTensors;
  for (let round = 0; round < opts.rounds; round++) {
    const order: Key[] = round % 2 ? ['N', 1] : [1, 'N'];
    for (const [name, fn] of Object.entries(work)) {
      for (const key of order) {
        for (let r = 0; r < opts.reps; r++) {
          const t0 = performance.now();
          await fn(pools[key]);
          record(name, key, round, performance.now() - t0);
        }
      }
    }
    for (let r = 0; r < opts.reps; r++) {
      const t0 = performance.now();
      await pools[1].update(tiny, optimizer, onePass, settings);
      record('train-1pass', 1, round, performance.now() - t0);
    }
    // The whole RL step as train() runs it, in a fresh folder each time.
    for (const key of order) {
      const dir = mkdtempSync(join(tmpdir(), 'anytime-bench-parallel-'));
      const seconds: number[] = [];
      await train(runConfig('ar-uniform', { task: 'chain', steps: opts.steps + 1, checkpointEvery: 1000, evalQuestions: 1, evalSamples: 1, threads: key === 1 ? 1 : opts.threads }), {
        outDir: dir,
        basePolicy: basePath,
        onStep: (m) => {
          if (m.step > 1) seconds.push(m.seconds * 1000);
        },
      });
      rmSync(dir, { recursive: true, force: true });
      times['rl-step'] ??= { 1: [], N: [] };
      times['rl-step'][key][round] = seconds;
    }
    log(`round ${round + 1}/${opts.rounds} done (load ${loadavg()[0].toFixed(1)})`);
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  const workerTensors = await pools.N.workerTensorCounts();
  await Promise.all([pools[1].close(), pools.N.close()]);

  const rows = Object.entries(times).map(([name, t]) => {
    const one = t[1].map(median);
    const many = t.N.length ? t.N.map(median) : [];
    const ratios = many.length ? one.map((x, i) => x / many[i]) : [];
    return {
      workload: name,
      oneThreadMs: median(one),
      manyThreadsMs: many.length ? median(many) : undefined,
      speedup: ratios.length ? { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) } : undefined,
      perRoundMs: t,
    };
  });
  const onePassMs = rows.find((r) => r.workload === 'train-1pass')!.oneThreadMs;
  const fmt = (x: number | undefined, d = 0) => (x === undefined ? '' : x.toFixed(d));
  const md = [
    `# One run on every core: ${opts.threads} threads vs 1`,
    '',
    `\`${['npx tsx scripts/bench-parallel.ts', ...process.argv.slice(2)].join(' ')}\` — ${opts.rounds} rounds × ${opts.reps} repeats (rl-step: ${opts.steps} steps), medians per round, ratio = 1-thread time / ${opts.threads}-thread time paired by round.`,
    '',
    '| workload | 1 thread (ms) | ' + `${opts.threads} threads (ms) | speed-up median [min, max] |`,
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.workload} | ${fmt(r.oneThreadMs)} | ${fmt(r.manyThreadsMs)} | ${r.speedup ? `${fmt(r.speedup.median, 2)}x [${fmt(r.speedup.min, 2)}, ${fmt(r.speedup.max, 2)}]` : ''} |`),
    '',
    `train-1pass is the update in one pass on one thread (no chunks): chunking into ${DEFAULT_TRAIN_CONFIG.gradientChunks} costs ${fmt((rows.find((r) => r.workload === 'train')!.oneThreadMs / onePassMs - 1) * 100)}% on one thread.`,
    `Machine: ${availableParallelism()} cores, load average ${loadStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end. Tensors leaked here: ${leaked}; in the workers after all rounds: ${workerTensors.join(', ')} (the policy copies).`,
  ].join('\n');
  mkdirSync(opts.out, { recursive: true });
  writeJsonAtomic(join(opts.out, 'parallel.json'), { options: opts, rows, leaked, workerTensors, load: [loadStart, loadavg()[0]] });
  writeFileAtomic(join(opts.out, 'parallel.md'), md + '\n');
  process.stdout.write(md + '\n');
  optimizer.dispose();
  tiny.dispose();
  base.dispose();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
