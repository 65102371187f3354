/**
 * `anytime reproduce`: the base job once, then every run × seed, spread over worker threads
 * (one tfjs-wasm instance per core), then the report. Resumable: every job skips the work its
 * files already hold, and a run resumes from its last checkpoint.
 */
import { Worker } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fail } from '../core/errors.js';
import { writeJsonAtomic } from '../util/fs.js';
import { RUN_NAMES, type RunName } from './config.js';
import { getPreset, warmStartFor, type ReproducePreset } from './presets.js';
import { BASE_POLICY_DIR, jobId, runJob, type Job, type JobProgress } from './jobs.js';
import { initBackend } from '../backend.js';
import { getTask } from '../tasks/index.js';
import { writeReport, type ReportSummary } from './report.js';

export interface ReproduceOptions {
  preset?: string;
  /** Synthetic task to run the preset on (overrides the preset's, e.g. 'search'; see TASK_NAMES). */
  task?: string;
  /** RL steps per run (overrides the preset's `train.steps`). */
  steps?: number;
  /** Seeds per run (overrides the preset). */
  seeds?: number;
  /** Runs to do (overrides the preset). */
  runs?: RunName[];
  /** Output folder (default `runs/<preset>`, or `runs/<preset>-<task>` for another task than the preset's). */
  out?: string;
  /** Worker threads; 0 runs every job in this thread (default: min(cores, jobs)). */
  workers?: number;
  /** Where warm-started base policies are cached (default data/base). */
  baseDir?: string;
  /** Called on every progress update of any job. */
  onProgress?: (p: JobProgress, all: ReadonlyMap<string, JobProgress>) => void;
}

export function resolvePreset(opts: ReproduceOptions): ReproducePreset {
  const base = getPreset(opts.preset ?? 'quick');
  if (opts.seeds !== undefined && (!Number.isInteger(opts.seeds) || opts.seeds < 1)) fail('seeds', `must be a positive integer, got ${opts.seeds}`);
  if (opts.steps !== undefined && (!Number.isInteger(opts.steps) || opts.steps < 1)) fail('steps', `must be a positive integer, got ${opts.steps}`);
  for (const r of opts.runs ?? []) {
    if (!RUN_NAMES.includes(r)) fail('runs', `must be a comma-separated subset of ${RUN_NAMES.join(', ')}, got '${r}'`);
  }
  // getTask names the allowed tasks when the name is unknown; another task brings its own warm start.
  const task = opts.task === undefined ? base.task : getTask(opts.task).name;
  const warmStart = task === base.task ? base.warmStart : warmStartFor(task);
  const train = opts.steps === undefined ? base.train : { ...base.train, steps: opts.steps };
  return { ...base, task, warmStart, train, seeds: opts.seeds ?? base.seeds, runs: opts.runs ?? base.runs };
}

/**
 * Default output folder of a preset: `runs/<preset>`, with the task appended when it is not the
 * preset's own and the step count when it was overridden (so variants never share a folder).
 */
export function defaultOutDir(preset: ReproducePreset): string {
  const own = getPreset(preset.name);
  let name = preset.name;
  if (preset.task !== own.task) name += `-${preset.task}`;
  if (preset.train.steps !== own.train.steps) name += `-${String(preset.train.steps)}steps`;
  return join('runs', name);
}

/** The repository root (where package.json names this package), found from the working directory. */
export function packageRoot(start = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'anytime') return dir;
    const up = dirname(dir);
    if (up === dir) fail('cwd', `no 'anytime' package.json above ${start}: run from inside the repository`);
    dir = up;
  }
}

export async function reproduce(opts: ReproduceOptions = {}): Promise<ReportSummary> {
  const preset = resolvePreset(opts);
  const out = opts.out ?? defaultOutDir(preset);
  // Runs and seeds may grow between invocations; everything that shapes a run must not change.
  const argsPath = join(out, 'preset.json');
  const identity = { name: preset.name, task: preset.task, warmStart: preset.warmStart, train: preset.train, variance: preset.variance };
  if (existsSync(argsPath)) {
    const prev = JSON.parse(readFileSync(argsPath, 'utf8')) as { identity: unknown };
    if (JSON.stringify(prev.identity) !== JSON.stringify(identity)) {
      fail('out', `${out} holds results of a different preset (${JSON.stringify(prev.identity)}); choose another --out or remove it`);
    }
  }
  writeJsonAtomic(argsPath, { identity, runs: preset.runs, seeds: preset.seeds });

  const runJobs: Job[] = preset.runs.flatMap((run) => Array.from({ length: preset.seeds }, (_, seed) => ({ kind: 'run' as const, run, seed })));
  const progress = new Map<string, JobProgress>();
  const report = (p: JobProgress) => {
    progress.set(p.id, p);
    opts.onProgress?.(p, progress);
  };
  const workers = opts.workers ?? Math.max(1, Math.min(cpus().length, runJobs.length));

  const baseDir = opts.baseDir ?? BASE_POLICY_DIR;
  // Chosen here first, even when workers train: the one line saying which backend runs is
  // printed once, and worker threads inherit it (ANYTIME_BACKEND_ANNOUNCED) instead of repeating it.
  await initBackend();
  if (workers === 0) {
    for (const job of [{ kind: 'base' } as Job, ...runJobs]) await runJob(job, preset, out, report, baseDir);
  } else {
    const root = packageRoot();
    const pool = Array.from(
      { length: workers },
      () => new Worker(join(root, 'src', 'train', 'worker-entry.mjs'), { workerData: { preset, outDir: out, baseDir } }),
    );
    try {
      const runOn = (worker: Worker, job: Job) =>
        new Promise<void>((res, rej) => {
          const onMessage = (msg: { type: string; progress?: JobProgress; message?: string; stack?: string; job?: Job }) => {
            if (msg.type === 'progress') report(msg.progress!);
            else if (msg.job && jobId(msg.job) === jobId(job)) {
              worker.off('message', onMessage);
              worker.off('error', rej);
              if (msg.type === 'done') res();
              else rej(new Error(`job ${jobId(job)} failed: ${msg.message}\n${msg.stack ?? ''}`));
            }
          };
          worker.on('message', onMessage);
          worker.once('error', rej);
          worker.postMessage(job);
        });
      await runOn(pool[0], { kind: 'base' });
      const queue = [...runJobs];
      await Promise.all(
        pool.map(async (w) => {
          for (let job = queue.shift(); job; job = queue.shift()) await runOn(w, job);
        }),
      );
    } finally {
      await Promise.all(pool.map((w) => w.terminate()));
    }
  }
  return writeReport(out, preset);
}
