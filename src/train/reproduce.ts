/**
 * `anytime reproduce`: the base job once, then every run × seed, spread over worker threads
 * (one tfjs-wasm instance per core), then the report. Resumable: every job skips the work its
 * files already hold, and a run resumes from its last checkpoint.
 */
import { Worker } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import { fail } from '../core/errors.js';
import { writeJsonAtomic } from '../util/fs.js';
import { packageRoot } from '../util/package-root.js';
import { ARENA_RUN_NAMES, RUN_NAMES, type RunName } from './config.js';
import { getPreset, seedsOf, warmStartFor, type ReproducePreset } from './presets.js';
import { BASE_POLICY_DIR, jobId, runJob, type Job, type JobProgress } from './jobs.js';
import { initBackend } from '../backend.js';
import { getTask } from '../tasks/index.js';
import { writeReport, type ReportSummary } from './report.js';
import { writePressureReport } from './pressure.js';
import { writeArenaReport } from './arena-report.js';

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
  /**
   * Train nothing: write the reports from the runs already in the output folder (a set stopped
   * part-way, or runs copied in from another set). Runs without results are left out of them.
   */
  reportOnly?: boolean;
  /** A budget-pressure sweep over these b_max (replaces the preset's list; each level in `<out>/b<N>`). */
  maxBudgets?: number[];
  /** Output folder (default `runs/<preset>`, or `runs/<preset>-<task>` for another task than the preset's). */
  out?: string;
  /** Worker threads; 0 runs every job in this thread (default: min(cores, jobs)). */
  workers?: number;
  /**
   * Threads each training run computes on (its TrainConfig.threads; results do not depend on it).
   * Default: the cores divided among the jobs running at once (`workers`, or one in this thread), at least 1.
   */
  threadsPerRun?: number;
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
  const seeds = opts.seeds === undefined ? { seeds: base.seeds, seedsByRun: base.seedsByRun } : { seeds: opts.seeds, seedsByRun: undefined };
  for (const b of opts.maxBudgets ?? []) {
    if (!Number.isInteger(b) || b < 8) fail('maxBudgets', `must be a comma-separated list of integers ≥ 8 (b_max in tokens), got ${b}`);
  }
  const maxBudgets = opts.maxBudgets ?? base.maxBudgets;
  return { ...base, task, warmStart, train, ...seeds, runs: opts.runs ?? base.runs, ...(maxBudgets ? { maxBudgets } : {}) };
}

/** One preset at one b_max of a sweep (or the preset itself), with its output folder. */
export interface PresetPart {
  preset: ReproducePreset;
  out: string;
}

/** The parts a preset runs: itself, or one per b_max of its budget-pressure sweep (`<out>/b<N>`). */
export function presetParts(preset: ReproducePreset, out: string): PresetPart[] {
  if (!preset.maxBudgets) return [{ preset, out }];
  return preset.maxBudgets.map((b) => ({
    preset: { ...preset, maxBudgets: undefined, train: { ...preset.train, maxBudget: b } },
    out: join(out, `b${b}`),
  }));
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

export async function reproduce(opts: ReproduceOptions = {}): Promise<ReportSummary> {
  const preset = resolvePreset(opts);
  if (opts.threadsPerRun !== undefined && !(Number.isInteger(opts.threadsPerRun) && opts.threadsPerRun >= 1)) {
    fail('threadsPerRun', `must be a positive integer, got ${opts.threadsPerRun}`);
  }
  const out = opts.out ?? defaultOutDir(preset);
  const parts = presetParts(preset, out);
  // Runs and seeds may grow between invocations; everything that shapes a run must not change.
  const argsPath = join(out, 'preset.json');
  const identity = { name: preset.name, task: preset.task, warmStart: preset.warmStart, train: preset.train, variance: preset.variance, maxBudgets: preset.maxBudgets };
  if (existsSync(argsPath)) {
    const prev = JSON.parse(readFileSync(argsPath, 'utf8')) as { identity: Record<string, unknown> };
    // Sets written before sweeps existed have no maxBudgets field: compare as absent.
    if (JSON.stringify(prev.identity) !== JSON.stringify(JSON.parse(JSON.stringify(identity)))) {
      fail('out', `${out} holds results of a different preset (${JSON.stringify(prev.identity)}); choose another --out or remove it`);
    }
  }
  writeJsonAtomic(argsPath, { identity, runs: preset.runs, seeds: preset.seeds, seedsByRun: preset.seedsByRun });

  // Every part's base job first (the runs start from its policy and are compared with its evaluation).
  const baseJobs: PartJob[] = parts.map((part) => ({ part, job: { kind: 'base' } }));
  const runJobs: PartJob[] = parts.flatMap((part) =>
    part.preset.runs.flatMap((run) => Array.from({ length: seedsOf(part.preset, run) }, (_, seed) => ({ part, job: { kind: 'run' as const, run, seed } }))),
  );
  const progress = new Map<string, JobProgress>();
  const report = (p: JobProgress) => {
    progress.set(p.id, p);
    opts.onProgress?.(p, progress);
  };
  const label = (pj: PartJob, p: JobProgress): JobProgress => (parts.length > 1 ? { ...p, id: `${basename(pj.part.out)} ${p.id}` } : p);
  const workers = opts.workers ?? Math.max(1, Math.min(cpus().length, runJobs.length));
  const threads = opts.threadsPerRun ?? Math.max(1, Math.floor(cpus().length / Math.max(1, workers)));
  const baseDir = opts.baseDir ?? BASE_POLICY_DIR;
  // Chosen here first, even when workers train: the one line saying which backend runs is
  // printed once, and worker threads inherit it (ANYTIME_BACKEND_ANNOUNCED) instead of repeating it.
  await initBackend();
  if (opts.reportOnly) {
    for (const part of parts) {
      if (!existsSync(join(part.out, 'base', 'eval.json'))) fail('reportOnly', `${part.out} has no base evaluation (base/eval.json): run reproduce without --report-only first`);
    }
  } else if (workers === 0) {
    for (const pj of [...baseJobs, ...runJobs]) await runJob(pj.job, pj.part.preset, pj.part.out, (p) => report(label(pj, p)), baseDir, threads);
  } else {
    const root = packageRoot();
    const pool = Array.from({ length: workers }, () => new Worker(join(root, 'src', 'train', 'worker-entry.mjs'), { workerData: { baseDir, threads } }));
    try {
      const runOn = (worker: Worker, pj: PartJob) =>
        new Promise<void>((res, rej) => {
          const id = jobId(pj.job);
          const onMessage = (msg: { type: string; progress?: JobProgress; message?: string; stack?: string; id?: string; out?: string }) => {
            if (msg.type === 'progress') report(label(pj, msg.progress!));
            else if (msg.id === id && msg.out === pj.part.out) {
              worker.off('message', onMessage);
              worker.off('error', rej);
              if (msg.type === 'done') res();
              else rej(new Error(`job ${id} (${pj.part.out}) failed: ${msg.message}\n${msg.stack ?? ''}`));
            }
          };
          worker.on('message', onMessage);
          worker.once('error', rej);
          worker.postMessage({ job: pj.job, preset: pj.part.preset, outDir: pj.part.out });
        });
      const drain = async (queue: PartJob[]) =>
        Promise.all(
          pool.map(async (w) => {
            for (let pj = queue.shift(); pj; pj = queue.shift()) await runOn(w, pj);
          }),
        );
      await drain([...baseJobs]);
      await drain([...runJobs]);
    } finally {
      await Promise.all(pool.map((w) => w.terminate()));
    }
  }
  const summaries: ReportSummary[] = [];
  for (const part of parts) {
    summaries.push(await writeReport(part.out, part.preset));
    // A set that trains any arena method also gets the arena's report (docs/arena.md).
    if (part.preset.runs.some((run) => ARENA_RUN_NAMES.includes(run))) await writeArenaReport(part.out, part.preset);
  }
  if (parts.length > 1) await writePressureReport(out, preset, parts, summaries);
  return summaries[0];
}

interface PartJob {
  part: PresetPart;
  job: Job;
}
