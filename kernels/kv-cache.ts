/**
 * Preallocated key/value caches written in place (`writeKVColumns`), for decoding without a
 * `concat` per step. Where the KV_WRITE kernel is registered (wasm) the write is in place; the
 * composed fallback builds new tensors with the same contents (for tests and other backends;
 * callers that care about speed check `hasInPlaceKVWrite()` and grow their caches with concat
 * elsewhere).
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../src/core/errors.js';
import { KV_FORK_KERNEL, KV_WRITE_KERNEL } from './names.js';

/** True where `writeKVColumns` writes in place on the active backend. */
export function hasInPlaceKVWrite(): boolean {
  return tf.getKernel(KV_WRITE_KERNEL, tf.getBackend()) !== undefined;
}

/** Same result as `forkKVRows`, composed: gather the rows, keep the first `columns`, pad with zeros. */
export function composedForkRows(cache: tf.Tensor4D, rows: tf.Tensor1D, columns: number, capacity: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, H, C, D] = cache.shape;
    const R = rows.shape[0];
    let out = tf.gather(cache, rows, 0) as tf.Tensor4D;
    if (columns < C) out = tf.slice(out, [0, 0, 0, 0], [R, H, columns, D]);
    if (capacity > columns) out = tf.concat([out, tf.zeros([R, H, capacity - columns, D])], 2);
    return out;
  });
}

/**
 * Forks a cache for branches: out [R,H,capacity,D] with out[r, :, j] = cache[rows[r], :, j] for
 * j < columns and zeros after (room for in-place writes). One copy per row where the KV_FORK
 * kernel is registered (wasm); gather + slice + concat elsewhere. Not differentiable.
 */
export function forkKVRows(cache: tf.Tensor4D, rows: tf.Tensor1D, columns: number, capacity: number): tf.Tensor4D {
  if (cache.rank !== 4 || cache.dtype !== 'float32') fail('cache', `must be a float32 [B,H,T,D] tensor, got ${cache.dtype} [${cache.shape}]`);
  if (rows.rank !== 1 || rows.dtype !== 'int32') fail('rows', `must be int32 [R], got ${rows.dtype} [${rows.shape}]`);
  const C = cache.shape[2];
  if (!(Number.isInteger(columns) && columns >= 0 && columns <= C)) fail('columns', `must be an integer in [0, ${C}], got ${columns}`);
  if (!(Number.isInteger(capacity) && capacity >= columns)) fail('capacity', `must be an integer >= columns (${columns}), got ${capacity}`);
  if (tf.getKernel(KV_FORK_KERNEL, tf.getBackend()) === undefined) return composedForkRows(cache, rows, columns, capacity);
  return tf.engine().runKernel(KV_FORK_KERNEL, { cache, rows }, { columns, capacity }) as tf.Tensor4D;
}

/** Same result as the in-place write, built functionally: cache[:, :, :offset] ++ x ++ cache[:, :, offset+T:]. */
export function composedWriteColumns(cache: tf.Tensor4D, x: tf.Tensor4D, offset: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, C, D] = cache.shape;
    const T = x.shape[2];
    const parts: tf.Tensor4D[] = [];
    if (offset > 0) parts.push(tf.slice(cache, [0, 0, 0, 0], [B, H, offset, D]));
    parts.push(x);
    if (offset + T < C) parts.push(tf.slice(cache, [0, 0, offset + T, 0], [B, H, C - offset - T, D]));
    return parts.length === 1 ? tf.clone(x) : tf.concat(parts, 2);
  });
}

/**
 * Writes k, v [B,H,T,D] into columns [offset, offset + T) of kCache, vCache [B,H,C,D] and returns
 * the updated caches. In place where the kernel is registered: the returned tensors share the
 * caches' buffers, and the inputs `kCache`, `vCache` then hold the new values too (dispose either
 * handle freely; the buffer lives until both are gone). Not differentiable.
 */
export function writeKVColumns(
  kCache: tf.Tensor4D,
  vCache: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  offset: number,
): [tf.Tensor4D, tf.Tensor4D] {
  const [B, H, C, D] = kCache.shape;
  for (const [name, t] of [['kCache', kCache], ['vCache', vCache], ['k', k], ['v', v]] as const) {
    if (t.rank !== 4 || t.dtype !== 'float32') fail(name, `must be a float32 [B,H,T,D] tensor, got ${t.dtype} [${t.shape}]`);
  }
  if (vCache.shape.join() !== kCache.shape.join()) fail('vCache', `shape [${vCache.shape}] must equal kCache's [${kCache.shape}]`);
  const T = k.shape[2];
  if (k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== D || v.shape.join() !== k.shape.join()) {
    fail('k', `k [${k.shape}] and v [${v.shape}] must both be [${B},${H},T,${D}]`);
  }
  if (!(Number.isInteger(offset) && offset >= 0 && offset + T <= C)) {
    fail('offset', `must be an integer in [0, ${C - T}] (cache holds ${C} columns, writing ${T}), got ${offset}`);
  }
  if (!hasInPlaceKVWrite()) return [composedWriteColumns(kCache, k, offset), composedWriteColumns(vCache, v, offset)];
  return tf.engine().runKernel(KV_WRITE_KERNEL, { kCache, vCache, k, v }, { offset }) as [tf.Tensor4D, tf.Tensor4D];
}
