/**
 * The layout of a model's recurrent state on the GPU, in one place: per layer, h (D, B, H_out) then c
 * (D, B, H) for LSTM — what the kernels read and write, what a stream keeps between pushes, and what
 * h0 / c0 are packed into and h_n / c_n unpacked from.
 */
import { type RnnConfig, numDirections, outputSize } from '../config.js';
import { F32_BYTES as F32 } from './constants.js';

/** Sizes derived from the configuration and a call shape, in f32 elements unless named bytes. */
export class PlanSizes {
  readonly D: number;
  readonly H: number;
  readonly Hout: number;
  /** Cell-state width per row: H for LSTM, 0 otherwise. */
  readonly Hc: number;
  /** h (D, B, H_out) then c (D, B, H_c): one layer's state. */
  readonly layerState: number;
  /** (T, B, D·H_out) */
  readonly sequence: number;

  constructor(
    readonly config: RnnConfig,
    readonly T: number,
    readonly B: number,
  ) {
    this.D = numDirections(config);
    this.H = config.hidden_size;
    this.Hout = outputSize(config);
    this.Hc = config.mode === 'LSTM' ? this.H : 0;
    this.layerState = this.D * B * (this.Hout + this.Hc);
    this.sequence = T * B * this.D * this.Hout;
  }

  get hBytes(): number {
    return this.D * this.B * this.Hout * F32;
  }

  get cBytes(): number {
    return this.D * this.B * this.Hc * F32;
  }

  /** Bytes of the whole state of all layers (a stream keeps one buffer of this size). */
  get stateBytes(): number {
    return this.config.num_layers * this.layerState * F32;
  }
}

/** h0 (L·D, B, H_out) and c0 (L·D, B, H) from the caller, zeros where absent, in the state layout. */
export function packState(s: PlanSizes, h0?: ArrayLike<number>, c0?: ArrayLike<number>): Float32Array {
  const hPer = s.hBytes / F32;
  const cPer = s.cBytes / F32;
  const state = new Float32Array(s.config.num_layers * s.layerState);
  for (let l = 0; l < s.config.num_layers; l++) {
    if (h0) for (let k = 0; k < hPer; k++) state[l * s.layerState + k] = h0[l * hPer + k];
    if (c0) for (let k = 0; k < cPer; k++) state[l * s.layerState + hPer + k] = c0[l * cPer + k];
  }
  return state;
}

/** The state layout → h_n (L·D, B, H_out) and c_n (L·D, B, H). */
export function splitState(s: PlanSizes, state: Float32Array): { hN: Float32Array; cN?: Float32Array } {
  const L = s.config.num_layers;
  const hPer = s.hBytes / F32;
  const cPer = s.cBytes / F32;
  const hN = new Float32Array(L * hPer);
  const cN = cPer > 0 ? new Float32Array(L * cPer) : undefined;
  for (let l = 0; l < L; l++) {
    hN.set(state.subarray(l * s.layerState, l * s.layerState + hPer), l * hPer);
    cN?.set(state.subarray(l * s.layerState + hPer, (l + 1) * s.layerState), l * cPer);
  }
  return { hN, cN };
}
