/** Fused multi-head attention forward and backward on wasm (SIMD kernels of simd.as). */
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL } from '../names.js';
import { ptr, simdFor, withScratch } from './module.js';

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}

function dims(q: TensorInfo, k: TensorInfo, mask: TensorInfo) {
  const [B, H, Tq, D] = q.shape;
  const Tk = k.shape[2];
  const maskBatchStride = mask.shape[0] === 1 ? 0 : Tq * Tk;
  return { B, H, Tq, Tk, D, maskBatchStride };
}

function attentionForward({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const be = backend as BackendWasm;
  const { q, k, v, mask } = inputs as Record<'q' | 'k' | 'v' | 'mask', TensorInfo>;
  const scale = (attrs as { scale: number }).scale;
  const { B, H, Tq, Tk, D, maskBatchStride } = dims(q, k, mask);
  const out = be.makeOutput([B, H, Tq, D], 'float32');
  const lse = be.makeOutput([B, H, Tq], 'float32');
  const simd = simdFor(be);
  withScratch(be, simd.attentionForwardScratch(Tq, Tk, D), (scratch) => {
    simd.attentionForward(
      ptr(be, q), ptr(be, k), ptr(be, v), ptr(be, mask), ptr(be, out), ptr(be, lse),
      B, H, Tq, Tk, D, maskBatchStride, scale, scratch,
    );
  });
  return [out, lse];
}

function attentionBackward({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const be = backend as BackendWasm;
  const { q, k, v, mask, out, lse, dy } = inputs as Record<'q' | 'k' | 'v' | 'mask' | 'out' | 'lse' | 'dy', TensorInfo>;
  const scale = (attrs as { scale: number }).scale;
  const { B, H, Tq, Tk, D, maskBatchStride } = dims(q, k, mask);
  const dq = be.makeOutput([B, H, Tq, D], 'float32');
  const dk = be.makeOutput([B, H, Tk, D], 'float32');
  const dv = be.makeOutput([B, H, Tk, D], 'float32');
  const simd = simdFor(be);
  withScratch(be, simd.attentionBackwardScratch(Tq, Tk, D), (scratch) => {
    simd.attentionBackward(
      ptr(be, q), ptr(be, k), ptr(be, v), ptr(be, mask), ptr(be, out), ptr(be, lse), ptr(be, dy),
      ptr(be, dq), ptr(be, dk), ptr(be, dv),
      B, H, Tq, Tk, D, maskBatchStride, scale, scratch,
    );
  });
  return [dq, dk, dv];
}

export const wasmAttentionConfig: KernelConfig = {
  kernelName: ATTENTION_KERNEL,
  backendName: 'wasm',
  kernelFunc: attentionForward as unknown as KernelFunc,
};

export const wasmAttentionGradConfig: KernelConfig = {
  kernelName: ATTENTION_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: attentionBackward as unknown as KernelFunc,
};
