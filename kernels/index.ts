/**
 * Custom kernels for tfjs: fused attention, fused token log-probabilities, a SIMD
 * BatchMatMul for batched/transposed products, and UnsortedSegmentSum on wasm.
 *
 * Call `registerWasmKernels()` once (before or after `tf.setBackend('wasm')`); then
 * `fusedAttention` / `fusedTokenLogProbs` run fused on wasm, `tf.matMul` with transpose flags
 * or batches runs on the SIMD GEMM, `tf.gather` becomes differentiable on wasm, and clones
 * (`Identity`) share their buffer instead of copying it.
 */
import * as tf from '@tensorflow/tfjs';
// Imported for its side effect: the stock wasm kernels must be registered before ours
// replace BatchMatMul (otherwise a later import would silently put the stock one back).
import '@tensorflow/tfjs-backend-wasm';
import { tokenLogProbsGradConfig } from './fused.js';
import { TOKEN_LOGPROBS_KERNEL } from './names.js';
import { wasmAttentionConfig, wasmAttentionGradConfig } from './wasm/attention.js';
import { captureStockIdentity, wasmIdentityConfig } from './wasm/identity.js';
import { registerWasmBatchMatMul } from './wasm/matmul.js';
import { wasmUnsortedSegmentSumConfig } from './wasm/segment-sum.js';
import { wasmTokenLogProbsConfig, wasmTokenLogProbsGradConfig } from './wasm/token-logprobs.js';

export { composedAttention, composedTokenLogProbs, type TokenLogProbs } from './composed.js';
export { fusedAttention, fusedTokenLogProbs } from './fused.js';
export { matMulCounts, matMulRouting, type MatMulRouting } from './wasm/matmul.js';
export {
  ATTENTION_GRAD_KERNEL,
  ATTENTION_KERNEL,
  TOKEN_LOGPROBS_GRAD_KERNEL,
  TOKEN_LOGPROBS_KERNEL,
} from './names.js';

function registerOnce(config: tf.KernelConfig): void {
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing && existing.kernelFunc === config.kernelFunc) return;
  if (existing) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

/**
 * Registers the wasm kernels and the fused ops' gradients. Idempotent. Needs only the tfjs
 * kernel registry, not an initialised backend: the SIMD module binds to a backend's memory
 * on first use.
 */
export function registerWasmKernels(): void {
  captureStockIdentity(tf.getKernel('Identity', 'wasm')?.kernelFunc);
  registerOnce(wasmIdentityConfig);
  registerOnce(wasmUnsortedSegmentSumConfig);
  registerOnce(wasmAttentionConfig);
  registerOnce(wasmAttentionGradConfig);
  registerOnce(wasmTokenLogProbsConfig);
  registerOnce(wasmTokenLogProbsGradConfig);
  if (tf.getGradient(TOKEN_LOGPROBS_KERNEL) === undefined) tf.registerGradient(tokenLogProbsGradConfig);
  registerWasmBatchMatMul();
}
