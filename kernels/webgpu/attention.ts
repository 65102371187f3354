/**
 * Fused multi-head attention on WebGPU (WGSL programs in tfjs-backend-webgpu's form, like
 * token-logprobs.ts): one invocation per query row in the forward pass and for dq, one per
 * key row for dk and dv. No [B,H,Tq,Tk] tensor is ever written.
 *
 * S = q·kᵀ·scale + mask is formed exactly as the composed ops form it (dot product, times
 * scale, plus the mask), so a fully masked row (all scores −1e9 after rounding) gets the
 * same uniform softmax as the reference. The forward pass uses an online softmax (running
 * max m and sum l, rescaling the accumulated output when m grows) and returns lse = m + log l.
 * The backward pass recomputes per query row m, log l and Δ = dO·O in a small program and forms
 * P = exp((s − m) − log l): for a fully masked row m ≈ −1e9, where m + log l would round to
 * the spacing of m (64) and lose log l entirely.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL } from '../names.js';
import { ItemProgram, part, reshapeTo } from './util.js';

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: unknown;
  attrs?: NamedAttrMap;
}

/**
 * WGSL helpers shared by the programs: head size D is baked in (it sizes private arrays, and
 * the shader key names it); Tq, Tk, H come from the shape uniforms.
 */
/**
 * Opening of every per-query-row program (invocation g = one query row of B·H·Tq): the dims,
 * the bounds guard, the (batch·head) index `bh` and the row's offset `mrow` in the mask.
 */
const QUERY_ROW_PROLOGUE = `
      let s = dims();
      let H = s.x; let Tq = s.y; let Tk = s.z;
      let rows = s.w * H * Tq;
      if (g >= rows) { return; }
      let bh = g / Tq;
      let mrow = maskRow(bh / H, g % Tq, Tq, Tk);`;

function header(D: number): string {
  return `
    const D = ${D};
    fn dims() -> vec4<i32> {
      return vec4<i32>(uniforms.qShape.y, uniforms.qShape.z, uniforms.kShape.z, uniforms.qShape.x);
    }
    // Score of query row qi (flat row index into q) and key row kj: dot·scale + mask.
    fn score(qi : i32, kj : i32, maskAt : i32) -> f32 {
      var acc = 0.0f;
      for (var d = 0; d < D; d++) {
        acc += q[qi * D + d] * k[kj * D + d];
      }
      return acc * uniforms.scale + mask[maskAt];
    }
    // A masked score (mask <= -1e8) in a row whose max m is an unmasked score has
    // p = exp(s - m) = 0 exactly in f32, so skipping it changes nothing; in a fully masked
    // row (m <= -1e8) every score counts (the reference's softmax is uniform there).
    fn skip(maskValue : f32, m : f32) -> bool {
      return maskValue <= -1e8f && m > -1e8f;
    }
    // Flat offset of mask[b, i, 0] (the mask may be shared by the batch: [1,Tq,Tk]).
    fn maskRow(b : i32, i : i32, Tq : i32, Tk : i32) -> i32 {
      return (select(0, b, uniforms.maskShape.x > 1) * Tq + i) * Tk;
    }
  `;
}

/** Each invocation takes a whole row (a CPU-emulated adapter's best case). */
abstract class AttentionProgram extends ItemProgram {
  override uniforms = 'scale : f32,';
  protected D: number;

  constructor(name: string, outputSize: number, rows: number, D: number) {
    super(`${name}_D${D}`, [outputSize], rows);
    this.D = D;
  }
}

/** Forward: output [rows·D + rows], out rows then lse, for rows = B·H·Tq query rows. */
class AttentionForwardProgram extends AttentionProgram {
  variableNames = ['q', 'k', 'v', 'mask'];

  constructor(rows: number, D: number) {
    super('anytimeAttention', rows * (D + 1), rows, D);
  }

  getUserCode(): string {
    return `
    ${header(this.D)}
    fn main(g : i32) {${QUERY_ROW_PROLOGUE}
      var m = -3.402823e+38f;
      var l = 0.0f;
      var acc : array<f32, D>;
      for (var j = 0; j < Tk; j++) {
        if (skip(mask[mrow + j], m)) { continue; }
        let kj = bh * Tk + j;
        let sc = score(g, kj, mrow + j);
        if (sc > m) {
          let shrink = exp(m - sc);
          l *= shrink;
          for (var d = 0; d < D; d++) { acc[d] *= shrink; }
          m = sc;
        }
        let p = exp(sc - m);
        l += p;
        for (var d = 0; d < D; d++) { acc[d] += p * v[kj * D + d]; }
      }
      for (var d = 0; d < D; d++) { result[g * D + d] = acc[d] / l; }
      result[rows * D + g] = m + log(l);
    }
    `;
  }
}

/** Backward, per query row: [m, log l, Δ = dO·O] as output [3·rows]. */
class AttentionRowStatsProgram extends AttentionProgram {
  variableNames = ['q', 'k', 'mask', 'attnOut', 'dy'];

  constructor(rows: number, D: number) {
    super('anytimeAttentionRowStats', 3 * rows, rows, D);
  }

  getUserCode(): string {
    return `
    ${header(this.D)}
    fn main(g : i32) {${QUERY_ROW_PROLOGUE}
      // The forward pass's online max and sum, without the output.
      var m = -3.402823e+38f;
      var l = 0.0f;
      for (var j = 0; j < Tk; j++) {
        if (skip(mask[mrow + j], m)) { continue; }
        let sc = score(g, bh * Tk + j, mrow + j);
        if (sc > m) {
          l *= exp(m - sc);
          m = sc;
        }
        l += exp(sc - m);
      }
      var delta = 0.0f;
      for (var d = 0; d < D; d++) { delta += dy[g * D + d] * attnOut[g * D + d]; }
      result[3 * g] = m;
      result[3 * g + 1] = log(l);
      result[3 * g + 2] = delta;
    }
    `;
  }
}

/** Backward dq [B,H,Tq,D]: dq_i = scale · Σ_j P_ij (dO_i·v_j − Δ_i) k_j. */
class AttentionDqProgram extends AttentionProgram {
  variableNames = ['q', 'k', 'v', 'mask', 'dy', 'stats'];

  constructor(rows: number, D: number) {
    super('anytimeAttentionDq', rows * D, rows, D);
  }

  getUserCode(): string {
    return `
    ${header(this.D)}
    fn main(g : i32) {${QUERY_ROW_PROLOGUE}
      let m = stats[3 * g];
      let logL = stats[3 * g + 1];
      let delta = stats[3 * g + 2];
      var acc : array<f32, D>;
      for (var j = 0; j < Tk; j++) {
        if (skip(mask[mrow + j], m)) { continue; }
        let kj = bh * Tk + j;
        let p = exp((score(g, kj, mrow + j) - m) - logL);
        var dp = 0.0f;
        for (var d = 0; d < D; d++) { dp += dy[g * D + d] * v[kj * D + d]; }
        let ds = p * (dp - delta);
        for (var d = 0; d < D; d++) { acc[d] += ds * k[kj * D + d]; }
      }
      for (var d = 0; d < D; d++) { result[g * D + d] = acc[d] * uniforms.scale; }
    }
    `;
  }
}

/**
 * Backward dk and dv, one invocation per key row j: dk_j = scale · Σ_i dS_ij q_i and
 * dv_j = Σ_i P_ij dO_i; output [2·keyRows·D], dk then dv.
 */
class AttentionDkDvProgram extends AttentionProgram {
  variableNames = ['q', 'k', 'v', 'mask', 'dy', 'stats'];

  constructor(keyRows: number, D: number) {
    super('anytimeAttentionDkDv', 2 * keyRows * D, keyRows, D);
  }

  getUserCode(): string {
    return `
    ${header(this.D)}
    fn main(gk : i32) {
      let s = dims();
      let H = s.x; let Tq = s.y; let Tk = s.z;
      let keyRows = s.w * H * Tk;
      if (gk >= keyRows) { return; }
      let bh = gk / Tk;
      let j = gk % Tk;
      let b = bh / H;
      var dk : array<f32, D>;
      var dv : array<f32, D>;
      for (var i = 0; i < Tq; i++) {
        let g = bh * Tq + i;
        let maskAt = maskRow(b, i, Tq, Tk) + j;
        let m = stats[3 * g];
        if (skip(mask[maskAt], m)) { continue; }
        let p = exp((score(g, gk, maskAt) - m) - stats[3 * g + 1]);
        var dp = 0.0f;
        for (var d = 0; d < D; d++) { dp += dy[g * D + d] * v[gk * D + d]; }
        let ds = p * (dp - stats[3 * g + 2]);
        for (var d = 0; d < D; d++) {
          dk[d] += ds * q[g * D + d];
          dv[d] += p * dy[g * D + d];
        }
      }
      for (var d = 0; d < D; d++) {
        result[gk * D + d] = dk[d] * uniforms.scale;
        result[(keyRows + gk) * D + d] = dv[d];
      }
    }
    `;
  }
}

function scaleUniform(attrs: NamedAttrMap | undefined): { type: string; data: number[] }[] {
  return [{ type: 'float32', data: [(attrs as { scale: number }).scale] }];
}

function attentionForward({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const be = backend as WebGPUBackend;
  const { q, k, v, mask } = inputs as Record<'q' | 'k' | 'v' | 'mask', TensorInfo>;
  const [B, H, Tq, D] = q.shape;
  const rows = B * H * Tq;
  const flat = be.runWebGPUProgram(new AttentionForwardProgram(rows, D), [q, k, v, mask], 'float32', scaleUniform(attrs));
  const out = part(be, flat, 0, [B, H, Tq, D]);
  const lse = part(be, flat, rows * D, [B, H, Tq]);
  be.disposeData(flat.dataId);
  return [out, lse];
}

function attentionBackward({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const be = backend as WebGPUBackend;
  const { q, k, v, mask, out, dy } = inputs as Record<'q' | 'k' | 'v' | 'mask' | 'out' | 'dy', TensorInfo>;
  const [B, H, Tq, D] = q.shape;
  const Tk = k.shape[2];
  const rows = B * H * Tq;
  const keyRows = B * H * Tk;
  const uniform = scaleUniform(attrs);
  const stats = be.runWebGPUProgram(new AttentionRowStatsProgram(rows, D), [q, k, mask, out, dy], 'float32', uniform);
  const dqFlat = be.runWebGPUProgram(new AttentionDqProgram(rows, D), [q, k, v, mask, dy, stats], 'float32', uniform);
  const dkdv = be.runWebGPUProgram(new AttentionDkDvProgram(keyRows, D), [q, k, v, mask, dy, stats], 'float32', uniform);
  const dq = reshapeTo(be, dqFlat, [B, H, Tq, D]);
  const dk = part(be, dkdv, 0, [B, H, Tk, D]);
  const dv = part(be, dkdv, keyRows * D, [B, H, Tk, D]);
  for (const t of [stats, dqFlat, dkdv]) be.disposeData(t.dataId);
  return [dq, dk, dv];
}

export const webgpuAttentionConfig: KernelConfig = {
  kernelName: ATTENTION_KERNEL,
  backendName: 'webgpu',
  kernelFunc: attentionForward as unknown as KernelFunc,
};

export const webgpuAttentionGradConfig: KernelConfig = {
  kernelName: ATTENTION_GRAD_KERNEL,
  backendName: 'webgpu',
  kernelFunc: attentionBackward as unknown as KernelFunc,
};
