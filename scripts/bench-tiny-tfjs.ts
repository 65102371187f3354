/**
 * tfjs side of the tiny-policy benchmark (one configuration per process, so that kernel
 * registration cannot leak between configurations). Run by scripts/bench.ts:
 *
 *   npx tsx scripts/bench-tiny-tfjs.ts --backend wasm|webgpu --kernels on|off [--reps 3] [--warmup 2]
 *       [--pool N [--check-pool]] [--memory] [--rl] [--rl-reps 2] [--rl-out DIR] [--profile] [--probe-only]
 *
 * `--kernels on` starts the backend the way the toolkit does (`initBackend`, which registers the
 * custom wasm kernels: fused attention, fused token log-probs, SIMD BatchMatMul, ...; the call
 * to `registerWasmKernels()` here makes sure of it); `--kernels off` on wasm starts the backend
 * with plain `tf.setBackend('wasm')`, so src/model's fused ops fall back to the composed stock
 * ops (`kernelsRegistered` in the output says whether that held). The model is used as
 * src/model exports it: `packedLogProbs` for the training forward, `generate` for sampling.
 * `--pool N` (wasm with kernels only) times the trainer's own path on a ComputePool of N threads
 * (src/train/parallel.ts; scripts/bench-pool.ts): training step = `pool.update` on the benchmark's
 * batch (the trainer's chunked clipped surrogate + AdamW), sampling = `pool.generate` of the
 * benchmark's prompts, and the RL step on that pool; the no-grad forward has no pooled form and is
 * not timed. `--check-pool` first checks (untimed) that the pool's gradient and continuations are
 * bit for bit those of one thread, i.e. that N threads do the same work. Without `--pool` the
 * workloads run on this one thread (the RL step on a 1-thread pool).
 * `--rl` also times the trainer's whole RL step (scripts/bench-rl.ts: `train` itself, one warm-up
 * step, then `--rl-reps` timed ones); `--rl-out DIR` writes its replay for PyTorch there.
 * `--memory` first runs each workload once, untimed, for its peak tensor bytes and process RSS
 * (scripts/bench-memory.ts), in order of growing footprint.
 * Prints one JSON object as the last line of stdout.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo } from '../src/backend.js';
import { ATTENTION_KERNEL, registerWasmKernels } from '../kernels/index.js';
import { TransformerPolicy, causalMask, generate, packedLogProbs } from '../src/model/index.js';
import { TINY_BENCH, makeTinyInputs } from './bench-tiny-inputs.js';
import type { WorkProfile } from './bench-report.js';
import { peakMemoryOf, type PeakMemory } from './bench-memory.js';
import { rlStepMemory, runRlBench, type RlBenchResult } from './bench-rl.js';
import { ComputePool } from '../src/train/parallel.js';
import { TRAINER_SURROGATE, poolWorkloads, trainerChunks, trainerOptimizer } from './bench-pool.js';

interface Args {
  backend: 'wasm' | 'webgpu';
  kernels: boolean;
  reps: number;
  warmup: number;
  /** Also profile one repeat of each workload per kernel (tf.profile; not timed). */
  profile: boolean;
  /** Measure each workload's peak memory in one untimed run first. */
  memory: boolean;
  /** Only start the backend and report it (or why it was skipped). */
  probeOnly: boolean;
  /** Also time the trainer's RL step. */
  rl: boolean;
  rlReps: number;
  /** Folder to write the RL step's replay into (for scripts/bench_torch.py --rl). */
  rlOut?: string;
  /** Threads of the ComputePool the trainer's path is timed on (0: the one-thread workloads). */
  pool: number;
  /** Check first that the pool computes what one thread does. */
  checkPool: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { backend: 'wasm', kernels: true, reps: 3, warmup: 2, profile: false, memory: false, probeOnly: false, rl: false, rlReps: 2, pool: 0, checkPool: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const flag = ({ '--profile': 'profile', '--memory': 'memory', '--rl': 'rl', '--probe-only': 'probeOnly', '--check-pool': 'checkPool' } as const)[a as '--profile'];
    if (flag) {
      args[flag] = true;
      continue;
    }
    const value = argv[++i];
    if (a === '--backend') {
      if (value !== 'wasm' && value !== 'webgpu') throw new Error(`--backend must be 'wasm' or 'webgpu', got '${value}'`);
      args.backend = value;
    } else if (a === '--kernels') {
      if (value !== 'on' && value !== 'off') throw new Error(`--kernels must be 'on' or 'off', got '${value}'`);
      args.kernels = value === 'on';
    } else if (a === '--reps') args.reps = Number(value);
    else if (a === '--warmup') args.warmup = Number(value);
    else if (a === '--rl-reps') args.rlReps = Number(value);
    else if (a === '--rl-out') args.rlOut = value;
    else if (a === '--pool') args.pool = Number(value);
    else throw new Error(`bench-tiny-tfjs: unknown argument '${a}' (allowed: --backend, --kernels, --reps, --warmup, --pool, --check-pool, --profile, --memory, --rl, --rl-reps, --rl-out, --probe-only)`);
  }
  if (!Number.isInteger(args.pool) || args.pool < 0) throw new Error(`--pool must be a positive integer (threads), got ${args.pool}`);
  if (args.pool > 0 && (args.backend !== 'wasm' || !args.kernels)) throw new Error('--pool times the trainer on wasm worker threads: it needs --backend wasm --kernels on');
  if (args.checkPool && args.pool === 0) throw new Error('--check-pool needs --pool N');
  if (!Number.isInteger(args.rlReps) || args.rlReps < 1) throw new Error(`--rl-reps must be a positive integer, got ${args.rlReps}`);
  if (!Number.isInteger(args.reps) || args.reps < 1) throw new Error(`--reps must be a positive integer, got ${args.reps}`);
  if (!Number.isInteger(args.warmup) || args.warmup < 0) throw new Error(`--warmup must be an integer >= 0, got ${args.warmup}`);
  return args;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Runs each workload once under `tf.profile` and sums kernel times by kernel name. The wall time
 * includes the profiler's own overhead; kernelMs is what the backend reports for the kernels
 * (on wasm, synchronous timings), so wall − kernel is roughly JS dispatch and data movement.
 */
async function profileWork(work: Record<string, () => Promise<void>>): Promise<Record<string, WorkProfile>> {
  const out: Record<string, WorkProfile> = {};
  for (const [name, fn] of Object.entries(work)) {
    const t0 = performance.now();
    const info = await tf.profile(fn);
    const wallMs = performance.now() - t0;
    const byName = new Map<string, [number, number]>();
    let kernelMs = 0;
    for (const k of info.kernels) {
      // Scopes (tidy/customGrad, '<op>__op') time the kernels inside them again: skip them.
      if (k.name === 'unnamed scope' || k.name.endsWith('__op')) continue;
      const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      kernelMs += t;
      const e = byName.get(k.name) ?? [0, 0];
      byName.set(k.name, [e[0] + t, e[1] + 1]);
    }
    const top = [...byName.entries()].map(([k, [ms, n]]) => [k, ms, n] as [string, number, number]).sort((a, b) => b[1] - a[1]).slice(0, 12);
    out[name] = { wallMs, kernelMs, kernels: [...byName.values()].reduce((n, [, c]) => n + c, 0), top };
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let info: Pick<BackendInfo, 'name' | 'adapter' | 'simd' | 'threads' | 'reason'>;
  if (args.backend === 'wasm' && !args.kernels) {
    // Stock tfjs: initBackend registers the custom wasm kernels, so start the backend directly.
    await tf.setBackend('wasm');
    await tf.ready();
    info = { name: tf.getBackend(), simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')), threads: 1, reason: 'tf.setBackend, stock kernels' };
  } else {
    if (args.kernels) registerWasmKernels();
    info = await initBackend({ prefer: args.backend, strict: args.backend === 'wasm' });
  }
  if (info.name !== args.backend || (info.adapter?.software && process.env.ANYTIME_BENCH_SOFTWARE_GPU !== '1')) {
    const why = info.name !== args.backend ? info.reason : `only a software adapter (${info.adapter?.description ?? info.adapter?.vendor ?? 'unknown'})`;
    console.log(JSON.stringify({ skipped: `no hardware ${args.backend} adapter: ${why}` }));
    return;
  }
  if (args.probeOnly) {
    console.log(JSON.stringify({ backend: info.name, adapter: info.adapter }));
    return;
  }
  const inputs = makeTinyInputs();
  const policy = new TransformerPolicy(inputs.config, inputs.weights);
  const vars = policy.variables();
  const lossWeights = tf.tensor1d(inputs.lossWeights);
  const lossOf = () =>
    tf.tidy(() => {
      const { logp, entropy } = packedLogProbs(policy, inputs.batch);
      return tf.neg(tf.add(tf.sum(tf.mul(logp, lossWeights)), tf.mul(tf.sum(tf.mul(entropy, lossWeights)), TINY_BENCH.entropyCoef))) as tf.Scalar;
    });

  // Parity at the initial weights (compared with PyTorch by the driver; not timed).
  const first = tf.variableGrads(lossOf, vars);
  const gradNormT = tf.tidy(() =>
    // Pairwise adds, not addN: WebGPU's AddN binds every input at once, over the 8 storage buffers some adapters allow.
    tf.sqrt(Object.values(first.grads).reduce((acc: tf.Tensor, g) => tf.add(acc, tf.sum(tf.square(g))), tf.scalar(0))),
  );
  const P = TINY_BENCH.promptLength;
  const promptLogits = tf.tidy(() =>
    tf.sum(
      policy.run({
        ids: tf.tensor2d(inputs.prompts.flat(), [inputs.prompts.length, P], 'int32'),
        pos: tf.tensor2d(inputs.prompts.flatMap(() => Array.from({ length: P }, (_, i) => i)), [inputs.prompts.length, P], 'int32'),
        mask: tf.tensor3d(causalMask(new Array(inputs.prompts.length).fill(0), P), [inputs.prompts.length, P, P]),
        differentiable: false,
      }).logits,
    ),
  );
  const parity = {
    loss: (await first.value.data())[0],
    gradNorm: (await gradNormT.data())[0],
    promptLogitsSum: (await promptLogits.data())[0],
  };
  // Apply the first gradients too: Adam creates its moment variables on its first update, which
  // must not be counted as a leak of the timed repeats.
  const optimizer = tf.train.adam(TINY_BENCH.learningRate);
  optimizer.applyGradients(Object.entries(first.grads).map(([name, tensor]) => ({ name, tensor })));
  tf.dispose([first.value, gradNormT, promptLogits, ...Object.values(first.grads)]);

  const train = async () => {
    const { value, grads } = tf.variableGrads(lossOf, vars);
    optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
  };
  let sampleSeed = 0;
  const sample = async () => {
    await generate(policy, inputs.prompts, { maxTokens: TINY_BENCH.newTokens, stopTokens: [], temperature: 1, seed: sampleSeed++ });
  };
  const forward = async () => {
    const logp = tf.tidy(() => packedLogProbs(policy, inputs.batch).logp);
    await logp.data();
    logp.dispose();
  };
  // The pool the RL step runs on, and with --pool the one the trainer's path is timed on.
  const pool = await ComputePool.start(args.pool || 1);
  const trainerOptim = args.pool ? trainerOptimizer(policy) : undefined;
  let poolCheck: { gradientSame: boolean; continuationsSame: boolean } | undefined;
  if (args.checkPool) poolCheck = await checkPool(pool, policy, inputs);
  const pooled = trainerOptim && poolWorkloads(pool, policy, inputs, trainerOptim);
  const work: Partial<Record<'train' | 'sample' | 'forward', () => Promise<void>>> = pooled
    ? {
        train: async () => void (await pooled.train()),
        sample: async () => void (await pooled.sample()),
      }
    : { train, sample, forward };
  const timesMs: Record<string, number[]> = Object.fromEntries(Object.keys(work).map((k) => [k, []]));
  let memory: { rssAtStartMB: number; peak: Record<string, PeakMemory> } | undefined;
  if (args.memory) {
    // Untimed, before the warm-up, in order of growing footprint (tfjs-wasm's heap never shrinks,
    // so each RSS figure includes what earlier workloads left resident).
    memory = { rssAtStartMB: process.memoryUsage().rss / 2 ** 20, peak: {} };
    for (const name of ['forward', 'sample', 'train'] as const) {
      const fn = work[name];
      if (fn) memory.peak[name] = await peakMemoryOf(fn);
    }
  }
  for (let w = 0; w < args.warmup; w++) for (const fn of Object.values(work)) await fn!();
  const tensorsBefore = tf.memory().numTensors;
  // Interleaved, so load from other processes hits every workload alike.
  for (let r = 0; r < args.reps; r++) {
    for (const [name, fn] of Object.entries(work) as [string, () => Promise<void>][]) {
      const t0 = performance.now();
      await fn();
      timesMs[name].push(performance.now() - t0);
    }
  }
  const leakedTensorsPerRep = (tf.memory().numTensors - tensorsBefore) / args.reps;
  const profile = args.profile ? await profileWork(work as Record<string, () => Promise<void>>) : undefined;
  let rl: RlBenchResult | undefined;
  if (args.rl) {
    if (memory) memory.peak.rl = await rlStepMemory(pool);
    rl = await runRlBench({ warmup: 1, reps: args.rlReps, pool, replayDir: args.rlOut });
    timesMs.rl = rl.timesMs;
  }
  const medianMs = Object.fromEntries(Object.entries(timesMs).map(([k, v]) => [k, median(v)]));
  const kernelsRegistered = tf.getKernel(ATTENTION_KERNEL, tf.getBackend()) !== undefined;
  console.log(
    JSON.stringify({
      backend: info.name,
      adapter: info.adapter,
      simd: info.simd,
      threads: args.pool ? pool.threads : info.threads,
      pool: args.pool ? { threads: pool.threads, note: pool.note || undefined, check: poolCheck } : undefined,
      kernelsRequested: args.kernels,
      kernelsRegistered,
      reps: args.reps,
      warmup: args.warmup,
      parameters: policy.parameterCount(),
      medianMs,
      timesMs,
      leakedTensorsPerRep,
      parity,
      rl: rl && { steps: rl.steps, work: rl.work },
      memory,
      profile,
    }),
  );
  await pool.close();
  lossWeights.dispose();
  optimizer.dispose();
  trainerOptim?.dispose();
  policy.dispose();
}

/**
 * Untimed: the pool's gradient of the benchmark's batch and its continuations of the prompts,
 * bit for bit against one thread's (a pool of 1 computes everything on this thread).
 */
async function checkPool(pool: ComputePool, policy: TransformerPolicy, inputs: ReturnType<typeof makeTinyInputs>) {
  const one = await ComputePool.start(1);
  try {
    const chunks = trainerChunks(inputs);
    const [many, single] = [await pool.gradient(policy, chunks, TRAINER_SURROGATE), await one.gradient(policy, chunks, TRAINER_SURROGATE)];
    const gradientSame = Object.is(many.loss, single.loss) && many.grads.length === single.grads.length && many.grads.every((g, i) => Object.is(g, single.grads[i]));
    const options = { maxTokens: TINY_BENCH.newTokens, stopTokens: [], temperature: 1, seed: 12345 };
    const [a, b] = [await pool.generate(policy, inputs.prompts, options), await one.generate(policy, inputs.prompts, options)];
    const continuationsSame = a.length === b.length && a.every((c, r) => c.tokens.length === b[r].tokens.length && c.tokens.every((t, k) => t === b[r].tokens[k] && Object.is(c.logp[k], b[r].logp[k])));
    return { gradientSame, continuationsSame };
  } finally {
    await one.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
