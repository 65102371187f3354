/**
 * Custom kernels for tfjs: fused attention, fused token log-probabilities, a SIMD
 * BatchMatMul for batched/transposed products, and UnsortedSegmentSum on wasm.
 *
 * Call `registerWasmKernels()` once (before or after `tf.setBackend('wasm')`); then
 * `fusedAttention` / `fusedTokenLogProbs` and the dense-layer ops (`linearBias`, `layerNorm`,
 * `quickGelu`, `columnSum`) run fused on wasm, `tf.matMul` with transpose flags
 * or batches runs on the SIMD GEMM, `tf.gather` becomes differentiable on wasm, and clones
 * (`Identity`) share their buffer instead of copying it. `registerWebGpuKernels()` does the same
 * on WebGPU (WGSL programs) for attention, token log-probabilities, the dense-layer ops and the
 * KV-cache write and fork.
 */
import * as tf from '@tensorflow/tfjs';
// Imported for its side effect: the stock wasm kernels must be registered before ours
// replace BatchMatMul (otherwise a later import would silently put the stock one back).
import '@tensorflow/tfjs-backend-wasm';
import { denseGradConfigs } from './dense.js';
import { tokenLogProbsGradConfig } from './fused.js';
import { TOKEN_LOGPROBS_KERNEL } from './names.js';
import { wasmAttentionConfig, wasmAttentionGradConfig } from './wasm/attention.js';
import { wasmDenseConfigs } from './wasm/dense.js';
import { wasmKVForkConfig, wasmKVWriteConfig } from './wasm/kv-write.js';
import { captureStockIdentity, wasmIdentityConfig } from './wasm/identity.js';
import { registerWasmBatchMatMul, simdBatchMatMulActive } from './wasm/matmul.js';
import { wasmUnsortedSegmentSumConfig } from './wasm/segment-sum.js';
import { wasmTokenLogProbsConfig, wasmTokenLogProbsGradConfig } from './wasm/token-logprobs.js';
import { captureStockAddN, webgpuAddNConfig } from './webgpu/add-n.js';
import { webgpuAttentionConfig, webgpuAttentionGradConfig } from './webgpu/attention.js';
import { webgpuDenseConfigs } from './webgpu/dense.js';
import { webgpuKVForkConfig, webgpuKVWriteConfig } from './webgpu/kv-cache.js';
import { webgpuTokenLogProbsConfig, webgpuTokenLogProbsGradConfig } from './webgpu/token-logprobs.js';

export {
  composedAttention,
  composedEmbedSum,
  composedLayerNorm,
  composedLinearBias,
  composedQuickGelu,
  composedTokenLogProbs,
  type TokenLogProbs,
} from './composed.js';
export { composedForkRows, composedWriteColumns, forkKVRows, hasInPlaceKVWrite, writeKVColumns } from './kv-cache.js';
export { columnSum, embedSum, hasFusedEmbedSum, hasFusedLinearBias, layerNorm, linearBias, quickGelu } from './dense.js';
export { fusedAttention, fusedTokenLogProbs } from './fused.js';
export { matMulCounts, matMulRouting, type MatMulRouting } from './wasm/matmul.js';
export { forceTokenLogProbsLayout, rowLayout as tokenLogProbsRowLayout, type RowLayout } from './webgpu/token-logprobs.js';
export {
  ATTENTION_GRAD_KERNEL,
  ATTENTION_KERNEL,
  COLUMN_SUM_KERNEL,
  EMBED_GRAD_KERNEL,
  EMBED_SUM_KERNEL,
  KV_FORK_KERNEL,
  KV_WRITE_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  LINEAR_BIAS_KERNEL,
  QUICK_GELU_GRAD_KERNEL,
  QUICK_GELU_KERNEL,
  TOKEN_LOGPROBS_GRAD_KERNEL,
  TOKEN_LOGPROBS_KERNEL,
} from './names.js';

/**
 * Whether matMul with transpose flags is fast on the active backend: everywhere except stock
 * wasm, whose BatchMatMul runs flagged (and batched) products in a scalar loop ~10x slower than
 * XNNPACK; with the SIMD BatchMatMul registered, flags cost nothing extra.
 */
export function transposeFlagsAreFast(): boolean {
  return tf.getBackend() !== 'wasm' || simdBatchMatMulActive();
}

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
  for (const config of wasmDenseConfigs) registerOnce(config);
  registerOnce(wasmKVWriteConfig);
  registerOnce(wasmKVForkConfig);
  registerTokenLogProbsGradient();
  registerDenseGradients();
  registerWasmBatchMatMul();
}

function registerDenseGradients(): void {
  for (const config of denseGradConfigs) if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
}

function registerTokenLogProbsGradient(): void {
  if (tf.getGradient(TOKEN_LOGPROBS_KERNEL) === undefined) tf.registerGradient(tokenLogProbsGradConfig);
}

/**
 * Registers the WebGPU (WGSL) kernels: fused attention, token log-probabilities, the dense-layer
 * ops (linear + bias (+ residual), column sum, LayerNorm, quick-GELU, embedding sum and its table
 * gradient) and the in-place KV-cache write and fork, with their gradients, so that the model's
 * fused ops run fused on 'webgpu' too; and an `AddN` that is right for more than 7 inputs. Idempotent. Needs only the kernel registry, not the webgpu
 * backend itself: this does not import tfjs-backend-webgpu (src/backend.ts imports it once an
 * adapter is installed).
 */
export function registerWebGpuKernels(): void {
  registerOnce(webgpuAttentionConfig);
  registerOnce(webgpuAttentionGradConfig);
  registerOnce(webgpuTokenLogProbsConfig);
  registerOnce(webgpuTokenLogProbsGradConfig);
  for (const config of webgpuDenseConfigs) registerOnce(config);
  registerOnce(webgpuKVWriteConfig);
  registerOnce(webgpuKVForkConfig);
  // AddN past 7 inputs is wrong in tfjs-backend-webgpu 4.22 (webgpu/add-n.ts); replaced once the
  // package has registered its own (initBackend calls this after importing it).
  if (captureStockAddN(tf.getKernel('AddN', 'webgpu')?.kernelFunc)) registerOnce(webgpuAddNConfig);
  registerTokenLogProbsGradient();
  registerDenseGradients();
}
