/**
 * The float64 reference of the backward pass (backpropagation through time), written from the
 * forward equations by hand — the chain rule applied step by step, newest step first — and checked
 * by finite differences (gradcheck.ts) and against PyTorch's autograd (test fixtures). Given the
 * forward cache and dL/dy it returns the gradient of every parameter (state_dict names), of h0 / c0,
 * and ‖∂L/∂h_t‖ for every layer and step (the gradient-flow measure).
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
import { numDirections, outputSize } from '../config.js';
import { type ModelConfig, outputFeatures, rnnFeatures } from '../train/config.js';
import { type ForwardCache, type Params, layerWeights } from './train-forward.js';

export interface Gradients {
  /** dL/dθ for every parameter, by state_dict name. */
  params: Record<string, Float64Array>;
  /** dL/dh0 (L·D, B, H_out) and dL/dc0 (L·D, B, H). */
  h0: Float64Array;
  c0: Float64Array;
  /** flow[l][t] = ‖∂L/∂h_t‖ of layer l over the batch and both directions. */
  flow: Float64Array[];
}

/** Backpropagates dL/dy (the model's output, as the forward cache has it) to every parameter. */
export function trainBackward(model: ModelConfig, params: Params, cache: ForwardCache, dy: Float64Array): Gradients {
  const rnn = model.rnn;
  const { T, B } = cache.batch;
  const D = numDirections(rnn);
  const H = rnn.hidden_size;
  const Hout = outputSize(rnn);
  const L = rnn.num_layers;
  const F = rnnFeatures(model);
  const grads: Record<string, Float64Array> = {};
  for (const [name, p] of Object.entries(params)) grads[name] = new Float64Array(p.length);

  // The head: y = W·headInput + b.
  let dHeadInput: Float64Array = dy;
  if (model.head) {
    const O = outputFeatures(model);
    const W = params['head.weight'];
    const rows = dy.length / O;
    dHeadInput = new Float64Array(rows * F);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < O; o++) {
        const g = dy[r * O + o];
        if (g === 0) continue;
        if (model.head.bias) grads['head.bias'][o] += g;
        for (let k = 0; k < F; k++) {
          grads['head.weight'][o * F + k] += g * cache.headInput[r * F + k];
          dHeadInput[r * F + k] += g * W[o * F + k];
        }
      }
    }
  }
  // What reaches the last layer: dL/d(output) per step, and dL/dh_n of its directions (head on h_n).
  let dOut: Float64Array = new Float64Array(T * B * F);
  const dhN = new Float64Array(L * D * B * Hout);
  if (model.head?.on === 'h_n') {
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) dhN.set(dHeadInput.subarray(b * F + d * Hout, b * F + (d + 1) * Hout), (((L - 1) * D + d) * B + b) * Hout);
    }
  } else {
    dOut = dHeadInput;
  }
  const dh0 = new Float64Array(L * D * B * Hout);
  const dc0 = new Float64Array(L * D * B * H);
  const flow: Float64Array[] = [];
  for (let l = L - 1; l >= 0; l--) {
    const layer = cache.layers[l];
    const I = l === 0 ? rnn.input_size : F;
    const dInput = new Float64Array(T * B * I);
    const flowSq = new Float64Array(T);
    for (let d = 0; d < D; d++) {
      const w = layerWeights(params, model, l, d);
      const suffix = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const g = {
        wIh: grads[`rnn.weight_ih${suffix}`],
        wHh: grads[`rnn.weight_hh${suffix}`],
        bIh: grads[`rnn.bias_ih${suffix}`],
        bHh: grads[`rnn.bias_hh${suffix}`],
        wHr: grads[`rnn.weight_hr${suffix}`],
      };
      const index = l * D + d;
      for (let b = 0; b < B; b++) {
        const len = cache.batch.lengths ? cache.batch.lengths[b] : T;
        const dh = Float64Array.from(dhN.subarray((index * B + b) * Hout, (index * B + b + 1) * Hout));
        const dc = new Float64Array(H);
        for (let s = len - 1; s >= 0; s--) {
          const t = d === 0 ? s : len - 1 - s;
          for (let k = 0; k < Hout; k++) dh[k] += dOut[(t * B + b) * F + d * Hout + k];
          flowSq[t] += dh.reduce((a, v) => a + v * v, 0);
          const step = layer.steps[(d * B + b) * T + t]!;
          const x = layer.input.subarray((t * B + b) * I, (t * B + b + 1) * I);
          const { dGi, dGh, dhPrev } = cellBackward(model, w, g, step, dh, dc);
          // Parameter gradients and dx_t.
          const rowsG = dGi.length;
          for (let r = 0; r < rowsG; r++) {
            if (g.bIh) g.bIh[r] += dGi[r];
            if (g.bHh) g.bHh[r] += dGh[r];
            for (let k = 0; k < I; k++) {
              g.wIh[r * I + k] += dGi[r] * x[k];
              dInput[(t * B + b) * I + k] += dGi[r] * w.wIh[r * I + k];
            }
            for (let k = 0; k < Hout; k++) g.wHh[r * Hout + k] += dGh[r] * step.hPrev[k];
          }
          dh.set(dhPrev);
        }
        dh0.set(dh, (index * B + b) * Hout);
        dc0.set(dc, (index * B + b) * H);
      }
    }
    flow[l] = flowSq.map(Math.sqrt);
    // The input of layer l is the (dropped-out) output of layer l − 1, or the embedded tokens.
    if (layer.dropoutScale) for (let i = 0; i < dInput.length; i++) dInput[i] *= layer.dropoutScale[i];
    if (l > 0) {
      dOut = dInput;
    } else if (model.embedding) {
      const E = model.embedding.embedding_dim;
      const gE = grads['embedding.weight'];
      for (let i = 0; i < T * B; i++) {
        const row = cache.batch.tokens![i] * E;
        for (let e = 0; e < E; e++) gE[row + e] += dInput[i * E + e];
      }
    }
  }
  return { params: grads, h0: dh0, c0: dc0, flow };
}

interface CellGrads {
  wHr?: Float64Array;
}

/** One step's backward; updates dc in place to dL/dc_{t−1}; returns the gate gradients and dL/dh_{t−1}. */
function cellBackward(
  model: ModelConfig,
  w: ReturnType<typeof layerWeights>,
  g: CellGrads,
  step: ForwardCache['layers'][number]['steps'][number] & object,
  dh: Float64Array,
  dc: Float64Array,
): { dGi: Float64Array; dGh: Float64Array; dhPrev: Float64Array } {
  const { mode, hidden_size: H } = model.rnn;
  const Hout = outputSize(model.rnn);
  const G = mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
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
  for (let r = 0; r < G * H; r++) {
    if (dGh[r] === 0) continue;
    for (let k = 0; k < Hout; k++) dhPrev[k] += dGh[r] * w.wHh[r * Hout + k];
  }
  return { dGi, dGh, dhPrev };
}
