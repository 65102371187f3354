/**
 * Entry of the bundle test/browser.test.ts serves to headless Chromium. Runs the shared
 * computations (and a training step) on each backend the page URL names, then publishes
 * the numbers on `window.__anytime` and sets `<body data-state="done">` (or "error").
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendChoice, type BackendInfo } from '../../src/backend.js';
import { COMPUTATIONS, runComputation, type Nested } from './computations.js';
import { BROWSER_TRAINING_STEPS } from './training.js';

export interface BrowserBackendResult {
  info: BackendInfo;
  values: Record<string, Nested[]>;
  /** Tensors alive after all the work minus before it (leaks). */
  leakedTensors: number;
}
export type BrowserResults = Record<string, BrowserBackendResult>;

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const backends = (params.get('backends') ?? 'webgpu').split(',') as BackendChoice[];
  const results: BrowserResults = {};
  for (const backend of backends) {
    const info = await initBackend({ prefer: backend, strict: true, allowSoftwareGpu: true, wasmPaths: '/wasm/' });
    const before = tf.memory().numTensors;
    const values: Record<string, Nested[]> = {};
    for (const [name, compute] of Object.entries(COMPUTATIONS)) values[name] = await runComputation(compute);
    for (const [name, step] of Object.entries(BROWSER_TRAINING_STEPS)) values[name] = await step();
    results[backend] = { info, values, leakedTensors: tf.memory().numTensors - before };
  }
  (window as unknown as { __anytime: BrowserResults }).__anytime = results;
  document.body.dataset.state = 'done';
}

main().catch((e: unknown) => {
  (window as unknown as { __anytimeError: string }).__anytimeError = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
  document.body.dataset.state = 'error';
});
