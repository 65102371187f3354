/**
 * Fused token log-probability and entropy on WebGPU: two WGSL programs in the form
 * tfjs-backend-webgpu 4.22 uses for its own kernels (a `WebGPUProgram` whose user code the
 * backend wraps with bindings, uniforms and the `_start` entry point, run by
 * `backend.runWebGPUProgram`).
 *
 * One workgroup per row, like tfjs's own softmax: the threads stride over the row, then
 * combine their partial results with tree reductions in workgroup memory. Each row is read
 * twice (max, then the shifted sums), so nothing of size [N,V] is written by the forward
 * kernel; the gradient kernel writes the [N,V] gradient and nothing else.
 *
 * This module imports only types from tfjs-backend-webgpu: importing the package itself
 * registers the backend only if `navigator.gpu` exists at that moment, and src/backend.ts
 * must be the one to import it, after it has installed the adapter.
 */
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { fail } from '../../src/core/errors.js';
import { TOKEN_LOGPROBS_GRAD_KERNEL, TOKEN_LOGPROBS_KERNEL } from '../names.js';
import { checkIndicesIfOnCpu, part } from './util.js';

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
}

/** How a workgroup covers rows: `threadsPerRow` threads on each of `rowsPerGroup` rows. */
export interface RowLayout {
  threadsPerRow: number;
  rowsPerGroup: number;
}

/**
 * Threads per row and rows per workgroup (both powers of two: the tree reductions halve).
 * On a hardware GPU: about 8 logits per thread, at most 256 threads on a row, and
 * workgroups filled to 64 invocations with several rows when rows are short. On a software
 * adapter (llvmpipe/lavapipe, SwiftShader) invocations are SIMD lanes of CPU threads and
 * every idle lane and barrier costs, so there each invocation takes a whole row (measured on
 * lavapipe at [6144,32], forward: 1 thread per row 1.7 ms, 4 threads 3.9 ms, 64 threads 44 ms).
 */
export function rowLayout(vocab: number, software: boolean): RowLayout {
  if (tokenLogProbsLayout.force) return tokenLogProbsLayout.force;
  if (software) return { threadsPerRow: 1, rowsPerGroup: 64 };
  let threadsPerRow = 1;
  while (threadsPerRow < 256 && threadsPerRow * 8 < vocab) threadsPerRow *= 2;
  return { threadsPerRow, rowsPerGroup: Math.max(1, 64 / threadsPerRow) };
}

const isPowerOfTwo = (x: number) => Number.isInteger(x) && x >= 1 && (x & (x - 1)) === 0;

/**
 * Overrides the WebGPU token kernels' layout (tests use it to run the hardware layouts on a
 * software adapter, benchmarks to compare layouts); `undefined` restores the default.
 */
export const tokenLogProbsLayout: { force?: RowLayout } = {};

/** Sets (or with `undefined` clears) `tokenLogProbsLayout.force`, checking the layout. */
export function forceTokenLogProbsLayout(layout: RowLayout | undefined): void {
  if (layout !== undefined) {
    const { threadsPerRow: t, rowsPerGroup: r } = layout;
    if (!isPowerOfTwo(t) || !isPowerOfTwo(r) || t * r > 256) {
      fail('layout', `threadsPerRow and rowsPerGroup must be powers of two with a product <= 256, got ${t} and ${r}`);
    }
  }
  tokenLogProbsLayout.force = layout;
}

/** Whether tfjs's WebGPU backend runs on a CPU-emulated adapter. */
function isSoftwareAdapter(be: WebGPUBackend): boolean {
  const info = be.adapterInfo as unknown as { vendor?: string; architecture?: string } | undefined;
  const text = `${info?.vendor ?? ''} ${info?.architecture ?? ''}`;
  return /software|swiftshader|llvmpipe|lavapipe/i.test(text);
}

/**
 * WGSL shared by both programs. Invocation `tid` of a workgroup works on row slot
 * `tid / T` at lane `tid % T`; `rowMax` and `rowSums` reduce the slot's row `base..base+V`
 * over its T lanes. Every invocation calls them (the barriers must be in uniform control
 * flow), so rows past N are clamped rather than skipped, and only their writes are dropped.
 */
function rowReductions(layout: RowLayout): string {
  return `
    const T = ${layout.threadsPerRow};
    const R = ${layout.rowsPerGroup};
    var<workgroup> partialMax : array<f32, ${layout.threadsPerRow * layout.rowsPerGroup}>;
    var<workgroup> partialSum : array<f32, ${layout.threadsPerRow * layout.rowsPerGroup}>;
    var<workgroup> partialDot : array<f32, ${layout.threadsPerRow * layout.rowsPerGroup}>;

    fn rowMax(base : i32, V : i32, tid : i32, lane : i32) -> f32 {
      var m = -3.402823e+38f;
      for (var c = lane; c < V; c += T) {
        m = max(m, logits[base + c]);
      }
      partialMax[tid] = m;
      workgroupBarrier();
      for (var span = T / 2; span > 0; span = span / 2) {
        if (lane < span) {
          partialMax[tid] = max(partialMax[tid], partialMax[tid + span]);
        }
        workgroupBarrier();
      }
      return partialMax[tid - lane];
    }

    // Returns (s, t) with s = Σ exp(z - m) and t = Σ exp(z - m)·(z - m).
    fn rowSums(base : i32, V : i32, tid : i32, lane : i32, m : f32) -> vec2<f32> {
      var s = 0.0f;
      var t = 0.0f;
      for (var c = lane; c < V; c += T) {
        let d = logits[base + c] - m;
        let e = exp(d);
        s += e;
        t += e * d;
      }
      partialSum[tid] = s;
      partialDot[tid] = t;
      workgroupBarrier();
      for (var span = T / 2; span > 0; span = span / 2) {
        if (lane < span) {
          partialSum[tid] = partialSum[tid] + partialSum[tid + span];
          partialDot[tid] = partialDot[tid] + partialDot[tid + span];
        }
        workgroupBarrier();
      }
      return vec2<f32>(partialSum[tid - lane], partialDot[tid - lane]);
    }
  `;
}

/** The members every program here shares: one workgroup per R rows, R·T invocations. */
abstract class RowProgram implements WebGPUProgram {
  abstract variableNames: string[];
  abstract outputShape: number[];
  abstract shaderKey: string;
  abstract dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  protected layout: RowLayout;

  constructor(rows: number, layout: RowLayout) {
    this.layout = layout;
    this.dispatch = [Math.ceil(rows / layout.rowsPerGroup), 1, 1];
    this.workgroupSize = [layout.threadsPerRow * layout.rowsPerGroup, 1, 1];
  }

  abstract getUserCode(): string;

  /** WGSL prologue of main(index): N, V, tid, lane, the row (maybe past N) and its clamped base. */
  protected rowPrologue(): string {
    return `
      let N = uniforms.logitsShape.x;
      let V = uniforms.logitsShape.y;
      let tid = i32(localId.x);
      let lane = tid % T;
      let row = (index / (R * T)) * R + tid / T;
      let r = min(row, N - 1);
      let base = r * V;`;
  }
}

/**
 * Forward: output [2N], logp in [0, N) and entropy in [N, 2N) (a program has one output;
 * the kernel slices it). With m = max z, s = Σ e^(z−m), t = Σ e^(z−m)(z−m):
 * log p_target = z_target − m − log s and H = log s − t/s (both terms ≥ 0, so H ≥ 0).
 * A target outside [0, V) gives NaN.
 */
class TokenLogProbsProgram extends RowProgram {
  variableNames = ['logits', 'targets'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };

  constructor(rows: number, layout: RowLayout) {
    super(rows, layout);
    this.outputShape = [2 * rows];
    // The key must name everything baked into the code; shapes come in as uniforms.
    this.shaderKey = `anytimeTokenLogProbs_${layout.threadsPerRow}x${layout.rowsPerGroup}`;
  }

  getUserCode(): string {
    return `
    ${rowReductions(this.layout)}
    fn main(index : i32) {
      ${this.rowPrologue()}
      let m = rowMax(base, V, tid, lane);
      let st = rowSums(base, V, tid, lane, m);
      if (lane == 0 && row < N) {
        let logS = log(st.x);
        let tgt = targets[r];
        var logp = uniforms.NAN;
        if (tgt >= 0 && tgt < V) {
          logp = (logits[base + tgt] - m) - logS;
        }
        result[r] = logp;
        result[N + r] = logS - st.y / st.x;
      }
    }
    `;
  }
}

/**
 * Gradient: dlogits [N,V]. With p = softmax(z) and H the saved entropy,
 * ∂logp/∂z_v = [v = target] − p_v and ∂H/∂z_v = −p_v (log p_v + H), so
 * dz_v = dlogp·([v = target] − p_v) − dH·p_v·(log p_v + H).
 */
class TokenLogProbsGradProgram extends RowProgram {
  variableNames = ['logits', 'targets', 'entropy', 'dlogp', 'dentropy'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0, 1] };

  constructor(rows: number, vocab: number, layout: RowLayout) {
    super(rows, layout);
    this.outputShape = [rows, vocab];
    this.shaderKey = `anytimeTokenLogProbsGrad_${layout.threadsPerRow}x${layout.rowsPerGroup}`;
  }

  getUserCode(): string {
    return `
    ${rowReductions(this.layout)}
    fn main(index : i32) {
      ${this.rowPrologue()}
      let m = rowMax(base, V, tid, lane);
      // log p = (z − m) − log s, never z − (m + log s): m + log s would round to the spacing
      // of m, which for logits in the thousands is far coarser than log p needs.
      let logS = log(rowSums(base, V, tid, lane, m).x);
      if (row < N) {
        let tgt = targets[r];
        let h = entropy[r];
        let gl = dlogp[r];
        let gh = dentropy[r];
        for (var c = lane; c < V; c += T) {
          let lp = (logits[base + c] - m) - logS;
          let p = exp(lp);
          var g = -gl * p - gh * p * (lp + h);
          if (c == tgt) {
            g += gl;
          }
          result[base + c] = g;
        }
      }
    }
    `;
  }
}

function tokenLogProbs({ inputs, backend }: KernelArgs): TensorInfo[] {
  const be = backend as WebGPUBackend;
  const { logits, targets } = inputs as Record<'logits' | 'targets', TensorInfo>;
  const [N, V] = logits.shape;
  // A target outside [0, V) would score no logit: checked while on the CPU, NaN on the GPU.
  checkIndicesIfOnCpu(be, 'targets', targets, V, 'a token id');
  const both = be.runWebGPUProgram(
    new TokenLogProbsProgram(N, rowLayout(V, isSoftwareAdapter(be))),
    [logits, targets],
    'float32',
  );
  const logp = part(be, both, 0, [N]);
  const entropy = part(be, both, N, [N]);
  be.disposeData(both.dataId);
  return [logp, entropy];
}

function tokenLogProbsGrad({ inputs, backend }: KernelArgs): TensorInfo {
  const be = backend as WebGPUBackend;
  const { logits, targets, entropy, dlogp, dentropy } = inputs as Record<
    'logits' | 'targets' | 'entropy' | 'dlogp' | 'dentropy',
    TensorInfo
  >;
  const [N, V] = logits.shape;
  const program = new TokenLogProbsGradProgram(N, V, rowLayout(V, isSoftwareAdapter(be)));
  return be.runWebGPUProgram(program, [logits, targets, entropy, dlogp, dentropy], 'float32');
}

export const webgpuTokenLogProbsConfig: KernelConfig = {
  kernelName: TOKEN_LOGPROBS_KERNEL,
  backendName: 'webgpu',
  kernelFunc: tokenLogProbs as unknown as KernelFunc,
};

export const webgpuTokenLogProbsGradConfig: KernelConfig = {
  kernelName: TOKEN_LOGPROBS_GRAD_KERNEL,
  backendName: 'webgpu',
  kernelFunc: tokenLogProbsGrad as unknown as KernelFunc,
};
