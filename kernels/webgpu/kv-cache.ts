/**
 * Key/value cache kernels on WebGPU: the in-place column write of a decoding step (KV_WRITE)
 * and the row fork of summary branches (KV_FORK), as on wasm (../wasm/kv-write.ts). The write
 * runs a program whose output binding IS the cache's buffer (tfjs-backend-webgpu's
 * `runWebGPUProgram(…, output)`), so a step writes only its T new columns instead of a concat
 * copying the whole cache; the returned tensors share the caches' buffers (refcounted).
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { KV_FORK_KERNEL, KV_WRITE_KERNEL } from '../names.js';
import { ItemProgram, checkIndicesIfOnCpu } from './util.js';

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}

/** x [B,H,T,D] into columns [offset, offset + T) of the output cache [B,H,C,D]; one invocation per element of x. */
class KVWriteProgram extends ItemProgram {
  variableNames = ['x'];
  override uniforms = 'offset : i32,';

  constructor(cacheShape: number[], xSize: number) {
    super('anytimeKVWrite', cacheShape, xSize);
  }

  getUserCode(): string {
    return `
    fn main(i : i32) {
      let s = uniforms.xShape;
      if (i >= s.x * s.y * s.z * s.w) { return; }
      let D = s.w;
      let T = s.z;
      let d = i % D;
      let t = (i / D) % T;
      let bh = i / (D * T);
      result[(bh * uniforms.outShape.z + uniforms.offset + t) * D + d] = x[i];
    }
    `;
  }
}

/**
 * out [R,H,capacity,D] = cache[rows[r], :, j] for j < columns, 0 after; one invocation per output
 * element. A row index outside the cache (only possible for rows already on the GPU: the kernel
 * checks them on the CPU) gives NaN.
 */
class KVForkProgram extends ItemProgram {
  variableNames = ['cache', 'rows'];
  override uniforms = 'columns : i32,';

  constructor(outShape: number[]) {
    super('anytimeKVFork', outShape, outShape.reduce((a, b) => a * b, 1));
  }

  getUserCode(): string {
    return `
    fn main(i : i32) {
      let o = uniforms.outShape;
      if (i >= o.x * o.y * o.z * o.w) { return; }
      let D = o.w;
      let capacity = o.z;
      let H = o.y;
      let d = i % D;
      let j = (i / D) % capacity;
      let h = (i / (D * capacity)) % H;
      let r = i / (D * capacity * H);
      if (j >= uniforms.columns) {
        result[i] = 0.0f;
        return;
      }
      let b = rows[r];
      if (b < 0 || b >= uniforms.cacheShape.x) {
        result[i] = uniforms.NAN;
        return;
      }
      result[i] = cache[((b * H + h) * uniforms.cacheShape.z + j) * D + d];
    }
    `;
  }
}

function writeColumns(be: WebGPUBackend, cache: TensorInfo, x: TensorInfo, offset: number): TensorInfo {
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (size > 0) be.runWebGPUProgram(new KVWriteProgram(cache.shape, size), [x], 'float32', [{ type: 'int32', data: [offset] }], cache);
  be.incRef(cache.dataId);
  return { dataId: cache.dataId, shape: cache.shape, dtype: cache.dtype };
}

function kvWrite({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const be = backend as WebGPUBackend;
  const { kCache, vCache, k, v } = inputs as Record<'kCache' | 'vCache' | 'k' | 'v', TensorInfo>;
  const offset = (attrs as { offset: number }).offset;
  return [writeColumns(be, kCache, k, offset), writeColumns(be, vCache, v, offset)];
}

function kvFork({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const be = backend as WebGPUBackend;
  const { cache, rows } = inputs as Record<'cache' | 'rows', TensorInfo>;
  const { columns, capacity } = attrs as { columns: number; capacity: number };
  const [B, H, , D] = cache.shape;
  checkIndicesIfOnCpu(be, 'rows', rows, B, 'a cache row');
  const outShape = [rows.shape[0], H, capacity, D];
  return be.runWebGPUProgram(new KVForkProgram(outShape), [cache, rows], 'float32', [{ type: 'int32', data: [columns] }]);
}

export const webgpuKVWriteConfig: KernelConfig = {
  kernelName: KV_WRITE_KERNEL,
  backendName: 'webgpu',
  kernelFunc: kvWrite as unknown as KernelFunc,
};

export const webgpuKVForkConfig: KernelConfig = {
  kernelName: KV_FORK_KERNEL,
  backendName: 'webgpu',
  kernelFunc: kvFork as unknown as KernelFunc,
};
