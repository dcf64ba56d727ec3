/**
 * The float64 reference of a training forward pass — Embedding → RNN (with dropout between layers)
 * → Linear head — keeping what the backward pass needs, written from PyTorch's equations (the same
 * as src/reference/cells.ts, which the inference reference uses) and independent of the shaders.
 *
 * Parameters are PyTorch's state_dict: `embedding.weight`, `rnn.weight_ih_l0` …, `head.weight`,
 * `head.bias`, each a flat row-major array.
 */
import { numDirections, outputSize } from '../config.js';
import type { PreparedBatch } from '../train/batch.js';
import { type ModelConfig, outputFeatures, rnnFeatures } from '../train/config.js';
import { keeps } from '../train/rng.js';
import { affine, cellUpdate } from './cells.js';

export type Params = Readonly<Record<string, Float64Array>>;

/** What one step of one row of one direction of one layer left for the backward pass. */
export interface StepCache {
  /** h_{t−1} (H_out) and c_{t−1} (H, LSTM). */
  hPrev: Float64Array;
  cPrev: Float64Array;
  /** Gate activations: LSTM i,f,g,o; GRU r,z,n; RNN the new h (G·H). */
  gates: Float64Array;
  /** GRU: W_hn·h + b_hn (H). */
  hn?: Float64Array;
  /** LSTM: c_t (H) and o·tanh(c_t) before the projection (H). */
  c?: Float64Array;
  hRaw?: Float64Array;
}

export interface LayerCache {
  /** The layer's input (T, B, I_l), after dropout for l > 0. */
  input: Float64Array;
  /** Its output (T, B, D·H_out), zero past each row's length. */
  output: Float64Array;
  /** Dropout's scale applied to the layer's input, per element (l > 0 in training with dropout), else undefined. */
  dropoutScale?: Float64Array;
  /** steps[(d·B + b)·T + t]: the cache of that step, undefined where it did not run (t ≥ length). */
  steps: Array<StepCache | undefined>;
}

export interface ForwardCache {
  readonly model: ModelConfig;
  readonly batch: PreparedBatch;
  readonly layers: LayerCache[];
  /** h_n (L·D, B, H_out), c_n (L·D, B, H). */
  hN: Float64Array;
  cN: Float64Array;
  /** What the head read: the last layer's output (T, B, F), or cat(h_n[−D:]) (B, F). */
  headInput: Float64Array;
  /** The model's output, time-major: (T, B, O) or (B, O). */
  y: Float64Array;
}

export interface TrainOptions {
  /** Training mode: dropout between layers is applied (with config.rnn.dropout > 0). */
  training: boolean;
  /** Seed of the dropout masks (see train/rng.ts); streams are layer indices. */
  seed: number;
}

/** Runs the model forward over a prepared batch, keeping every step's cache. */
export function trainForward(model: ModelConfig, params: Params, batch: PreparedBatch, options: TrainOptions): ForwardCache {
  const rnn = model.rnn;
  const { T, B } = batch;
  const D = numDirections(rnn);
  const H = rnn.hidden_size;
  const Hout = outputSize(rnn);
  const L = rnn.num_layers;
  const F = D * Hout;
  let input: Float64Array;
  if (model.embedding) {
    const E = model.embedding.embedding_dim;
    const table = params['embedding.weight'];
    input = new Float64Array(T * B * E);
    for (let i = 0; i < T * B; i++) input.set(table.subarray(batch.tokens![i] * E, (batch.tokens![i] + 1) * E), i * E);
  } else {
    input = Float64Array.from(batch.x!);
  }
  const hN = new Float64Array(L * D * B * Hout);
  const cN = new Float64Array(L * D * B * H);
  const layers: LayerCache[] = [];
  for (let l = 0; l < L; l++) {
    const I = l === 0 ? rnn.input_size : F;
    let dropoutScale: Float64Array | undefined;
    if (l > 0 && options.training && rnn.dropout > 0) {
      // PyTorch: dropout on every layer's output except the last, i.e. on the input of layers 1 … L−1.
      dropoutScale = new Float64Array(input.length);
      const keep = 1 / (1 - rnn.dropout);
      for (let i = 0; i < input.length; i++) dropoutScale[i] = rnn.dropout >= 1 ? 0 : keeps(options.seed, l, i, rnn.dropout) ? keep : 0;
      input = input.map((v, i) => v * dropoutScale![i]);
    }
    const output = new Float64Array(T * B * F);
    const steps: Array<StepCache | undefined> = new Array(D * B * T);
    for (let d = 0; d < D; d++) {
      const w = layerWeights(params, model, l, d);
      const index = l * D + d;
      for (let b = 0; b < B; b++) {
        const len = batch.lengths ? batch.lengths[b] : T;
        let h: Float64Array = batch.h0 ? Float64Array.from(batch.h0.subarray((index * B + b) * Hout, (index * B + b + 1) * Hout)) : new Float64Array(Hout);
        let c: Float64Array = batch.c0 ? Float64Array.from(batch.c0.subarray((index * B + b) * H, (index * B + b + 1) * H)) : new Float64Array(H);
        for (let s = 0; s < len; s++) {
          const t = d === 0 ? s : len - 1 - s;
          const cache = cellForward(model, w, input.subarray((t * B + b) * I, (t * B + b + 1) * I), h, c);
          steps[(d * B + b) * T + t] = cache.step;
          h = cache.h;
          c = cache.c;
          output.set(h, (t * B + b) * F + d * Hout);
        }
        hN.set(h, (index * B + b) * Hout);
        cN.set(c, (index * B + b) * H);
      }
    }
    layers.push({ input, output, dropoutScale, steps });
    input = output;
  }
  const last = layers[L - 1].output;
  let headInput: Float64Array = last;
  if (model.head?.on === 'h_n') {
    headInput = new Float64Array(B * F);
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) headInput.set(hN.subarray((((L - 1) * D + d) * B + b) * Hout, (((L - 1) * D + d) * B + b + 1) * Hout), b * F + d * Hout);
    }
  }
  const rows = headInput.length / F;
  let y: Float64Array = headInput;
  if (model.head) {
    const O = outputFeatures(model);
    const W = params['head.weight'];
    const bias = params['head.bias'];
    y = new Float64Array(rows * O);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < O; o++) {
        let acc = bias ? bias[o] : 0;
        for (let k = 0; k < F; k++) acc += W[o * F + k] * headInput[r * F + k];
        y[r * O + o] = acc;
      }
    }
  }
  return { model, batch, layers, hN, cN, headInput, y };
}

/** One direction of one layer's parameters (PyTorch layouts). */
export interface LayerWeights {
  wIh: Float64Array;
  wHh: Float64Array;
  bIh?: Float64Array;
  bHh?: Float64Array;
  wHr?: Float64Array;
  I: number;
}

export function layerWeights(params: Params, model: ModelConfig, l: number, d: number): LayerWeights {
  const suffix = `_l${l}${d === 1 ? '_reverse' : ''}`;
  return {
    wIh: params[`rnn.weight_ih${suffix}`],
    wHh: params[`rnn.weight_hh${suffix}`],
    bIh: model.rnn.bias ? params[`rnn.bias_ih${suffix}`] : undefined,
    bHh: model.rnn.bias ? params[`rnn.bias_hh${suffix}`] : undefined,
    wHr: model.rnn.proj_size > 0 ? params[`rnn.weight_hr${suffix}`] : undefined,
    I: l === 0 ? model.rnn.input_size : rnnFeatures(model),
  };
}

function cellForward(
  model: ModelConfig,
  w: LayerWeights,
  x: Float64Array,
  hPrev: Float64Array,
  cPrev: Float64Array,
): { h: Float64Array; c: Float64Array; step: StepCache } {
  const { mode, hidden_size: H } = model.rnn;
  const Hout = outputSize(model.rnn);
  const G = mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
  const gi = affine(w.wIh, w.I, x, 0, w.bIh, G * H);
  const gh = affine(w.wHh, Hout, hPrev, 0, w.bHh, G * H);
  const next = cellUpdate(mode, H, gi, gh, hPrev, cPrev);
  const step: StepCache = { hPrev, cPrev, gates: next.gates };
  if (mode === 'LSTM') {
    step.c = next.c;
    step.hRaw = next.h;
    return { h: w.wHr ? affine(w.wHr, H, next.h, 0, undefined, Hout) : next.h, c: next.c, step };
  }
  if (mode === 'GRU') step.hn = gh.slice(2 * H, 3 * H);
  return { h: next.h, c: cPrev, step };
}
