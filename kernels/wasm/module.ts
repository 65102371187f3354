/**
 * Loads the SIMD kernel module (kernels/assembly/simd.as) against a tfjs-wasm backend's own
 * linear memory, so kernels read and write tensors in place: a tensor's bytes start at its
 * `memoryOffset`, and scratch comes from the backend's `_malloc`.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { SIMD_WASM_BASE64 } from './simd-binary.js';

/** The functions exported by simd.as (pointers are byte offsets, strides in elements). */
export interface SimdKernels {
  transpose(src: number, lds: number, dst: number, ldd: number, rows: number, cols: number): void;
  transposeBatch(src: number, dst: number, batch: number, rows: number, cols: number): void;
  /** C[m,n] (+)= op(A)·B; transA != 0 reads A stored [k,m] (row stride lda) as Aᵀ. */
  gemm(
    a: number, lda: number, transA: number, b: number, ldb: number, c: number, ldc: number,
    m: number, n: number, k: number, acc: number,
  ): void;
  gemmBatch(
    a: number, strideA: number, transA: number, b: number, strideB: number, c: number,
    batch: number, m: number, n: number, k: number,
  ): void;
  attentionForwardScratch(tq: number, tk: number, d: number): number;
  attentionBackwardScratch(tq: number, tk: number, d: number): number;
  attentionForward(
    q: number, k: number, v: number, mask: number, out: number, lse: number,
    b: number, h: number, tq: number, tk: number, d: number, maskBatchStride: number, scale: number, scratch: number,
  ): void;
  attentionBackward(
    q: number, k: number, v: number, mask: number, o: number, lse: number, dout: number,
    dq: number, dk: number, dv: number,
    b: number, h: number, tq: number, tk: number, d: number, maskBatchStride: number, scale: number, scratch: number,
  ): void;
  tokenLogProbs(logits: number, targets: number, n: number, v: number, logp: number, entropy: number): void;
  tokenLogProbsGrad(
    logits: number, targets: number, n: number, v: number, entropy: number, glogp: number, gent: number, dlogits: number,
  ): void;
  biasRows(bias: number, out: number, n: number, c: number): void;
  biasRowsPlus(bias: number, residual: number, out: number, n: number, c: number): void;
  columnSum(x: number, n: number, c: number, out: number): void;
  layerNormForward(x: number, gain: number, bias: number, y: number, mean: number, rstd: number, n: number, c: number, eps: number): void;
  layerNormBackwardScratch(c: number): number;
  layerNormBackward(
    x: number, gain: number, mean: number, rstd: number, dy: number, dx: number, dgain: number, dbias: number,
    n: number, c: number, scratch: number,
  ): void;
  embedSum(tok: number, pos: number, ids: number, posIds: number, out: number, n: number, c: number): void;
  forkRows(cache: number, rows: number, out: number, r: number, h: number, c: number, d: number, columns: number, capacity: number): void;
  writeColumns(x: number, cache: number, bh: number, t: number, d: number, c: number, offset: number): void;
  /** `sig` 0: σ is not written. */
  quickGeluForward(x: number, y: number, sig: number, n: number): void;
  quickGeluBackward(x: number, sig: number, dy: number, dx: number, n: number): void;
  /** Runs `iters` iterations of 12 independent f32x4 multiply-then-add chains (96 flops each). */
  peakProbe(iters: number, seed: number): number;
}

/**
 * The few WebAssembly APIs used here, typed locally: notebooks compile this file with tslab's
 * TypeScript 5.0 and `lib: es2022` (no DOM), where the global `WebAssembly` namespace is undeclared.
 */
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: ArrayBuffer) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: WasmModule | undefined;
const instances = new WeakMap<object, SimdKernels>();

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The backend's WebAssembly.Memory (emscripten exports it as `asm.memory`). */
function backendMemory(backend: BackendWasm): WasmMemory {
  const module = backend.wasm as unknown as Record<string, unknown>;
  const candidates = [
    (module.asm as Record<string, unknown> | undefined)?.memory,
    module.wasmMemory,
    (module.wasmExports as Record<string, unknown> | undefined)?.memory,
  ];
  for (const c of candidates) if (c instanceof Wasm.Memory) return c;
  throw new Error('anytime kernels: cannot find the tfjs-wasm WebAssembly.Memory (expected Module.asm.memory)');
}

/**
 * The SIMD kernels bound to this backend's memory (compiled once, instantiated once per
 * backend). Compilation is synchronous: fine in Node and workers; a browser main thread
 * only allows small synchronous compiles, and this module is ~7 KB.
 */
export function simdFor(backend: BackendWasm): SimdKernels {
  let inst = instances.get(backend);
  if (!inst) {
    compiled ??= new Wasm.Module(decodeBase64(SIMD_WASM_BASE64).buffer as ArrayBuffer);
    const instance = new Wasm.Instance(compiled, { env: { memory: backendMemory(backend) } });
    inst = instance.exports as unknown as SimdKernels;
    instances.set(backend, inst);
  }
  return inst;
}

/** Byte offset of a tensor's data in the backend's memory. */
export function ptr(backend: BackendWasm, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('anytime kernels: tensor data is not on the wasm backend');
  return data.memoryOffset;
}

/** The emscripten heap allocator of the backend module. */
interface HeapAllocator {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

/** Runs `body` with `bytes` of scratch from the backend's heap, freed afterwards. */
export function withScratch<T>(backend: BackendWasm, bytes: number, body: (scratch: number) => T): T {
  if (bytes <= 0) return body(0);
  const heap = backend.wasm as unknown as HeapAllocator;
  const scratch = heap._malloc(bytes);
  if (!scratch) throw new Error(`anytime kernels: out of wasm memory allocating ${bytes} bytes`);
  try {
    return body(scratch);
  } finally {
    heap._free(scratch);
  }
}
