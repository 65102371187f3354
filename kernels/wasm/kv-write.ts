/**
 * In-place key/value cache write on wasm. A decoding step used to grow each layer's cache with
 * `concat` (a full copy per step: ~30% of the sampling kernels' time); with a preallocated cache
 * the step copies only its own new column. The outputs share the caches' buffers (refcounted,
 * like stock Reshape), so the caller's earlier handles see the write too: only for caches that
 * the caller owns and reads as "columns [0, offset + T) are valid".
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { fail } from '../../src/core/errors.js';
import { KV_FORK_KERNEL, KV_WRITE_KERNEL } from '../names.js';
import { ptr, simdFor } from './module.js';

function writeColumns(be: BackendWasm, cache: TensorInfo, x: TensorInfo, offset: number): TensorInfo {
  const [B, H, C, D] = cache.shape;
  simdFor(be).writeColumns(ptr(be, x), ptr(be, cache), B * H, x.shape[2], D, C, offset);
  be.incRef(cache.dataId);
  return { dataId: cache.dataId, shape: cache.shape, dtype: cache.dtype };
}

function kvWrite(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo[] {
  const be = args.backend as BackendWasm;
  const { kCache, vCache, k, v } = args.inputs as Record<'kCache' | 'vCache' | 'k' | 'v', TensorInfo>;
  const offset = (args.attrs as { offset: number }).offset;
  return [writeColumns(be, kCache, k, offset), writeColumns(be, vCache, v, offset)];
}

function kvFork(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const be = args.backend as BackendWasm;
  const { cache, rows } = args.inputs as Record<'cache' | 'rows', TensorInfo>;
  const { columns, capacity } = args.attrs as { columns: number; capacity: number };
  const [B, H, C, D] = cache.shape;
  const ids = be.typedArrayFromHeap(rows);
  for (let i = 0; i < ids.length; i++) {
    if (!(ids[i] >= 0 && ids[i] < B)) fail('rows', `[${i}] must be a cache row in [0, ${B}), got ${ids[i]}`);
  }
  const R = rows.shape[0];
  const out = be.makeOutput([R, H, capacity, D], 'float32');
  if (R * H * capacity * D > 0) simdFor(be).forkRows(ptr(be, cache), ptr(be, rows), ptr(be, out), R, H, C, D, columns, capacity);
  return out;
}

/** Forked caches for branches (stock GatherV2 + Slice took ~80 + 15 ms per 512-row fork). */
export const wasmKVForkConfig: KernelConfig = {
  kernelName: KV_FORK_KERNEL,
  backendName: 'wasm',
  kernelFunc: kvFork as unknown as KernelFunc,
};

export const wasmKVWriteConfig: KernelConfig = {
  kernelName: KV_WRITE_KERNEL,
  backendName: 'wasm',
  kernelFunc: kvWrite as unknown as KernelFunc,
};
