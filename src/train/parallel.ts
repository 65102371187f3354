/**
 * One training run on every core. tfjs-wasm computes on one thread in Node, so a run gets more
 * cores from worker threads, each with its own tfjs-wasm and a copy of the policy (data
 * parallelism): the weights go out through a SharedArrayBuffer before each piece of work; rollout
 * rows are split into contiguous parts, and a minibatch's gradient chunks (src/train/gradient.ts)
 * are dealt round-robin; this thread computes a share too.
 *
 * Nothing depends on the thread count: a rollout row is computed alike in any batch
 * (src/model/sampler.ts) and each chunk gradient is a pure function of its chunk, summed in chunk
 * order here whichever thread computed it (test/parallel.test.ts checks runs bit for bit).
 *
 * Workers start with the backend state of this thread (wasm, custom kernels registered or not,
 * matMul routing), so they compute the same bits. Where this thread is not on wasm, or the task
 * is not a registered one, everything runs here. Idle workers do not keep the process alive;
 * a worker's error rejects the call with the worker's message and stack; `close()` ends them.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ATTENTION_KERNEL, matMulRouting, type MatMulRouting } from '../../kernels/index.js';
import { fail } from '../core/errors.js';
import { getTask } from '../tasks/index.js';
import type { Task, TaskProblem } from '../tasks/types.js';
import { generate, sampleRollouts, type Continuation, type GenerateOptions, type Rollout, type SampleOptions } from '../model/sampler.js';
import type { TransformerConfig, TransformerPolicy } from '../model/transformer.js';
import { packageRoot } from '../util/package-root.js';
import { chunkGradient, sumInChunkOrder, unflattenGradient, type GradientChunk, type LossGradient, type SurrogateSettings } from './gradient.js';
import type { AdamW } from './optim.js';

/** How a worker sets up its backend: as this thread's. */
export interface WorkerBackend {
  kernels: boolean;
  matMulRouting: MatMulRouting;
}

/** The policy a request runs on: its config and where its weights are (version bumps on every write). */
export interface WeightsRef {
  config: TransformerConfig;
  buffer: SharedArrayBuffer;
  version: number;
}

/** Messages to a worker. */
export type WorkerRequest =
  | { id: number; kind: 'sample'; weights: WeightsRef; task: string; problems: TaskProblem[]; options: SampleOptions }
  | { id: number; kind: 'generate'; weights: WeightsRef; prefixes: number[][]; options: GenerateOptions }
  | { id: number; kind: 'gradient'; weights: WeightsRef; chunks: GradientChunk[]; settings: SurrogateSettings }
  | { id: number; kind: 'stats' };

/** What a worker reports about itself. */
export interface WorkerStats {
  /** Tensors alive in its tfjs engine (its policy copy holds one per parameter). */
  tensors: number;
  /** CPU milliseconds its thread has used (Linux; NaN elsewhere): benchmarks on shared machines. */
  cpuMs: number;
}

/** A worker's answer: the result, or the error it threw. */
export type WorkerReply = { id: number; result: unknown } | { id: number; error: { message: string; stack?: string } };

/** `threads` of a config: 0 means every core of the machine. */
export function resolveThreads(threads: number): number {
  if (!(Number.isInteger(threads) && threads >= 0)) fail('threads', `must be an integer ≥ 0 (0 = every core), got ${threads}`);
  return threads === 0 ? availableParallelism() : threads;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One worker thread and its calls in flight. */
class PoolWorker {
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;
  private closing = false;

  constructor(
    readonly index: number,
    private readonly worker: Worker,
  ) {
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const call = this.pending.get(reply.id);
      if (!call) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) {
        const e = new Error(`worker thread ${this.index} failed: ${reply.error.message}`);
        e.stack = `${e.message}\n--- in the worker ---\n${reply.error.stack ?? ''}`;
        call.reject(e);
      } else call.resolve(reply.result);
    });
    worker.on('error', (e) => this.die(new Error(`worker thread ${this.index} crashed: ${e.message}`)));
    worker.on('exit', (code) => {
      if (!this.closing) this.die(new Error(`worker thread ${this.index} exited unexpectedly (code ${code})`));
    });
  }

  private die(error: Error): void {
    this.failure ??= error;
    for (const call of this.pending.values()) call.reject(this.failure);
    this.pending.clear();
  }

  call<T>(request: WorkerRequest): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(request.id, { resolve: resolve as (v: unknown) => void, reject });
      // Referenced while a call is in flight, so the process waits for the answer.
      this.worker.ref();
      this.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.die(new Error(`worker thread ${this.index} was closed`));
    await this.worker.terminate();
  }
}

/** The threads one run computes on: this one plus `threads − 1` workers. */
export class ComputePool {
  private nextId = 0;
  private weights: WeightsRef | undefined;
  private closed = false;

  private constructor(
    private readonly workers: PoolWorker[],
    /** Why the pool runs on fewer threads than asked (empty when it does not). */
    readonly note: string,
  ) {}

  /** Threads computing, this one included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Starts `threads − 1` workers (`resolveThreads` turns 0 into every core) and waits until each
   * has its backend up. On a backend other than wasm it starts none (and says why in `note`).
   */
  static async start(threads: number): Promise<ComputePool> {
    const n = resolveThreads(threads);
    if (n === 1) return new ComputePool([], '');
    if (tf.getBackend() !== 'wasm') {
      return new ComputePool([], `backend '${tf.getBackend()}': worker threads run tfjs-wasm, so this run computes on one thread`);
    }
    const backend: WorkerBackend = { kernels: tf.getKernel(ATTENTION_KERNEL, 'wasm') !== undefined, matMulRouting: { ...matMulRouting } };
    const entry = join(packageRoot(), 'src', 'train', 'worker-entry.mjs');
    const started = Array.from({ length: n - 1 }, (_, i) => {
      const worker = new Worker(entry, { workerData: { module: './parallel-worker.ts', backend } });
      return new Promise<PoolWorker>((resolve, reject) => {
        const onError = (e: Error) => reject(new Error(`worker thread ${i + 1} failed to start: ${e.message}`));
        worker.once('error', onError);
        worker.once('message', (msg: { ready?: boolean; error?: string }) => {
          worker.off('error', onError);
          if (msg.ready) resolve(new PoolWorker(i + 1, worker));
          else reject(new Error(`worker thread ${i + 1} failed to start: ${msg.error}`));
        });
      }).catch(async (e: Error) => {
        await worker.terminate();
        throw e;
      });
    });
    const results = await Promise.allSettled(started);
    const workers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.close()));
      throw failed.reason;
    }
    return new ComputePool(workers, '');
  }

  /** Copies the policy's weights into the shared buffer the workers read (new version). */
  private async publish(policy: TransformerPolicy): Promise<WeightsRef> {
    const variables = policy.variables();
    const size = variables.reduce((n, v) => n + v.size, 0);
    if (!this.weights || this.weights.buffer.byteLength !== size * 4 || JSON.stringify(this.weights.config) !== JSON.stringify(policy.config)) {
      this.weights = { config: policy.config, buffer: new SharedArrayBuffer(size * 4), version: 0 };
    }
    const view = new Float32Array(this.weights.buffer);
    let offset = 0;
    for (const v of variables) {
      view.set(await v.data<'float32'>(), offset);
      offset += v.size;
    }
    this.weights = { ...this.weights, version: this.weights.version + 1 };
    return this.weights;
  }

  private checkOpen(): void {
    if (this.closed) fail('pool', 'is closed');
  }

  /**
   * Runs `here(part)` on this thread's part of `rows` and `remote(part, start)` on each worker's
   * (contiguous parts, one per thread, this thread first) and concatenates the results in order.
   */
  private async splitRows<R>(
    policy: TransformerPolicy,
    rows: number,
    here: (end: number) => Promise<R[]>,
    remote: (weights: WeightsRef, start: number, end: number) => Omit<WorkerRequest, 'id'>,
  ): Promise<R[]> {
    const parts = Math.min(this.threads, rows);
    const weights = await this.publish(policy);
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * rows) / parts));
    const others = this.workers
      .slice(0, parts - 1)
      .map((w, i) => w.call<R[]>({ ...remote(weights, bounds[i + 1], bounds[i + 2]), id: this.nextId++ } as WorkerRequest));
    return settleAll([here(bounds[1]), ...others]).then((all) => all.flat());
  }

  /**
   * `sampleRollouts` on every thread: the problems in contiguous parts, one per thread, each
   * sampled with its `firstRow`; the same rollouts as one batch.
   */
  sampleRollouts = async (policy: TransformerPolicy, task: Task, problems: TaskProblem[], options: SampleOptions): Promise<Rollout[]> => {
    this.checkOpen();
    if (this.threads === 1 || problems.length === 1 || !isRegistered(task)) return sampleRollouts(policy, task, problems, options);
    const first = options.firstRow ?? 0;
    return this.splitRows(
      policy,
      problems.length,
      (end) => sampleRollouts(policy, task, problems.slice(0, end), { ...options, firstRow: first }),
      (weights, start, end) => ({ kind: 'sample', weights, task: task.name, problems: problems.slice(start, end), options: { ...options, firstRow: first + start } }),
    );
  };

  /**
   * `generate` on every thread: the prefixes in contiguous parts, one per thread, each padded to
   * the longest prefix of all and seeded by its `firstRow`; the same continuations as one batch.
   */
  async generate(policy: TransformerPolicy, prefixes: number[][], options: GenerateOptions): Promise<Continuation[]> {
    this.checkOpen();
    if (this.threads === 1 || prefixes.length <= 1) return generate(policy, prefixes, options);
    const first = options.firstRow ?? 0;
    const prefixColumns = Math.max(options.prefixColumns ?? 0, ...prefixes.map((p) => p.length));
    return this.splitRows(
      policy,
      prefixes.length,
      (end) => generate(policy, prefixes.slice(0, end), { ...options, firstRow: first, prefixColumns }),
      (weights, start, end) => ({ kind: 'generate', weights, prefixes: prefixes.slice(start, end), options: { ...options, firstRow: first + start, prefixColumns } }),
    );
  }

  /**
   * Loss and gradient of a minibatch given as chunks: chunk c is computed by thread c mod
   * threads (this thread takes chunks 0, threads, …), and the results are summed in chunk order.
   */
  async gradient(policy: TransformerPolicy, chunks: GradientChunk[], settings: SurrogateSettings): Promise<LossGradient> {
    this.checkOpen();
    const threads = Math.min(this.threads, chunks.length);
    const dealt = (t: number) => chunks.map((_, c) => c).filter((c) => c % threads === t);
    const parts = new Array<LossGradient>(chunks.length);
    let remote: Promise<void>[] = [];
    if (threads > 1) {
      const weights = await this.publish(policy);
      remote = this.workers.slice(0, threads - 1).map(async (w, i) => {
        const mine = dealt(i + 1);
        const results = await w.call<LossGradient[]>({ id: this.nextId++, kind: 'gradient', weights, chunks: mine.map((c) => chunks[c]), settings });
        mine.forEach((c, k) => (parts[c] = results[k]));
      });
    }
    const local = (async () => {
      for (const c of dealt(0)) parts[c] = await chunkGradient(policy, chunks[c], settings);
    })();
    await settleAll([local, ...remote]);
    return sumInChunkOrder(parts);
  }

  /**
   * One optimiser update as `train` runs it: the minibatch's gradient from its chunks on every
   * thread (`gradient`), then one AdamW step on this thread's policy. Returns the loss and the
   * gradient norm before clipping.
   */
  async update(policy: TransformerPolicy, optimizer: AdamW, chunks: GradientChunk[], settings: SurrogateSettings): Promise<{ loss: number; gradNorm: number }> {
    const { loss, grads } = await this.gradient(policy, chunks, settings);
    const tensors = unflattenGradient(policy.variables(), grads);
    try {
      return { loss, gradNorm: await optimizer.apply(tensors) };
    } finally {
      tf.dispose(tensors);
    }
  }

  /** Each worker's live tensors and CPU time so far (tests of leaks, benchmarks). */
  async workerStats(): Promise<WorkerStats[]> {
    this.checkOpen();
    return Promise.all(this.workers.map((w) => w.call<WorkerStats>({ id: this.nextId++, kind: 'stats' })));
  }

  /** Ends the workers (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

/** Awaits every promise (so no worker is still busy on a call this one gave up), then throws the first error if any. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const all = await Promise.allSettled(promises);
  const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return all.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** True when a worker's `getTask(task.name)` is this very task (custom tasks cannot be posted). */
function isRegistered(task: Task): boolean {
  try {
    return getTask(task.name) === task;
  } catch {
    return false;
  }
}
