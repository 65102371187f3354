/**
 * Worker thread of `anytime reproduce`: one tfjs backend instance per thread (tfjs-wasm runs
 * single-threaded in Node, so one worker per core uses the machine). Receives jobs, posts
 * progress, and answers each job with 'done' or 'error'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend.js';
import { jobId, runJob, type Job } from './jobs.js';
import type { ReproducePreset } from './presets.js';

const { baseDir } = workerData as { baseDir: string };
const port = parentPort!;
let ready: Promise<unknown> | null = null;

port.on('message', async ({ job, preset, outDir }: { job: Job; preset: ReproducePreset; outDir: string }) => {
  const reply = { id: jobId(job), out: outDir };
  try {
    ready ??= initBackend();
    await ready;
    await runJob(job, preset, outDir, (p) => port.postMessage({ type: 'progress', progress: p }), baseDir);
    port.postMessage({ type: 'done', ...reply });
  } catch (e) {
    const err = e as Error;
    port.postMessage({ type: 'error', ...reply, message: err.message, stack: err.stack });
  }
});
