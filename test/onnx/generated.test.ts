// Single LSTM / GRU / RNN nodes with random weights for what ONNX's own tests lack (and whose uniform
// weights cannot tell gate orders apart): reverse and bidirectional directions, real sequence_lens
// (0 included), clip, GRU linear_before_reset 0 and 1, input_forget, non-zero peepholes, every
// activation with alpha / beta, layout 1 with initial states. Each model is written with the
// library's graph builder; ONNX Runtime (its WebAssembly build) runs it as the independent reference;
// loadOnnx runs it on the CPU backend and on WebGPU (the GPU where the kernels cover the node).
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../../src/onnx/model.js';
import { GATES, type RecurrentOp } from '../../src/onnx/recurrent.js';
import { DataType } from '../../src/onnx/schema.js';
import { GraphBuilder } from '../../src/onnx/write.js';
import { seededUniform } from '../../src/random.js';
import type { IntTensor, Tensor } from '../../src/tensor.js';
import { expectClose } from '../support/compare.js';
import { runOrt } from '../support/ort.js';

interface Case {
  name: string;
  op: RecurrentOp;
  H: number;
  I: number;
  T: number;
  B: number;
  attrs?: Record<string, number | string | string[] | { floats: number[] }>;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  layout?: 0 | 1;
  lens?: number[];
  initial?: boolean;
  peepholes?: boolean;
  bias?: boolean;
  /** Where loadOnnx on WebGPU must run it: the engine, or the float64 path. */
  gpu: boolean;
}

const CASES: Case[] = [
  { name: 'lstm forward, bias, initial states', op: 'LSTM', H: 5, I: 3, T: 6, B: 3, initial: true, gpu: true },
  { name: 'lstm bidirectional, sequence_lens', op: 'LSTM', H: 4, I: 3, T: 5, B: 3, direction: 'bidirectional', lens: [5, 2, 4], initial: true, gpu: true },
  { name: 'lstm reverse', op: 'LSTM', H: 4, I: 2, T: 5, B: 2, direction: 'reverse', gpu: true },
  { name: 'lstm reverse, sequence_lens, initial states', op: 'LSTM', H: 4, I: 3, T: 5, B: 3, direction: 'reverse', lens: [5, 2, 4], initial: true, gpu: true },
  { name: 'lstm clip', op: 'LSTM', H: 3, I: 2, T: 4, B: 2, attrs: { clip: 0.4 }, gpu: false },
  { name: 'lstm input_forget', op: 'LSTM', H: 3, I: 2, T: 4, B: 2, attrs: { input_forget: 1 }, gpu: false },
  {
    name: 'lstm peepholes (non-zero), bidirectional, lengths',
    op: 'LSTM',
    H: 3,
    I: 2,
    T: 4,
    B: 3,
    direction: 'bidirectional',
    peepholes: true,
    lens: [4, 1, 3],
    gpu: false,
  },
  {
    name: 'lstm activations HardSigmoid / Elu / ScaledTanh with alpha, beta',
    op: 'LSTM',
    H: 3,
    I: 2,
    T: 4,
    B: 2,
    attrs: { activations: ['HardSigmoid', 'Elu', 'ScaledTanh'], activation_alpha: { floats: [0.3, 0.8, 1.2] }, activation_beta: { floats: [0.4, 0.9] } },
    gpu: false,
  },
  {
    name: 'lstm layout 1 with initial states, bidirectional',
    op: 'LSTM',
    H: 4,
    I: 3,
    T: 5,
    B: 2,
    layout: 1,
    direction: 'bidirectional',
    initial: true,
    gpu: true,
  },
  {
    name: "gru linear_before_reset 1 (PyTorch's), bidirectional, lengths",
    op: 'GRU',
    H: 5,
    I: 3,
    T: 6,
    B: 3,
    direction: 'bidirectional',
    lens: [6, 3, 1],
    initial: true,
    attrs: { linear_before_reset: 1 },
    gpu: true,
  },
  { name: 'gru linear_before_reset 0', op: 'GRU', H: 4, I: 3, T: 5, B: 2, initial: true, gpu: false },
  {
    name: 'gru reverse, layout 1, initial states, sequence_lens',
    op: 'GRU',
    H: 3,
    I: 2,
    T: 4,
    B: 2,
    direction: 'reverse',
    layout: 1,
    initial: true,
    lens: [2, 4],
    attrs: { linear_before_reset: 1 },
    gpu: true,
  },
  {
    name: 'gru activations LeakyRelu / Softsign, clip',
    op: 'GRU',
    H: 3,
    I: 2,
    T: 4,
    B: 2,
    attrs: { activations: ['LeakyRelu', 'Softsign'], activation_alpha: { floats: [0.2] }, clip: 0.7 },
    gpu: false,
  },
  {
    name: 'rnn tanh, bidirectional, lengths with a zero',
    op: 'RNN',
    H: 4,
    I: 3,
    T: 5,
    B: 3,
    direction: 'bidirectional',
    lens: [5, 0, 2],
    initial: true,
    gpu: true,
  },
  { name: 'rnn relu', op: 'RNN', H: 4, I: 3, T: 5, B: 2, attrs: { activations: ['Relu'] }, gpu: true },
  {
    name: 'rnn Affine, ThresholdedRelu, Softplus, Sigmoid across directions',
    op: 'RNN',
    H: 3,
    I: 2,
    T: 4,
    B: 2,
    direction: 'bidirectional',
    attrs: { activations: ['Affine', 'ThresholdedRelu'], activation_alpha: { floats: [0.7, 0.1] }, activation_beta: { floats: [0.2] } },
    gpu: false,
  },
  {
    name: 'rnn Softplus / Sigmoid',
    op: 'RNN',
    H: 3,
    I: 2,
    T: 4,
    B: 2,
    direction: 'bidirectional',
    attrs: { activations: ['Softplus', 'Sigmoid'] },
    gpu: false,
  },
  { name: 'lstm without bias', op: 'LSTM', H: 3, I: 2, T: 3, B: 2, bias: false, gpu: true },
];

/** (a, b, …) → (b, a, …) of a feed or an output. */
function swap01(t: Tensor | IntTensor): Tensor {
  const [A, B, ...rest] = t.shape;
  const inner = rest.reduce((x, y) => x * y, 1);
  const data = t.data as ArrayLike<number>;
  const out = new Float32Array(data.length);
  for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) for (let k = 0; k < inner; k++) out[(b * A + a) * inner + k] = data[(a * B + b) * inner + k];
  return { shape: [B, A, ...rest], data: out };
}

async function build(c: Case, seed: number): Promise<{ bytes: Uint8Array; feeds: Record<string, Tensor | IntTensor> }> {
  const next = seededUniform(seed);
  const r = (n: number, scale = 0.6) => Float32Array.from({ length: n }, () => (2 * next() - 1) * scale);
  const D = c.direction === 'bidirectional' ? 2 : 1;
  const G = GATES[c.op];
  const layout = c.layout ?? 0;
  const g = new GraphBuilder();
  const xDims = layout === 0 ? [c.T, c.B, c.I] : [c.B, c.T, c.I];
  const sDims = layout === 0 ? [D, c.B, c.H] : [c.B, D, c.H];
  g.io('inputs', 'X', DataType.FLOAT, xDims);
  const feeds: Record<string, Tensor | IntTensor> = { X: { shape: xDims, data: r(c.T * c.B * c.I, 1) } };
  const inputs = [
    'X',
    g.floats('W', [D, G * c.H, c.I], r(D * G * c.H * c.I)),
    g.floats('R', [D, G * c.H, c.H], r(D * G * c.H * c.H)),
    c.bias === false ? '' : g.floats('B', [D, 2 * G * c.H], r(D * 2 * G * c.H, 0.3)),
  ];
  if (c.lens) {
    g.io('inputs', 'sequence_lens', DataType.INT32, [c.B]);
    feeds.sequence_lens = { shape: [c.B], data: Int32Array.from(c.lens) };
  }
  inputs.push(c.lens ? 'sequence_lens' : '');
  if (c.initial) {
    g.io('inputs', 'initial_h', DataType.FLOAT, sDims);
    feeds.initial_h = { shape: sDims, data: r(D * c.B * c.H) };
  }
  inputs.push(c.initial ? 'initial_h' : '');
  if (c.op === 'LSTM') {
    if (c.initial) {
      g.io('inputs', 'initial_c', DataType.FLOAT, sDims);
      feeds.initial_c = { shape: sDims, data: r(D * c.B * c.H) };
    }
    inputs.push(c.initial ? 'initial_c' : '', c.peepholes ? g.floats('P', [D, 3 * c.H], r(D * 3 * c.H)) : '');
  }
  const outputs = ['Y', 'Y_h', ...(c.op === 'LSTM' ? ['Y_c'] : [])];
  g.node(c.op, inputs, outputs, { hidden_size: c.H, direction: c.direction ?? 'forward', ...(layout ? { layout } : {}), ...c.attrs });
  const yDims = layout === 0 ? [c.T, D, c.B, c.H] : [c.B, c.T, D, c.H];
  g.io('outputs', 'Y', DataType.FLOAT, yDims);
  for (const o of outputs.slice(1)) g.io('outputs', o, DataType.FLOAT, sDims);
  return { bytes: await g.bytes(c.name), feeds };
}

/** Y of layout 0 (seq, D, batch, H) → layout 1 (batch, seq, D, H). */
function swapY(t: Tensor): Tensor {
  const [T, D, B, H] = t.shape;
  const out = new Float64Array(t.data.length);
  for (let s = 0; s < T; s++)
    for (let d = 0; d < D; d++)
      for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) out[((b * T + s) * D + d) * H + j] = t.data[((s * D + d) * B + b) * H + j];
  return { shape: [B, T, D, H], data: out };
}

describe('generated ONNX recurrent nodes vs ONNX Runtime', () => {
  it.each(
    CASES.flatMap(
      (c, i) =>
        [
          [c.name, 'cpu', c, i],
          [c.name, 'webgpu', c, i],
        ] as const,
    ),
  )('%s on %s', async (_name, backend, c, i) => {
    const { bytes, feeds } = await build(c, 100 + i);
    // ONNX Runtime runs layout 0 only: for layout 1 its reference is the layout-0 twin (same weights,
    // the batch and sequence axes of X, the states and Y swapped), which is what layout 1 means.
    let want: Record<string, Tensor>;
    if (c.layout === 1) {
      const twin = await build({ ...c, layout: 0 }, 100 + i);
      const swapped = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, k === 'sequence_lens' ? v : swap01(v)]));
      const out = await runOrt(twin.bytes, swapped, ['sequence_lens']);
      want = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, k === 'Y' ? swapY(v) : swap01(v)]));
    } else {
      want = await runOrt(bytes, feeds, ['sequence_lens']);
    }
    const m = await loadOnnx(bytes, { backend });
    try {
      expect(m.placement[0].runsOn.startsWith(backend === 'webgpu' && c.gpu ? 'webgpu' : backend === 'cpu' && c.gpu ? 'cpu' : 'float64')).toBe(true);
      const got = await m.run(feeds);
      // ONNX Runtime computes in float32: both sides carry its rounding.
      for (const name of Object.keys(want)) expectClose(`${c.name} ${name}`, got[name] as Tensor, want[name], c.gpu && backend === 'webgpu' ? 1e-4 : 2e-5);
    } finally {
      m.destroy();
    }
  });
});
