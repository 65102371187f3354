/**
 * Zero-copy `Identity` on wasm. tfjs clones tensors through Identity (every `save()` in a
 * custom gradient, every tape-saved input), and the stock wasm kernel copies the buffer; the
 * training step of the tiny policy spent ~5% of its time there. Tensors are immutable, so a
 * clone can share the buffer with a reference count, as stock `Reshape` (and the cpu
 * backend's Identity) already do.
 */
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

let stockIdentity: KernelFunc | undefined;

function identity(args: { inputs: NamedTensorInfoMap; backend: unknown }): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') {
    if (!stockIdentity) throw new Error('anytime kernels: stock Identity kernel for wasm was not captured');
    return stockIdentity(args as Parameters<KernelFunc>[0]) as TensorInfo;
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Remembers the stock kernel (for string tensors) before it is replaced. */
export function captureStockIdentity(stock: KernelFunc | undefined): void {
  if (stock && (stock as unknown) !== identity) stockIdentity = stock;
}

export const wasmIdentityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: identity as unknown as KernelFunc,
};
