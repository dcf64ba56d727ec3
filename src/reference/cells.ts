/**
 * Float64 reference cells, written straight from PyTorch's documented equations (nn.RNN, nn.LSTM,
 * nn.GRU) and independent of the shaders. One call advances one sequence (one batch row) one step.
 *
 *   RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh)                         act = tanh | relu
 *   LSTM: i,f,g,o = σ,σ,tanh,σ of (W_ih x + b_ih + W_hh h + b_hh) rows [i; f; g; o]
 *         c' = f⊙c + i⊙g,   h' = o⊙tanh(c'),   then h' = W_hr h' when proj_size > 0
 *   GRU:  r,z = σ of (W_ih x + b_ih + W_hh h + b_hh) rows [r; z]
 *         n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)),   h' = (1 − z)⊙n + z⊙h
 */
import { type RnnMode, gateCount } from '../config.js';

/** One direction of one layer, weights as PyTorch stores them (row-major). */
export interface CellWeights {
  /** (G·H, I) */ readonly weightIh: ArrayLike<number>;
  /** (G·H, H_out) */ readonly weightHh: ArrayLike<number>;
  /** (G·H) or undefined when bias=False */ readonly biasIh?: ArrayLike<number>;
  /** (G·H) or undefined when bias=False */ readonly biasHh?: ArrayLike<number>;
  /** (P, H) or undefined without projection */ readonly weightHr?: ArrayLike<number>;
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** H_out: proj_size when projecting, else hidden_size. */
  readonly outSize: number;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** y (rows) = W (rows × cols) · v[vOffset …] (cols) + b. */
export function affine(
  W: ArrayLike<number>,
  cols: number,
  v: ArrayLike<number>,
  vOffset: number,
  b: ArrayLike<number> | undefined,
  rows: number,
): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = b ? b[r] : 0;
    const base = r * cols;
    for (let k = 0; k < cols; k++) acc += W[base + k] * v[vOffset + k];
    y[r] = acc;
  }
  return y;
}

/**
 * One step's activations from gi = W_ih x + b_ih and gh = W_hh h + b_hh (each G·H rows), the previous
 * h (H_out) and c (H, LSTM): the new h — for an LSTM before the projection (o ⊙ tanh c') — the new c
 * (LSTM; the previous one otherwise), and the gates as the backward pass needs them (LSTM i, f, g, o;
 * GRU r, z, n; RNN h').
 */
export function cellUpdate(
  mode: RnnMode,
  H: number,
  gi: Float64Array,
  gh: Float64Array,
  hPrev: ArrayLike<number>,
  cPrev: Float64Array,
): { h: Float64Array; c: Float64Array; gates: Float64Array } {
  const gates = new Float64Array(gateRows(mode, H));
  const h = new Float64Array(H);
  switch (mode) {
    case 'RNN_TANH':
    case 'RNN_RELU':
      for (let j = 0; j < H; j++) {
        const pre = gi[j] + gh[j];
        h[j] = mode === 'RNN_TANH' ? Math.tanh(pre) : Math.max(0, pre);
        gates[j] = h[j];
      }
      return { h, c: cPrev, gates };
    case 'LSTM': {
      const c = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gi[j] + gh[j]);
        const f = sigmoid(gi[H + j] + gh[H + j]);
        const g = Math.tanh(gi[2 * H + j] + gh[2 * H + j]);
        const o = sigmoid(gi[3 * H + j] + gh[3 * H + j]);
        gates[j] = i;
        gates[H + j] = f;
        gates[2 * H + j] = g;
        gates[3 * H + j] = o;
        c[j] = f * cPrev[j] + i * g;
        h[j] = o * Math.tanh(c[j]);
      }
      return { h, c, gates };
    }
    case 'GRU':
      for (let j = 0; j < H; j++) {
        const r = sigmoid(gi[j] + gh[j]);
        const z = sigmoid(gi[H + j] + gh[H + j]);
        const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
        gates[j] = r;
        gates[H + j] = z;
        gates[2 * H + j] = n;
        h[j] = (1 - z) * n + z * hPrev[j];
      }
      return { h, c: cPrev, gates };
  }
}

/**
 * Advances one sequence by one step. `x` at `xOffset` holds I features; `h` (H_out) and `c` (H, LSTM
 * only) are updated in place.
 */
export function cellStep(mode: RnnMode, w: CellWeights, x: ArrayLike<number>, xOffset: number, h: Float64Array, c: Float64Array): void {
  const H = w.hiddenSize;
  const gi = affine(w.weightIh, w.inputSize, x, xOffset, w.biasIh, gateRows(mode, H)); // W_ih x + b_ih
  const gh = affine(w.weightHh, w.outSize, h, 0, w.biasHh, gateRows(mode, H)); // W_hh h + b_hh
  const next = cellUpdate(mode, H, gi, gh, h, c);
  if (mode === 'LSTM') c.set(next.c);
  h.set(w.weightHr ? affine(w.weightHr, H, next.h, 0, undefined, w.outSize) : next.h);
}

function gateRows(mode: RnnMode, H: number): number {
  return gateCount(mode) * H;
}
