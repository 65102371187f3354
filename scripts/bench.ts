/**
 * `npm run bench`: one command, one report of ratios measured in the same run.
 *
 *   npm run bench [-- --out build/bench] [--rounds 5] [--reps 5] [--warmup 2] [--rl-reps 2] [--kernel-reps 15] [--quick]
 *
 * (a) custom kernels vs the composed stock ops they replace: runs scripts/bench-kernels.ts
 *     (kernels.json / kernels.md) and folds its ratios in;
 * (b) the tiny policy (scripts/bench-tiny-inputs.ts): training step, KV-cache sampling and the
 *     no-grad forward, and the trainer's whole RL step (scripts/bench-rl.ts), on tfjs wasm with the
 *     kernels registered (one thread), on tfjs wasm with the kernels on every core (a ComputePool of
 *     os.cpus().length threads, src/train/parallel.ts: the training step as the trainer's
 *     `pool.update`, sampling as `pool.generate`, the RL step as `train(config, { pool })`;
 *     scripts/bench-pool.ts), on stock tfjs wasm, on WebGPU when a hardware adapter is present,
 *     and on PyTorch CPU (scripts/bench_torch.py, Debian's python3-torch on OpenBLAS:
 *     scripts/setup-bench.sh installs both) with the same weights, batch and loss, and the same RL
 *     steps replayed. The issue-15 targets are judged on the every-core configuration (and on
 *     WebGPU when present) against PyTorch on 2 threads; the one-thread rows stay for reference.
 *     Each round runs every configuration back to back in fresh processes (order rotated), so
 *     ratios are paired by round and their range shows the machine's noise.
 *
 * The PyTorch anchor is checked: the report names the BLAS and threads PyTorch ran on and a GEMM
 * probe of it, and judges no model target when that BLAS is not an optimised one.
 *
 * Writes <out>/bench.json (everything) and <out>/bench.md (the tables). Without PyTorch the
 * tfjs and kernel parts are still produced and the report says how to install it.
 * Environment: ANYTIME_BENCH_PYTHON (default /usr/bin/python3), ANYTIME_BENCH_SOFTWARE_GPU=1
 * to benchmark a software WebGPU adapter too (slow; off by default; with --quick a dry run of
 * the hardware-GPU path).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js';
import { makeTinyInputs, workloadFlops, writeTorchInputs, TINY_BENCH } from './bench-tiny-inputs.js';
import {
  relDiff,
  renderMarkdown,
  rlParityDiff,
  summarizeTimes,
  pairedSpeedRatio,
  targets,
  WORKLOADS,
  type Anchor,
  type ConfigRuns,
  type KernelsJson,
  type WorkerResult,
  type WorkloadFlops,
  type WorkProfile,
} from './bench-report.js';

interface Options {
  out: string;
  rounds: number;
  reps: number;
  warmup: number;
  rlReps: number;
  kernelReps: number;
  quick: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { out: 'build/bench', rounds: 5, reps: 5, warmup: 2, rlReps: 2, kernelReps: 15, quick: false };
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`bench: ${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') opts.out = argv[++i];
    else if (a === '--rounds') opts.rounds = int(a, argv[++i], 1);
    else if (a === '--reps') opts.reps = int(a, argv[++i], 1);
    else if (a === '--warmup') opts.warmup = int(a, argv[++i], 0);
    else if (a === '--rl-reps') opts.rlReps = int(a, argv[++i], 1);
    else if (a === '--kernel-reps') opts.kernelReps = int(a, argv[++i], 1);
    else if (a === '--quick') Object.assign(opts, { quick: true, rounds: 1, reps: 1, warmup: 1, rlReps: 1, kernelReps: 3 });
    else throw new Error(`bench: unknown argument '${a}' (allowed: --out DIR, --rounds N, --reps N, --warmup N, --rl-reps N, --kernel-reps N, --quick)`);
  }
  if (!opts.out) throw new Error('bench: --out needs a folder');
  return opts;
}

const PYTHON = process.env.ANYTIME_BENCH_PYTHON || '/usr/bin/python3';
const INSTALL_HINT = 'install it with `sudo bash scripts/setup-bench.sh` (Debian: python3-torch on OpenBLAS), then rerun `npm run bench`';

/**
 * Thread settings of the PyTorch reference: torch's own threads, OpenBLAS single-threaded
 * (torch calls it from inside its parallel regions: two levels of threads on two cores
 * oversubscribe them), and passive OpenMP waits (with spin-waiting, 2-thread torch slowed 3-10x
 * whenever other work held the second core; measured here).
 */
const torchEnv = (threads: number) => ({ OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: '1', OMP_WAIT_POLICY: 'PASSIVE' });

type Json = WorkerResult & { skipped?: string; error?: string };

/** Runs a command; returns stdout's last JSON line, or an error string. */
function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { value?: Json; error?: string; status?: number | null } {
  const res = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000, maxBuffer: 64 << 20 });
  if (res.error) return { error: `${cmd}: ${res.error.message}` };
  const last = res.stdout.trim().split('\n').pop() ?? '';
  const value = last.startsWith('{') ? (JSON.parse(last) as Json) : undefined;
  if (res.status !== 0 || !value) {
    const why = value?.error ?? (res.stderr || res.stdout).trim().split('\n').slice(-5).join(' | ');
    return { error: `${[cmd, ...args].join(' ')} exited ${res.status}: ${why}`, value, status: res.status };
  }
  return { value, status: 0 };
}

function tsx(script: string, args: string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', script, ...args]];
}

/** The anchor probe (scripts/bench_torch.py --probe) under the 2-thread reference's settings. */
function probeAnchor(): { anchor: Anchor; version?: string; error?: string } {
  const env = torchEnv(2);
  const res = runJson(PYTHON, ['scripts/bench_torch.py', '--probe', '--threads', '2'], env);
  const v = res.value as (Json & { torch?: string; blas?: Anchor['blas']; gemm?: Anchor['gemm'] }) | undefined;
  if (!v || res.status === 2 || v.error) return { anchor: {}, error: `${PYTHON} cannot run the PyTorch reference (${v?.error ?? res.error})` };
  return { anchor: { blas: v.blas, gemm: v.gemm, env }, version: v.torch };
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const started = performance.now();
  mkdirSync(opts.out, { recursive: true });
  const notes: string[] = [];
  const loadStart = loadavg()[0];

  // ---- (a) kernels ----------------------------------------------------------------------
  log('kernels: scripts/bench-kernels.ts');
  let kernels: KernelsJson | undefined;
  let kernelsError: string | undefined;
  {
    const kernelArgs = ['--out', opts.out, '--reps', String(opts.kernelReps), ...(opts.quick ? ['--quick'] : [])];
    const [cmd, args] = tsx('scripts/bench-kernels.ts', kernelArgs);
    const res = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
    const path = join(opts.out, 'kernels.json');
    if (res.status === 0 && existsSync(path)) kernels = JSON.parse(readFileSync(path, 'utf8')) as KernelsJson;
    else kernelsError = `scripts/bench-kernels.ts exited ${res.status}: ${(res.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
    if (opts.quick) notes.push('`--quick`: the kernel benchmark ran at batch 8 instead of 64, with 3 repeats; one round of one repeat for the model.');
  }

  // ---- (b) the tiny policy and the RL step ---------------------------------------------------
  const inputs = makeTinyInputs();
  const inputDir = join(opts.out, 'tiny-policy');
  writeTorchInputs(inputDir, inputs);
  const replayDir = join(opts.out, 'rl-replay');
  rmSync(replayDir, { recursive: true, force: true }); // never replay a stale run's steps
  const flops: WorkloadFlops = workloadFlops(inputs.config);

  log('PyTorch anchor: BLAS and GEMM probe');
  const probe = probeAnchor();
  const torchName = `PyTorch${probe.version ? ` ${probe.version}` : ''}`;
  const torchRuns: ConfigRuns = { id: 'torch', label: `${torchName} 2 threads`, rounds: [], threads: 2 };
  const torch1Runs: ConfigRuns = { id: 'torch-1t', label: `${torchName} 1 thread`, rounds: [], threads: 1 };
  if (probe.error) torchRuns.missing = torch1Runs.missing = `${probe.error}; ${INSTALL_HINT}.`;
  const references = [torchRuns, torch1Runs];

  const workerArgs = ['--reps', String(opts.reps), '--warmup', String(opts.warmup)];
  const rlArgs = ['--rl', '--rl-reps', String(opts.rlReps)];
  const wasmKernels: ConfigRuns = { id: 'wasm-kernels', label: 'tfjs wasm + kernels', rounds: [], threads: 1 };
  // One run on every core (src/train/parallel.ts): the configuration the targets are judged on.
  const cores = cpus().length;
  const wasmAll: ConfigRuns = { id: 'wasm-kernels-all', label: `tfjs wasm + kernels, every core (${cores} thread${cores === 1 ? '' : 's'})`, rounds: [], threads: cores };
  const wasmStock: ConfigRuns = { id: 'wasm-stock', label: 'tfjs wasm stock', rounds: [], threads: 1 };
  const webgpu: ConfigRuns = { id: 'webgpu', label: 'tfjs webgpu', rounds: [] };
  log('webgpu: probing for a hardware adapter');
  {
    const probeGpu = runJson(...tsx('scripts/bench-tiny-tfjs.ts', ['--backend', 'webgpu', '--kernels', 'on', '--reps', '1', '--warmup', '0', '--probe-only']));
    if (probeGpu.error) webgpu.missing = probeGpu.error;
    else if (probeGpu.value?.skipped) webgpu.missing = probeGpu.value.skipped;
    else if (typeof probeGpu.value?.adapter === 'object' && (probeGpu.value.adapter as { software?: boolean }).software) {
      webgpu.label = 'tfjs webgpu (software adapter: a dry run of the GPU path)';
    }
    if (webgpu.missing) notes.push(`WebGPU skipped: ${webgpu.missing}. Set ANYTIME_BENCH_SOFTWARE_GPU=1 to time a software adapter anyway (a dry run of the path).`);
  }
  const tfjsConfigs = [wasmKernels, wasmAll, wasmStock, ...(webgpu.missing ? [] : [webgpu])];
  type Job = { runs: ConfigRuns; run: (round: number) => ReturnType<typeof runJson> };
  const tfjsJob = (runs: ConfigRuns, backend: string, kernelsOn: boolean, rl: boolean, pool?: number): Job => ({
    runs,
    run: (round) =>
      runJson(
        ...tsx('scripts/bench-tiny-tfjs.ts', [
          '--backend', backend, '--kernels', kernelsOn ? 'on' : 'off', ...workerArgs,
          ...(pool ? ['--pool', String(pool), ...(round === 0 ? ['--check-pool'] : [])] : []),
          ...(round === 0 ? ['--memory'] : []),
          ...(rl ? rlArgs : []),
          // The replay PyTorch times comes from the first run of the model as the toolkit ships it.
          ...(rl && runs === wasmKernels && round === 0 ? ['--rl-out', replayDir] : []),
        ]),
      ),
  });
  // The first round runs wasm + kernels first: it writes the RL replay the PyTorch runs need.
  const jobs: Job[] = [tfjsJob(wasmKernels, 'wasm', true, true), tfjsJob(wasmAll, 'wasm', true, true, cores), tfjsJob(wasmStock, 'wasm', false, false)];
  if (!webgpu.missing) jobs.push(tfjsJob(webgpu, 'webgpu', true, true));
  if (!torchRuns.missing) {
    for (const [runs, threads] of [[torchRuns, 2], [torch1Runs, 1]] as const) {
      jobs.push({
        runs,
        run: (round) =>
          runJson(
            PYTHON,
            [
              'scripts/bench_torch.py', inputDir, ...workerArgs, '--threads', String(threads),
              ...(round === 0 ? ['--memory'] : []),
              ...(existsSync(join(replayDir, 'manifest.json')) ? ['--rl', replayDir] : []),
            ],
            torchEnv(threads),
          ),
      });
    }
  }
  for (let round = 0; round < opts.rounds; round++) {
    // Rotate the order so no configuration always runs first (or right after the heaviest one).
    const order = jobs.map((_, i) => jobs[(i + round) % jobs.length]);
    for (const job of order) {
      log(`round ${round + 1}/${opts.rounds}: ${job.runs.label}`);
      const res = job.run(round);
      if (res.error || !res.value) {
        job.runs.rounds[round] = undefined;
        notes.push(`round ${round + 1}, ${job.runs.label}: ${res.error}`);
      } else {
        job.runs.rounds[round] = res.value;
      }
    }
  }
  log(`profile: ${wasmKernels.label}, one repeat`);
  const profiled = runJson(...tsx('scripts/bench-tiny-tfjs.ts', ['--backend', 'wasm', '--kernels', 'on', '--reps', '1', '--warmup', '1', '--profile']));
  const profile = profiled.value?.profile as Record<string, WorkProfile> | undefined;
  if (!profile) notes.push(`profile run failed: ${profiled.error}`);

  // ---- checks -----------------------------------------------------------------------------
  const stockResult = wasmStock.rounds.find((r) => r);
  if (stockResult && stockResult.kernelsRegistered) {
    notes.push('"tfjs wasm stock" had the fused kernels registered although the worker started wasm without them (something in src/ registers them): its column is not stock tfjs.');
  }
  const kernelResult = wasmKernels.rounds.find((r) => r);
  // Same math: every tfjs configuration must match PyTorch (or, without it, stock tfjs) at the initial weights.
  const referenceParity = [torchRuns, wasmStock].map((c) => c.rounds.find((r) => r)?.parity).find((p) => p);
  for (const c of tfjsConfigs) {
    const p = c.rounds.find((r) => r)?.parity;
    if (!p || !referenceParity) continue;
    const worst = Math.max(...(['loss', 'gradNorm', 'promptLogitsSum'] as const).map((k) => relDiff(p[k], referenceParity[k])));
    if (!(worst <= 1e-4)) notes.push(`**${c.label}: results differ from the reference (max rel. diff ${worst.toExponential(1)} > 1e-4); its timings are not comparable.**`);
  }
  for (const c of tfjsConfigs) {
    const leaks = c.rounds.map((r) => Number(r?.leakedTensorsPerRep ?? 0)).filter((n) => n !== 0);
    if (leaks.length > 0) notes.push(`${c.label}: tensors leaked per repeat: ${leaks.join(', ')}.`);
  }
  // The every-core run must compute what one thread does (deterministic whatever the threads) and on as many threads as asked.
  for (const [i, r] of wasmAll.rounds.entries()) {
    const pool = r?.pool as { threads: number; note?: string; check?: { gradientSame: boolean; continuationsSame: boolean } } | undefined;
    if (!pool) continue;
    if (pool.threads !== cores) notes.push(`**${wasmAll.label}, round ${i + 1}: the pool computed on ${pool.threads} threads, not ${cores}${pool.note ? ` (${pool.note})` : ''}.**`);
    if (pool.check && !(pool.check.gradientSame && pool.check.continuationsSame)) {
      notes.push(
        `**${wasmAll.label}: its ${[!pool.check.gradientSame && 'gradient', !pool.check.continuationsSame && 'continuations'].filter(Boolean).join(' and ')} ` +
          'differ from one thread\'s (they must be bit for bit the same): its timings are not of the same work.**',
      );
    } else if (pool.check) {
      notes.push(`${wasmAll.label}: checked in round ${i + 1} (untimed): its training-step gradient and its sampled continuations are bit for bit those of one thread.`);
    }
  }
  // The RL replay: PyTorch's steps must be train's (loss, gradient norm, replayed log-probs), and
  // every tfjs RL run must have done the replay's work (train is deterministic: same seed, same rollouts).
  const replayed = wasmKernels.rounds[0]?.rl;
  if (replayed) {
    const timedWork = replayed.work;
    flops.rl = timedWork.reduce((n, w) => n + w.flops, 0) / timedWork.length;
    for (const ref of references) {
      for (const [i, r] of ref.rounds.entries()) {
        if (!r?.rlParity) continue;
        const d = rlParityDiff(replayed.steps, r.rlParity.steps);
        if (!(d.loss <= 1e-3 && d.gradNorm <= 1e-3 && r.rlParity.rolloutLogpMaxDiff <= 1e-3)) {
          notes.push(
            `**${ref.label}, round ${i + 1}: the replayed RL steps differ from train's (loss ${d.loss.toExponential(1)}, gradient norm ${d.gradNorm.toExponential(1)}, ` +
              `log-probs ${r.rlParity.rolloutLogpMaxDiff.toExponential(1)}; allowed 1e-3): its RL timings are not comparable.**`,
          );
        }
      }
    }
    for (const c of tfjsConfigs) {
      for (const [i, r] of c.rounds.entries()) {
        const work = r?.rl?.work;
        if (!work) continue;
        const same = work.length === timedWork.length && work.every((w, k) => w.thinkingTokens === timedWork[k].thinkingTokens && w.summaryTokens === timedWork[k].summaryTokens);
        if (!same) notes.push(`${c.label}, round ${i + 1}: its RL steps sampled other rollouts than the replay (tokens ${work.map((w) => w.thinkingTokens + w.summaryTokens).join(', ')} vs ${timedWork.map((w) => w.thinkingTokens + w.summaryTokens).join(', ')}): the RL ratio compares different work.`);
      }
    }
  } else if (!wasmKernels.missing) {
    notes.push('The RL step was not measured: the first tfjs wasm + kernels run wrote no replay (see the errors above).');
  }
  notes.push(
    'Same workload on both sides: PyTorch gets the weights, batch ids/positions/additive mask, targets and loss weights that tfjs uses ' +
      '(scripts/bench-tiny-inputs.ts writes them to tiny-policy/); its KV cache is preallocated, decoding steps attend every cached key without a mask.',
    'RL step: tfjs times `train` itself (the interval between its `onStep` calls: rollouts, advantages, packing, 2 AdamW updates, metrics); ' +
      'PyTorch replays the recorded tokens with a preallocated KV cache on the sampler schedule (it still draws from each distribution) and runs the ' +
      'same 2 updates on the packed minibatches tfjs built, so the JS bookkeeping (advantages, packing) is timed on the tfjs side only.',
    'tfjs-wasm computes on one thread in Node. "tfjs wasm + kernels" runs every workload on one thread (the RL step on a 1-thread ComputePool); ' +
      `"${wasmAll.label}" is one run on every core: a ComputePool of ${cores} threads (this one + ${cores - 1} worker thread${cores === 2 ? '' : 's'}, each with its own tfjs-wasm), ` +
      'as the trainer uses it — training step = `pool.update` (the trainer\'s clipped surrogate over its gradient chunks, summed in chunk order, + AdamW) on the same 64 × 96 batch, ' +
      'sampling = `pool.generate` of the same prompts (rows split over the threads), RL step = `train(config, { pool })`; the no-grad forward has no pooled form and is not timed there. ' +
      'Its training step is the trainer\'s loss (no entropy term, chunked) where the other columns run the benchmark\'s one-pass loss: same model, batch, forward and backward. ' +
      'PyTorch runs twice: 2 threads (`torch.set_num_threads(2)`, `OPENBLAS_NUM_THREADS=1`, `OMP_WAIT_POLICY=PASSIVE`), the reference the targets name, and 1 thread. ' +
      'The targets are judged on the every-core configuration (and WebGPU when present); the one-thread rows are there for reference.',
    `Machine: ${cpus().length} cores, load average ${loadStart.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end (other work shares the cores).`,
  );

  const elapsedS = (performance.now() - started) / 1000;
  const anchorBlas = torchRuns.rounds.find((r) => r?.blas)?.blas ?? probe.anchor.blas;
  const anchor: Anchor = { ...probe.anchor, blas: anchorBlas };
  const candidates = tfjsConfigs.filter((c) => c.id !== wasmStock.id && c.id !== wasmKernels.id).map((c) => c.id);
  const report = {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    when: new Date().toISOString(),
    machine: `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`,
    kernels,
    kernelsError,
    anchor,
    references,
    tfjs: tfjsConfigs,
    candidates,
    profile,
    primary: wasmKernels.id,
    everyCore: { one: wasmKernels.id, all: wasmAll.id },
    flops,
    notes,
    elapsedS,
  };
  const markdown = renderMarkdown(report);
  const summary = Object.fromEntries(
    [...references, ...tfjsConfigs].map((c) => [
      c.id,
      {
        label: c.label,
        missing: c.missing,
        times: Object.fromEntries(WORKLOADS.map((w) => [w, summarizeTimes(c, w)])),
        memory: c.rounds.find((r) => r?.memory)?.memory,
        speedVsTorch: references.includes(c)
          ? undefined
          : Object.fromEntries(references.map((ref) => [ref.id, Object.fromEntries(WORKLOADS.map((w) => [w, pairedSpeedRatio(ref, c, w)]))])),
      },
    ]),
  );
  writeJsonAtomic(join(opts.out, 'bench.json'), {
    ...report,
    workload: { ...TINY_BENCH, parameters: kernelResult?.parameters },
    options: opts,
    summary,
    kernelSpeedupVsStock: Object.fromEntries(WORKLOADS.map((w) => [w, pairedSpeedRatio(wasmStock, wasmKernels, w)])),
    everyCoreSpeedupVsOneThread: Object.fromEntries(WORKLOADS.map((w) => [w, pairedSpeedRatio(wasmKernels, wasmAll, w)])),
    targets: targets(kernels, torchRuns, tfjsConfigs.filter((c) => candidates.includes(c.id)), anchor, flops),
  });
  writeFileAtomic(join(opts.out, 'bench.md'), markdown);
  process.stdout.write(markdown + '\n');
  log(`wrote ${join(opts.out, 'bench.json')} and ${join(opts.out, 'bench.md')} in ${elapsedS.toFixed(0)} s`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
