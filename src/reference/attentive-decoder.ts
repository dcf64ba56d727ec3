/**
 * The float64 reference of a decoder with attention inside its recurrence (Bahdanau's placement, as
 * PyTorch's translation tutorial decodes): at step t the query is the top layer's h_{t−1} (the initial
 * state's at t = 0), the context over the encoder's outputs joins the embedding as the first layer's
 * input, x_t = [e_t; c_t], and every layer advances one step, bottom to top, before the next step.
 * The decoder is a unidirectional stack (nn.RNN / nn.LSTM / nn.GRU with input_size = E + H_k); its
 * output is the top layer's h_t. Backpropagation through time carries, besides the recurrences, the
 * gradient of each query back into the top layer's previous state, and the contexts' into the keys.
 */
import { type RnnConfig, outputSize } from '../config.js';
import { layerInputSize } from '../params.js';
import { type AttendCache, type AttentionGradients, type AttentionShape, type AttentionWeights, attend, attendBackward } from './attention.js';
import { type RecurrentWeights, type StepCache, cellBackward, cellForward, directionWeights } from './recurrent-train.js';
import { keeps } from './rng.js';

export interface AttentiveInput {
  readonly T: number;
  readonly B: number;
  /** The embedded targets (T, B, E). */
  readonly e: ArrayLike<number>;
  /** The encoder's outputs, the keys (S, B, H_k), and each row's source length. */
  readonly keys: ArrayLike<number>;
  readonly S: number;
  readonly lengths: ArrayLike<number>;
  /** Initial states (L, B, H_out) and (L, B, H); zeros when absent. */
  readonly h0?: ArrayLike<number>;
  readonly c0?: ArrayLike<number>;
}

export interface AttentiveCache {
  readonly input: AttentiveInput;
  /** Each layer's input per step (T, B, I_l), after dropout; layer 0's is [e_t; c_t]. */
  readonly inputs: Float64Array[];
  /** Dropout's scale of layer l's input (l > 0, training with dropout). */
  readonly dropoutScales: Array<Float64Array | undefined>;
  /** steps[l][b·T + t]. */
  readonly steps: StepCache[][];
  /** attends[b·T + t], and the query each used. */
  readonly attends: AttendCache[];
  readonly queries: Float64Array[];
  /** The top layer's outputs (T, B, H_out); the final states (L, B, H_out), (L, B, H). */
  readonly output: Float64Array;
  readonly hN: Float64Array;
  readonly cN: Float64Array;
  /** α (T, B, S), zeros past each row's length. */
  readonly alpha: Float64Array;
}

export function attentiveDecoderForward(
  config: RnnConfig,
  weights: RecurrentWeights,
  attention: { shape: AttentionShape; weights: AttentionWeights },
  input: AttentiveInput,
  dropout: { training: boolean; seed: number; streamBase: number },
): AttentiveCache {
  const { T, B, S } = input;
  const L = config.num_layers;
  const H = config.hidden_size;
  const Hout = outputSize(config);
  const E = layerInputSize(config, 0) - attention.shape.Hk;
  const Hk = attention.shape.Hk;
  const w = Array.from({ length: L }, (_, l) => directionWeights(config, weights, l, 0));
  const inputs = Array.from({ length: L }, (_, l) => new Float64Array(T * B * layerInputSize(config, l)));
  const dropoutScales = Array.from({ length: L }, (_, l) =>
    l > 0 && dropout.training && config.dropout > 0 ? new Float64Array(T * B * layerInputSize(config, l)) : undefined,
  );
  const steps: StepCache[][] = Array.from({ length: L }, () => new Array(B * T));
  const attends: AttendCache[] = new Array(B * T);
  const queries: Float64Array[] = new Array(B * T);
  const output = new Float64Array(T * B * Hout);
  const hN = new Float64Array(L * B * Hout);
  const cN = new Float64Array(L * B * H);
  const alpha = new Float64Array(T * B * S);
  for (let b = 0; b < B; b++) {
    const h: Float64Array[] = Array.from({ length: L }, (_, l) =>
      Float64Array.from({ length: Hout }, (_, k) => (input.h0 ? input.h0[(l * B + b) * Hout + k] : 0)),
    );
    const c: Float64Array[] = Array.from({ length: L }, (_, l) => Float64Array.from({ length: H }, (_, k) => (input.c0 ? input.c0[(l * B + b) * H + k] : 0)));
    const keys = { data: input.keys, stride: B * Hk, offset: b * Hk, len: input.lengths[b] };
    for (let t = 0; t < T; t++) {
      const q = Float64Array.from(h[L - 1]);
      const a = attend(attention.shape, attention.weights, q, keys);
      attends[b * T + t] = a.cache;
      queries[b * T + t] = q;
      alpha.set(a.alpha, (t * B + b) * S);
      const x0 = inputs[0].subarray((t * B + b) * (E + Hk), (t * B + b + 1) * (E + Hk));
      for (let k = 0; k < E; k++) x0[k] = input.e[(t * B + b) * E + k];
      x0.set(a.context, E);
      let x: Float64Array = x0;
      for (let l = 0; l < L; l++) {
        const I = layerInputSize(config, l);
        if (l > 0) {
          const xl = inputs[l].subarray((t * B + b) * I, (t * B + b + 1) * I);
          xl.set(h[l - 1]);
          const scale = dropoutScales[l];
          if (scale) {
            const keep = 1 / (1 - config.dropout);
            for (let k = 0; k < I; k++) {
              const i = (t * B + b) * I + k;
              scale[i] = config.dropout >= 1 ? 0 : keeps(dropout.seed, dropout.streamBase + l, i, config.dropout) ? keep : 0;
              xl[k] *= scale[i];
            }
          }
          x = xl;
        }
        const r = cellForward(config, w[l], x, h[l], c[l]);
        steps[l][b * T + t] = r.step;
        h[l] = r.h;
        c[l] = r.c;
      }
      output.set(h[L - 1], (t * B + b) * Hout);
    }
    for (let l = 0; l < L; l++) {
      hN.set(h[l], (l * B + b) * Hout);
      cN.set(c[l], (l * B + b) * H);
    }
  }
  return { input, inputs, dropoutScales, steps, attends, queries, output, hN, cN, alpha };
}

export interface AttentiveGradients {
  /** By the decoder's own names (`weight_ih_l0`, …). */
  grads: Record<string, Float64Array>;
  attention: AttentionGradients;
  /** dL/de (T, B, E), dL/dkeys (S, B, H_k), dL/dh0 (L, B, H_out), dL/dc0 (L, B, H). */
  dE: Float64Array;
  dKeys: Float64Array;
  h0: Float64Array;
  c0: Float64Array;
}

/** Backpropagates dL/d(output) (T, B, H_out) through time, the attention included. */
export function attentiveDecoderBackward(
  config: RnnConfig,
  weights: RecurrentWeights,
  attention: { shape: AttentionShape; weights: AttentionWeights },
  cache: AttentiveCache,
  dOutput: ArrayLike<number>,
  attentionGrads: AttentionGradients,
): AttentiveGradients {
  const { T, B, S } = cache.input;
  const L = config.num_layers;
  const H = config.hidden_size;
  const Hout = outputSize(config);
  const Hk = attention.shape.Hk;
  const E = layerInputSize(config, 0) - Hk;
  const grads: Record<string, Float64Array> = {};
  for (const [name, p] of Object.entries(weights)) grads[name] = new Float64Array(p.length);
  const w = Array.from({ length: L }, (_, l) => directionWeights(config, weights, l, 0));
  const g = Array.from({ length: L }, (_, l) => directionWeights(config, grads, l, 0));
  const dE = new Float64Array(T * B * E);
  const dKeys = new Float64Array(S * B * Hk);
  const dh0 = new Float64Array(L * B * Hout);
  const dc0 = new Float64Array(L * B * H);
  for (let b = 0; b < B; b++) {
    const dh: Float64Array[] = Array.from({ length: L }, () => new Float64Array(Hout));
    const dc: Float64Array[] = Array.from({ length: L }, () => new Float64Array(H));
    const keys = { data: cache.input.keys, stride: B * Hk, offset: b * Hk, len: cache.input.lengths[b] };
    for (let t = T - 1; t >= 0; t--) {
      for (let k = 0; k < Hout; k++) dh[L - 1][k] += dOutput[(t * B + b) * Hout + k];
      // Top layer down: each layer's step gives dL/dx_t, which is the layer below's dL/dh_t.
      let dx = new Float64Array(0);
      for (let l = L - 1; l >= 0; l--) {
        const I = layerInputSize(config, l);
        if (l < L - 1) for (let k = 0; k < Hout; k++) dh[l][k] += dx[k];
        const step = cache.steps[l][b * T + t];
        const x = cache.inputs[l].subarray((t * B + b) * I, (t * B + b + 1) * I);
        const r = cellBackward(config, w[l], g[l], step, dh[l], dc[l]);
        dx = new Float64Array(I);
        for (let row = 0; row < r.dGi.length; row++) {
          if (g[l].bIh) g[l].bIh![row] += r.dGi[row];
          if (g[l].bHh) g[l].bHh![row] += r.dGh[row];
          for (let k = 0; k < I; k++) {
            g[l].wIh[row * I + k] += r.dGi[row] * x[k];
            dx[k] += r.dGi[row] * w[l].wIh[row * I + k];
          }
          for (let k = 0; k < Hout; k++) g[l].wHh[row * Hout + k] += r.dGh[row] * step.hPrev[k];
        }
        dh[l] = r.dhPrev;
        const scale = cache.dropoutScales[l];
        if (scale) for (let k = 0; k < I; k++) dx[k] *= scale[(t * B + b) * I + k];
      }
      // Layer 0's input [e_t; c_t]: the embedding's share, and the context's into the attention, whose
      // query was the top layer's h_{t−1}.
      for (let k = 0; k < E; k++) dE[(t * B + b) * E + k] += dx[k];
      const dq = attendBackward(
        attention.shape,
        attention.weights,
        cache.queries[b * T + t],
        keys,
        cache.attends[b * T + t],
        dx.subarray(E),
        dKeys,
        attentionGrads,
      );
      for (let k = 0; k < Hout; k++) dh[L - 1][k] += dq[k];
    }
    for (let l = 0; l < L; l++) {
      dh0.set(dh[l], (l * B + b) * Hout);
      dc0.set(dc[l], (l * B + b) * H);
    }
  }
  return { grads, attention: attentionGrads, dE, dKeys, h0: dh0, c0: dc0 };
}
