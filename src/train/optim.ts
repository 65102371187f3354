/**
 * AdamW (Loshchilov & Hutter 2019) with global-norm gradient clipping, and an exportable state so
 * a resumed run continues exactly where it stopped. tfjs's Adam has no decoupled weight decay.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  /** Clip the global gradient norm to this (Infinity: no clipping). */
  gradClip: number;
  epsilon?: number;
}

export interface AdamWState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class AdamW {
  private readonly opts: Required<AdamWOptions>;
  private readonly variables: tf.Variable[];
  private m: tf.Variable[];
  private v: tf.Variable[];
  step = 0;

  constructor(variables: tf.Variable[], opts: AdamWOptions) {
    this.opts = { epsilon: 1e-8, ...opts };
    this.variables = variables;
    const zeroVariable = (x: tf.Variable) => {
      const zeros = tf.zerosLike(x);
      const v = tf.variable(zeros, false);
      zeros.dispose(); // the variable keeps its own reference to the data
      return v;
    };
    this.m = variables.map(zeroVariable);
    this.v = variables.map(zeroVariable);
  }

  /**
   * One update from gradients aligned with the variables. Returns the global gradient norm
   * before clipping. Takes ownership of nothing: the caller disposes `grads`.
   */
  async apply(grads: tf.Tensor[]): Promise<number> {
    const { lr, beta1, beta2, weightDecay, gradClip, epsilon } = this.opts;
    const normT = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
    const norm = (await normT.data())[0];
    normT.dispose();
    const scale = Number.isFinite(gradClip) && norm > gradClip ? gradClip / (norm + 1e-12) : 1;
    this.step += 1;
    const bc1 = 1 - Math.pow(beta1, this.step);
    const bc2 = 1 - Math.pow(beta2, this.step);
    tf.tidy(() => {
      this.variables.forEach((w, i) => {
        const g = scale === 1 ? grads[i] : tf.mul(grads[i], scale);
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), epsilon));
        // Decoupled decay: shrink the weights directly, not through the gradient.
        w.assign(tf.sub(tf.mul(w, 1 - lr * weightDecay), tf.mul(update, lr)));
      });
    });
    return norm;
  }

  async getState(): Promise<AdamWState> {
    return {
      step: this.step,
      m: await Promise.all(this.m.map(async (t) => (await t.data()) as Float32Array)),
      v: await Promise.all(this.v.map(async (t) => (await t.data()) as Float32Array)),
    };
  }

  setState(state: AdamWState): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) {
      throw new Error(`optimizer state has ${state.m.length} moments for ${this.m.length} variables`);
    }
    this.step = state.step;
    // assign copies the values: the temporary tensors are freed right after (they leaked on every resume).
    const load = (t: tf.Variable, values: Float32Array) => {
      const x = tf.tensor(values, t.shape, 'float32');
      t.assign(x);
      x.dispose();
    };
    this.m.forEach((t, i) => load(t, state.m[i]));
    this.v.forEach((t, i) => load(t, state.v[i]));
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
