/**
 * A recurrent cell evaluated step by step in float64, from a model's parameters (PyTorch's names and
 * layouts), keeping every gate's activation so the page can show them ("the equations, running").
 * Written from PyTorch's equations (torch.nn.LSTM / GRU / RNN docs), gate rows stacked as PyTorch does:
 *
 *   LSTM  (4H rows: i, f, g, o)   i = σ(W_ii x + b_ii + W_hi h + b_hi)    f, o alike;  g = tanh(…)
 *                                 c' = f ⊙ c + i ⊙ g                     h' = o ⊙ tanh(c')
 *   GRU   (3H rows: r, z, n)      r = σ(W_ir x + b_ir + W_hr h + b_hr)    z alike
 *                                 n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
 *                                 h' = (1 − z) ⊙ n + z ⊙ h
 *   RNN   (H rows)                h' = tanh(W_ih x + b_ih + W_hh h + b_hh)   (relu for RNN_RELU)
 *
 * One sequence (batch 1), h₀ = c₀ = 0, stacked layers (layer l reads layer l − 1's h), one direction,
 * no projection: the next-character model's shapes. test/demo-cell-evaluator.test.ts checks every h_t
 * against the library's CPU backend.
 */
import type { ModelConfig, Tensor } from '../src/index.js';

/** One gate's (or state's) values: [t][unit]. */
export type Activations = number[][];

/** A layer's activations over the sequence, by symbol: i f g o c h (LSTM), r z n h (GRU), h (RNN). */
export type LayerGates = Record<string, Activations>;

/** The symbols each cell keeps, in the order the page shows them, and each one's range. */
export const GATE_SYMBOLS = {
  LSTM: ['i', 'f', 'g', 'o', 'c', 'h'],
  GRU: ['r', 'z', 'n', 'h'],
  RNN_TANH: ['h'],
  RNN_RELU: ['h'],
} as const;

/** σ gates lie in (0, 1), tanh values in (−1, 1); c is unbounded; a ReLU RNN's h in [0, ∞). */
export function gateRange(mode: ModelConfig['rnn']['mode'], symbol: string): [number, number] {
  if (symbol === 'i' || symbol === 'f' || symbol === 'o' || symbol === 'r' || symbol === 'z') return [0, 1];
  if (symbol === 'c') return [-Infinity, Infinity];
  if (mode === 'RNN_RELU') return [0, Infinity];
  return [-1, 1];
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** W (rows × cols, row-major) · v, rows [from, from + n), plus bias rows. */
function affine(w: ArrayLike<number>, cols: number, from: number, n: number, v: ArrayLike<number>, bias?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = bias ? bias[from + r] : 0;
    const row = (from + r) * cols;
    for (let k = 0; k < cols; k++) s += w[row + k] * v[k];
    out[r] = s;
  }
  return out;
}

function param(params: Record<string, Tensor>, name: string): ArrayLike<number> {
  const p = params[name];
  if (!p) throw new Error(`cell evaluator: the model has no parameter ${name}`);
  return p.data;
}

/**
 * Runs the model's embedding and recurrent layers over `tokens` (one sequence): every layer's gates
 * and states at every step. `model` must have an embedding, one direction and no projection.
 */
export function evaluateCells(model: ModelConfig, params: Record<string, Tensor>, tokens: ArrayLike<number>): LayerGates[] {
  const { rnn } = model;
  if (!model.embedding) throw new Error('cell evaluator: the model reads token ids through an embedding');
  if (rnn.bidirectional || rnn.proj_size > 0) throw new Error('cell evaluator: one direction, no projection');
  const E = model.embedding.embedding_dim;
  const H = rnn.hidden_size;
  const embedding = param(params, 'embedding.weight');
  let inputs: Float64Array[] = Array.from(tokens, (id) => Float64Array.from({ length: E }, (_, k) => embedding[id * E + k]));
  const layers: LayerGates[] = [];
  for (let l = 0; l < rnn.num_layers; l++) {
    const I = l === 0 ? rnn.input_size : H;
    const wih = param(params, `rnn.weight_ih_l${l}`);
    const whh = param(params, `rnn.weight_hh_l${l}`);
    const bih = rnn.bias ? param(params, `rnn.bias_ih_l${l}`) : undefined;
    const bhh = rnn.bias ? param(params, `rnn.bias_hh_l${l}`) : undefined;
    const symbols = GATE_SYMBOLS[rnn.mode];
    const gates: LayerGates = Object.fromEntries(symbols.map((s) => [s, [] as number[][]]));
    let h = new Float64Array(H);
    let c = new Float64Array(H);
    for (const x of inputs) {
      const at = (gate: number) => {
        const a = affine(wih, I, gate * H, H, x, bih);
        const b = affine(whh, H, gate * H, H, h, bhh);
        return { a, b };
      };
      const next = new Float64Array(H);
      if (rnn.mode === 'LSTM') {
        const [i, f, g, o] = [0, 1, 2, 3].map((k) => {
          const { a, b } = at(k);
          return a.map((v, u) => (k === 2 ? Math.tanh(v + b[u]) : sigmoid(v + b[u])));
        });
        const cNext = c.map((cu, u) => f[u] * cu + i[u] * g[u]);
        for (let u = 0; u < H; u++) next[u] = o[u] * Math.tanh(cNext[u]);
        for (const [s, v] of [
          ['i', i],
          ['f', f],
          ['g', g],
          ['o', o],
          ['c', cNext],
        ] as const)
          gates[s].push(Array.from(v));
        c = cNext;
      } else if (rnn.mode === 'GRU') {
        const r = at(0);
        const z = at(1);
        const n = at(2);
        const rv = r.a.map((v, u) => sigmoid(v + r.b[u]));
        const zv = z.a.map((v, u) => sigmoid(v + z.b[u]));
        const nv = n.a.map((v, u) => Math.tanh(v + rv[u] * n.b[u]));
        for (let u = 0; u < H; u++) next[u] = (1 - zv[u]) * nv[u] + zv[u] * h[u];
        for (const [s, v] of [
          ['r', rv],
          ['z', zv],
          ['n', nv],
        ] as const)
          gates[s].push(Array.from(v));
      } else {
        const { a, b } = at(0);
        for (let u = 0; u < H; u++) next[u] = rnn.mode === 'RNN_RELU' ? Math.max(0, a[u] + b[u]) : Math.tanh(a[u] + b[u]);
      }
      gates.h.push(Array.from(next));
      h = next;
    }
    layers.push(gates);
    inputs = gates.h.map((v) => Float64Array.from(v));
  }
  return layers;
}

/** The head's logits at every step from the last layer's h (O × D weights): what trainer.predict gives. */
export function headLogits(model: ModelConfig, params: Record<string, Tensor>, top: Activations): number[][] {
  if (!model.head) throw new Error('cell evaluator: the model has no head');
  const w = param(params, 'head.weight');
  const b = model.head.bias ? param(params, 'head.bias') : undefined;
  const D = top[0]?.length ?? 0;
  return top.map((h) => Array.from(affine(w, D, 0, model.head!.out_features, h, b)));
}
