/**
 * `npm run bench`: one command, one report of ratios measured in the same run.
 *
 *   npm run bench [-- --out build/bench] [--rounds 5] [--reps 5] [--warmup 2] [--kernel-reps 15] [--quick]
 *
 * (a) custom kernels vs the composed stock ops they replace: runs scripts/bench-kernels.ts
 *     (kernels.json / kernels.md) and folds its ratios in;
 * (b) the tiny policy (scripts/bench-tiny-inputs.ts): training step, KV-cache sampling and the
 *     no-grad forward on tfjs wasm with the kernels registered, on stock tfjs wasm, on WebGPU when
 *     a hardware adapter is present, and on PyTorch CPU (scripts/bench_torch.py, Debian's
 *     python3-torch: scripts/setup-bench.sh installs it) with the same weights, batch and loss.
 *     Each round runs every configuration back to back in fresh processes (order rotated), so
 *     ratios are paired by round and their range shows the machine's noise.
 *
 * Writes <out>/bench.json (everything) and <out>/bench.md (the tables). Without PyTorch the
 * tfjs and kernel parts are still produced and the report says how to install it.
 * Environment: ANYTIME_BENCH_PYTHON (default /usr/bin/python3), ANYTIME_BENCH_SOFTWARE_GPU=1
 * to benchmark a software WebGPU adapter too (slow; off by default).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js';
import { makeTinyInputs, workloadFlops, writeTorchInputs, TINY_BENCH } from './bench-tiny-inputs.js';
import {
  relDiff,
  renderMarkdown,
  summarizeTimes,
  pairedSpeedRatio,
  targets,
  WORKLOADS,
  type ConfigRuns,
  type KernelsJson,
  type WorkerResult,
  type WorkProfile,
} from './bench-report.js';

interface Options {
  out: string;
  rounds: number;
  reps: number;
  warmup: number;
  kernelReps: number;
  quick: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { out: 'build/bench', rounds: 5, reps: 5, warmup: 2, kernelReps: 15, quick: false };
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
    else if (a === '--kernel-reps') opts.kernelReps = int(a, argv[++i], 1);
    else if (a === '--quick') Object.assign(opts, { quick: true, rounds: 1, reps: 1, warmup: 1, kernelReps: 3 });
    else throw new Error(`bench: unknown argument '${a}' (allowed: --out DIR, --rounds N, --reps N, --warmup N, --kernel-reps N, --quick)`);
  }
  if (!opts.out) throw new Error('bench: --out needs a folder');
  return opts;
}

const PYTHON = process.env.ANYTIME_BENCH_PYTHON || '/usr/bin/python3';
const INSTALL_HINT = 'install it with `sudo scripts/setup-bench.sh` (Debian: apt-get install -y python3-torch), then rerun `npm run bench`';

/** Runs a command; returns stdout's last JSON line, or an error string. */
function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { value?: WorkerResult & { skipped?: string }; error?: string } {
  const res = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000, maxBuffer: 64 << 20 });
  if (res.error) return { error: `${cmd}: ${res.error.message}` };
  const last = res.stdout.trim().split('\n').pop() ?? '';
  if (res.status !== 0 || !last.startsWith('{')) {
    return { error: `${[cmd, ...args].join(' ')} exited ${res.status}: ${(res.stderr || res.stdout).trim().split('\n').slice(-5).join(' | ')}` };
  }
  return { value: JSON.parse(last) };
}

function tsx(script: string, args: string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', script, ...args]];
}

function torchVersion(): { version?: string; error?: string } {
  const res = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (res.error) return { error: `${PYTHON} not found (${res.error.message})` };
  if (res.status !== 0) return { error: `${PYTHON} cannot import torch (${res.stderr.trim().split('\n').pop()})` };
  return { version: res.stdout.trim() };
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

  // ---- (b) the tiny policy ----------------------------------------------------------------
  const inputs = makeTinyInputs();
  const inputDir = join(opts.out, 'tiny-policy');
  writeTorchInputs(inputDir, inputs);
  const flops = workloadFlops(inputs.config);

  const torch = torchVersion();
  const torchName = `PyTorch${torch.version ? ` ${torch.version}` : ''}`;
  const torchRuns: ConfigRuns = { id: 'torch', label: `${torchName} 2 threads`, rounds: [] };
  const torch1Runs: ConfigRuns = { id: 'torch-1t', label: `${torchName} 1 thread`, rounds: [] };
  if (!torch.version) torchRuns.missing = torch1Runs.missing = `${torch.error}; ${INSTALL_HINT}.`;
  const references = [torchRuns, torch1Runs];

  const workerArgs = ['--reps', String(opts.reps), '--warmup', String(opts.warmup)];
  const wasmKernels: ConfigRuns = { id: 'wasm-kernels', label: 'tfjs wasm + kernels', rounds: [] };
  const wasmStock: ConfigRuns = { id: 'wasm-stock', label: 'tfjs wasm stock', rounds: [] };
  const webgpu: ConfigRuns = { id: 'webgpu', label: 'tfjs webgpu', rounds: [] };
  log('webgpu: probing for a hardware adapter');
  {
    const probe = runJson(...tsx('scripts/bench-tiny-tfjs.ts', ['--backend', 'webgpu', '--kernels', 'off', '--reps', '1', '--warmup', '0']));
    if (probe.error) webgpu.missing = probe.error;
    else if (probe.value?.skipped) webgpu.missing = probe.value.skipped;
    if (webgpu.missing) notes.push(`WebGPU skipped: ${webgpu.missing}. Set ANYTIME_BENCH_SOFTWARE_GPU=1 to time a software adapter anyway.`);
  }
  const tfjsConfigs = [wasmKernels, wasmStock, ...(webgpu.missing ? [] : [webgpu])];
  type Job = { runs: ConfigRuns; run: () => ReturnType<typeof runJson> };
  const jobs: Job[] = [
    { runs: wasmKernels, run: () => runJson(...tsx('scripts/bench-tiny-tfjs.ts', ['--backend', 'wasm', '--kernels', 'on', ...workerArgs])) },
    { runs: wasmStock, run: () => runJson(...tsx('scripts/bench-tiny-tfjs.ts', ['--backend', 'wasm', '--kernels', 'off', ...workerArgs])) },
  ];
  if (!webgpu.missing) {
    jobs.push({ runs: webgpu, run: () => runJson(...tsx('scripts/bench-tiny-tfjs.ts', ['--backend', 'webgpu', '--kernels', 'off', ...workerArgs])) });
  }
  if (!torchRuns.missing) {
    // OMP_WAIT_POLICY=PASSIVE: with the default spin-waiting, 2-thread torch slowed 3-10x
    // whenever other work held the second core (measured here); passive waits keep it at its best.
    const torchEnv = (threads: number) => ({ OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' });
    for (const [runs, threads] of [[torchRuns, 2], [torch1Runs, 1]] as const) {
      jobs.push({ runs, run: () => runJson(PYTHON, ['scripts/bench_torch.py', inputDir, ...workerArgs, '--threads', String(threads)], torchEnv(threads)) });
    }
  }
  for (let round = 0; round < opts.rounds; round++) {
    // Rotate the order so no configuration always runs first (or right after the heaviest one).
    const order = jobs.map((_, i) => jobs[(i + round) % jobs.length]);
    for (const job of order) {
      log(`round ${round + 1}/${opts.rounds}: ${job.runs.label}`);
      const res = job.run();
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
  notes.push(
    'Same workload on both sides: PyTorch gets the weights, batch ids/positions/additive mask, targets and loss weights that tfjs uses ' +
      '(scripts/bench-tiny-inputs.ts writes them to tiny-policy/); its KV cache is preallocated, decoding steps attend every cached key without a mask.',
    'tfjs-wasm runs on one thread in Node. PyTorch runs twice: 2 threads (`torch.set_num_threads(2)`, `OPENBLAS_NUM_THREADS=1`, ' +
      '`OMP_WAIT_POLICY=PASSIVE`), the reference the targets name, and 1 thread (same thread count as tfjs-wasm).',
    `Machine: ${cpus().length} cores, load average ${loadStart.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end (other work shares the cores).`,
  );

  const elapsedS = (performance.now() - started) / 1000;
  const report = {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    when: new Date().toISOString(),
    machine: `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`,
    kernels,
    kernelsError,
    references,
    tfjs: tfjsConfigs,
    profile,
    primary: wasmKernels.id,
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
    targets: targets(kernels, references, wasmKernels),
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
