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
 */
export const ATTENTION_KERNEL = 'AnytimeFusedAttention';
export const ATTENTION_GRAD_KERNEL = 'AnytimeFusedAttentionGrad';
export const TOKEN_LOGPROBS_KERNEL = 'AnytimeTokenLogProbs';
export const TOKEN_LOGPROBS_GRAD_KERNEL = 'AnytimeTokenLogProbsGrad';
