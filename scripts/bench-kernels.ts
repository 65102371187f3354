/**
 * Kernel benchmark: each custom wasm kernel against the stock/composed ops it replaces, at the
 * tiny policy's shapes, timed in the same process with interleaved repeats (ratios are what
 * to trust on a shared machine; absolute times move with load).
 *
 *   npx tsx scripts/bench-kernels.ts --out build/bench [--reps 15] [--warmup 3] [--quick] [--webgpu]
 *
 * `--webgpu` adds the fused token log-probability, attention and dense-layer kernels (WGSL) against the composed ops on
 * tfjs's WebGPU backend (a software adapter is accepted: then the ratio is CPU emulation's).
 *
 * Writes <out>/kernels.json (every measurement) and <out>/kernels.md (tables of ratios).
 * Peak memory is tfjs tensor bytes (tf.profile peakBytes minus the bytes live before the
 * call); the SIMD kernels' own scratch (malloc'd, not tensors) is listed separately.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  columnSum,
  composedAttention,
  composedLayerNorm,
  composedLinearBias,
  composedQuickGelu,
  composedTokenLogProbs,
  fusedAttention,
  layerNorm,
  linearBias,
  quickGelu,
  fusedTokenLogProbs,
  matMulCounts,
  matMulRouting,
  registerWasmKernels,
} from '../kernels/index.js';
import { simdFor } from '../kernels/wasm/module.js';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../src/backend.js';
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js';
import { seededRng } from '../src/core/rng.js';
import type { KernelRow } from './bench-report.js';

interface Options {
  out: string;
  reps: number;
  warmup: number;
  quick: boolean;
  webgpu: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { out: 'build/bench', reps: 15, warmup: 3, quick: false, webgpu: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') opts.out = argv[++i];
    else if (a === '--reps') opts.reps = Number(argv[++i]);
    else if (a === '--warmup') opts.warmup = Number(argv[++i]);
    else if (a === '--quick') opts.quick = true;
    else if (a === '--webgpu') opts.webgpu = true;
    else throw new Error(`bench-kernels: unknown argument '${a}' (allowed: --out DIR, --reps N, --warmup N, --quick, --webgpu)`);
  }
  if (!Number.isInteger(opts.reps) || opts.reps < 1) throw new Error(`--reps must be a positive integer, got ${opts.reps}`);
  if (!Number.isInteger(opts.warmup) || opts.warmup < 0) throw new Error(`--warmup must be an integer >= 0, got ${opts.warmup}`);
  return opts;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function normal(seed: number, shape: number[], scale = 1): tf.Tensor {
  const rng = seededRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = scale * Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
  return tf.tensor(v, shape);
}

/** A variant: how to set routing up, and the work (returns tensors to dispose). */
interface Variant {
  name: string;
  setup?: () => void;
  run: () => tf.Tensor[];
}

interface VariantResult {
  name: string;
  medianMs: number;
  timesMs: number[];
  peakBytes: number;
}

function resetRouting(): void {
  matMulRouting.enabled = true;
  matMulRouting.plain2d = 'simd';
}

/** Times variants with interleaved repeats, then profiles each once for peak tensor bytes. */
async function compare(variants: Variant[], opts: Options): Promise<VariantResult[]> {
  const times: number[][] = variants.map(() => []);
  const once = (v: Variant) => {
    resetRouting();
    v.setup?.();
    const t0 = performance.now();
    const out = v.run();
    const ms = performance.now() - t0;
    tf.dispose(out);
    return ms;
  };
  for (let w = 0; w < opts.warmup; w++) for (const v of variants) once(v);
  for (let r = 0; r < opts.reps; r++) variants.forEach((v, i) => times[i].push(once(v)));
  const results: VariantResult[] = [];
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i];
    resetRouting();
    v.setup?.();
    const before = tf.memory().numBytes;
    const profile = await tf.profile(() => v.run());
    tf.dispose(profile.result as tf.Tensor[]);
    results.push({ name: v.name, medianMs: median(times[i]), timesMs: times[i], peakBytes: Math.max(0, profile.peakBytes - before) });
  }
  resetRouting();
  return results;
}

/**
 * `compare` for an asynchronous backend (webgpu): each run is timed until its outputs are read
 * back (`await data()`), the only point where the GPU work is known to be done. Both variants
 * read back the same outputs, so the ratio compares the work. Also returns the GPU time of
 * the kernels (tf.time's kernelMs, from timestamp queries; 0 where the adapter has none).
 */
async function compareAsync(variants: Variant[], opts: Options): Promise<(VariantResult & { kernelMs: number })[]> {
  const times: number[][] = variants.map(() => []);
  const once = async (v: Variant) => {
    const t0 = performance.now();
    const out = v.run();
    await Promise.all(out.map((t) => t.data()));
    const ms = performance.now() - t0;
    tf.dispose(out);
    return ms;
  };
  for (let w = 0; w < opts.warmup; w++) for (const v of variants) await once(v);
  for (let r = 0; r < opts.reps; r++) for (let i = 0; i < variants.length; i++) times[i].push(await once(variants[i]));
  const results: (VariantResult & { kernelMs: number })[] = [];
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i];
    const kernelMs: number[] = [];
    for (let r = 0; r < Math.min(5, opts.reps); r++) {
      let out: tf.Tensor[] = [];
      const timing = await tf.time(() => {
        out = v.run();
      });
      await Promise.all(out.map((t) => t.data()));
      tf.dispose(out);
      kernelMs.push(typeof timing.kernelMs === 'number' ? timing.kernelMs : NaN);
    }
    const before = tf.memory().numBytes;
    const profile = await tf.profile(() => v.run());
    tf.dispose(profile.result as tf.Tensor[]);
    results.push({
      name: v.name,
      medianMs: median(times[i]),
      timesMs: times[i],
      peakBytes: Math.max(0, profile.peakBytes - before),
      kernelMs: median(kernelMs),
    });
  }
  return results;
}

async function readAll(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  const values = await Promise.all(tensors.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(tensors);
  return values;
}

/**
 * The attention workload both backends time: random q, k, v [B,H,T,D] (seeds 1-3), a causal
 * mask, and forward / forward+backward closures (a fixed weighted sum as the loss) per variant.
 */
function attentionWorkload(dims: { B: number; H: number; T: number; D: number }) {
  const { B, H, T, D } = dims;
  const q = normal(1, [B, H, T, D]) as tf.Tensor4D;
  const k = normal(2, [B, H, T, D]) as tf.Tensor4D;
  const v = normal(3, [B, H, T, D]) as tf.Tensor4D;
  const maskValues = new Float32Array(B * T * T);
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskValues[(b * T + i) * T + j] = -1e9;
  const mask = tf.tensor3d(maskValues, [B, T, T]);
  const w = normal(4, [B, H, T, D]);
  type Attn = typeof fusedAttention;
  return {
    q,
    k,
    v,
    mask,
    shape: `q,k,v [${B},${H},${T},${D}], causal mask [${B},${T},${T}]`,
    fwd: (f: Attn) => () => [f(q, k, v, mask)],
    fwdBwd: (f: Attn) => () =>
      tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, mask), w)))([q, k, v]),
    dispose: () => tf.dispose([q, k, v, mask, w]),
  };
}

/**
 * The token log-prob workload both backends time: logits [N,V] (seed 5), random targets, and
 * forward / forward+backward closures (fixed weighted sums of logp and entropy as the loss).
 */
function tokenLogProbWorkload(N: number, V: number) {
  const logits = normal(5, [N, V], 2) as tf.Tensor2D;
  const rng = seededRng(6);
  const targets = tf.tensor1d(Int32Array.from({ length: N }, () => Math.floor(rng() * V)), 'int32');
  const w1 = normal(7, [N]);
  const w2 = normal(8, [N]);
  type Lp = typeof fusedTokenLogProbs;
  return {
    shape: `logits [${N},${V}], targets [${N}]`,
    fwd: (f: Lp) => () => {
      const r = f(logits, targets);
      return [r.logp, r.entropy];
    },
    fwdBwd: (f: Lp) => () => [
      tf.grad((l: tf.Tensor) => {
        const r = f(l as tf.Tensor2D, targets);
        return tf.add(tf.sum(tf.mul(r.logp, w1)), tf.sum(tf.mul(r.entropy, w2)));
      })(logits),
    ],
    dispose: () => tf.dispose([logits, targets, w1, w2]),
  };
}

/**
 * The dense-layer workload both backends time, at the policy's shapes: per case the fused op and
 * the composed ops it replaces. Forward+backward is the op's value and its vector-Jacobian
 * product for a fixed upstream gradient dy (`tf.valueAndGrads(f)(inputs, dy)`): no loss wrapper
 * whose own elementwise work, shared by both sides, would dilute the ratio of these memory-bound ops.
 */
function denseWorkload(N: number) {
  const d = 64;
  const M = 256;
  const x = normal(11, [N, d]) as tf.Tensor2D;
  const w = normal(12, [d, M], 0.1) as tf.Tensor2D;
  const b = normal(13, [M]) as tf.Tensor1D;
  const gain = normal(14, [d]) as tf.Tensor1D;
  const h = normal(15, [N, M], 2) as tf.Tensor2D;
  const dyOut = normal(16, [N, M]); // upstream gradients of the [N, M] and [N, d] outputs
  const dyNorm = normal(17, [N, d]);
  // The op's value and the gradients of its inputs for upstream gradient `dy`.
  const vjp = (f: (...a: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] => {
    const { value, grads } = tf.valueAndGrads(f)(inputs, dy);
    return [value, ...grads];
  };
  type Lin = typeof linearBias;
  type Ln = (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D, eps: number) => tf.Tensor2D;
  type Act = (x: tf.Tensor2D) => tf.Tensor2D;
  const cases: { label: string; shape: string; fused: () => tf.Tensor[]; composed: () => tf.Tensor[]; baseline: string }[] = [
    {
      label: 'linear+bias forward+backward',
      shape: `x [${N},${d}] · w [${d},${M}] + b`,
      baseline: 'composed (SIMD matMul, stock Add/Sum)',
      ...Object.fromEntries(
        ([['fused', linearBias], ['composed', composedLinearBias]] as [string, Lin][]).map(([k, f]) => [
          k,
          () => vjp((a: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => f(a as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), [x, w, b], dyOut),
        ]),
      ),
    } as never,
    {
      label: 'LayerNorm forward',
      shape: `x [${N},${d}]`,
      baseline: 'composed (stock kernels)',
      ...Object.fromEntries(([['fused', layerNorm], ['composed', composedLayerNorm]] as [string, Ln][]).map(([k, f]) => [k, () => [f(x, gain, b.slice(0, d) as tf.Tensor1D, 1e-5)]])),
    } as never,
    {
      label: 'LayerNorm forward+backward',
      shape: `x [${N},${d}]`,
      baseline: 'composed (stock kernels)',
      ...Object.fromEntries(
        ([['fused', layerNorm], ['composed', composedLayerNorm]] as [string, Ln][]).map(([k, f]) => [
          k,
          () => vjp((a: tf.Tensor, g: tf.Tensor, bb: tf.Tensor) => f(a as tf.Tensor2D, g as tf.Tensor1D, bb as tf.Tensor1D, 1e-5), [x, gain, gain], dyNorm),
        ]),
      ),
    } as never,
    {
      label: 'quick-GELU forward+backward',
      shape: `x [${N},${M}]`,
      baseline: 'composed (stock kernels)',
      ...Object.fromEntries(
        ([['fused', quickGelu], ['composed', composedQuickGelu]] as [string, Act][]).map(([k, f]) => [k, () => vjp((a: tf.Tensor) => f(a as tf.Tensor2D), [h], dyOut)]),
      ),
    } as never,
    {
      label: 'column sum (bias gradient)',
      shape: `x [${N},${M}]`,
      baseline: 'composed (stock kernels)',
      fused: () => [columnSum(h)],
      composed: () => [tf.sum(h, 0)],
    },
  ];
  return { cases, dispose: () => tf.dispose([x, w, b, gain, h, dyOut, dyNorm]) };
}

/** The dense-layer ops on WebGPU: the WGSL kernels vs the composed ops, same shapes as on wasm. */
async function benchWebGpuDense(opts: Options, N: number, rows: KernelRow[], parity: Record<string, number>, kernelMs: Record<string, number>): Promise<void> {
  const work = denseWorkload(N);
  for (const c of work.cases) {
    const res = await compareAsync(
      [
        { name: c.baseline.replace('SIMD matMul', 'stock matMul').replace('stock kernels', 'stock webgpu kernels'), run: c.composed },
        { name: 'fused WGSL kernel', run: c.fused },
      ],
      opts,
    );
    rows.push(row(`webgpu: ${c.label}`, c.shape, res[0], res[1]));
    kernelMs[`${c.label}: composed`] = res[0].kernelMs;
    kernelMs[`${c.label}: fused`] = res[1].kernelMs;
    const [got, ref] = await Promise.all([readAll(c.fused()), readAll(c.composed())]);
    got.forEach((g, i) => (parity[`webgpu ${c.label} [${i}]`] = maxRelError(g, ref[i])));
  }
  work.dispose();
}

/** Attention on WebGPU: the WGSL kernels vs the composed ops, same shapes as on wasm. */
async function benchWebGpuAttention(
  opts: Options,
  dims: { B: number; H: number; T: number; D: number },
  rows: KernelRow[],
  parity: Record<string, number>,
  kernelMs: Record<string, number>,
): Promise<void> {
  const work = attentionWorkload(dims);
  const { fwd, fwdBwd, shape } = work;
  for (const [label, make] of [['attention forward', fwd], ['attention forward+backward', fwdBwd]] as const) {
    const res = await compareAsync(
      [
        { name: 'composed (stock webgpu kernels)', run: make(composedAttention) },
        { name: 'fused WGSL kernels', run: make(fusedAttention) },
      ],
      opts,
    );
    rows.push(row(`webgpu: ${label}`, shape, res[0], res[1]));
    kernelMs[`${label}: composed`] = res[0].kernelMs;
    kernelMs[`${label}: fused`] = res[1].kernelMs;
  }
  const [f, c] = await Promise.all([readAll(fwdBwd(fusedAttention)()), readAll(fwdBwd(composedAttention)())]);
  const [of, oc] = await Promise.all([readAll(fwd(fusedAttention)()), readAll(fwd(composedAttention)())]);
  parity['webgpu attention out'] = maxRelError(of[0], oc[0]);
  ['dq', 'dk', 'dv'].forEach((n, i) => (parity[`webgpu attention ${n}`] = maxRelError(f[i], c[i])));
  work.dispose();
}

/**
 * Token log-probabilities, then attention and the dense layers, on WebGPU: the WGSL kernels vs
 * the composed ops, same shapes as on wasm.
 */
async function benchWebGpuTokenLogProbs(
  opts: Options,
  N: number,
  V: number,
  rows: KernelRow[],
  parity: Record<string, number>,
  attention: { B: number; H: number; T: number; D: number },
): Promise<{ adapter: string; kernelMs: Record<string, number> }> {
  const info = await initBackend({ prefer: 'webgpu', strict: true, allowSoftwareGpu: true });
  const adapter = info.adapter
    ? `${[info.adapter.vendor, info.adapter.architecture, info.adapter.description].filter(Boolean).join(' / ')} (${info.adapter.software ? 'software' : 'hardware'})`
    : 'unknown adapter';
  const kernelMs: Record<string, number> = {};
  const work = tokenLogProbWorkload(N, V);
  const { fwd, fwdBwd, shape } = work;
  for (const [label, make] of [['token logp+entropy forward', fwd], ['token logp+entropy forward+backward', fwdBwd]] as const) {
    const res = await compareAsync(
      [
        { name: 'composed (stock webgpu kernels)', run: make(composedTokenLogProbs) },
        { name: 'fused WGSL kernel', run: make(fusedTokenLogProbs) },
      ],
      opts,
    );
    rows.push(row(`webgpu: ${label}`, shape, res[0], res[1]));
    kernelMs[`${label}: composed`] = res[0].kernelMs;
    kernelMs[`${label}: fused`] = res[1].kernelMs;
  }
  const [f, c, gf, gc] = await Promise.all([
    readAll(fwd(fusedTokenLogProbs)()),
    readAll(fwd(composedTokenLogProbs)()),
    readAll(fwdBwd(fusedTokenLogProbs)()),
    readAll(fwdBwd(composedTokenLogProbs)()),
  ]);
  parity['webgpu token logp'] = maxRelError(f[0], c[0]);
  parity['webgpu token entropy'] = maxRelError(f[1], c[1]);
  parity['webgpu token dlogits'] = maxRelError(gf[0], gc[0]);
  work.dispose();
  await benchWebGpuAttention(opts, attention, rows, parity, kernelMs);
  await benchWebGpuDense(opts, attention.B * attention.T, rows, parity, kernelMs);
  return { adapter, kernelMs };
}

const stockRouting = () => {
  matMulRouting.enabled = false;
};


function row(group: string, shape: string, base: VariantResult, cand: VariantResult, flops?: number): KernelRow {
  const mb = (b: number) => b / 2 ** 20;
  return {
    group,
    shape,
    baseline: base.name,
    candidate: cand.name,
    baselineMs: base.medianMs,
    candidateMs: cand.medianMs,
    speedup: base.medianMs / cand.medianMs,
    baselinePeakMB: mb(base.peakBytes),
    candidatePeakMB: mb(cand.peakBytes),
    memoryRatio: cand.peakBytes > 0 ? base.peakBytes / cand.peakBytes : NaN,
    gflops: flops === undefined ? undefined : { baseline: flops / base.medianMs / 1e6, candidate: flops / cand.medianMs / 1e6 },
  };
}

function maxRelError(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 1e-3;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  registerWasmKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  const backend = tf.backend() as BackendWasm;
  const simd = simdFor(backend);
  const rows: KernelRow[] = [];
  const parity: Record<string, number> = {};
  const B = opts.quick ? 8 : 64;
  const H = 4;
  const T = 96;
  const D = 16;
  const N = B * T;
  const V = 32;

  // ---- attention ------------------------------------------------------------------------
  {
    const work = attentionWorkload({ B, H, T, D });
    const { q, k, v, mask, fwd, fwdBwd, shape } = work;
    for (const [label, make] of [['attention forward', fwd], ['attention forward+backward', fwdBwd]] as const) {
      const res = await compare(
        [
          { name: 'composed (stock kernels)', setup: stockRouting, run: make(composedAttention) },
          { name: 'composed (SIMD matMul)', run: make(composedAttention) },
          { name: 'fused kernel', run: make(fusedAttention) },
        ],
        opts,
      );
      rows.push(row(label, shape, res[0], res[2]));
      rows.push(row(label, shape, res[1], res[2]));
      rows.push(row(`${label}: SIMD matMul alone`, shape, res[0], res[1]));
    }
    // parity at the benchmark shape
    const fused = fwdBwd(fusedAttention)();
    const composed = fwdBwd(composedAttention)();
    const outF = fusedAttention(q, k, v, mask);
    const outC = composedAttention(q, k, v, mask);
    parity['attention out'] = maxRelError(outF.dataSync() as Float32Array, outC.dataSync() as Float32Array);
    ['dq', 'dk', 'dv'].forEach((n, i) => {
      parity[`attention ${n}`] = maxRelError(fused[i].dataSync() as Float32Array, composed[i].dataSync() as Float32Array);
    });
    tf.dispose([...fused, ...composed, outF, outC]);
    work.dispose();
  }

  // ---- token log-probabilities ----------------------------------------------------------
  {
    const work = tokenLogProbWorkload(N, V);
    const { fwd, fwdBwd, shape } = work;
    for (const [label, make] of [['token logp+entropy forward', fwd], ['token logp+entropy forward+backward', fwdBwd]] as const) {
      const res = await compare(
        [
          { name: 'composed (stock kernels)', run: make(composedTokenLogProbs) },
          { name: 'fused kernel', run: make(fusedTokenLogProbs) },
        ],
        opts,
      );
      rows.push(row(label, shape, res[0], res[1]));
    }
    const f = fwd(fusedTokenLogProbs)();
    const c = fwd(composedTokenLogProbs)();
    const gf = fwdBwd(fusedTokenLogProbs)();
    const gc = fwdBwd(composedTokenLogProbs)();
    parity['token logp'] = maxRelError(f[0].dataSync() as Float32Array, c[0].dataSync() as Float32Array);
    parity['token entropy'] = maxRelError(f[1].dataSync() as Float32Array, c[1].dataSync() as Float32Array);
    parity['token dlogits'] = maxRelError(gf[0].dataSync() as Float32Array, gc[0].dataSync() as Float32Array);
    tf.dispose([...f, ...c, ...gf, ...gc]);
    work.dispose();
  }

  // ---- dense-layer kernels (the policy's linear layers, LayerNorms, MLP activation) ------
  // LayerNorm, quick-GELU and the column sum replace stock composed ops (the >= 2x target);
  // linear+bias is compared with the same math on the SIMD matMul plus stock Add/Sum, so its
  // ratio is what the fusion itself (bias in the GEMM, column-sum bias gradient) adds.
  {
    const work = denseWorkload(N);
    for (const c of work.cases) {
      const res = await compare(
        [
          { name: c.baseline, run: c.composed },
          { name: 'fused kernel', run: c.fused },
        ],
        opts,
      );
      rows.push(row(c.label, c.shape, res[0], res[1]));
      const got = c.fused();
      const ref = c.composed();
      got.forEach((t, i) => {
        parity[`${c.label} [${i}]`] = maxRelError(t.dataSync() as Float32Array, ref[i].dataSync() as Float32Array);
      });
      tf.dispose([...got, ...ref]);
    }
    work.dispose();
  }

  // ---- matMul -----------------------------------------------------------------------------
  // Two ceilings, run as extra variants interleaved with each case (same load conditions):
  // the peak probe (12 independent f32x4 mul-then-add chains, no memory traffic) and the
  // GEMM on one L1-resident 4x8 tile (A 4x256, B 256x8).
  const heap = backend.wasm as unknown as { _malloc(n: number): number; _free(p: number): void; HEAPF32: Float32Array };
  const tileBytes = (4 * 256 + 256 * 8 + 4 * 8) * 4;
  const tileBase = heap._malloc(tileBytes);
  new Float32Array(heap.HEAPF32.buffer, tileBase, tileBytes / 4).fill(0.5);
  const peakRuns: number[] = [];
  const tileRuns: number[] = [];
  const probeFlops = 2e7;
  const probeVariants = (): Variant[] => [
    {
      name: 'peak probe',
      run: () => {
        const t0 = performance.now();
        simd.peakProbe(Math.round(probeFlops / 96), 1);
        peakRuns.push(probeFlops / (performance.now() - t0) / 1e6);
        return [];
      },
    },
    {
      name: 'L1 tile',
      run: () => {
        const calls = Math.round(probeFlops / (2 * 4 * 8 * 256));
        const t0 = performance.now();
        for (let i = 0; i < calls; i++) {
          simd.gemm(tileBase, 256, 0, tileBase + 4 * 256 * 4, 8, tileBase + (4 * 256 + 256 * 8) * 4, 8, 4, 8, 256, 0);
        }
        tileRuns.push((calls * 2 * 4 * 8 * 256) / (performance.now() - t0) / 1e6);
        return [];
      },
    },
  ];
  const matMulCases: { label: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { label: 'linear forward X·W', a: [N, 64], b: [64, 256], ta: false, tb: false },
    { label: 'linear backward dX = dY·Wᵀ', a: [N, 256], b: [64, 256], ta: false, tb: true },
    { label: 'linear backward dW = Xᵀ·dY', a: [N, 64], b: [N, 256], ta: true, tb: false },
    { label: 'attention scores Q·Kᵀ', a: [B * H, T, D], b: [B * H, T, D], ta: false, tb: true },
    { label: 'attention P·V', a: [B * H, T, T], b: [B * H, T, D], ta: false, tb: false },
    { label: 'attention backward dV = Pᵀ·dO', a: [B * H, T, T], b: [B * H, T, D], ta: true, tb: false },
  ];
  for (const c of matMulCases) {
    const a = normal(9, c.a);
    const b = normal(10, c.b);
    const m = c.ta ? c.a[c.a.length - 1] : c.a[c.a.length - 2];
    const kk = c.ta ? c.a[c.a.length - 2] : c.a[c.a.length - 1];
    const n = c.tb ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
    const batch = c.a.length === 3 ? c.a[0] : 1;
    const flops = 2 * batch * m * n * kk;
    const run = () => [tf.matMul(a, b, c.ta, c.tb)];
    const plain = !c.ta && !c.tb && batch === 1;
    const res = await compare(
      [
        { name: plain ? 'stock (XNNPACK)' : 'stock (scalar loop)', setup: stockRouting, run },
        { name: 'SIMD GEMM', setup: () => (matMulRouting.plain2d = 'simd'), run },
        ...probeVariants(),
      ],
      opts,
    );
    const casePeak = median(peakRuns.slice(-opts.reps));
    const shape = `[${c.a}]${c.ta ? 'ᵀ' : ''} x [${c.b}]${c.tb ? 'ᵀ' : ''}`;
    rows.push({ ...row(`matMul: ${c.label}`, shape, res[0], res[1], flops), peakGflopsSameRun: casePeak });
    matMulRouting.plain2d = 'simd';
    const x = run()[0];
    matMulRouting.enabled = false;
    const y = run()[0];
    resetRouting();
    parity[`matMul ${c.label}`] = maxRelError(x.dataSync() as Float32Array, y.dataSync() as Float32Array);
    tf.dispose([a, b, x, y]);
  }
  heap._free(tileBase);

  // ---- the WGSL kernels on WebGPU (last: it switches the backend) ------------------------
  const webgpu = opts.webgpu ? await benchWebGpuTokenLogProbs(opts, N, V, rows, parity, { B, H, T, D }) : undefined;

  // ---- SIMD ceiling (also measured inside each matMul case, interleaved) ----------------
  const peakGflops = median(peakRuns);
  const tileGflops = median(tileRuns);

  const scratch = {
    attentionForwardBytes: simd.attentionForwardScratch(T, T, D),
    attentionBackwardBytes: simd.attentionBackwardScratch(T, T, D),
  };
  const result = {
    when: new Date().toISOString(),
    node: process.version,
    backend: 'wasm',
    webgpuAdapter: webgpu?.adapter,
    webgpuKernelMs: webgpu?.kernelMs,
    options: opts,
    wasmSimdPeakGflops: peakGflops,
    gemmTileL1Gflops: tileGflops,
    scratch,
    parityMaxRelError: parity,
    matMulCounts: { ...matMulCounts },
    rows,
  };
  mkdirSync(opts.out, { recursive: true });
  writeJsonAtomic(join(opts.out, 'kernels.json'), result);
  const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  const lines = [
    `# Kernel benchmark (wasm, ${process.version})`,
    '',
    `Median of ${opts.reps} interleaved repeats after ${opts.warmup} warm-ups; ratios measured in the same run.`,
    `Peak memory: tfjs tensor bytes above those live before the call.`,
    `wasm SIMD peak estimate (12 independent f32x4 mul-then-add chains, no memory traffic; wasm SIMD has`,
    `no FMA), median over the matMul cases: **${peakGflops.toFixed(1)} GFLOP/s**; the GEMM on one L1-resident`,
    `4x8 tile (K=256): ${tileGflops.toFixed(1)} GFLOP/s. The % column uses the probe measured interleaved with that case.`,
    `One thread: tfjs-wasm runs single-threaded in Node.`,
    ...(webgpu
      ? [
          `Rows marked webgpu ran on tfjs-backend-webgpu, adapter ${webgpu.adapter}; each repeat is timed until its`,
          `outputs are read back. GPU kernel time (timestamp queries, median of 5): ${Object.entries(webgpu.kernelMs)
            .map(([k, v]) => `${k} ${v.toFixed(2)} ms`)
            .join('; ')}.`,
        ]
      : []),
    '',
    '| op | shape | baseline | candidate | baseline ms | candidate ms | speedup | baseline peak MB | candidate peak MB | memory ratio | GFLOP/s (base → cand, % of peak) |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.group} | ${r.shape} | ${r.baseline} | ${r.candidate} | ${f2(r.baselineMs)} | ${f2(r.candidateMs)} | **${f2(r.speedup)}x** | ${f2(r.baselinePeakMB)} | ${f2(r.candidatePeakMB)} | ${f2(r.memoryRatio)}x | ${
          r.gflops && r.peakGflopsSameRun
            ? `${r.gflops.baseline.toFixed(1)} → ${r.gflops.candidate.toFixed(1)} (${((100 * r.gflops.candidate) / r.peakGflopsSameRun).toFixed(0)}% of ${r.peakGflopsSameRun.toFixed(1)})`
            : ''
        } |`,
    ),
    '',
    `Kernel scratch outside tfjs tensors: attention forward ${scratch.attentionForwardBytes} B, backward ${scratch.attentionBackwardBytes} B (per call, reused across heads).`,
    '',
    '| parity (fused vs composed, max abs diff / max(max abs ref, 1e-3)) | value |',
    '| --- | ---: |',
    ...Object.entries(parity).map(([k, v]) => `| ${k} | ${v.toExponential(2)} |`),
    '',
  ];
  writeFileAtomic(join(opts.out, 'kernels.md'), lines.join('\n'));
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
