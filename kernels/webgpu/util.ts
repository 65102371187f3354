/**
 * Pieces shared by the WGSL kernels: calling tfjs-backend-webgpu's own kernels (Slice, Reshape),
 * cutting a flat program output into tensors, index checks while ids are still on the CPU, and
 * the base of the one-invocation-per-item programs.
 *
 * Imports only types from tfjs-backend-webgpu (see token-logprobs.ts for why).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { fail } from '../../src/core/errors.js';

/** Invocations per workgroup of the one-invocation-per-item programs. */
export const GROUP = 64;

/** tfjs-backend-webgpu's own kernel `name` (Slice, Reshape, ...). */
export function stockKernel(name: string): KernelFunc {
  const config = tf.getKernel(name, 'webgpu');
  if (!config) throw new Error(`webgpu kernels: tfjs-backend-webgpu's ${name} kernel is not registered`);
  return config.kernelFunc as KernelFunc;
}

/** The same buffer seen with another shape (no copy). */
export function reshapeTo(be: WebGPUBackend, x: TensorInfo, shape: number[]): TensorInfo {
  return stockKernel('Reshape')({ inputs: { x }, backend: be, attrs: { shape } }) as TensorInfo;
}

/** Elements [begin, begin + size(shape)) of a flat tensor, as a tensor of `shape` (a copy of that range). */
export function part(be: WebGPUBackend, flat: TensorInfo, begin: number, shape: number[]): TensorInfo {
  const size = shape.reduce((a, b) => a * b, 1);
  const sliced = stockKernel('Slice')({ inputs: { x: flat }, backend: be, attrs: { begin: [begin], size: [size] } }) as TensorInfo;
  if (shape.length === 1) return sliced;
  const shaped = reshapeTo(be, sliced, shape);
  be.disposeData(sliced.dataId);
  return shaped;
}

/**
 * Checks that the int32 indices of `t` are in [0, limit) when they are still on the CPU (tensors
 * made from JS arrays, before their first upload): out of range they would read other rows. Ids
 * already on the GPU cannot be read synchronously; the programs give NaN for those instead.
 */
export function checkIndicesIfOnCpu(be: WebGPUBackend, name: string, t: TensorInfo, limit: number, what: string): void {
  const ids = be.tensorMap.get(t.dataId)?.values as ArrayLike<number> | null | undefined;
  if (ids == null) return;
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (!(v >= 0 && v < limit)) fail(name, `[${i}] must be ${what} in [0, ${limit}), got ${v}`);
  }
}

/**
 * A program with one invocation per item (`items` of them, 64 to a workgroup): the backend
 * calls the user code's `main(g : i32)` with the flat invocation index, which must return when
 * g is past the last item. `outputShape` is the real output's (its shape uniforms are `outShape`).
 */
export abstract class ItemProgram implements WebGPUProgram {
  abstract variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [GROUP, 1, 1];
  uniforms?: string;

  constructor(shaderKey: string, outputShape: number[], items: number) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    this.dispatch = [Math.max(1, Math.ceil(items / GROUP)), 1, 1];
    this.shaderKey = shaderKey;
  }

  abstract getUserCode(): string;
}
