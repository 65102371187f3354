/**
 * `AddN` on WebGPU that works for any number of inputs. tfjs-backend-webgpu 4.22's AddN binds
 * every input as its own storage buffer, and the device it creates keeps the default limit of 8
 * storage buffers per shader stage (output + 7 inputs): with more inputs the pipeline fails and
 * the sum comes back wrong — measured on lavapipe: 8 inputs summed as their first 7, 38 inputs
 * (AdamW's gradient norm over the tiny policy's parameters) as 0. This sums chunks of inputs that
 * fit with the stock kernel, in order, then the chunk sums.
 */
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

let stockAddN: KernelFunc | undefined;

function addN(args: { inputs: NamedTensorInfoMap; backend: unknown }): TensorInfo {
  const be = args.backend as WebGPUBackend;
  const tensors = args.inputs as unknown as TensorInfo[];
  if (!stockAddN) throw new Error('anytime kernels: stock AddN kernel for webgpu was not captured');
  const limit = (be.device.limits as { maxStorageBuffersPerShaderStage?: number }).maxStorageBuffersPerShaderStage ?? 8;
  const perChunk = Math.max(2, limit - 1);
  if (tensors.length <= perChunk) return stockAddN(args as Parameters<KernelFunc>[0]) as TensorInfo;
  const sums: TensorInfo[] = [];
  for (let i = 0; i < tensors.length; i += perChunk) {
    const chunk = tensors.slice(i, i + perChunk);
    sums.push(chunk.length === 1 ? chunk[0] : (stockAddN({ inputs: chunk as unknown as NamedTensorInfoMap, backend: be }) as TensorInfo));
  }
  const out = addN({ inputs: sums as unknown as NamedTensorInfoMap, backend: be });
  for (const s of sums) if (!tensors.includes(s)) be.disposeData(s.dataId);
  return out;
}

/** Remembers the stock kernel before it is replaced; false when tfjs-backend-webgpu has not registered it (yet). */
export function captureStockAddN(stock: KernelFunc | undefined): boolean {
  if (stock && (stock as unknown) !== addN) stockAddN = stock;
  return stockAddN !== undefined;
}

export const webgpuAddNConfig: KernelConfig = {
  kernelName: 'AddN',
  backendName: 'webgpu',
  kernelFunc: addN as unknown as KernelFunc,
};
