/**
 * The float64 reference of a recurrent module in training (nn.RNN / nn.LSTM / nn.GRU with every
 * option): the forward keeping what the backward pass needs, and backpropagation through time written
 * from the forward equations by hand — the chain rule applied step by step, newest step first —
 * checked by finite differences (train/gradcheck.ts) and against PyTorch's autograd (the training
 * fixtures). The cell equations are cells.ts's, shared with the inference reference; dropout between
 * layers draws from rng.ts, the same counter-based generator as the GPU.
 *
 * Weights are the module's own state_dict (`weight_ih_l0`, …, no prefix), each a flat row-major array.
 *
 * Per cell, with dh the total gradient reaching h_t (from the layer above or the head, plus the
 * recurrent path from step t + 1) and dc the one reaching c_t:
 *   LSTM  (h = W_hr·h_raw with projection) dh_raw = W_hrᵀ·dh; dc += dh_raw·o·(1 − tanh²c);
 *         d_pre = (dc·g·i(1−i), dc·c_{t−1}·f(1−f), dc·i·(1−g²), dh_raw·tanh c·o(1−o)); dc_{t−1} = dc·f
 *   GRU   dn = dh·(1−z), dz = dh·(h_{t−1} − n); d_pre_n = dn·(1−n²); dr = d_pre_n·hn;
 *         d_gi = (dr·r(1−r), dz·z(1−z), d_pre_n), d_gh = (same, same, d_pre_n·r); + dh·z to h_{t−1}
 *   RNN   d_pre = dh·(1 − h²) (tanh) or dh·[h > 0] (relu)
 * then dW_ih += d_gi ⊗ x_t, dW_hh += d_gh ⊗ h_{t−1}, biases += d_gi / d_gh, dx_t = W_ihᵀ·d_gi,
 * dh_{t−1} = W_hhᵀ·d_gh (+ the GRU's direct term). A row past its length passes its gradients through.
 */
import { type RnnConfig, gateCount, numDirections, outputSize } from '../config.js';
import { layerInputSize, paramName } from '../params.js';
import { affine, cellUpdate } from './cells.js';
import { keeps, recurrentMask, recurrentMaskStream } from './rng.js';

export type RecurrentWeights = Readonly<Record<string, Float64Array>>;

/** The module's input, time-major. */
export interface RecurrentInput {
  readonly T: number;
  readonly B: number;
  /** (T, B, input_size) */
  readonly x: ArrayLike<number>;
  /** (B), each in [1, T]; all T when absent. */
  readonly lengths?: ArrayLike<number>;
  /** (L·D, B, H_out) and (L·D, B, H); zeros when absent. */
  readonly h0?: ArrayLike<number>;
  readonly c0?: ArrayLike<number>;
}

/** What one step of one row of one direction of one layer left for the backward pass. */
export interface StepCache {
  /** h_{t−1} (H_out) and c_{t−1} (H, LSTM). */
  hPrev: Float64Array;
  cPrev: Float64Array;
  /** With recurrent dropout: its scale of h_{t−1} (H_out), and what W_hh saw, scale·h_{t−1}. */
  mask?: Float64Array;
  hPrevMasked?: Float64Array;
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

export interface RecurrentCache {
  readonly input: RecurrentInput;
  readonly layers: LayerCache[];
  /** The last layer's output (T, B, D·H_out). */
  readonly output: Float64Array;
  /** h_n (L·D, B, H_out), c_n (L·D, B, H). */
  readonly hN: Float64Array;
  readonly cN: Float64Array;
}

export interface DropoutOptions {
  /** Training mode: dropout between layers (config.dropout > 0) and on h_{t−1} (config.recurrent_dropout > 0) apply. */
  readonly training: boolean;
  /** Seed of the dropout masks (rng.ts); the stream of layer l's input is streamBase + l, of its h_{t−1} recurrentMaskStream(streamBase, l). */
  readonly seed: number;
  /** Where this module's streams start (a model with two recurrent modules gives them different ones). */
  readonly streamBase?: number;
}

/** One direction of one layer's parameters (PyTorch layouts). */
export interface DirectionWeights {
  wIh: Float64Array;
  wHh: Float64Array;
  bIh?: Float64Array;
  bHh?: Float64Array;
  wHr?: Float64Array;
  I: number;
}

export function directionWeights(config: RnnConfig, weights: RecurrentWeights, l: number, d: number): DirectionWeights {
  const w = (kind: Parameters<typeof paramName>[0]) => weights[paramName(kind, l, d)];
  return {
    wIh: w('weight_ih'),
    wHh: w('weight_hh'),
    bIh: config.bias ? w('bias_ih') : undefined,
    bHh: config.bias ? w('bias_hh') : undefined,
    wHr: config.proj_size > 0 ? w('weight_hr') : undefined,
    I: layerInputSize(config, l),
  };
}

/** The module forward over a time-major batch, keeping every step's cache. */
export function recurrentTrainForward(config: RnnConfig, weights: RecurrentWeights, inputs: RecurrentInput, options: DropoutOptions): RecurrentCache {
  const { T, B } = inputs;
  const D = numDirections(config);
  const H = config.hidden_size;
  const Hout = outputSize(config);
  const L = config.num_layers;
  const F = D * Hout;
  let input = Float64Array.from(inputs.x);
  const hN = new Float64Array(L * D * B * Hout);
  const cN = new Float64Array(L * D * B * H);
  const layers: LayerCache[] = [];
  for (let l = 0; l < L; l++) {
    const I = layerInputSize(config, l);
    let dropoutScale: Float64Array | undefined;
    if (l > 0 && options.training && config.dropout > 0) {
      // PyTorch: dropout on every layer's output except the last, i.e. on the input of layers 1 … L−1.
      dropoutScale = new Float64Array(input.length);
      const keep = 1 / (1 - config.dropout);
      for (let i = 0; i < input.length; i++)
        dropoutScale[i] = config.dropout >= 1 ? 0 : keeps(options.seed, (options.streamBase ?? 0) + l, i, config.dropout) ? keep : 0;
      input = input.map((v, i) => v * dropoutScale![i]);
    }
    const output = new Float64Array(T * B * F);
    const steps: Array<StepCache | undefined> = new Array(D * B * T);
    // Variational dropout on h_{t−1} (Gal & Ghahramani): one mask per (direction, row), the same at every step.
    const p = config.recurrent_dropout;
    const masks = options.training && p > 0 ? recurrentMask(options.seed, recurrentMaskStream(options.streamBase ?? 0, l), D, B, Hout, p) : undefined;
    for (let d = 0; d < D; d++) {
      const w = directionWeights(config, weights, l, d);
      const index = l * D + d;
      for (let b = 0; b < B; b++) {
        const len = inputs.lengths ? inputs.lengths[b] : T;
        let h: Float64Array = inputs.h0 ? Float64Array.from({ length: Hout }, (_, k) => inputs.h0![(index * B + b) * Hout + k]) : new Float64Array(Hout);
        let c: Float64Array = inputs.c0 ? Float64Array.from({ length: H }, (_, k) => inputs.c0![(index * B + b) * H + k]) : new Float64Array(H);
        for (let s = 0; s < len; s++) {
          const t = d === 0 ? s : len - 1 - s;
          const mask = masks?.subarray((d * B + b) * Hout, (d * B + b + 1) * Hout);
          const cache = cellForward(config, w, input.subarray((t * B + b) * I, (t * B + b + 1) * I), h, c, mask);
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
  return { input: inputs, layers, output: layers[L - 1].output, hN, cN };
}

/**
 * One step of one cell: the new h (projected) and c, and what the backward pass needs. With a
 * recurrent-dropout `mask`, W_hh sees mask·h_{t−1}; the GRU's z·h_{t−1} keeps the whole h_{t−1}.
 */
export function cellForward(
  config: RnnConfig,
  w: DirectionWeights,
  x: Float64Array,
  hPrev: Float64Array,
  cPrev: Float64Array,
  mask?: Float64Array,
): { h: Float64Array; c: Float64Array; step: StepCache } {
  const { mode, hidden_size: H } = config;
  const Hout = outputSize(config);
  const G = gateCount(mode);
  const hPrevMasked = mask ? hPrev.map((v, k) => v * mask[k]) : undefined;
  const gi = affine(w.wIh, w.I, x, 0, w.bIh, G * H);
  const gh = affine(w.wHh, Hout, hPrevMasked ?? hPrev, 0, w.bHh, G * H);
  const next = cellUpdate(mode, H, gi, gh, hPrev, cPrev);
  const step: StepCache = { hPrev, cPrev, gates: next.gates, mask, hPrevMasked };
  if (mode === 'LSTM') {
    step.c = next.c;
    step.hRaw = next.h;
    return { h: w.wHr ? affine(w.wHr, H, next.h, 0, undefined, Hout) : next.h, c: next.c, step };
  }
  if (mode === 'GRU') step.hn = gh.slice(2 * H, 3 * H);
  return { h: next.h, c: cPrev, step };
}

export interface RecurrentGradients {
  /** dL/dθ by the module's own names (`weight_ih_l0`, …). */
  grads: Record<string, Float64Array>;
  /** dL/d(input) (T, B, input_size). */
  dInput: Float64Array;
  /** dL/dh0 (L·D, B, H_out) and dL/dc0 (L·D, B, H). */
  h0: Float64Array;
  c0: Float64Array;
  /** flow[l][t] = ‖∂L/∂h_t‖ of layer l over the batch and both directions. */
  flow: Float64Array[];
}

/**
 * Backpropagates into the module: `dOutput` reaches the last layer's output (T, B, D·H_out), `dhN`
 * and `dcN` its final states (L·D, B, H_out) and (L·D, B, H) — any may be absent (zeros).
 */
export function recurrentTrainBackward(
  config: RnnConfig,
  weights: RecurrentWeights,
  cache: RecurrentCache,
  dOutput: Float64Array | undefined,
  dhN: Float64Array | undefined,
  dcN?: Float64Array,
): RecurrentGradients {
  const { T, B } = cache.input;
  const D = numDirections(config);
  const H = config.hidden_size;
  const Hout = outputSize(config);
  const L = config.num_layers;
  const F = D * Hout;
  const grads: Record<string, Float64Array> = {};
  for (const [name, p] of Object.entries(weights)) grads[name] = new Float64Array(p.length);
  let dOut = dOutput ?? new Float64Array(T * B * F);
  const dh0 = new Float64Array(L * D * B * Hout);
  const dc0 = new Float64Array(L * D * B * H);
  const flow: Float64Array[] = [];
  let dInput = new Float64Array(0);
  for (let l = L - 1; l >= 0; l--) {
    const layer = cache.layers[l];
    const I = layerInputSize(config, l);
    dInput = new Float64Array(T * B * I);
    const flowSq = new Float64Array(T);
    for (let d = 0; d < D; d++) {
      const w = directionWeights(config, weights, l, d);
      const g = directionWeights(config, grads, l, d);
      const index = l * D + d;
      for (let b = 0; b < B; b++) {
        const len = cache.input.lengths ? cache.input.lengths[b] : T;
        const dh = dhN ? Float64Array.from(dhN.subarray((index * B + b) * Hout, (index * B + b + 1) * Hout)) : new Float64Array(Hout);
        const dc = dcN ? Float64Array.from(dcN.subarray((index * B + b) * H, (index * B + b + 1) * H)) : new Float64Array(H);
        for (let s = len - 1; s >= 0; s--) {
          const t = d === 0 ? s : len - 1 - s;
          for (let k = 0; k < Hout; k++) dh[k] += dOut[(t * B + b) * F + d * Hout + k];
          flowSq[t] += dh.reduce((a, v) => a + v * v, 0);
          const step = layer.steps[(d * B + b) * T + t]!;
          const x = layer.input.subarray((t * B + b) * I, (t * B + b + 1) * I);
          const { dGi, dGh, dhPrev } = cellBackward(config, w, g, step, dh, dc);
          // Parameter gradients and dx_t.
          for (let r = 0; r < dGi.length; r++) {
            if (g.bIh) g.bIh[r] += dGi[r];
            if (g.bHh) g.bHh[r] += dGh[r];
            for (let k = 0; k < I; k++) {
              g.wIh[r * I + k] += dGi[r] * x[k];
              dInput[(t * B + b) * I + k] += dGi[r] * w.wIh[r * I + k];
            }
            const seen = step.hPrevMasked ?? step.hPrev; // what W_hh multiplied
            for (let k = 0; k < Hout; k++) g.wHh[r * Hout + k] += dGh[r] * seen[k];
          }
          dh.set(dhPrev);
        }
        dh0.set(dh, (index * B + b) * Hout);
        dc0.set(dc, (index * B + b) * H);
      }
    }
    flow[l] = flowSq.map(Math.sqrt);
    // The input of layer l > 0 is the (dropped-out) output of layer l − 1.
    if (layer.dropoutScale) for (let i = 0; i < dInput.length; i++) dInput[i] *= layer.dropoutScale[i];
    dOut = dInput;
  }
  return { grads, dInput, h0: dh0, c0: dc0, flow };
}

/** One step's backward; updates dc in place to dL/dc_{t−1}; returns the gate gradients and dL/dh_{t−1}. */
export function cellBackward(
  config: RnnConfig,
  w: DirectionWeights,
  g: DirectionWeights,
  step: StepCache,
  dh: Float64Array,
  dc: Float64Array,
): { dGi: Float64Array; dGh: Float64Array; dhPrev: Float64Array } {
  const { mode, hidden_size: H } = config;
  const Hout = outputSize(config);
  const G = gateCount(mode);
  const a = step.gates;
  const dGi = new Float64Array(G * H);
  let dGh = dGi;
  const dhPrev = new Float64Array(Hout);
  if (mode === 'LSTM') {
    let dhRaw = dh;
    if (w.wHr) {
      dhRaw = new Float64Array(H);
      for (let p = 0; p < Hout; p++) {
        for (let j = 0; j < H; j++) {
          g.wHr![p * H + j] += dh[p] * step.hRaw![j];
          dhRaw[j] += dh[p] * w.wHr[p * H + j];
        }
      }
    }
    for (let j = 0; j < H; j++) {
      const [i, f, gg, o] = [a[j], a[H + j], a[2 * H + j], a[3 * H + j]];
      const tc = Math.tanh(step.c![j]);
      const dcj = dc[j] + dhRaw[j] * o * (1 - tc * tc);
      dGi[j] = dcj * gg * i * (1 - i);
      dGi[H + j] = dcj * step.cPrev[j] * f * (1 - f);
      dGi[2 * H + j] = dcj * i * (1 - gg * gg);
      dGi[3 * H + j] = dhRaw[j] * tc * o * (1 - o);
      dc[j] = dcj * f;
    }
  } else if (mode === 'GRU') {
    dGh = new Float64Array(G * H);
    for (let j = 0; j < H; j++) {
      const [r, z, n] = [a[j], a[H + j], a[2 * H + j]];
      const dn = dh[j] * (1 - z);
      const dz = dh[j] * (step.hPrev[j] - n);
      const dPreN = dn * (1 - n * n);
      const dr = dPreN * step.hn![j];
      dGi[j] = dGh[j] = dr * r * (1 - r);
      dGi[H + j] = dGh[H + j] = dz * z * (1 - z);
      dGi[2 * H + j] = dPreN;
      dGh[2 * H + j] = dPreN * r;
      dhPrev[j] += dh[j] * z;
    }
  } else {
    for (let j = 0; j < H; j++) dGi[j] = mode === 'RNN_TANH' ? dh[j] * (1 - a[j] * a[j]) : a[j] > 0 ? dh[j] : 0;
  }
  // dh_{t−1} += W_hhᵀ·dGh, times recurrent dropout's scale where there is one (W_hh saw mask·h_{t−1}).
  const viaWhh = step.mask ? new Float64Array(Hout) : dhPrev;
  for (let r = 0; r < G * H; r++) {
    if (dGh[r] === 0) continue;
    for (let k = 0; k < Hout; k++) viaWhh[k] += dGh[r] * w.wHh[r * Hout + k];
  }
  if (step.mask) for (let k = 0; k < Hout; k++) dhPrev[k] += step.mask[k] * viaWhh[k];
  return { dGi, dGh, dhPrev };
}
