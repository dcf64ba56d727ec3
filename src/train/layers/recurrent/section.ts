/**
 * The recurrent layer's section of the flat buffers: per stacked layer, the packed gate-interleaved
 * weights the kernels read (src/gpu/layer-weights.ts: W_ih (D, I, H, 4), b_ih, W_hh (D, H_out, H, 4),
 * b_hh — biases zero and never moved when bias=False, unused gate lanes zero), then W_hr (D, P, H) with
 * proj_size; and the way in and out of PyTorch's layouts.
 */
import { type RnnConfig, gateCount, numDirections, outputSize } from '../../../config.js';
import { GATE_LANES, type ParamOffsets, interleaveGates, paramOffsets } from '../../../gpu/layer-weights.js';
import { layerInputSize, paramName } from '../../../params.js';
import type { FlatSection } from '../layer.js';

/** One stacked layer's place in the flat buffers: the packed gate-interleaved weights the kernels read, and W_hr. */
export interface RecurrentLayerSection {
  /** First float of the packed layer; its parts at `offsets` (in vec4 units) from there. */
  readonly start: number;
  readonly offsets: ParamOffsets;
  /** First float of W_hr (D, P, H), with proj_size. */
  readonly wHr?: number;
  readonly inputSize: number;
}

export interface RecurrentSection extends FlatSection {
  readonly layers: readonly RecurrentLayerSection[];
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

export function recurrentSection(prefix: string, rnn: RnnConfig, start: number): RecurrentSection {
  const D = numDirections(rnn);
  const G = gateCount(rnn.mode);
  const H = rnn.hidden_size;
  const Hout = outputSize(rnn);
  const layers: RecurrentLayerSection[] = [];
  let at = start;
  for (let l = 0; l < rnn.num_layers; l++) {
    const offsets = paramOffsets(rnn, l);
    const layerStart = at;
    at += offsets.total * GATE_LANES;
    let wHr: number | undefined;
    if (rnn.proj_size > 0) {
      wHr = at;
      at = align4(at + D * rnn.proj_size * H);
    }
    layers.push({ start: layerStart, offsets, wHr, inputSize: layerInputSize(rnn, l) });
  }
  const name = (kind: Parameters<typeof paramName>[0], l: number, d: number) => `${prefix}.${paramName(kind, l, d)}`;
  return {
    start,
    size: at - start,
    layers,
    pack(params, flat) {
      layers.forEach((s, l) => {
        const part = new Float32Array(s.offsets.total * GATE_LANES);
        const rows = (kind: 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh', per: number) => {
          const a = new Float32Array(D * per);
          if (kind.startsWith('bias') && !rnn.bias) return a;
          for (let d = 0; d < D; d++) a.set(params[name(kind, l, d)], d * per);
          return a;
        };
        interleaveGates(part, s.offsets.wIh, rows('weight_ih', G * H * s.inputSize), D, G, H, s.inputSize);
        interleaveGates(part, s.offsets.bIh, rows('bias_ih', G * H), D, G, H, 1);
        interleaveGates(part, s.offsets.wHh, rows('weight_hh', G * H * Hout), D, G, H, Hout);
        interleaveGates(part, s.offsets.bHh, rows('bias_hh', G * H), D, G, H, 1);
        flat.set(part, s.start);
        if (s.wHr !== undefined) for (let d = 0; d < D; d++) flat.set(params[name('weight_hr', l, d)], s.wHr + d * rnn.proj_size * H);
      });
    },
    unpack(flat) {
      const out: Record<string, Float32Array> = {};
      layers.forEach((s, l) => {
        // Element (d, k, j) lane g of a packed part is row g·H + j, column k of direction d's (G·H, K) matrix.
        const part = (offset: number, K: number, kind: 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh') => {
          for (let d = 0; d < D; d++) {
            const m = new Float32Array(G * H * K);
            for (let g = 0; g < G; g++) {
              for (let j = 0; j < H; j++) {
                for (let k = 0; k < K; k++) m[(g * H + j) * K + k] = flat[s.start + (offset + (d * K + k) * H + j) * GATE_LANES + g];
              }
            }
            out[name(kind, l, d)] = m;
          }
        };
        part(s.offsets.wIh, s.inputSize, 'weight_ih');
        part(s.offsets.wHh, Hout, 'weight_hh');
        if (rnn.bias) {
          part(s.offsets.bIh, 1, 'bias_ih');
          part(s.offsets.bHh, 1, 'bias_hh');
        }
        if (s.wHr !== undefined) {
          for (let d = 0; d < D; d++) out[name('weight_hr', l, d)] = flat.slice(s.wHr + d * rnn.proj_size * H, s.wHr + (d + 1) * rnn.proj_size * H);
        }
      });
      return out;
    },
  };
}
