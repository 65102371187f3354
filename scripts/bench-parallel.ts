/**
 * One run on one thread vs on every core (src/train/parallel.ts), same process, same inputs:
 *
 *   npx tsx scripts/bench-parallel.ts [--threads N] [--rounds 5] [--reps 3] [--steps 4] [--out build/bench]
 *
 * Workloads (each timed with a ComputePool of 1 thread and of N threads, order alternating by
 * round, so load from other processes hits both alike; ratios are paired by round):
 *   - sample: KV-cache sampling of 80 tokens for the 64 prompts of the tiny-policy benchmark
 *     (scripts/bench-tiny-inputs.ts), no stop token: `pool.generate` (scripts/bench-pool.ts, the
 *     same workload `npm run bench` times on every core against PyTorch);
 *   - rollouts: the trainer's rollouts, 8 questions × 8 traces of the committed chain base policy
 *     with forced summaries at 4 budgets × 4 (`pool.sampleRollouts`);
 *   - train: the trainer's update on the benchmark's 64 × 96 batch: the clipped surrogate
 *     (advantage 1, the benchmark's loss weights) over `gradientChunks` chunks + AdamW
 *     (`pool.update`, scripts/bench-pool.ts); `train-1pass` is the same update in one pass on one thread (the trainer
 *     before chunking), to show what the chunking costs;
 *   - rl-step: the whole RL step as `train()` runs it (ar-uniform on chain, the default sizes:
 *     rollouts with forced summaries, advantages, 2 updates), the median time between consecutive
 *     `onStep` calls (one whole step) over `--steps` steps after the first.
 * The API the repository's other benchmarks can call is the same: `ComputePool.start(threads)`,
 * then `pool.generate`, `pool.sampleRollouts`, `pool.update`, or `train(config, { pool, … })` (or `config.threads`).
 * Besides wall time it records each thread's CPU time (Linux schedstat: this thread's directly,
 * the workers' through `pool.workerStats()`): on a machine shared with other work, wall-clock
 * ratios only show how much CPU the scheduler granted (with autogroup scheduling a session's
 * threads share one session's slice), so the report also gives the busiest thread's CPU time
 * against the 1-thread CPU time. The busiest thread's time is a lower bound of the critical path
 * (no waits; phases that run one after the other on different threads are overlapped; GC helper
 * threads not counted), so that speed-up is an upper bound of what idle cores would give.
 * Writes <out>/parallel.json and <out>/parallel.md.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { ComputePool } from '../src/train/parallel.js';
import { warmStartFor } from '../src/train/presets.js';
import { train } from '../src/train/train.js';
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js';
import { makeTinyInputs } from './bench-tiny-inputs.js';
import { TRAINER_SURROGATE, poolWorkloads, trainerChunks, trainerOptimizer } from './bench-pool.js';

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

/** CPU milliseconds used so far by this thread (Linux schedstat). */
const mainCpuMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;

/** One timed piece of work: wall time and the busiest thread's CPU time (this one or a worker). */
interface Sample {
  wall: number;
  cpu: number;
}

/** Wall and CPU clocks of this thread and of each worker of `pool`. */
interface Clocks {
  wall: number;
  main: number;
  workers: Promise<number[]>;
}

const clocks = (pool: ComputePool): Clocks => ({
  wall: performance.now(),
  main: mainCpuMs(),
  workers: pool.workerStats().then((s) => s.map((w) => w.cpuMs)),
});

async function sampleBetween(a: Clocks, b: Clocks): Promise<Sample> {
  const [wa, wb] = [await a.workers, await b.workers];
  return { wall: b.wall - a.wall, cpu: Math.max(b.main - a.main, ...wb.map((x, i) => x - wa[i])) };
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
  const onePass = trainerChunks(inputs, 1);
  const draw = trainingSampler(chain, 17);
  const questions = Array.from({ length: 8 }, () => draw());
  const problems = questions.flatMap((q) => Array(8).fill(q));
  const rolloutOptions = { budgets: budgetSupport(chain.maxThinking, 4), summariesPerGroup: 4, seed: 3, bMax: chain.maxThinking };

  const pools = { 1: await ComputePool.start(1), N: await ComputePool.start(opts.threads) };
  const optimizer = trainerOptimizer(tiny);
  type Key = 1 | 'N';
  const pooled = { 1: poolWorkloads(pools[1], tiny, inputs, optimizer), N: poolWorkloads(pools.N, tiny, inputs, optimizer) };
  const work: Record<string, (key: Key) => Promise<unknown>> = {
    sample: (key) => pooled[key].sample(),
    rollouts: (key) => pools[key].sampleRollouts(base, chain, problems, rolloutOptions),
    train: (key) => pooled[key].train(),
  };
  const times: Record<string, Record<Key, Sample[][]>> = {};
  const record = (name: string, key: Key, round: number, sample: Sample) => {
    times[name] ??= { 1: [], N: [] };
    (times[name][key][round] ??= []).push(sample);
  };
  for (const fn of Object.values(work)) for (const key of [1, 'N'] as Key[]) await fn(key); // warm-up
  const tensorsBefore = tf.memory().numTensors;
  for (let round = 0; round < opts.rounds; round++) {
    const order: Key[] = round % 2 ? ['N', 1] : [1, 'N'];
    for (const [name, fn] of Object.entries(work)) {
      for (const key of order) {
        for (let r = 0; r < opts.reps; r++) {
          const before = clocks(pools[key]);
          await before.workers;
          await fn(key);
          record(name, key, round, await sampleBetween(before, clocks(pools[key])));
        }
      }
    }
    for (let r = 0; r < opts.reps; r++) {
      const before = clocks(pools[1]);
      await pools[1].update(tiny, optimizer, onePass, TRAINER_SURROGATE);
      record('train-1pass', 1, round, await sampleBetween(before, clocks(pools[1])));
    }
    // The whole RL step as train() runs it, in a fresh folder each time.
    for (const key of order) {
      const dir = mkdtempSync(join(tmpdir(), 'anytime-bench-parallel-'));
      // Clocks at each onStep call: between two, one whole step (no evaluation or checkpoint until
      // the end). A worker answers the stats request before the next step's work (its queue is in order).
      const marks: Clocks[] = [];
      await train(runConfig('ar-uniform', { task: 'chain', steps: opts.steps + 1, checkpointEvery: 1000, evalQuestions: 1, evalSamples: 1 }), {
        outDir: dir,
        basePolicy: basePath,
        pool: pools[key],
        onStep: () => marks.push(clocks(pools[key])),
      });
      rmSync(dir, { recursive: true, force: true });
      times['rl-step'] ??= { 1: [], N: [] };
      times['rl-step'][key][round] = await Promise.all(marks.slice(1).map((m, i) => sampleBetween(marks[i], m)));
    }
    log(`round ${round + 1}/${opts.rounds} done (load ${loadavg()[0].toFixed(1)})`);
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  const workerTensors = (await pools.N.workerStats()).map((w) => w.tensors);
  await Promise.all([pools[1].close(), pools.N.close()]);

  const summarize = (perRound: Sample[][], what: keyof Sample) => perRound.map((samples) => median(samples.map((x) => x[what])));
  const ratio = (one: number[], many: number[]) => {
    const r = one.map((x, i) => x / many[i]);
    return { median: median(r), min: Math.min(...r), max: Math.max(...r) };
  };
  const rows = Object.entries(times).map(([name, t]) => {
    const [one, oneCpu] = [summarize(t[1], 'wall'), summarize(t[1], 'cpu')];
    const many = t.N.length ? { wall: summarize(t.N, 'wall'), cpu: summarize(t.N, 'cpu') } : undefined;
    return {
      workload: name,
      oneThreadMs: median(one),
      oneThreadCpuMs: median(oneCpu),
      manyThreadsMs: many && median(many.wall),
      manyThreadsCriticalCpuMs: many && median(many.cpu),
      speedup: many && ratio(one, many.wall),
      cpuSpeedup: many && ratio(oneCpu, many.cpu),
      perRound: t,
    };
  });
  const { oneThreadMs: onePassMs, oneThreadCpuMs: onePassCpuMs } = rows.find((r) => r.workload === 'train-1pass')!;
  const fmt = (x: number | undefined, d = 0) => (x === undefined ? '' : x.toFixed(d));
  const md = [
    `# One run on every core: ${opts.threads} threads vs 1`,
    '',
    `\`${['npx tsx scripts/bench-parallel.ts', ...process.argv.slice(2)].join(' ')}\` — ${opts.rounds} rounds × ${opts.reps} repeats (rl-step: ${opts.steps} steps), medians per round, ratio = 1-thread time / ${opts.threads}-thread time paired by round.`,
    '',
    `| workload | 1 thread: wall (ms) | ${opts.threads} threads: wall (ms) | wall speed-up, median [min, max] | 1 thread: CPU (ms) | ${opts.threads} threads: busiest thread CPU (ms) | CPU speed-up, median [min, max] |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => {
      const x = (v?: { median: number; min: number; max: number }) => (v ? `${fmt(v.median, 2)}x [${fmt(v.min, 2)}, ${fmt(v.max, 2)}]` : '');
      return `| ${r.workload} | ${fmt(r.oneThreadMs)} | ${fmt(r.manyThreadsMs)} | ${x(r.speedup)} | ${fmt(r.oneThreadCpuMs)} | ${fmt(r.manyThreadsCriticalCpuMs)} | ${x(r.cpuSpeedup)} |`;
    }),
    '',
    `train-1pass is the update in one pass on one thread (no chunks): chunking into ${DEFAULT_TRAIN_CONFIG.gradientChunks} costs ${fmt((rows.find((r) => r.workload === 'train')!.oneThreadMs / onePassMs - 1) * 100)}% wall, ${fmt((rows.find((r) => r.workload === 'train')!.oneThreadCpuMs / onePassCpuMs - 1) * 100)}% CPU on one thread.`,
    'CPU = the busiest thread\'s CPU time during the call (this thread or a worker): a lower bound of the real critical path (no waits, phases overlapped, GC threads not counted), so the CPU speed-up is an upper bound of the idle-machine speed-up.',
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
