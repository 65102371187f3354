/**
 * Helpers for the kernel parity tests: seeded inputs, runs on a named backend, and the
 * relative error measure max|a − b| / max(max|b|, 1e-3).
 */
import * as tf from '@tensorflow/tfjs';
import { seededRng } from '../src/core/rng.js';
import { registerWasmKernels } from '../kernels/index.js';
import { testBackends, useBackend, type TestableBackend } from './backend-env.js';

/** Backends under test: ANYTIME_TEST_BACKENDS, defaulting to 'wasm,cpu' for the kernels. */
export function kernelTestBackends(): TestableBackend[] {
  const env = process.env.ANYTIME_TEST_BACKENDS;
  return testBackends(env === undefined || env.trim() === '' ? 'wasm,cpu' : env);
}

/** Float32 normal(0, scale) values from a seed (Box-Muller on the project's seeded RNG). */
export function randomValues(seed: number, size: number, scale = 1): Float32Array {
  const rng = seededRng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = Math.max(rng(), 1e-12);
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
  }
  return out;
}

/** Additive causal mask [B,Tq,Tk] for queries at positions offset..offset+Tq-1. */
export function causalMask(B: number, Tq: number, Tk: number, offset = Tk - Tq): Float32Array {
  const m = new Float32Array(B * Tq * Tk);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < Tq; i++) for (let j = 0; j < Tk; j++) m[(b * Tq + i) * Tk + j] = j <= i + offset ? 0 : -1e9;
  return m;
}

/** A random "tree" mask: each query keeps itself plus a random subset of keys. */
export function randomTreeMask(seed: number, B: number, Tq: number, Tk: number): Float32Array {
  const rng = seededRng(seed);
  const m = new Float32Array(B * Tq * Tk);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < Tq; i++)
      for (let j = 0; j < Tk; j++) m[(b * Tq + i) * Tk + j] = j === Math.min(i, Tk - 1) || rng() < 0.5 ? 0 : -1e9;
  return m;
}

/** max|a − b| / max(max|b|, 1e-3). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let diff = 0;
  let mag = 1e-3;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    mag = Math.max(mag, Math.abs(b[i]));
  }
  return diff / mag;
}

/** Switches to `backend` (registering the kernels first) and returns every tensor's values. */
export async function runOn(backend: TestableBackend, body: () => tf.Tensor[]): Promise<Float32Array[]> {
  registerWasmKernels();
  await useBackend(backend);
  const tensors = tf.tidy(body);
  const values = await Promise.all(tensors.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(tensors);
  return values;
}
