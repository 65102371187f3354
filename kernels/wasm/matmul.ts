/**
 * `BatchMatMul` on wasm, replacing the stock kernel for the cases where the stock one falls
 * off XNNPACK onto a scalar loop (any batch > 1, any transpose flag): transposed operands
 * run on the SIMD GEMM of simd.as, which reads Aᵀ in place and gets Bᵀ from a blocked
 * transpose into scratch (O(n²) next to the O(n³) product). Plain 2-D products also run on
 * the SIMD GEMM by default (it measured 1-2.3x XNNPACK at the policy's shapes); set
 * `matMulRouting.plain2d = 'xnnpack'` to send them to the stock kernel.
 * The existing BatchMatMul gradient (matMul with flags) therefore lands here too.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ptr, simdFor, withScratch } from './module.js';

/** Which products run where (mutable, for benchmarks and A/B checks). */
export interface MatMulRouting {
  /** false: every product runs on the stock kernel, as if the override were not registered. */
  enabled: boolean;
  /** Where un-transposed, unbatched float32 products run: stock XNNPACK or the SIMD GEMM. */
  plain2d: 'xnnpack' | 'simd';
}

export const matMulRouting: MatMulRouting = { enabled: true, plain2d: 'simd' };

/** How many products each path ran (for tests and benchmarks; reset freely). */
export const matMulCounts = { simd: 0, stock: 0 };

let stockKernel: KernelFunc | undefined;
let stockSetup: KernelConfig['setupFunc'];

/** Shape bookkeeping for C = op(A)·op(B) over a flattened batch. */
interface MatMulPlan {
  batchA: number;
  batchB: number;
  batch: number;
  m: number;
  n: number;
  k: number;
  outShape: number[];
}

function plan(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan | undefined {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const kA = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (kA !== kB) return undefined; // the stock kernel raises the standard error
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((x, y) => x * y, 1);
  const batchB = outerB.reduce((x, y) => x * y, 1);
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return undefined; // the stock kernel raises the standard error
  }
  const batch = outer.reduce((x, y) => x * y, 1);
  // Supported: equal batches, or one side broadcast whole. Anything else goes to stock.
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return undefined;
  return { batchA, batchB, batch, m, n, k: kA, outShape: [...outer, m, n] };
}

function batchMatMul(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo | TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const transposeA = !!attrs.transposeA;
  const transposeB = !!attrs.transposeB;
  const p = a.dtype === 'float32' && b.dtype === 'float32' ? plan(a, b, transposeA, transposeB) : undefined;
  const plain2d = p !== undefined && p.batch === 1 && !transposeA && !transposeB;
  if (!matMulRouting.enabled || p === undefined || (plain2d && matMulRouting.plain2d === 'xnnpack')) {
    matMulCounts.stock++;
    if (!stockKernel) throw new Error('anytime kernels: stock BatchMatMul kernel for wasm was not captured');
    return stockKernel(args as Parameters<KernelFunc>[0]);
  }
  const { batchA, batchB, batch, m, n, k } = p;
  matMulCounts.simd++;
  const out = backend.makeOutput(p.outShape, 'float32');
  if (out.shape.reduce((x, y) => x * y, 1) === 0) return out;
  const simd = simdFor(backend);
  const sizeA = m * k;
  const sizeB = k * n;
  // Aᵀ is read in place by the GEMM; Bᵀ is materialised (the tiles need B rows contiguous).
  withScratch(backend, transposeB ? batchB * sizeB * 4 : 0, (scratch) => {
    const pa = ptr(backend, a);
    let pb = ptr(backend, b);
    if (transposeB) {
      simd.transposeBatch(pb, scratch, batchB, n, k);
      pb = scratch;
    }
    const po = ptr(backend, out);
    if (batchB === 1 && batchA > 1 && !transposeA) {
      // A's batch folds into its rows: one [batch·m, k]·[k, n] product.
      simd.gemm(pa, k, 0, pb, n, po, n, batch * m, n, k, 0);
    } else {
      simd.gemmBatch(pa, batchA === 1 ? 0 : sizeA, transposeA ? 1 : 0, pb, batchB === 1 ? 0 : sizeB, po, batch, m, n, k);
    }
  });
  return out;
}

/** Registers the fast BatchMatMul on wasm (keeps the stock kernel for plain 2-D products). */
export function registerWasmBatchMatMul(): void {
  const current = tf.getKernel('BatchMatMul', 'wasm');
  if (current && (current.kernelFunc as unknown) === batchMatMul) return;
  if (current) {
    stockKernel = current.kernelFunc;
    stockSetup = current.setupFunc;
    tf.unregisterKernel('BatchMatMul', 'wasm');
  }
  // The stock kernel binds its C function in its setupFunc, which tfjs calls when the backend
  // initialises; if that happens after this registration, ours must call it instead.
  const config: KernelConfig = {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    kernelFunc: batchMatMul as KernelFunc,
    setupFunc: (backend) => stockSetup?.(backend),
  };
  tf.registerKernel(config);
}

/** True when this SIMD BatchMatMul is the registered wasm kernel and routing is enabled. */
export function simdBatchMatMulActive(): boolean {
  return matMulRouting.enabled && (tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc as unknown) === batchMatMul;
}

/** The stock wasm BatchMatMul (for benchmarks), if it was captured. */
export function stockWasmBatchMatMul(): KernelFunc | undefined {
  return stockKernel;
}
