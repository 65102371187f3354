/**
 * Dense-layer ops with fused kernels: `linearBias` (x·w + b), `columnSum`, `layerNorm`,
 * `quickGelu` and `embedSum` (token + position embedding rows). Where the kernels are registered for the active backend (wasm after
 * `registerWasmKernels()`, or any backend registering the names in names.ts) each is one kernel
 * forward and one backward; elsewhere they are exactly the composed stock ops of composed.ts.
 *
 * Gradients: LINEAR_BIAS, COLUMN_SUM and EMBED_SUM have registered gradient configs
 * (backend-independent, by kernel name); LayerNorm's backward is one kernel with three outputs
 * and quick-GELU saves a second forward output, so both run through `tf.customGrad`, as
 * fusedAttention does (and call their kernels directly when no gradient is being recorded).
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../src/core/errors.js';
import { composedEmbedSum, composedLayerNorm, composedLinearBias, composedQuickGelu } from './composed.js';
import {
  COLUMN_SUM_KERNEL,
  EMBED_GRAD_KERNEL,
  EMBED_SUM_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  LINEAR_BIAS_KERNEL,
  QUICK_GELU_GRAD_KERNEL,
  QUICK_GELU_KERNEL,
} from './names.js';

function hasKernels(...names: string[]): boolean {
  const backend = tf.getBackend();
  return names.every((name) => tf.getKernel(name, backend) !== undefined);
}

function checkFloat(name: string, t: tf.Tensor, rank: number): void {
  if (t.rank !== rank || t.dtype !== 'float32') fail(name, `must be a float32 tensor of rank ${rank}, got ${t.dtype} [${t.shape}]`);
}

/** Σ over the rows of x [N,C] → [C]: one SIMD pass on wasm (the stock Sum over axis 0 transposes first). */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  checkFloat('x', x, 2);
  if (!hasKernels(COLUMN_SUM_KERNEL)) return tf.sum(x, 0);
  return tf.engine().runKernel(COLUMN_SUM_KERNEL, { x }, {}) as tf.Tensor1D;
}

/**
 * x [N,K] · w [K,M] + bias [M] (+ residual [N,M]) → [N,M]. Fused: the GEMM accumulates onto
 * bias (+ residual) rows, no Add kernels; backward dx = dy·wᵀ and dw = xᵀ·dy as matMuls with
 * transpose flags (the SIMD BatchMatMul reads them in place), dbias = columnSum(dy),
 * dresidual = dy.
 */
export function linearBias(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D, residual?: tf.Tensor2D): tf.Tensor2D {
  checkFloat('x', x, 2);
  checkFloat('w', w, 2);
  checkFloat('bias', bias, 1);
  if (x.shape[1] !== w.shape[0]) fail('w', `shape [${w.shape}] must start with x's inner size ${x.shape[1]} (x is [${x.shape}])`);
  if (bias.shape[0] !== w.shape[1]) fail('bias', `shape [${bias.shape}] must be [${w.shape[1]}] (w is [${w.shape}])`);
  if (residual) {
    checkFloat('residual', residual, 2);
    if (residual.shape[0] !== x.shape[0] || residual.shape[1] !== w.shape[1]) {
      fail('residual', `shape [${residual.shape}] must be [${x.shape[0]},${w.shape[1]}] (the output's)`);
    }
  }
  if (!hasKernels(LINEAR_BIAS_KERNEL, COLUMN_SUM_KERNEL)) return composedLinearBias(x, w, bias, residual);
  const inputs: tf.NamedTensorMap = residual ? { x, w, bias, residual } : { x, w, bias };
  return tf.engine().runKernel(LINEAR_BIAS_KERNEL, inputs, {}) as tf.Tensor2D;
}

/**
 * LayerNorm over the last axis of x [N,C] with gain and bias [C]. Fused: one pass forward
 * (keeping each row's mean and 1/std) and one backward with the analytic gradient
 * dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) for g = dy·gain, x̂ the normalised input, and
 * dgain = Σ dy·x̂, dbias = Σ dy over the rows.
 */
export function layerNorm(x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, eps = 1e-5): tf.Tensor2D {
  checkFloat('x', x, 2);
  checkFloat('gain', gain, 1);
  checkFloat('bias', bias, 1);
  const C = x.shape[1];
  if (gain.shape[0] !== C) fail('gain', `shape [${gain.shape}] must be [${C}] (x is [${x.shape}])`);
  if (bias.shape[0] !== C) fail('bias', `shape [${bias.shape}] must be [${C}] (x is [${x.shape}])`);
  if (!hasKernels(LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL)) return composedLayerNorm(x, gain, bias, eps);
  if (!tf.engine().isTapeOn()) {
    // No gradient being recorded: no customGrad wrapper (its bookkeeping costs more than the kernel on one row per sequence).
    const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM_KERNEL, { x, gain, bias }, { eps }) as tf.Tensor[];
    tf.dispose([mean, rstd]);
    return y as tf.Tensor2D;
  }
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, gi, bi] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM_KERNEL, { x: xi, gain: gi, bias: bi }, { eps }) as tf.Tensor[];
    save([xi, gi, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sgain, smean, srstd] = saved;
        return tf.engine().runKernel(
          LAYER_NORM_GRAD_KERNEL,
          { x: sx, gain: sgain, mean: smean, rstd: srstd, dy },
          {},
        ) as tf.Tensor[];
      },
    };
  });
  return run(x, gain, bias) as tf.Tensor2D;
}

/** Quick-GELU x·σ(1.702x), any shape: one elementwise kernel forward and one backward where registered. */
export function quickGelu<T extends tf.Tensor>(x: T): T {
  if (x.dtype !== 'float32') fail('x', `dtype must be 'float32', got '${x.dtype}'`);
  if (!hasKernels(QUICK_GELU_KERNEL, QUICK_GELU_GRAD_KERNEL)) return composedQuickGelu(x);
  if (!tf.engine().isTapeOn()) {
    const [y, sig] = tf.engine().runKernel(QUICK_GELU_KERNEL, { x }, {}) as tf.Tensor[];
    sig.dispose();
    return y as T;
  }
  // σ is a second output so that the backward needs no exp or division. A customGrad (not a
  // registered gradient) so that σ is saved without being an output the tape would then feed a
  // zero gradient tensor of x's size.
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const [y, sig] = tf.engine().runKernel(QUICK_GELU_KERNEL, { x: xi }, {}) as tf.Tensor[];
    save([xi, sig]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, ssig] = saved;
        return [tf.engine().runKernel(QUICK_GELU_GRAD_KERNEL, { x: sx, sig: ssig, dy }, {}) as tf.Tensor];
      },
    };
  });
  return run(x) as T;
}

/** True where `linearBias` runs as its fused kernel. */
export function hasFusedLinearBias(): boolean {
  return hasKernels(LINEAR_BIAS_KERNEL, COLUMN_SUM_KERNEL);
}

/** True where `embedSum` runs as its fused kernel (then it is differentiable on wasm too). */
export function hasFusedEmbedSum(): boolean {
  return hasKernels(EMBED_SUM_KERNEL);
}

/**
 * tokTable[ids] + posTable[posIds] → [N,C] for int32 ids [N] and posIds [N]: one kernel where
 * fused; its gradient scatters dy into both tables (UnsortedSegmentSum). Elsewhere two gathers.
 */
export function embedSum(tokTable: tf.Tensor2D, posTable: tf.Tensor2D, ids: tf.Tensor1D, posIds: tf.Tensor1D): tf.Tensor2D {
  checkFloat('tokTable', tokTable, 2);
  checkFloat('posTable', posTable, 2);
  if (posTable.shape[1] !== tokTable.shape[1]) fail('posTable', `shape [${posTable.shape}] must have ${tokTable.shape[1]} columns like tokTable`);
  for (const [name, t] of [['ids', ids], ['posIds', posIds]] as const) {
    if (t.rank !== 1 || t.dtype !== 'int32' || t.shape[0] !== ids.shape[0]) fail(name, `must be int32 [${ids.shape[0]}], got ${t.dtype} [${t.shape}]`);
  }
  if (!hasFusedEmbedSum()) return composedEmbedSum(tokTable, posTable, ids, posIds);
  return tf.engine().runKernel(EMBED_SUM_KERNEL, { tokTable, posTable, ids, posIds }, {}) as tf.Tensor2D;
}

/**
 * Σ of the rows of dy [N,C] by table row `ids` → [rows, C] (an embedding table's gradient): the
 * backend's EMBED_GRAD kernel where registered (webgpu: deterministic order), else UnsortedSegmentSum.
 */
function embeddingGradient(dy: tf.Tensor2D, ids: tf.Tensor1D, rows: number): tf.Tensor {
  if (!hasKernels(EMBED_GRAD_KERNEL)) return tf.unsortedSegmentSum(dy, ids, rows);
  return tf.engine().runKernel(EMBED_GRAD_KERNEL, { dy, ids }, { rows }) as tf.Tensor;
}

/** Gradients of the dense kernels (by kernel name, so any backend registering them gets them). */
export const denseGradConfigs: tf.GradConfig[] = [
  {
    kernelName: LINEAR_BIAS_KERNEL,
    inputsToSave: ['x', 'w'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const d = dy as tf.Tensor2D;
      const [x, w] = saved as tf.Tensor2D[];
      return {
        x: () => tf.matMul(d, w, false, true),
        w: () => tf.matMul(x, d, true, false),
        bias: () => columnSum(d),
        residual: () => d, // asked for only when the kernel had a residual input
      };
    },
  },
  {
    kernelName: COLUMN_SUM_KERNEL,
    inputsToSave: ['x'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [x] = saved;
      const [N, C] = x.shape as [number, number];
      return { x: () => tf.broadcastTo(tf.reshape(dy as tf.Tensor, [1, C]), [N, C]) };
    },
  },
  {
    kernelName: EMBED_SUM_KERNEL,
    inputsToSave: ['tokTable', 'posTable', 'ids', 'posIds'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [tokTable, posTable, ids, posIds] = saved;
      const d = dy as tf.Tensor2D;
      return {
        tokTable: () => embeddingGradient(d, ids as tf.Tensor1D, tokTable.shape[0]),
        posTable: () => embeddingGradient(d, posIds as tf.Tensor1D, posTable.shape[0]),
        ids: () => tf.zerosLike(ids),
        posIds: () => tf.zerosLike(posIds),
      };
    },
  },
];
