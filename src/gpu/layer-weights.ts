/**
 * Uploads one layer's parameters in the layout the kernels read: PyTorch's own row-major layout,
 * both directions stacked (forward first), f32. This is the only place weights change layout.
 *
 *   w_ih (D, G·H, I_l)   w_hh (D, G·H, H_out)   b_ih, b_hh (D, G·H), zeros when bias=False
 *   w_hr (D, P, H) when proj_size > 0
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

export function uploadLayerWeights(ctx: GpuContext, config: RnnConfig, weights: Weights, layer: number): LayerWeights {
  const GH = gateCount(config.mode) * config.hidden_size;
  const I = layerInputSize(config, layer);
  const Hout = outputSize(config);
  const label = (kind: string) => `RnnLayer${layer}.${kind}`;
  const upload = (kind: ParamKind, perDirection: number) =>
    ctx.storageFrom(label(kind), stacked(config, weights, kind, layer, perDirection));
  return {
    wIh: upload('weight_ih', GH * I),
    wHh: upload('weight_hh', GH * Hout),
    bIh: upload('bias_ih', GH),
    bHh: upload('bias_hh', GH),
    wHr: config.proj_size > 0 ? upload('weight_hr', config.proj_size * config.hidden_size) : undefined,
    inputSize: I,
  };
}

export function releaseLayerWeights(ctx: GpuContext, w: LayerWeights): void {
  for (const b of [w.wIh, w.wHh, w.bIh, w.bHh, w.wHr]) if (b) ctx.release(b);
}
