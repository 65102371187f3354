/**
 * Dense-layer kernels on wasm (SIMD kernels of simd.as): x·w + bias in one GEMM pass, column
 * sums (bias gradients), LayerNorm forward/backward, quick-GELU forward/backward, and the
 * token + position embedding lookup (the stock GatherV2 took ~110 µs for 64 rows).
 *
 * Why: in the tiny policy's training step, stock tfjs-wasm spent ~30% of the time in `Sum`
 * over axis 0 (every bias and LayerNorm gain/bias gradient; the stock kernel transposes first),
 * and a decoded token ran ~120 kernels, most of them the 9 ops of a composed LayerNorm and the
 * separate bias adds. Inputs are float32 and contiguous; shapes are checked by the callers in
 * kernels/dense.ts.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { fail } from '../../src/core/errors.js';
import {
  COLUMN_SUM_KERNEL,
  EMBED_SUM_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  LINEAR_BIAS_KERNEL,
  QUICK_GELU_GRAD_KERNEL,
  QUICK_GELU_KERNEL,
} from '../names.js';
import { ptr, simdFor, withScratch } from './module.js';

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}

const sizeOf = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

function linearBias({ inputs, backend }: KernelArgs): TensorInfo {
  const be = backend as BackendWasm;
  const { x, w, bias } = inputs as Record<'x' | 'w' | 'bias', TensorInfo>;
  const residual = inputs.residual as TensorInfo | undefined;
  const [N, K] = x.shape;
  const M = w.shape[1];
  const y = be.makeOutput([N, M], 'float32');
  if (N * M === 0) return y;
  const simd = simdFor(be);
  // Bias rows (plus the residual, if any) first, then the GEMM accumulates onto them: one pass
  // over y, no separate Add kernels.
  if (residual) simd.biasRowsPlus(ptr(be, bias), ptr(be, residual), ptr(be, y), N, M);
  else simd.biasRows(ptr(be, bias), ptr(be, y), N, M);
  simd.gemm(ptr(be, x), K, 0, ptr(be, w), M, ptr(be, y), M, N, M, K, 1);
  return y;
}

function columnSum({ inputs, backend }: KernelArgs): TensorInfo {
  const be = backend as BackendWasm;
  const { x } = inputs as { x: TensorInfo };
  const [N, C] = x.shape;
  const out = be.makeOutput([C], 'float32');
  if (C > 0) simdFor(be).columnSum(ptr(be, x), N, C, ptr(be, out));
  return out;
}

function layerNorm({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const be = backend as BackendWasm;
  const { x, gain, bias } = inputs as Record<'x' | 'gain' | 'bias', TensorInfo>;
  const eps = (attrs as { eps: number }).eps;
  const [N, C] = x.shape;
  const y = be.makeOutput([N, C], 'float32');
  const mean = be.makeOutput([N], 'float32');
  const rstd = be.makeOutput([N], 'float32');
  if (N * C > 0) {
    simdFor(be).layerNormForward(ptr(be, x), ptr(be, gain), ptr(be, bias), ptr(be, y), ptr(be, mean), ptr(be, rstd), N, C, eps);
  }
  return [y, mean, rstd];
}

function layerNormGrad({ inputs, backend }: KernelArgs): TensorInfo[] {
  const be = backend as BackendWasm;
  const { x, gain, mean, rstd, dy } = inputs as Record<'x' | 'gain' | 'mean' | 'rstd' | 'dy', TensorInfo>;
  const [N, C] = x.shape;
  const dx = be.makeOutput([N, C], 'float32');
  const dgain = be.makeOutput([C], 'float32');
  const dbias = be.makeOutput([C], 'float32');
  if (C > 0) {
    const simd = simdFor(be);
    withScratch(be, simd.layerNormBackwardScratch(C), (scratch) => {
      simd.layerNormBackward(
        ptr(be, x), ptr(be, gain), ptr(be, mean), ptr(be, rstd), ptr(be, dy),
        ptr(be, dx), ptr(be, dgain), ptr(be, dbias), N, C, scratch,
      );
    });
  }
  return [dx, dgain, dbias];
}

/** Ids index table rows: one out of range would read other memory, so they are checked first. */
function checkIds(be: BackendWasm, name: string, ids: TensorInfo, rows: number): void {
  const values = be.typedArrayFromHeap(ids);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v < rows)) fail(name, `[${i}] must be a row index in [0, ${rows}), got ${v}`);
  }
}

function embedSum({ inputs, backend }: KernelArgs): TensorInfo {
  const be = backend as BackendWasm;
  const { tokTable, posTable, ids, posIds } = inputs as Record<'tokTable' | 'posTable' | 'ids' | 'posIds', TensorInfo>;
  const N = ids.shape[0];
  const C = tokTable.shape[1];
  checkIds(be, 'ids', ids, tokTable.shape[0]);
  checkIds(be, 'posIds', posIds, posTable.shape[0]);
  const out = be.makeOutput([N, C], 'float32');
  if (N * C > 0) simdFor(be).embedSum(ptr(be, tokTable), ptr(be, posTable), ptr(be, ids), ptr(be, posIds), ptr(be, out), N, C);
  return out;
}

function quickGelu({ inputs, backend }: KernelArgs): TensorInfo[] {
  const be = backend as BackendWasm;
  const { x } = inputs as { x: TensorInfo };
  const y = be.makeOutput(x.shape, 'float32');
  const sig = be.makeOutput(x.shape, 'float32');
  simdFor(be).quickGeluForward(ptr(be, x), ptr(be, y), ptr(be, sig), sizeOf(x));
  return [y, sig];
}

function quickGeluGrad({ inputs, backend }: KernelArgs): TensorInfo {
  const be = backend as BackendWasm;
  const { x, sig, dy } = inputs as Record<'x' | 'sig' | 'dy', TensorInfo>;
  const dx = be.makeOutput(x.shape, 'float32');
  simdFor(be).quickGeluBackward(ptr(be, x), ptr(be, sig), ptr(be, dy), ptr(be, dx), sizeOf(x));
  return dx;
}

const config = (kernelName: string, fn: (args: KernelArgs) => TensorInfo | TensorInfo[]): KernelConfig => ({
  kernelName,
  backendName: 'wasm',
  kernelFunc: fn as unknown as KernelFunc,
});

/** The dense-layer kernels for the wasm backend. */
export const wasmDenseConfigs: KernelConfig[] = [
  config(LINEAR_BIAS_KERNEL, linearBias),
  config(COLUMN_SUM_KERNEL, columnSum),
  config(LAYER_NORM_KERNEL, layerNorm),
  config(LAYER_NORM_GRAD_KERNEL, layerNormGrad),
  config(EMBED_SUM_KERNEL, embedSum),
  config(QUICK_GELU_KERNEL, quickGelu),
  config(QUICK_GELU_GRAD_KERNEL, quickGeluGrad),
];
