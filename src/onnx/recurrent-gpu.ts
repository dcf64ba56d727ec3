/**
 * A recurrent ONNX node on the inference engine (createRnn: the fused GPU kernels, PyTorch's
 * equations), where the node's attributes are ones those equations cover: the default activations
 * (RNN: Tanh, or Relu as RNN_RELU), no clip, no input_forget, no peepholes (or all-zero ones),
 * GRU linear_before_reset = 1 (PyTorch's GRU), any direction (reverse runs forward on each sequence
 * reversed in time, and its outputs are reversed back). Everything else runs on recurrent.ts's
 * float64 path; `gpuUnfit` says why. Weights from initializers are uploaded
 * once, at load; weights that arrive as graph inputs (as in ONNX's own tests), at each run.
 *
 * The gate blocks are reordered once at load from ONNX's (LSTM i, o, f, c; GRU z, r, h) to
 * PyTorch's (LSTM i, f, g, o; GRU r, z, n) — the one table of the two orders, also used by export.
 */
import { type RnnConfig, resolveConfig } from '../config.js';
import { type Rnn, createRnn } from '../rnn.js';
import type { Backend } from '../api.js';
import type { Tensor } from '../tensor.js';
import { ACTIVATION_COUNT, DEFAULT_ACTIVATIONS, GATES, type RecurrentAttributes, type RecurrentOp, activationName } from './recurrent.js';
import { type OnnxValue, floatValue } from './values.js';

/** For each PyTorch gate block (in PyTorch's order), the ONNX gate block it comes from. */
export const PYTORCH_FROM_ONNX_GATES: Record<RecurrentOp, readonly number[]> = { LSTM: [0, 2, 3, 1], GRU: [1, 0, 2], RNN: [0] };

/** Why the engine cannot run this node, or undefined. `P` is the peephole initializer, if any. */
export function gpuUnfit(op: RecurrentOp, a: RecurrentAttributes, P: OnnxValue | undefined): string | undefined {
  const D = a.direction === 'bidirectional' ? 2 : 1;
  const names = (a.activations.length ? a.activations : Array.from({ length: D }, () => DEFAULT_ACTIVATIONS[op]).flat()).map((n) => activationName(n) ?? n);
  const defaults = Array.from({ length: D }, () => DEFAULT_ACTIVATIONS[op]).flat();
  const relu = op === 'RNN' && names.every((n) => n === 'Relu');
  if (!relu && names.join() !== defaults.join())
    return `activations ${names.join(', ')} (the GPU kernels have ${defaults.slice(0, ACTIVATION_COUNT[op]).join(', ')}${op === 'RNN' ? ' or Relu' : ''})`;
  if (a.clip !== undefined) return 'clip';
  if (a.input_forget) return 'input_forget';
  if (op === 'GRU' && !a.linear_before_reset) return "linear_before_reset = 0 (the GPU kernels compute PyTorch's GRU, linear_before_reset = 1)";
  if (P?.data.some((v) => v !== 0)) return 'peepholes';
  return undefined;
}

/** One recurrent node's weights as ONNX has them: W (D, G·H, I), R (D, G·H, H), B (D, 2·G·H) or none. */
export interface OnnxLayerWeights {
  W: OnnxValue;
  R: OnnxValue;
  B?: OnnxValue;
}

/**
 * PyTorch's configuration and state_dict for a stack of nodes with the same attributes, node k as
 * layer k (a single node is a stack of one): the gate blocks reordered, missing biases zero.
 */
export function pytorchModule(
  op: RecurrentOp,
  a: RecurrentAttributes,
  layers: readonly OnnxLayerWeights[],
): { config: RnnConfig; weights: Record<string, Tensor> } {
  const D = a.direction === 'bidirectional' ? 2 : 1;
  const H = a.hidden_size;
  const G = GATES[op];
  const mode = op === 'RNN' ? (a.activations[0] && activationName(a.activations[0]) === 'Relu' ? 'RNN_RELU' : 'RNN_TANH') : op;
  const config = resolveConfig({
    mode,
    input_size: layers[0].W.dims[2],
    hidden_size: H,
    num_layers: layers.length,
    bias: true,
    batch_first: a.layout === 1,
    bidirectional: D === 2,
  });
  const order = PYTORCH_FROM_ONNX_GATES[op];
  const blocks = (src: Float64Array, offset: number, cols: number) => {
    const out = new Float32Array(G * H * cols);
    order.forEach((from, to) => out.set(src.subarray(offset + from * H * cols, offset + (from + 1) * H * cols), to * H * cols));
    return out;
  };
  const weights: Record<string, Tensor> = {};
  layers.forEach(({ W, R, B }, l) => {
    const I = W.dims[2];
    for (let d = 0; d < D; d++) {
      const suffix = `_l${l}${d === 1 ? '_reverse' : ''}`;
      weights[`weight_ih${suffix}`] = { shape: [G * H, I], data: blocks(W.data, d * G * H * I, I) };
      weights[`weight_hh${suffix}`] = { shape: [G * H, H], data: blocks(R.data, d * G * H * H, H) };
      weights[`bias_ih${suffix}`] = { shape: [G * H], data: B ? blocks(B.data, d * 2 * G * H, 1) : new Float32Array(G * H) };
      weights[`bias_hh${suffix}`] = { shape: [G * H], data: B ? blocks(B.data, d * 2 * G * H + G * H, 1) : new Float32Array(G * H) };
    }
  });
  return { config, weights };
}

/** (a, b, c) → (b, a, c) */
function swap01(v: Float64Array | Float32Array, A: number, Bn: number, C: number): Float64Array {
  const out = new Float64Array(A * Bn * C);
  for (let i = 0; i < A; i++) for (let j = 0; j < Bn; j++) for (let k = 0; k < C; k++) out[(j * A + i) * C + k] = v[(i * Bn + j) * C + k];
  return out;
}

/**
 * Recurrent nodes on one engine model: a single node, or a stack of nodes PyTorch's exporter wrote for
 * a multi-layer module (node k's Y, squeezed or transposed and reshaped to (seq, batch, D·H), is node
 * k + 1's X), run as one multi-layer forward — the layers' outputs stay on the GPU, as in createRnn.
 */
export class GpuRecurrentNode {
  private constructor(
    private readonly op: RecurrentOp,
    private readonly a: RecurrentAttributes,
    private readonly layers: number,
    private readonly rnn: Rnn,
  ) {}

  static async create(
    op: RecurrentOp,
    a: RecurrentAttributes,
    layers: readonly OnnxLayerWeights[],
    backend: Backend,
    device?: GPUDevice,
  ): Promise<GpuRecurrentNode> {
    if (layers.length > 1 && a.direction === 'reverse') throw new Error('GpuRecurrentNode: a stack of reverse nodes is not a PyTorch module');
    const { config, weights } = pytorchModule(op, a, layers);
    return new GpuRecurrentNode(op, a, layers.length, await createRnn({ config, weights, backend, device }));
  }

  /**
   * The first node's X, the shared sequence_lens, each node's initial_h / initial_c (undefined: zeros);
   * returns the last node's Y and every node's Y_h and Y_c.
   */
  async run(
    X: OnnxValue,
    lens: OnnxValue | undefined,
    initialH: ReadonlyArray<OnnxValue | undefined>,
    initialC: ReadonlyArray<OnnxValue | undefined>,
  ): Promise<{ Y: OnnxValue; Y_h: OnnxValue[]; Y_c?: OnnxValue[] }> {
    const { a, layers } = this;
    const D = a.direction === 'bidirectional' ? 2 : 1;
    const H = a.hidden_size;
    const [T, Bn] = a.layout === 0 ? [X.dims[0], X.dims[1]] : [X.dims[1], X.dims[0]];
    // Each node's (D, batch, H) state (layout 1: (batch, D, H)) as rows l·D … of PyTorch's (L·D, batch, H).
    const states = (per: ReadonlyArray<OnnxValue | undefined>) => {
      if (per.every((v) => v === undefined)) return undefined;
      const data = new Float32Array(layers * D * Bn * H);
      per.forEach((v, l) => v && data.set(a.layout === 0 ? v.data : swap01(v.data, Bn, D, H), l * D * Bn * H));
      return { shape: [layers * D, Bn, H], data };
    };
    const lengths = lens ? Int32Array.from(lens.data) : undefined;
    // Reverse: a forward pass over each sequence's valid steps in reverse order is the reverse
    // direction (same states, same final state); its outputs go back to their own time steps.
    const reverse = a.direction === 'reverse' ? (v: ArrayLike<number>, F: number) => reverseInTime(v, T, Bn, F, a.layout, lengths) : undefined;
    const x = reverse ? reverse(X.data, X.dims[2]) : Float32Array.from(X.data);
    const r = await this.rnn.forward(
      { shape: [...X.dims], data: x },
      {
        h0: states(initialH),
        c0: this.op === 'LSTM' ? states(initialC) : undefined,
        lengths,
      },
    );
    const out = reverse ? reverse(r.output.data, D * H) : r.output.data;
    // The engine's output is (T, B, D·H) — or (B, T, D·H) batch-first, which is ONNX's layout-1 Y as it is.
    const Y = a.layout === 0 ? floatValue([T, D, Bn, H], transposeTBDH(out, T, Bn, D, H)) : floatValue([Bn, T, D, H], out);
    const perLayer = (t: Tensor) =>
      Array.from({ length: layers }, (_, l) => {
        const rows = t.data.subarray(l * D * Bn * H, (l + 1) * D * Bn * H);
        return floatValue(a.layout === 0 ? [D, Bn, H] : [Bn, D, H], a.layout === 0 ? rows : swap01(rows, D, Bn, H));
      });
    return { Y, Y_h: perLayer(r.h_n), Y_c: r.c_n && perLayer(r.c_n) };
  }

  destroy(): void {
    this.rnn.destroy();
  }
}

/**
 * Each sequence's first `lengths[b]` steps (all T without lengths) in reverse order, the rest as they
 * are: (T, B, F) for layout 0, (B, T, F) for layout 1. Its own inverse.
 */
function reverseInTime(v: ArrayLike<number>, T: number, Bn: number, F: number, layout: 0 | 1, lengths?: Int32Array): Float32Array {
  const out = Float32Array.from(v);
  const at = (t: number, b: number) => (layout === 0 ? t * Bn + b : b * T + t) * F;
  for (let b = 0; b < Bn; b++) {
    const len = lengths ? lengths[b] : T;
    for (let t = 0; t < len; t++) {
      const [to, from] = [at(t, b), at(len - 1 - t, b)];
      for (let k = 0; k < F; k++) out[to + k] = v[from + k];
    }
  }
  return out;
}

/** (T, B, D, H) → (T, D, B, H) */
function transposeTBDH(v: ArrayLike<number>, T: number, Bn: number, D: number, H: number): Float64Array {
  const out = new Float64Array(T * D * Bn * H);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < Bn; b++)
      for (let d = 0; d < D; d++) for (let j = 0; j < H; j++) out[((t * D + d) * Bn + b) * H + j] = v[((t * Bn + b) * D + d) * H + j];
  return out;
}
