/**
 * Uploads one layer's parameters in the layout the kernels read. This is the only place weights
 * change layout. Per layer, one buffer `params` of vec4 elements holds, in this order:
 *
 *   w_ih (D, I_l, H)    b_ih (D, H)    w_hh (D, H_out, H)    b_hh (D, H)
 *
 * gate-interleaved: lane g of element (d, k, j) is W[g·H + j, k] of PyTorch's (G·H, K) matrix, so
 * a kernel reads all gates of unit j for one k with one vec4 load, contiguous across consecutive j.
 * Lanes past the gate count are zero (GRU uses 3 lanes, RNN 1). Biases are zeros when bias=False.
 * With proj_size, w_hr (D, P, H) is a separate buffer in PyTorch's layout. Elements are f32, or
 * binary16 with precision 'f16' (rounded to nearest even here, once; kernels read the same bytes
 * as f16 or as packed u32 words, see shaders/weights-*.wgsl).
 */
import { type RnnConfig, gateCount, numDirections, outputSize } from '../config.js';
import { type ParamKind, type Weights, layerInputSize, paramName } from '../params.js';
import { toFloat16Array } from '../float16.js';
import { TextureUsage } from './constants.js';
import type { GpuContext } from './context.js';
import { type GpuTensor, elementCount, gpuTensor } from './gpu-tensor.js';
import type { Precision } from './wgsl.js';

/** Lanes of a gate-interleaved element: every mode's gates fit one vec4. */
export const GATE_LANES = 4;

/** Where each part of `params` starts, in vec4 elements. */
export interface ParamOffsets {
  readonly wIh: number;
  readonly bIh: number;
  readonly wHh: number;
  readonly bHh: number;
  /** Total vec4 elements. */
  readonly total: number;
}

export interface LayerWeights {
  /** The packed parameters, (total · 4) elements in the precision's dtype, in an exact-size buffer. */
  readonly params: GpuTensor;
  readonly offsets: ParamOffsets;
  /** (D, P, H), with proj_size only. */
  readonly wHr?: GpuTensor;
  /** Input feature size of this layer. */
  readonly inputSize: number;
  /** W_hh again as a texture, on software adapters (wHhTexture): the wide step kernel and the persistent loops read it there. */
  readonly wHhTexture?: GPUTexture;
}

export function paramOffsets(config: RnnConfig, layer: number): ParamOffsets {
  const D = numDirections(config);
  const H = config.hidden_size;
  const wIh = 0;
  const bIh = wIh + D * layerInputSize(config, layer) * H;
  const wHh = bIh + D * H;
  const bHh = wHh + D * outputSize(config) * H;
  return { wIh, bIh, wHh, bHh, total: bHh + D * H };
}

/** Stacks one parameter kind over directions into an f32 array; zeros where the model has no bias. */
function stacked(config: RnnConfig, weights: Weights, kind: ParamKind, layer: number, perDirection: number): Float32Array {
  const D = numDirections(config);
  const out = new Float32Array(D * perDirection);
  const absent = (kind === 'bias_ih' || kind === 'bias_hh') && !config.bias;
  if (!absent) for (let d = 0; d < D; d++) out.set(weights[paramName(kind, layer, d)].data, d * perDirection);
  return out;
}

/**
 * Writes (D, G·H, K) rows gate-interleaved into `out` at vec4 element `offset`: element (d, k, j)
 * lane g = row g·H + j, column k. Biases are the case K = 1.
 */
export function interleaveGates(out: Float32Array, offset: number, rows: Float32Array, D: number, G: number, H: number, K: number): void {
  for (let d = 0; d < D; d++) {
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < H; j++) {
        const src = ((d * G + g) * H + j) * K;
        for (let k = 0; k < K; k++) out[(offset + (d * K + k) * H + j) * GATE_LANES + g] = rows[src + k];
      }
    }
  }
}

/** A storage buffer holding `values` in the given precision (its own, exact size; see GpuContext.storageFrom). */
function upload(ctx: GpuContext, label: string, values: Float32Array, precision: Precision): GpuTensor {
  // Kernels read W_hr two elements at a time (weight2): an odd count gets one zero of padding.
  const even = values.length % 2 ? Float32Array.of(...values, 0) : values;
  const data = precision === 'f16' ? toFloat16Array(even) : even;
  return gpuTensor(ctx.storageFrom(label, data), [even.length], precision === 'f16' ? 'f16' : 'f32');
}

/** Bytes of a layer's weights on the GPU (the data; each buffer rounds up to 16 bytes at most), the W_hh texture included. */
export function layerWeightBytes(w: LayerWeights): number {
  const bytes = (t: GpuTensor) => elementCount(t) * (t.dtype === 'f16' ? 2 : 4);
  const texture = w.wHhTexture ? w.wHhTexture.width * w.wHhTexture.height * GATE_LANES * (w.params.dtype === 'f16' ? 2 : 4) : 0;
  return bytes(w.params) + (w.wHr ? bytes(w.wHr) : 0) + texture;
}

/**
 * W_hh (D, H_out, H) gate vec4s as an H × D·H_out texture, texel (j, d·H_out + k) = element (d, k, j),
 * in the weights' precision (rgba32float, or rgba16float holding the same binary16 values): made on
 * software adapters, where the wide step kernel and the persistent loops read their W_hh from it
 * (W_TEXTURE, shaders/recurrent-common.wgsl). On SwiftShader a texel is one load per lane; a vec4 from
 * a storage buffer at a per-lane index is four gathers of four lanes, each lane behind a branch.
 * Measured in Chromium (SwiftShader, interleaved, one page), forward medians with the texture / without:
 * char-rnn per-step 63.4 / 71.4 and 63.0 / 71.6 ms (41 rounds, both orders); persistent (25 rounds)
 * voice-lstm 17.9 / 20.4 and 16.7 / 18.8, long-lstm 49.5 / 58.9, voice-gru 10.5 / 12.3, bigru 8.9 / 8.9.
 * Inference weights never change after upload, so the copy stays true; training keeps its own
 * parameters and its kernels read them from storage. None where the texture would pass the device's 2-D
 * size limit; GPUs keep reading storage (not measured there).
 */
function wHhTexture(ctx: GpuContext, label: string, wHh: Float32Array, H: number, rows: number, precision: Precision): GPUTexture | undefined {
  const limit = ctx.limits.maxTextureDimension2D;
  if (!ctx.isSoftwareAdapter || H > limit || rows > limit) return undefined;
  const f16 = precision === 'f16';
  const texture = ctx.device.createTexture({
    label,
    size: [H, rows],
    format: f16 ? 'rgba16float' : 'rgba32float',
    usage: TextureUsage.TEXTURE_BINDING | TextureUsage.COPY_DST,
  });
  const data = f16 ? toFloat16Array(wHh) : wHh;
  ctx.device.queue.writeTexture({ texture }, data, { bytesPerRow: H * GATE_LANES * data.BYTES_PER_ELEMENT, rowsPerImage: rows }, [H, rows]);
  return texture;
}

export function uploadLayerWeights(ctx: GpuContext, config: RnnConfig, weights: Weights, layer: number, precision: Precision): LayerWeights {
  const G = gateCount(config.mode);
  const D = numDirections(config);
  const H = config.hidden_size;
  const I = layerInputSize(config, layer);
  const Hout = outputSize(config);
  const rows = (kind: ParamKind, perDirection: number) => stacked(config, weights, kind, layer, perDirection);
  const offsets = paramOffsets(config, layer);
  const packed = new Float32Array(offsets.total * GATE_LANES);
  interleaveGates(packed, offsets.wIh, rows('weight_ih', G * H * I), D, G, H, I);
  interleaveGates(packed, offsets.bIh, rows('bias_ih', G * H), D, G, H, 1);
  interleaveGates(packed, offsets.wHh, rows('weight_hh', G * H * Hout), D, G, H, Hout);
  interleaveGates(packed, offsets.bHh, rows('bias_hh', G * H), D, G, H, 1);
  const wHh = packed.subarray(offsets.wHh * GATE_LANES, offsets.bHh * GATE_LANES);
  return {
    params: upload(ctx, `RnnLayer${layer}.params`, packed, precision),
    offsets,
    wHr: config.proj_size > 0 ? upload(ctx, `RnnLayer${layer}.weight_hr`, rows('weight_hr', config.proj_size * H), precision) : undefined,
    inputSize: I,
    wHhTexture: wHhTexture(ctx, `RnnLayer${layer}.weight_hh_texture`, wHh, H, D * Hout, precision),
  };
}

export function releaseLayerWeights(ctx: GpuContext, w: LayerWeights): void {
  ctx.discard(w.params.buffer);
  if (w.wHr) ctx.discard(w.wHr.buffer);
  w.wHhTexture?.destroy();
}
