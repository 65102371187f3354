/** Fused token log-probability and entropy on wasm (SIMD kernels of simd.as). */
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { fail } from '../../src/core/errors.js';
import { TOKEN_LOGPROBS_GRAD_KERNEL, TOKEN_LOGPROBS_KERNEL } from '../names.js';
import { ptr, simdFor } from './module.js';

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
}

/** Targets index rows of the logits: an out-of-range id would read another row's memory. */
function checkTargets(be: BackendWasm, targets: TensorInfo, vocab: number): void {
  const ids = be.typedArrayFromHeap(targets);
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i];
    if (!(t >= 0 && t < vocab)) fail('targets', `[${i}] must be a token id in [0, ${vocab}), got ${t}`);
  }
}

function tokenLogProbs({ inputs, backend }: KernelArgs): TensorInfo[] {
  const be = backend as BackendWasm;
  const { logits, targets } = inputs as Record<'logits' | 'targets', TensorInfo>;
  const [N, V] = logits.shape;
  checkTargets(be, targets, V);
  const logp = be.makeOutput([N], 'float32');
  const entropy = be.makeOutput([N], 'float32');
  simdFor(be).tokenLogProbs(ptr(be, logits), ptr(be, targets), N, V, ptr(be, logp), ptr(be, entropy));
  return [logp, entropy];
}

function tokenLogProbsGrad({ inputs, backend }: KernelArgs): TensorInfo {
  const be = backend as BackendWasm;
  const { logits, targets, entropy, dlogp, dentropy } = inputs as Record<
    'logits' | 'targets' | 'entropy' | 'dlogp' | 'dentropy',
    TensorInfo
  >;
  const [N, V] = logits.shape;
  const dlogits = be.makeOutput([N, V], 'float32');
  simdFor(be).tokenLogProbsGrad(
    ptr(be, logits), ptr(be, targets), N, V, ptr(be, entropy), ptr(be, dlogp), ptr(be, dentropy), ptr(be, dlogits),
  );
  return dlogits;
}

export const wasmTokenLogProbsConfig: KernelConfig = {
  kernelName: TOKEN_LOGPROBS_KERNEL,
  backendName: 'wasm',
  kernelFunc: tokenLogProbs as unknown as KernelFunc,
};

export const wasmTokenLogProbsGradConfig: KernelConfig = {
  kernelName: TOKEN_LOGPROBS_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: tokenLogProbsGrad as unknown as KernelFunc,
};
