/**
 * Dense-layer kernels on WebGPU (WGSL programs run through tfjs-backend-webgpu, like
 * attention.ts): x·w + bias (+ residual) in one program, column sums (bias gradients), LayerNorm
 * forward and backward, quick-GELU forward and backward, the token + position embedding lookup
 * and its table gradient. Contracts in ../names.ts; the same kernels exist on wasm
 * (../wasm/dense.ts), so the model's `linearBias`, `layerNorm`, `quickGelu` and `embedSum` run
 * fused on both.
 *
 * Layouts favour plain loops over workgroup memory: on a software adapter (lavapipe,
 * SwiftShader) invocations are SIMD lanes of CPU threads, where barriers and idle lanes cost
 * (measured for the token kernels, token-logprobs.ts); on a GPU they still give one invocation
 * per 4×4 output block (linear), per element (elementwise, embedding) or per row (LayerNorm).
 * Sums over rows (column sums, dgain, dbias) go in fixed chunks of 64 rows then over the chunks
 * in order, so every result is deterministic: no atomics (tfjs's own UnsortedSegmentSum adds
 * floats with atomics, in whatever order the GPU runs them, hence EMBED_GRAD here).
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import {
  COLUMN_SUM_KERNEL,
  EMBED_GRAD_KERNEL,
  EMBED_SUM_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  LINEAR_BIAS_KERNEL,
  QUICK_GELU_GRAD_KERNEL,
  QUICK_GELU_KERNEL,
} from '../names.js';
import { ItemProgram, checkIndicesIfOnCpu, part } from './util.js';

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}

/** Rows per chunk of the column sums (as the wasm kernels chunk them). */
const CHUNK = 64;

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * y [N,M] = x [N,K] · w [K,M] + bias (+ residual): one invocation per 4×4 block of y, its 16
 * sums in registers (rows and columns past the edge read the last one and are not written).
 */
class LinearBiasProgram extends ItemProgram {
  variableNames: string[];
  private residual: boolean;

  constructor(N: number, M: number, residual: boolean) {
    super(`anytimeLinearBias_${residual ? 'res' : 'plain'}`, [N, M], Math.ceil(N / 4) * Math.ceil(M / 4));
    this.residual = residual;
    this.variableNames = residual ? ['x', 'w', 'bias', 'residual'] : ['x', 'w', 'bias'];
  }

  getUserCode(): string {
    return `
    fn main(g : i32) {
      let N = uniforms.xShape.x;
      let K = uniforms.xShape.y;
      let M = uniforms.wShape.y;
      let colBlocks = (M + 3) / 4;
      if (g >= ((N + 3) / 4) * colBlocks) { return; }
      let r0 = (g / colBlocks) * 4;
      let c0 = (g % colBlocks) * 4;
      var rows : array<i32, 4>;
      var cols : array<i32, 4>;
      for (var i = 0; i < 4; i++) {
        rows[i] = min(r0 + i, N - 1) * K;
        cols[i] = min(c0 + i, M - 1);
      }
      var acc : array<vec4<f32>, 4>;
      for (var k = 0; k < K; k++) {
        let wk = k * M;
        let wv = vec4<f32>(w[wk + cols[0]], w[wk + cols[1]], w[wk + cols[2]], w[wk + cols[3]]);
        for (var i = 0; i < 4; i++) {
          acc[i] += x[rows[i] + k] * wv;
        }
      }
      for (var i = 0; i < 4; i++) {
        let r = r0 + i;
        if (r >= N) { break; }
        for (var j = 0; j < 4; j++) {
          let c = c0 + j;
          if (c >= M) { break; }
          ${this.residual ? 'result[r * M + c] = residual[r * M + c] + (acc[i][j] + bias[c]);' : 'result[r * M + c] = acc[i][j] + bias[c];'}
        }
      }
    }
    `;
  }
}

/**
 * Partial column sums over chunks of 64 rows: for x [N,C], output [chunks·C] with
 * out[k·C + c] = Σ_{r in chunk k} x[r,c]. With `lnGrad` it takes (x, mean, rstd, dy) and writes
 * the partials of Σ dy·x̂ (dgain) then those of Σ dy (dbias): output [2·chunks·C].
 */
class ColumnPartialsProgram extends ItemProgram {
  variableNames: string[];
  private lnGrad: boolean;

  constructor(N: number, C: number, lnGrad: boolean) {
    const chunks = Math.ceil(N / CHUNK);
    super(`anytimeColumnPartials_${lnGrad ? 'lnGrad' : 'sum'}`, [(lnGrad ? 2 : 1) * chunks * C], chunks * C);
    this.lnGrad = lnGrad;
    this.variableNames = lnGrad ? ['x', 'mean', 'rstd', 'dy'] : ['x'];
  }

  getUserCode(): string {
    const body = this.lnGrad
      ? `
        let d = dy[r * C + c];
        sb += d;
        sg += d * ((x[r * C + c] - mean[r]) * rstd[r]);`
      : `
        sb += x[r * C + c];`;
    return `
    fn main(g : i32) {
      let N = uniforms.xShape.x;
      let C = uniforms.xShape.y;
      let chunks = (N + ${CHUNK - 1}) / ${CHUNK};
      if (g >= chunks * C) { return; }
      let chunk = g / C;
      let c = g % C;
      let end = min(N, (chunk + 1) * ${CHUNK});
      var sb = 0.0f;
      var sg = 0.0f;
      for (var r = chunk * ${CHUNK}; r < end; r++) {${body}
      }
      ${this.lnGrad ? 'result[g] = sg;\n      result[chunks * C + g] = sb;' : 'result[g] = sb;'}
    }
    `;
  }
}

/** Sums the chunk partials in chunk order: partials [G·chunks·C] → [G·C]. */
class ChunkReduceProgram extends ItemProgram {
  variableNames = ['partials'];
  override uniforms = 'chunks : i32, columns : i32,';

  constructor(groups: number, C: number) {
    super('anytimeChunkReduce', [groups * C], groups * C);
  }

  getUserCode(): string {
    return `
    fn main(g : i32) {
      let C = uniforms.columns;
      if (g >= uniforms.outShape) { return; }
      let base = (g / C) * uniforms.chunks * C + g % C;
      var s = 0.0f;
      for (var k = 0; k < uniforms.chunks; k++) {
        s += partials[base + k * C];
      }
      result[g] = s;
    }
    `;
  }
}

/** LayerNorm row statistics of x [N,C]: output [2N], mean then rstd = 1/√(var + eps). */
class LayerNormStatsProgram extends ItemProgram {
  variableNames = ['x'];
  override uniforms = 'eps : f32,';

  constructor(N: number) {
    super('anytimeLayerNormStats', [2 * N], N);
  }

  getUserCode(): string {
    return `
    fn main(r : i32) {
      let N = uniforms.xShape.x;
      let C = uniforms.xShape.y;
      if (r >= N) { return; }
      var s = 0.0f;
      for (var c = 0; c < C; c++) { s += x[r * C + c]; }
      let mean = s / f32(C);
      var v = 0.0f;
      for (var c = 0; c < C; c++) {
        let d = x[r * C + c] - mean;
        v += d * d;
      }
      result[r] = mean;
      result[N + r] = 1.0f / sqrt(v / f32(C) + uniforms.eps);
    }
    `;
  }
}

/** y [N,C] = (x − mean)·rstd·gain + bias, one invocation per element (stats from LayerNormStatsProgram). */
class LayerNormApplyProgram extends ItemProgram {
  variableNames = ['x', 'gain', 'bias', 'stats'];

  constructor(N: number, C: number) {
    super('anytimeLayerNormApply', [N, C], N * C);
  }

  getUserCode(): string {
    return `
    fn main(i : i32) {
      let N = uniforms.xShape.x;
      let C = uniforms.xShape.y;
      if (i >= N * C) { return; }
      let r = i / C;
      let c = i % C;
      result[i] = (x[i] - stats[r]) * stats[N + r] * gain[c] + bias[c];
    }
    `;
  }
}

/**
 * LayerNorm dx [N,C], one invocation per row: with g = dy·gain and x̂ = (x − mean)·rstd,
 * dx = rstd·(g − mean(g) − x̂·mean(g·x̂)).
 */
class LayerNormDxProgram extends ItemProgram {
  variableNames = ['x', 'gain', 'mean', 'rstd', 'dy'];

  constructor(N: number, C: number) {
    super('anytimeLayerNormDx', [N, C], N);
  }

  getUserCode(): string {
    return `
    fn main(r : i32) {
      let N = uniforms.xShape.x;
      let C = uniforms.xShape.y;
      if (r >= N) { return; }
      let m = mean[r];
      let rs = rstd[r];
      var sg = 0.0f;
      var sgx = 0.0f;
      for (var c = 0; c < C; c++) {
        let gi = dy[r * C + c] * gain[c];
        sg += gi;
        sgx += gi * ((x[r * C + c] - m) * rs);
      }
      let mg = sg / f32(C);
      let mgx = sgx / f32(C);
      for (var c = 0; c < C; c++) {
        let gi = dy[r * C + c] * gain[c];
        let xh = (x[r * C + c] - m) * rs;
        result[r * C + c] = rs * (gi - mg - xh * mgx);
      }
    }
    `;
  }
}

/** One elementwise program: `body` sets `result[i]` from the inputs at index i. */
class ElementwiseProgram extends ItemProgram {
  variableNames: string[];
  /** Asks the backend for the output size as `uniforms.size`. */
  size = true;
  private body: string;

  constructor(name: string, variableNames: string[], shape: number[], body: string) {
    super(name, shape, sizeOf(shape));
    this.variableNames = variableNames;
    this.body = body;
  }

  getUserCode(): string {
    return `
    // σ(1.702x) without overflow: exp of a non-positive number only.
    fn quickSigmoid(v : f32) -> f32 {
      let z = 1.702f * v;
      if (z >= 0.0f) { return 1.0f / (1.0f + exp(-z)); }
      let e = exp(z);
      return e / (1.0f + e);
    }
    fn main(i : i32) {
      if (i >= uniforms.size) { return; }
      ${this.body}
    }
    `;
  }
}

/**
 * tokTable[ids] + posTable[posIds] → [N,C], one invocation per element; an id outside its
 * table (only possible for ids already on the GPU: the kernel checks them on the CPU) gives NaN.
 */
class EmbedSumProgram extends ItemProgram {
  variableNames = ['tokTable', 'posTable', 'ids', 'posIds'];

  constructor(N: number, C: number) {
    super('anytimeEmbedSum', [N, C], N * C);
  }

  getUserCode(): string {
    return `
    fn main(i : i32) {
      let N = uniforms.idsShape;
      let C = uniforms.tokTableShape.y;
      if (i >= N * C) { return; }
      let n = i / C;
      let c = i % C;
      let t = ids[n];
      let p = posIds[n];
      if (t < 0 || t >= uniforms.tokTableShape.x || p < 0 || p >= uniforms.posTableShape.x) {
        result[i] = uniforms.NAN;
        return;
      }
      result[i] = tokTable[t * C + c] + posTable[p * C + c];
    }
    `;
  }
}

/**
 * Table gradient of an embedding lookup: out [rows, C] with out[v,c] = Σ_{n: ids[n] = v} dy[n,c],
 * one invocation per (v, c) adding the matching rows in n order (deterministic; O(rows·N·C)).
 */
class EmbedGradProgram extends ItemProgram {
  variableNames = ['dy', 'ids'];

  constructor(rows: number, C: number) {
    super('anytimeEmbedGrad', [rows, C], rows * C);
  }

  getUserCode(): string {
    return `
    fn main(g : i32) {
      let rows = uniforms.outShape.x;
      let C = uniforms.outShape.y;
      if (g >= rows * C) { return; }
      let v = g / C;
      let c = g % C;
      var s = 0.0f;
      for (var n = 0; n < uniforms.idsShape; n++) {
        if (ids[n] == v) { s += dy[n * C + c]; }
      }
      result[g] = s;
    }
    `;
  }
}

function linearBias({ inputs, backend }: KernelArgs): TensorInfo {
  const be = backend as WebGPUBackend;
  const { x, w, bias } = inputs as Record<'x' | 'w' | 'bias', TensorInfo>;
  const residual = inputs.residual as TensorInfo | undefined;
  const program = new LinearBiasProgram(x.shape[0], w.shape[1], residual !== undefined);
  return be.runWebGPUProgram(program, residual ? [x, w, bias, residual] : [x, w, bias], 'float32');
}

/** Column sums of partials from ColumnPartialsProgram ([groups·chunks·C] → [groups·C]). */
function reduceChunks(be: WebGPUBackend, partials: TensorInfo, groups: number, N: number, C: number): TensorInfo {
  const uniforms = [{ type: 'int32', data: [Math.ceil(N / CHUNK)] }, { type: 'int32', data: [C] }];
  const out = be.runWebGPUProgram(new ChunkReduceProgram(groups, C), [partials], 'float32', uniforms);
  be.disposeData(partials.dataId);
  return out;
}

function columnSum({ inputs, backend }: KernelArgs): TensorInfo {
  const be = backend as WebGPUBackend;
  const { x } = inputs as { x: TensorInfo };
  const [N, C] = x.shape;
  const partials = be.runWebGPUProgram(new ColumnPartialsProgram(N, C, false), [x], 'float32');
  return reduceChunks(be, partials, 1, N, C);
}

function layerNorm({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const be = backend as WebGPUBackend;
  const { x, gain, bias } = inputs as Record<'x' | 'gain' | 'bias', TensorInfo>;
  const eps = (attrs as { eps: number }).eps;
  const [N, C] = x.shape;
  const stats = be.runWebGPUProgram(new LayerNormStatsProgram(N), [x], 'float32', [{ type: 'float32', data: [eps] }]);
  const y = be.runWebGPUProgram(new LayerNormApplyProgram(N, C), [x, gain, bias, stats], 'float32');
  const mean = part(be, stats, 0, [N]);
  const rstd = part(be, stats, N, [N]);
  be.disposeData(stats.dataId);
  return [y, mean, rstd];
}

function layerNormGrad({ inputs, backend }: KernelArgs): TensorInfo[] {
  const be = backend as WebGPUBackend;
  const { x, gain, mean, rstd, dy } = inputs as Record<'x' | 'gain' | 'mean' | 'rstd' | 'dy', TensorInfo>;
  const [N, C] = x.shape;
  const dx = be.runWebGPUProgram(new LayerNormDxProgram(N, C), [x, gain, mean, rstd, dy], 'float32');
  const partials = be.runWebGPUProgram(new ColumnPartialsProgram(N, C, true), [x, mean, rstd, dy], 'float32');
  const sums = reduceChunks(be, partials, 2, N, C);
  const dgain = part(be, sums, 0, [C]);
  const dbias = part(be, sums, C, [C]);
  be.disposeData(sums.dataId);
  return [dx, dgain, dbias];
}

function quickGelu({ inputs, backend }: KernelArgs): TensorInfo[] {
  const be = backend as WebGPUBackend;
  const { x } = inputs as { x: TensorInfo };
  // Two programs rather than one output cut in two: each is one pass, a cut would copy both halves.
  const y = be.runWebGPUProgram(new ElementwiseProgram('anytimeQuickGelu', ['x'], x.shape, 'result[i] = x[i] * quickSigmoid(x[i]);'), [x], 'float32');
  const sig = be.runWebGPUProgram(new ElementwiseProgram('anytimeQuickSigmoid', ['x'], x.shape, 'result[i] = quickSigmoid(x[i]);'), [x], 'float32');
  return [y, sig];
}

function quickGeluGrad({ inputs, backend }: KernelArgs): TensorInfo {
  const be = backend as WebGPUBackend;
  const { x, sig, dy } = inputs as Record<'x' | 'sig' | 'dy', TensorInfo>;
  const body = 'let s = sig[i];\n      result[i] = dy[i] * (s + 1.702f * x[i] * s * (1.0f - s));';
  return be.runWebGPUProgram(new ElementwiseProgram('anytimeQuickGeluGrad', ['x', 'sig', 'dy'], x.shape, body), [x, sig, dy], 'float32');
}

function embedSum({ inputs, backend }: KernelArgs): TensorInfo {
  const be = backend as WebGPUBackend;
  const { tokTable, posTable, ids, posIds } = inputs as Record<'tokTable' | 'posTable' | 'ids' | 'posIds', TensorInfo>;
  checkIndicesIfOnCpu(be, 'ids', ids, tokTable.shape[0], 'a row index');
  checkIndicesIfOnCpu(be, 'posIds', posIds, posTable.shape[0], 'a row index');
  const program = new EmbedSumProgram(ids.shape[0], tokTable.shape[1]);
  return be.runWebGPUProgram(program, [tokTable, posTable, ids, posIds], 'float32');
}

function embedGrad({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const be = backend as WebGPUBackend;
  const { dy, ids } = inputs as Record<'dy' | 'ids', TensorInfo>;
  const rows = (attrs as { rows: number }).rows;
  return be.runWebGPUProgram(new EmbedGradProgram(rows, dy.shape[1]), [dy, ids], 'float32');
}

const config = (kernelName: string, fn: (args: KernelArgs) => TensorInfo | TensorInfo[]): KernelConfig => ({
  kernelName,
  backendName: 'webgpu',
  kernelFunc: fn as unknown as KernelFunc,
});

/** The dense-layer kernels for the webgpu backend. */
export const webgpuDenseConfigs: KernelConfig[] = [
  config(LINEAR_BIAS_KERNEL, linearBias),
  config(COLUMN_SUM_KERNEL, columnSum),
  config(LAYER_NORM_KERNEL, layerNorm),
  config(LAYER_NORM_GRAD_KERNEL, layerNormGrad),
  config(EMBED_SUM_KERNEL, embedSum),
  config(EMBED_GRAD_KERNEL, embedGrad),
  config(QUICK_GELU_KERNEL, quickGelu),
  config(QUICK_GELU_GRAD_KERNEL, quickGeluGrad),
];
