/**
 * Fused attention and token log-probabilities. On a backend where the fused kernels are
 * registered (wasm after `registerWasmKernels()`, or any backend that registers the names in
 * names.ts) they run as single kernels with their own gradient kernels; elsewhere they are
 * exactly the composed reference ops.
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../src/core/errors.js';
import { composedAttention, composedTokenLogProbs, type TokenLogProbs } from './composed.js';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, TOKEN_LOGPROBS_GRAD_KERNEL, TOKEN_LOGPROBS_KERNEL } from './names.js';

function hasKernels(...names: string[]): boolean {
  const backend = tf.getBackend();
  return names.every((name) => tf.getKernel(name, backend) !== undefined);
}

function checkAttentionShapes(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor): void {
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.rank !== 4) fail(name, `must be rank 4 [B,H,T,D], got shape [${t.shape}]`);
    if (t.dtype !== 'float32') fail(name, `dtype must be 'float32', got '${t.dtype}'`);
  }
  const [B, H, Tq, D] = q.shape;
  const [kb, kh, Tk, kd] = k.shape;
  if (kb !== B || kh !== H || kd !== D) fail('k', `shape [${k.shape}] must be [${B},${H},Tk,${D}] to match q [${q.shape}]`);
  if (v.shape.join() !== k.shape.join()) fail('v', `shape [${v.shape}] must equal k's shape [${k.shape}]`);
  if (mask.dtype !== 'float32') fail('mask', `dtype must be 'float32' (additive 0 / -1e9), got '${mask.dtype}'`);
  if (mask.rank !== 3 || (mask.shape[0] !== B && mask.shape[0] !== 1) || mask.shape[1] !== Tq || mask.shape[2] !== Tk) {
    fail('mask', `shape [${mask.shape}] must be [${B},${Tq},${Tk}] or [1,${Tq},${Tk}]`);
  }
}

/**
 * softmax(q·kᵀ/√D + mask)·v for q [B,H,Tq,D], k,v [B,H,Tk,D], additive mask [B,Tq,Tk]
 * (or [1,Tq,Tk]); returns [B,H,Tq,D]. Differentiable in q, k and v; the mask is treated as a
 * constant (no gradient flows to it). The fused kernel keeps only the per-row log-sum-exp
 * between passes and recomputes the probabilities in the backward pass, so no [B,H,Tq,Tk]
 * tensor is ever allocated.
 */
export function fusedAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor3D): tf.Tensor4D {
  checkAttentionShapes(q, k, v, mask);
  if (!hasKernels(ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL)) return composedAttention(q, k, v, mask);
  const scale = 1 / Math.sqrt(q.shape[3]);
  if (!tf.engine().isTapeOn()) {
    // No gradient being recorded (sampling): skip customGrad's wrapping and saved clones, which
    // cost about as much as the kernel itself for a one-token decoding step.
    const [out, lse] = tf.engine().runKernel(ATTENTION_KERNEL, { q, k, v, mask }, { scale }) as tf.Tensor[];
    lse.dispose();
    return out as tf.Tensor4D;
  }
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qi, ki, vi] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [out, lse] = tf.engine().runKernel(ATTENTION_KERNEL, { q: qi, k: ki, v: vi, mask }, { scale }) as tf.Tensor[];
    // The mask is saved too: a caller's tidy may dispose it before the backward pass runs.
    save([qi, ki, vi, mask, out, lse]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, smask, sout, slse] = saved;
        return tf.engine().runKernel(
          ATTENTION_GRAD_KERNEL,
          { q: sq, k: sk, v: sv, mask: smask, out: sout, lse: slse, dy },
          { scale },
        ) as tf.Tensor[];
      },
    };
  });
  return run(q, k, v) as tf.Tensor4D;
}

/**
 * Log-probability of targets [N] (int32) under softmax(logits [N,V]) and each row's entropy,
 * differentiable in the logits. The fused kernel reads each logit row once and writes only
 * [N] outputs (no [N,V] log-probabilities or one-hots); its gradient kernel writes the
 * [N,V] gradient directly.
 */
export function fusedTokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): TokenLogProbs {
  if (logits.rank !== 2 || logits.dtype !== 'float32') {
    fail('logits', `must be float32 [N,V], got ${logits.dtype} [${logits.shape}]`);
  }
  if (targets.rank !== 1 || targets.dtype !== 'int32' || targets.shape[0] !== logits.shape[0]) {
    fail('targets', `must be int32 [${logits.shape[0]}] (one id per logits row), got ${targets.dtype} [${targets.shape}]`);
  }
  if (!hasKernels(TOKEN_LOGPROBS_KERNEL, TOKEN_LOGPROBS_GRAD_KERNEL)) return composedTokenLogProbs(logits, targets);
  const [logp, entropy] = tf.engine().runKernel(TOKEN_LOGPROBS_KERNEL, { logits, targets }, {}) as tf.Tensor1D[];
  return { logp, entropy };
}

/** Gradient of the token kernel (backend-independent: it runs the grad kernel). */
export const tokenLogProbsGradConfig: tf.GradConfig = {
  kernelName: TOKEN_LOGPROBS_KERNEL,
  inputsToSave: ['logits', 'targets'],
  outputsToSave: [false, true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [dlogp, dentropy] = dys as tf.Tensor[];
    const [logits, targets, entropy] = saved;
    return {
      logits: () =>
        tf.engine().runKernel(TOKEN_LOGPROBS_GRAD_KERNEL, { logits, targets, entropy, dlogp, dentropy }, {}) as tf.Tensor,
      targets: () => tf.zerosLike(targets),
    };
  },
};
