/**
 * Where every parameter lives in the trainer's one flat GPU buffer (and, identically, in the gradient
 * and optimizer-state buffers), so an optimizer update is one dispatch over all of them. Sections, in
 * state_dict order, each starting on a 4-float boundary (vec4 loads):
 *   embedding.weight  (V, E) as PyTorch stores it
 *   rnn layer l       the packed layer the forward kernels read (gate-interleaved, see
 *                     src/gpu/layer-weights.ts): W_ih (D, I, H, 4), b_ih (D, H, 4), W_hh (D, H_out, H, 4),
 *                     b_hh (D, H, 4) — biases zero and never moved when bias=False, unused gate lanes zero;
 *                     then W_hr (D, P, H) with proj_size
 *   head.weight (O, F), head.bias (O)
 * pack / unpack convert between this and a state_dict by name.
 */
import { gateCount, numDirections, outputSize } from '../config.js';
import { GATE_LANES, interleaveGates, paramOffsets, type ParamOffsets } from '../gpu/layer-weights.js';
import { layerInputSize, paramName } from '../params.js';
import { type ModelConfig, modelParameterSpecs, rnnFeatures } from './config.js';

export interface RnnLayerSection {
  /** First float of the packed layer; its parts at offsets (in vec4 units) from there. */
  readonly start: number;
  readonly offsets: ParamOffsets;
  /** First float of W_hr (D, P, H), with proj_size. */
  readonly wHr?: number;
  readonly inputSize: number;
}

export interface FlatLayout {
  /** Floats in all. */
  readonly size: number;
  readonly embedding?: number;
  readonly layers: readonly RnnLayerSection[];
  readonly headWeight?: number;
  readonly headBias?: number;
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

export function flatLayout(model: ModelConfig): FlatLayout {
  const rnn = model.rnn;
  let at = 0;
  let embedding: number | undefined;
  if (model.embedding) {
    embedding = at;
    at = align4(at + model.embedding.num_embeddings * model.embedding.embedding_dim);
  }
  const layers: RnnLayerSection[] = [];
  for (let l = 0; l < rnn.num_layers; l++) {
    const offsets = paramOffsets(rnn, l);
    const start = at;
    at += offsets.total * GATE_LANES;
    let wHr: number | undefined;
    if (rnn.proj_size > 0) {
      wHr = at;
      at = align4(at + numDirections(rnn) * rnn.proj_size * rnn.hidden_size);
    }
    layers.push({ start, offsets, wHr, inputSize: layerInputSize(rnn, l) });
  }
  let headWeight: number | undefined;
  let headBias: number | undefined;
  if (model.head) {
    headWeight = at;
    at = align4(at + model.head.out_features * rnnFeatures(model));
    if (model.head.bias) {
      headBias = at;
      at = align4(at + model.head.out_features);
    }
  }
  return { size: at, embedding, layers, headWeight, headBias };
}

type Tensors = Readonly<Record<string, ArrayLike<number>>>;

/** A state_dict (by name) into the flat layout. */
export function pack(model: ModelConfig, layout: FlatLayout, params: Tensors): Float32Array {
  const out = new Float32Array(layout.size);
  if (layout.embedding !== undefined) out.set(params['embedding.weight'], layout.embedding);
  const rnn = model.rnn;
  const D = numDirections(rnn);
  const G = gateCount(rnn.mode);
  const H = rnn.hidden_size;
  const Hout = outputSize(rnn);
  layout.layers.forEach((s, l) => {
    const section = new Float32Array(s.offsets.total * GATE_LANES);
    const rows = (kind: 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh', per: number) => {
      const a = new Float32Array(D * per);
      if (kind.startsWith('bias') && !rnn.bias) return a;
      for (let d = 0; d < D; d++) a.set(params[`rnn.${paramName(kind, l, d)}`], d * per);
      return a;
    };
    interleaveGates(section, s.offsets.wIh, rows('weight_ih', G * H * s.inputSize), D, G, H, s.inputSize);
    interleaveGates(section, s.offsets.bIh, rows('bias_ih', G * H), D, G, H, 1);
    interleaveGates(section, s.offsets.wHh, rows('weight_hh', G * H * Hout), D, G, H, Hout);
    interleaveGates(section, s.offsets.bHh, rows('bias_hh', G * H), D, G, H, 1);
    out.set(section, s.start);
    if (s.wHr !== undefined) for (let d = 0; d < D; d++) out.set(params[`rnn.${paramName('weight_hr', l, d)}`], s.wHr + d * rnn.proj_size * H);
  });
  if (layout.headWeight !== undefined) out.set(params['head.weight'], layout.headWeight);
  if (layout.headBias !== undefined) out.set(params['head.bias'], layout.headBias);
  return out;
}

/** The flat layout back into a state_dict by name (each tensor a Float32Array in PyTorch's layout). */
export function unpack(model: ModelConfig, layout: FlatLayout, flat: Float32Array): Record<string, Float32Array> {
  const rnn = model.rnn;
  const D = numDirections(rnn);
  const G = gateCount(rnn.mode);
  const H = rnn.hidden_size;
  const Hout = outputSize(rnn);
  const out: Record<string, Float32Array> = {};
  const specs = new Map(modelParameterSpecs(model).map((s) => [s.name, s]));
  const size = (name: string) => specs.get(name)!.shape.reduce((a, b) => a * b, 1);
  if (layout.embedding !== undefined) out['embedding.weight'] = flat.slice(layout.embedding, layout.embedding + size('embedding.weight'));
  layout.layers.forEach((s, l) => {
    // Element (d, k, j) lane g of a packed part is row g·H + j, column k of direction d's (G·H, K) matrix.
    const part = (offset: number, K: number, kind: 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh') => {
      for (let d = 0; d < D; d++) {
        const m = new Float32Array(G * H * K);
        for (let g = 0; g < G; g++) {
          for (let j = 0; j < H; j++) {
            for (let k = 0; k < K; k++) m[(g * H + j) * K + k] = flat[s.start + (offset + (d * K + k) * H + j) * GATE_LANES + g];
          }
        }
        out[`rnn.${paramName(kind, l, d)}`] = m;
      }
    };
    part(s.offsets.wIh, s.inputSize, 'weight_ih');
    part(s.offsets.wHh, Hout, 'weight_hh');
    if (rnn.bias) {
      part(s.offsets.bIh, 1, 'bias_ih');
      part(s.offsets.bHh, 1, 'bias_hh');
    }
    if (s.wHr !== undefined) {
      for (let d = 0; d < D; d++) out[`rnn.${paramName('weight_hr', l, d)}`] = flat.slice(s.wHr + d * rnn.proj_size * H, s.wHr + (d + 1) * rnn.proj_size * H);
    }
  });
  if (layout.headWeight !== undefined) out['head.weight'] = flat.slice(layout.headWeight, layout.headWeight + size('head.weight'));
  if (layout.headBias !== undefined) out['head.bias'] = flat.slice(layout.headBias, layout.headBias + size('head.bias'));
  // state_dict order
  return Object.fromEntries([...specs.keys()].map((k) => [k, out[k]]));
}
