/**
 * Uploads one layer's parameters in the layout the kernels read: PyTorch's own row-major layout,
 * both directions stacked (forward first), f32. This is the only place weights change layout.
 *
 *   w_ih (D, I_l, H, 4)  b_ih (D, H, 4)     gate-interleaved: lane g of element (d, k, j) is
 *   w_hh (D, H_out, H, 4) b_hh (D, H, 4)    W[g·H + j, k] of PyTorch's (G·H, K) matrix; lanes past G
 *                                           are zero (GRU uses 3 lanes, RNN 1)
 *   w_hr (D, P, H) when proj_size > 0
 * Biases are zeros when bias=False.
 */
import { type RnnConfig, gateCount, numDirections, outputSize } from '../config.js';
import { type ParamKind, type Weights, layerInputSize, paramName } from '../params.js';
import type { GpuContext } from './context.js';

export interface LayerWeights {
  readonly wIh: GPUBuffer;
  readonly wHh: GPUBuffer;
  readonly bIh: GPUBuffer;
  readonly bHh: GPUBuffer;
  readonly wHr?: GPUBuffer;
  /** Input feature size of this layer. */
  readonly inputSize: number;
}

/** Stacks one parameter kind over directions into an f32 array; zeros where the model has no bias. */
function stacked(config: RnnConfig, weights: Weights, kind: ParamKind, layer: number, perDirection: number): Float32Array {
  const D = numDirections(config);
  const out = new Float32Array(D * perDirection);
  const absent = (kind === 'bias_ih' || kind === 'bias_hh') && !config.bias;
  if (!absent) for (let d = 0; d < D; d++) out.set(weights[paramName(kind, layer, d)].data, d * perDirection);
  return out;
}

/** Lanes of a gate-interleaved element: every mode's gates fit one vec4. */
export const GATE_LANES = 4;

/**
 * (D, G·H, K) rows → (D, K, H, 4): for each direction, column k and unit j, the G gate rows' weights
 * side by side, so a kernel reads all gates of one unit with one vec4 load. Works for biases with K = 1.
 */
export function interleaveGates(rows: Float32Array, D: number, G: number, H: number, K: number): Float32Array {
  const out = new Float32Array(D * K * H * GATE_LANES);
  for (let d = 0; d < D; d++) {
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < H; j++) {
        const src = ((d * G + g) * H + j) * K;
        for (let k = 0; k < K; k++) out[((d * K + k) * H + j) * GATE_LANES + g] = rows[src + k];
      }
    }
  }
  return out;
}

export function uploadLayerWeights(ctx: GpuContext, config: RnnConfig, weights: Weights, layer: number): LayerWeights {
  const GH = gateCount(config.mode) * config.hidden_size;
  const I = layerInputSize(config, layer);
  const Hout = outputSize(config);
  const label = (kind: string) => `RnnLayer${layer}.${kind}`;
  const G = gateCount(config.mode);
  const D = numDirections(config);
  const H = config.hidden_size;
  const rows = (kind: ParamKind, perDirection: number) => stacked(config, weights, kind, layer, perDirection);
  return {
    wIh: ctx.storageFrom(label('weight_ih'), interleaveGates(rows('weight_ih', GH * I), D, G, H, I)),
    wHh: ctx.storageFrom(label('weight_hh'), interleaveGates(rows('weight_hh', GH * Hout), D, G, H, Hout)),
    bIh: ctx.storageFrom(label('bias_ih'), interleaveGates(rows('bias_ih', GH), D, G, H, 1)),
    bHh: ctx.storageFrom(label('bias_hh'), interleaveGates(rows('bias_hh', GH), D, G, H, 1)),
    wHr: config.proj_size > 0 ? ctx.storageFrom(label('weight_hr'), rows('weight_hr', config.proj_size * H)) : undefined,
    inputSize: I,
  };
}

export function releaseLayerWeights(ctx: GpuContext, w: LayerWeights): void {
  for (const b of [w.wIh, w.wHh, w.bIh, w.bHh, w.wHr]) if (b) ctx.release(b);
}
