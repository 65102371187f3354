/**
 * `UnsortedSegmentSum` on wasm (missing from tfjs-wasm 4.22; it is the gradient of `gather`).
 * out[s, ...] = Σ_{i: ids[i] = s} x[i, ...]. A plain JS loop over views of the wasm heap: the
 * work is one add per input element, so no SIMD module is needed. Ids outside
 * [0, numSegments) are dropped, as on the cpu backend.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { fail } from '../../src/core/errors.js';

function unsortedSegmentSum(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const be = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as Record<'x' | 'segmentIds', TensorInfo>;
  const numSegments = (args.attrs as { numSegments: number }).numSegments;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') fail('x', `dtype must be 'float32' or 'int32', got '${x.dtype}'`);
  const idRank = segmentIds.shape.length;
  if (idRank > x.shape.length || segmentIds.shape.some((d, i) => d !== x.shape[i])) {
    fail('segmentIds', `shape [${segmentIds.shape}] must be a prefix of x's shape [${x.shape}]`);
  }
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(idRank);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const out = be.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views are taken after makeOutput: allocation may grow (and detach) the heap buffer.
  const dst = be.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const src = be.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = be.typedArrayFromHeap(segmentIds);
  dst.fill(0);
  for (let i = 0; i < rows; i++) {
    const s = ids[i];
    if (!(s >= 0 && s < numSegments)) continue;
    const from = i * inner;
    const to = s * inner;
    for (let j = 0; j < inner; j++) dst[to + j] += src[from + j];
  }
  return out;
}

export const wasmUnsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as KernelFunc,
};
