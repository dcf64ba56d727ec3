/**
 * Float64 reference forward pass over layers, directions and variable-length batches, with PyTorch's
 * packed-sequence semantics: sequence b runs over t = 0 … len_b − 1 (the reverse direction from
 * len_b − 1 down to 0), its outputs past len_b are zero, and h_n / c_n hold its state after its own
 * last step. Layer l > 0 reads layer l − 1's output (both directions concatenated).
 */
import { type RnnConfig, numDirections, outputSize } from '../config.js';
import type { PreparedInputs } from '../inputs.js';
import { layerInputSize, paramName, type Weights } from '../params.js';
import { type CellWeights, cellStep } from './cells.js';

export interface ReferenceResult {
  /** (T, B, D·H_out) */ output: Float64Array;
  /** (L·D, B, H_out) */ hN: Float64Array;
  /** (L·D, B, H), LSTM only */ cN?: Float64Array;
}

function cellWeights(config: RnnConfig, weights: Weights, layer: number, direction: number): CellWeights {
  const get = (kind: Parameters<typeof paramName>[0]) => weights[paramName(kind, layer, direction)]?.data;
  return {
    weightIh: get('weight_ih')!,
    weightHh: get('weight_hh')!,
    biasIh: config.bias ? get('bias_ih') : undefined,
    biasHh: config.bias ? get('bias_hh') : undefined,
    weightHr: config.proj_size > 0 ? get('weight_hr') : undefined,
    inputSize: layerInputSize(config, layer),
    hiddenSize: config.hidden_size,
    outSize: outputSize(config),
  };
}

/** Runs the whole network on time-major inputs (weights already checked by the caller). */
export function referenceForward(config: RnnConfig, weights: Weights, inputs: PreparedInputs): ReferenceResult {
  const { T, B } = inputs;
  const D = numDirections(config);
  const H = config.hidden_size;
  const Hout = outputSize(config);
  const isLstm = config.mode === 'LSTM';
  const hN = new Float64Array(config.num_layers * D * B * Hout);
  const cN = isLstm ? new Float64Array(config.num_layers * D * B * H) : undefined;
  let layerInput: ArrayLike<number> = inputs.x; // (T, B, I_l)
  let output = new Float64Array(0);
  for (let layer = 0; layer < config.num_layers; layer++) {
    const I = layerInputSize(config, layer);
    output = new Float64Array(T * B * D * Hout); // (T, B, D·H_out), zero where no step runs
    for (let d = 0; d < D; d++) {
      const w = cellWeights(config, weights, layer, d);
      const stateIndex = layer * D + d;
      for (let b = 0; b < B; b++) {
        const len = inputs.lengths ? inputs.lengths[b] : T;
        const h = new Float64Array(Hout);
        const c = new Float64Array(H);
        if (inputs.h0) for (let k = 0; k < Hout; k++) h[k] = inputs.h0[(stateIndex * B + b) * Hout + k];
        if (inputs.c0) for (let k = 0; k < H; k++) c[k] = inputs.c0[(stateIndex * B + b) * H + k];
        for (let s = 0; s < len; s++) {
          const t = d === 0 ? s : len - 1 - s;
          cellStep(config.mode, w, layerInput, (t * B + b) * I, h, c);
          output.set(h, (t * B + b) * D * Hout + d * Hout);
        }
        hN.set(h, (stateIndex * B + b) * Hout);
        if (cN) cN.set(c, (stateIndex * B + b) * H);
      }
    }
    layerInput = output;
  }
  return { output, hN, cN };
}
