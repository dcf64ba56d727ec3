/**
 * ONNX's LSTM, GRU and RNN operators in float64 on the host, written from the operator specification
 * (onnx/docs/Operators.md), every attribute: direction forward / reverse / bidirectional, layout 0 / 1,
 * activations with activation_alpha / activation_beta (each activation the spec lists), clip,
 * input_forget, peepholes P, GRU linear_before_reset 0 and 1, sequence_lens, initial_h, initial_c, and
 * the outputs Y, Y_h, Y_c. Gates in ONNX's order: LSTM i, o, f, c; GRU z, r, h.
 *
 * This is the CPU backend's path for every recurrent node, and WebGPU's slower path for what the GPU
 * kernels (PyTorch's equations) do not cover — see model.ts's placement. Past a sequence's length
 * nothing runs: Y is 0 there and Y_h / Y_c are the state at the sequence's own last step (the reverse
 * direction starts from there; a sequence of length 0 gives 0), as ONNX Runtime does.
 */
import { RnnError } from '../errors.js';
import { type OnnxValue, count, floatValue } from './values.js';

export type RecurrentOp = 'LSTM' | 'GRU' | 'RNN';

export interface RecurrentAttributes {
  hidden_size: number;
  direction: 'forward' | 'reverse' | 'bidirectional';
  layout: 0 | 1;
  activations: string[];
  activation_alpha: number[];
  activation_beta: number[];
  clip?: number;
  input_forget: number;
  linear_before_reset: number;
}

type Activation = (x: number) => number;

/** The activations the spec lists, with their alpha / beta defaults (those of the ONNX operators of the same name). */
const ACTIVATIONS: Record<string, { alpha?: number; beta?: number; make: (a: number, b: number) => Activation }> = {
  Relu: { make: () => (x) => Math.max(0, x) },
  Tanh: { make: () => Math.tanh },
  Sigmoid: { make: () => (x) => 1 / (1 + Math.exp(-x)) },
  Affine: { alpha: 1, beta: 0, make: (a, b) => (x) => a * x + b },
  LeakyRelu: { alpha: 0.01, make: (a) => (x) => (x >= 0 ? x : a * x) },
  ThresholdedRelu: { alpha: 1, make: (a) => (x) => (x > a ? x : 0) },
  ScaledTanh: { alpha: 1, beta: 1, make: (a, b) => (x) => a * Math.tanh(b * x) },
  HardSigmoid: { alpha: 0.2, beta: 0.5, make: (a, b) => (x) => Math.max(0, Math.min(1, a * x + b)) },
  Elu: { alpha: 1, make: (a) => (x) => (x >= 0 ? x : a * (Math.exp(x) - 1)) },
  Softsign: { make: () => (x) => x / (1 + Math.abs(x)) },
  Softplus: { make: () => (x) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0) },
};
export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS);

/** Activations per direction, as many as the operator takes (LSTM 3, GRU 2, RNN 1). */
export const ACTIVATION_COUNT: Record<RecurrentOp, number> = { LSTM: 3, GRU: 2, RNN: 1 };
export const DEFAULT_ACTIVATIONS: Record<RecurrentOp, string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };
/** Gate blocks in W, R and each half of B. */
export const GATES: Record<RecurrentOp, number> = { LSTM: 4, GRU: 3, RNN: 1 };

/** Canonical name of an activation as written in a file (the spec's names are case-sensitive; files vary). */
export function activationName(name: string): string | undefined {
  return ACTIVATION_NAMES.find((n) => n.toLowerCase() === name.toLowerCase());
}

/**
 * The activation functions of every direction, alpha / beta taken in order by the activations that
 * use them (the others take no slot), defaults where the lists run out.
 */
function activationFunctions(op: RecurrentOp, a: RecurrentAttributes, D: number): Activation[][] {
  const names = a.activations.length ? a.activations : Array.from({ length: D }, () => DEFAULT_ACTIVATIONS[op]).flat();
  const per = ACTIVATION_COUNT[op];
  if (names.length !== per * D) throw new RnnError('ONNX_INVALID', `${op}: activations lists ${names.length} functions, ${per} per direction × ${D} expected`);
  let alphas = 0;
  let betas = 0;
  const fns = names.map((raw) => {
    const name = activationName(raw);
    if (!name) throw new RnnError('ONNX_UNSUPPORTED', `${op}: activation "${raw}" (supported: ${ACTIVATION_NAMES.join(', ')})`);
    const spec = ACTIVATIONS[name];
    const alpha = spec.alpha === undefined ? 0 : alphas < a.activation_alpha.length ? a.activation_alpha[alphas++] : spec.alpha;
    const beta = spec.beta === undefined ? 0 : betas < a.activation_beta.length ? a.activation_beta[betas++] : spec.beta;
    return spec.make(alpha, beta);
  });
  return Array.from({ length: D }, (_, d) => fns.slice(d * per, (d + 1) * per));
}

export interface RecurrentInputs {
  X: OnnxValue;
  W: OnnxValue;
  R: OnnxValue;
  B?: OnnxValue;
  sequence_lens?: OnnxValue;
  initial_h?: OnnxValue;
  initial_c?: OnnxValue;
  P?: OnnxValue;
}

function expectDims(op: RecurrentOp, name: string, v: OnnxValue | undefined, dims: number[]): void {
  if (v && v.dims.join() !== dims.join())
    throw new RnnError('ONNX_INVALID', `${op} input ${name}: expected shape [${dims.join(', ')}], got [${v.dims.join(', ')}]`);
}

/** Runs one recurrent node; returns Y, Y_h and (LSTM) Y_c in the node's layout. */
export function runRecurrent(op: RecurrentOp, a: RecurrentAttributes, inputs: RecurrentInputs): { Y: OnnxValue; Y_h: OnnxValue; Y_c?: OnnxValue } {
  const { X, W, R } = inputs;
  if (X.dims.length !== 3) throw new RnnError('ONNX_INVALID', `${op} input X: expected 3 dimensions, got [${X.dims.join(', ')}]`);
  const [T, Bn, I] = a.layout === 0 ? X.dims : [X.dims[1], X.dims[0], X.dims[2]];
  const D = a.direction === 'bidirectional' ? 2 : 1;
  const H = a.hidden_size;
  const G = GATES[op];
  expectDims(op, 'W', W, [D, G * H, I]);
  expectDims(op, 'R', R, [D, G * H, H]);
  expectDims(op, 'B', inputs.B, [D, 2 * G * H]);
  expectDims(op, 'sequence_lens', inputs.sequence_lens, [Bn]);
  const stateDims = a.layout === 0 ? [D, Bn, H] : [Bn, D, H];
  expectDims(op, 'initial_h', inputs.initial_h, stateDims);
  expectDims(op, 'initial_c', inputs.initial_c, stateDims);
  expectDims(op, 'P', inputs.P, [D, 3 * H]);
  const fns = activationFunctions(op, a, D);
  const lens = Array.from({ length: Bn }, (_, b) => (inputs.sequence_lens ? inputs.sequence_lens.data[b] : T));
  lens.forEach((len, b) => {
    if (!Number.isInteger(len) || len < 0 || len > T)
      throw new RnnError('ONNX_INVALID', `${op} input sequence_lens[${b}] = ${len}: expected an integer in [0, ${T}]`);
  });
  const x = (t: number, b: number, i: number) => X.data[a.layout === 0 ? (t * Bn + b) * I + i : (b * T + t) * I + i];
  const stateAt = (v: OnnxValue | undefined, d: number, b: number, j: number) => (v ? v.data[a.layout === 0 ? (d * Bn + b) * H + j : (b * D + d) * H + j] : 0);
  const clip = (v: number) => (a.clip === undefined ? v : Math.max(-a.clip, Math.min(a.clip, v)));
  const Y = new Float64Array(T * D * Bn * H);
  const Yh = new Float64Array(D * Bn * H);
  const Yc = new Float64Array(D * Bn * H);
  const setY = (t: number, d: number, b: number, j: number, v: number) => {
    Y[a.layout === 0 ? ((t * D + d) * Bn + b) * H + j : ((b * T + t) * D + d) * H + j] = v;
  };
  const setState = (out: Float64Array, d: number, b: number, j: number, v: number) => {
    out[a.layout === 0 ? (d * Bn + b) * H + j : (b * D + d) * H + j] = v;
  };
  const reverse = (d: number) => a.direction === 'reverse' || d === 1;
  for (let d = 0; d < D; d++) {
    const [f, g, h] = fns[d];
    const w = (row: number, i: number) => W.data[(d * G * H + row) * I + i];
    const r = (row: number, k: number) => R.data[(d * G * H + row) * H + k];
    const wb = (row: number) => (inputs.B ? inputs.B.data[d * 2 * G * H + row] : 0);
    const rb = (row: number) => (inputs.B ? inputs.B.data[d * 2 * G * H + G * H + row] : 0);
    const p = (gate: number, j: number) => (inputs.P ? inputs.P.data[d * 3 * H + gate * H + j] : 0);
    for (let b = 0; b < Bn; b++) {
      let hPrev = Float64Array.from({ length: H }, (_, j) => stateAt(inputs.initial_h, d, b, j));
      let cPrev = Float64Array.from({ length: H }, (_, j) => stateAt(inputs.initial_c, d, b, j));
      for (let s = 0; s < lens[b]; s++) {
        const t = reverse(d) ? lens[b] - 1 - s : s;
        // Xt·W_gᵀ + Wb_g for every gate row, and Ht-1·R_gᵀ + Rb_g apart (GRU's h gate needs them apart).
        const xw = new Float64Array(G * H);
        const hr = new Float64Array(G * H);
        for (let row = 0; row < G * H; row++) {
          let sx = wb(row);
          for (let i = 0; i < I; i++) sx += x(t, b, i) * w(row, i);
          xw[row] = sx;
          let sh = rb(row);
          for (let k = 0; k < H; k++) sh += hPrev[k] * r(row, k);
          hr[row] = sh;
        }
        const hNext = new Float64Array(H);
        const cNext = new Float64Array(H);
        // GRU with linear_before_reset = 0 resets Ht-1 before the recurrent product: every unit's rt first.
        const rtAll = op === 'GRU' && !a.linear_before_reset ? Float64Array.from({ length: H }, (_, k) => f(clip(xw[H + k] + hr[H + k]))) : undefined;
        for (let j = 0; j < H; j++) {
          if (op === 'RNN') {
            hNext[j] = f(clip(xw[j] + hr[j]));
          } else if (op === 'LSTM') {
            const it = f(clip(xw[j] + hr[j] + p(0, j) * cPrev[j]));
            const ft = a.input_forget ? 1 - it : f(clip(xw[2 * H + j] + hr[2 * H + j] + p(2, j) * cPrev[j]));
            const ct = g(clip(xw[3 * H + j] + hr[3 * H + j]));
            cNext[j] = ft * cPrev[j] + it * ct;
            const ot = f(clip(xw[H + j] + hr[H + j] + p(1, j) * cNext[j]));
            hNext[j] = ot * h(cNext[j]);
          } else {
            const zt = f(clip(xw[j] + hr[j]));
            const rt = f(clip(xw[H + j] + hr[H + j]));
            let pre: number;
            if (a.linear_before_reset) {
              pre = xw[2 * H + j] + rt * hr[2 * H + j];
            } else {
              // (rt ⊙ Ht-1)·R_hᵀ + Rb_h: the reset applies before the recurrent product.
              pre = xw[2 * H + j] + rb(2 * H + j);
              for (let k = 0; k < H; k++) pre += rtAll![k] * hPrev[k] * r(2 * H + j, k);
            }
            const ht = g(clip(pre));
            hNext[j] = (1 - zt) * ht + zt * hPrev[j];
          }
          setY(t, d, b, j, hNext[j]);
        }
        hPrev = hNext;
        if (op === 'LSTM') cPrev = cNext;
      }
      // A sequence of length 0 has no last step: its Y_h / Y_c are 0, as ONNX Runtime gives them.
      for (let j = 0; j < H; j++) {
        setState(Yh, d, b, j, lens[b] ? hPrev[j] : 0);
        setState(Yc, d, b, j, lens[b] ? cPrev[j] : 0);
      }
    }
  }
  const yDims = a.layout === 0 ? [T, D, Bn, H] : [Bn, T, D, H];
  if (count(yDims) !== Y.length) throw new Error('runRecurrent: Y size');
  return { Y: floatValue(yDims, Y), Y_h: floatValue(stateDims, Yh), Y_c: op === 'LSTM' ? floatValue(stateDims, Yc) : undefined };
}
