/**
 * Kernel names of the fused ops. Any backend can provide them with `tf.registerKernel`;
 * `fusedAttention` / `fusedTokenLogProbs` use them where both the forward and the gradient
 * kernel are registered for the active backend, and fall back to the composed ops elsewhere.
 *
 * Contracts (float32 unless noted):
 * - ATTENTION: inputs {q [B,H,Tq,D], k [B,H,Tk,D], v [B,H,Tk,D], mask [B|1,Tq,Tk]},
 *   attrs {scale}; outputs [out [B,H,Tq,D], lse [B,H,Tq]] where
 *   S = q·kᵀ·scale + mask, lse = logsumexp_rows(S), out = softmax(S)·v.
 * - ATTENTION_GRAD: inputs {q, k, v, mask, out, lse, dy [B,H,Tq,D]}, attrs {scale};
 *   outputs [dq, dk, dv].
 * - TOKEN_LOGPROBS: inputs {logits [N,V], targets int32 [N]}; outputs [logp [N], entropy [N]].
 * - TOKEN_LOGPROBS_GRAD: inputs {logits, targets, entropy, dlogp [N], dentropy [N]};
 *   output dlogits [N,V].
 * - LINEAR_BIAS: inputs {x [N,K], w [K,M], bias [M], optional residual [N,M]}; output
 *   y [N,M] = x·w + bias (+ residual).
 * - COLUMN_SUM: inputs {x [N,C]}; output [C], the sum over rows (bias gradients).
 * - LAYER_NORM: inputs {x [N,C], gain [C], bias [C]}, attrs {eps}; outputs [y [N,C], mean [N],
 *   rstd [N]] with y = (x − mean)·rstd·gain + bias, rstd = 1/√(mean((x − mean)²) + eps).
 * - LAYER_NORM_GRAD: inputs {x, gain, mean, rstd, dy [N,C]}; outputs [dx [N,C], dgain [C], dbias [C]].
 * - EMBED_SUM: inputs {tokTable [V,C], posTable [P,C], ids int32 [N], posIds int32 [N]}; output
 *   [N,C] = tokTable[ids] + posTable[posIds] (ids outside the tables are an error).
 * - EMBED_GRAD (optional; EMBED_SUM's gradient uses it where registered, else UnsortedSegmentSum):
 *   inputs {dy [N,C], ids int32 [N]}, attrs {rows}; output [rows,C] with row v = Σ_{n: ids[n] = v}
 *   dy[n], summed in n order (deterministic: tfjs-webgpu's UnsortedSegmentSum adds with atomics).
 * - KV_WRITE: inputs {kCache [B,H,C,D], vCache [B,H,C,D], k [B,H,T,D], v [B,H,T,D]}, attrs
 *   {offset}; writes k and v into columns [offset, offset + T) of the caches IN PLACE and returns
 *   [kCache, vCache] as tensors sharing the caches' buffers. No gradient (decoding only).
 * - KV_FORK: inputs {cache [B,H,C,D], rows int32 [R]}, attrs {columns, capacity}; output
 *   [R,H,capacity,D] with out[r,:,j] = cache[rows[r],:,j] for j < columns, 0 after. No gradient.
 * - QUICK_GELU: inputs {x}; outputs [x·σ(1.702x), σ(1.702x)], both x's shape (σ for the backward).
 * - QUICK_GELU_GRAD: inputs {x, sig, dy}; output dy·(sig + 1.702·x·sig·(1 − sig)).
 */
export const ATTENTION_KERNEL = 'AnytimeFusedAttention';
export const ATTENTION_GRAD_KERNEL = 'AnytimeFusedAttentionGrad';
export const TOKEN_LOGPROBS_KERNEL = 'AnytimeTokenLogProbs';
export const TOKEN_LOGPROBS_GRAD_KERNEL = 'AnytimeTokenLogProbsGrad';
export const LINEAR_BIAS_KERNEL = 'AnytimeLinearBias';
export const COLUMN_SUM_KERNEL = 'AnytimeColumnSum';
export const LAYER_NORM_KERNEL = 'AnytimeLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'AnytimeLayerNormGrad';
export const QUICK_GELU_KERNEL = 'AnytimeQuickGelu';
export const QUICK_GELU_GRAD_KERNEL = 'AnytimeQuickGeluGrad';
export const EMBED_SUM_KERNEL = 'AnytimeEmbedSum';
export const EMBED_GRAD_KERNEL = 'AnytimeEmbedGrad';
export const KV_WRITE_KERNEL = 'AnytimeKVWrite';
export const KV_FORK_KERNEL = 'AnytimeKVFork';
