/**
 * The shift (shaders/shift.wgsl): from a layer's output and its initial state, what each step of the
 * training forward saw as its previous state — h_{t−1} (D, T, B, H_out) and, for LSTM, c_{t−1}
 * (D, T, B, H) — written into the saved activations for the backward pass. Direction 0 at time t saw
 * step t − 1, the reverse direction t + 1, the first step of a row the initial state; past a row's
 * length, zeros. Test: test/ops/shift.test.ts.
 */
import type { GpuContext } from '../context.js';
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { SHIFT_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { ELEMENTWISE_WORKGROUP_SIZE, elementGrid, f32Module, vec4Aligned, vectorsPerInvocation } from './elementwise.js';
import shiftSource from '../../../shaders/shift.wgsl?raw';

export interface ShiftCall {
  readonly label: string;
  readonly T: number;
  readonly B: number;
  readonly H: number;
  readonly Hout: number;
  readonly D: number;
  readonly lstm: boolean;
  readonly lengths: GpuTensor;
  /** The layer's output (T, B, D·H_out). */
  readonly output: GpuTensor;
  /** Its initial state: h (D, B, H_out) then, for LSTM, c (D, B, H). */
  readonly initial: GpuTensor;
  /** The saved activations: c_t is read at `c`, h_{t−1} written at `hPrev`, c_{t−1} at `cPrev` (float offsets). */
  readonly saved: GpuTensor;
  readonly at: { readonly hPrev: number; readonly cPrev: number; readonly c: number; readonly mask?: number; readonly hPrevMasked?: number };
}

/**
 * vec4s of k per invocation of `shift_vec4`, or 0 for the scalar `shift`: both widths and every saved
 * offset multiples of 4.
 */
export function shiftVectors(ctx: GpuContext, call: Pick<ShiftCall, 'H' | 'Hout' | 'at'>): number {
  const { at } = call;
  const offsets = [at.hPrev, at.cPrev, at.c, at.mask ?? 0, at.hPrevMasked ?? 0];
  return vec4Aligned(call.H, ...offsets) && call.Hout % 4 === 0 ? vectorsPerInvocation(ctx, Math.max(call.H, call.Hout) / 4) : 0;
}

export function recordShift(rec: Recorder, call: ShiftCall): Command {
  const { ctx } = rec;
  const vectors = shiftVectors(ctx, call);
  const { pipeline, layout } = simplePipeline(
    ctx,
    f32Module(ctx, 'shift', shiftSource),
    vectors ? 'shift_vec4' : 'shift',
    { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE, HAS_C: call.lstm, MASKED: call.at.hPrevMasked !== undefined, VECTORS: vectors || 1 },
    [
      [0, 'uniform'],
      [1, 'read'],
      [2, 'read'],
      [3, 'read'],
      [4, 'write'],
    ],
  );
  const { T, B, H, Hout, D } = call;
  const dims = rec.uniform(
    `${call.label}.dims`,
    packU32Struct(SHIFT_DIMS_FIELDS, {
      T,
      B,
      H,
      H_out: Hout,
      D,
      h_prev: call.at.hPrev,
      c_prev: call.at.cPrev,
      c: call.at.c,
      mask: call.at.mask ?? 0,
      h_prev_masked: call.at.hPrevMasked ?? 0,
    }),
  );
  const group = ctx.bindGroup(call.label, layout, [
    dims,
    tensorBinding(call.lengths),
    tensorBinding(call.output, vectors > 0),
    tensorBinding(call.initial, vectors > 0),
    tensorBinding(call.saved, vectors > 0),
  ]);
  return dispatch(call.label, pipeline, [group], elementGrid(ctx, (D * T * B * Math.max(H, Hout)) / (4 * vectors || 1)));
}

/**
 * The CPU counterpart: h_{t−1} (D, T, B, H_out) and c_{t−1} (D, T, B, H) from the output (T, B, D·H_out),
 * the cell states c_t (D, T, B, H), the initial state and the lengths.
 */
export function shiftReference(
  s: { T: number; B: number; H: number; Hout: number; D: number },
  output: ArrayLike<number>,
  c: ArrayLike<number> | undefined,
  initial: ArrayLike<number>,
  lengths: ArrayLike<number>,
): { hPrev: Float64Array; cPrev?: Float64Array } {
  const { T, B, H, Hout, D } = s;
  const hPrev = new Float64Array(D * T * B * Hout);
  const cPrev = c ? new Float64Array(D * T * B * H) : undefined;
  for (let d = 0; d < D; d++) {
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const len = lengths[b];
        if (t >= len) continue;
        const first = d === 0 ? t === 0 : t + 1 === len;
        const prev = d === 0 ? t - 1 : t + 1;
        const e = (d * T + t) * B + b;
        for (let k = 0; k < Hout; k++) hPrev[e * Hout + k] = first ? initial[(d * B + b) * Hout + k] : output[(prev * B + b) * D * Hout + d * Hout + k];
        if (cPrev && c) {
          for (let k = 0; k < H; k++) cPrev[e * H + k] = first ? initial[D * B * Hout + (d * B + b) * H + k] : c[((d * T + prev) * B + b) * H + k];
        }
      }
    }
  }
  return { hPrev, cPrev };
}
