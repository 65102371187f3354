/**
 * A worker thread of a `ComputePool` (src/train/parallel.ts): its own tfjs-wasm, set up as the
 * parent thread's, and a copy of the policy read from the shared weights buffer whenever its
 * version changes. Answers each request with its result or the error it threw.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { matMulRouting, registerWasmKernels } from '../../kernels/index.js';
import { getTask } from '../tasks/index.js';
import { generate, sampleRollouts } from '../model/sampler.js';
import { TransformerPolicy, parameterShapes } from '../model/transformer.js';
import { chunkGradient } from './gradient.js';
import type { WeightsRef, WorkerBackend, WorkerReply, WorkerRequest, WorkerStats } from './parallel.js';

const port = parentPort!;
const { backend } = workerData as { backend: WorkerBackend };

let policy: TransformerPolicy | undefined;
let policyConfig = '';
let weightsVersion = -1;

/** The policy at the weights of `ref` (rebuilt when the config changes, else overwritten in place). */
function policyAt(ref: WeightsRef): TransformerPolicy {
  const config = JSON.stringify(ref.config);
  if (policy && config === policyConfig && ref.version === weightsVersion) return policy;
  const flat = new Float32Array(ref.buffer);
  const weights = new Map<string, Float32Array>();
  let offset = 0;
  for (const [name, shape] of parameterShapes(ref.config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    weights.set(name, flat.subarray(offset, offset + size));
    offset += size;
  }
  if (policy && config === policyConfig) policy.setWeights(weights);
  else {
    policy?.dispose();
    policy = new TransformerPolicy(ref.config, weights);
    policyConfig = config;
  }
  weightsVersion = ref.version;
  return policy;
}

/** CPU time of this thread (first field of Linux's schedstat, in ns); NaN where there is none. */
function threadCpuMs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

async function handle(request: WorkerRequest): Promise<{ result: unknown; transfer: ArrayBuffer[] }> {
  switch (request.kind) {
    case 'sample': {
      const rollouts = await sampleRollouts(policyAt(request.weights), getTask(request.task), request.problems, request.options);
      return { result: rollouts, transfer: [] };
    }
    case 'generate':
      return { result: await generate(policyAt(request.weights), request.prefixes, request.options), transfer: [] };
    case 'gradient': {
      const p = policyAt(request.weights);
      const results = [];
      for (const chunk of request.chunks) results.push(await chunkGradient(p, chunk, request.settings));
      return { result: results, transfer: results.map((r) => r.grads.buffer as ArrayBuffer) };
    }
    case 'stats':
      return { result: { tensors: tf.memory().numTensors, cpuMs: threadCpuMs() } satisfies WorkerStats, transfer: [] };
  }
}

try {
  if (backend.kernels) registerWasmKernels();
  Object.assign(matMulRouting, backend.matMulRouting);
  await tf.setBackend('wasm');
  await tf.ready();
  if (tf.getBackend() !== 'wasm') throw new Error(`tfjs started '${tf.getBackend()}' instead of wasm`);
  port.on('message', (request: WorkerRequest) => {
    handle(request).then(
      ({ result, transfer }) => port.postMessage({ id: request.id, result } satisfies WorkerReply, transfer),
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        port.postMessage({ id: request.id, error: { message: err.message, stack: err.stack } } satisfies WorkerReply);
      },
    );
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) });
}
