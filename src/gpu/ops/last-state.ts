/**
 * cat(h_n[−D:]) on the GPU (shaders/last-state.wgsl): the last layer's final h of every direction,
 * (D, B, H_out) in the state layout, as the (B, D·H_out) features a head reads — and the way back for
 * its gradient. With one direction the two layouts are the same bytes, and this is one copy; with two,
 * one dispatch (where a copy per row and direction would be 2·B). Test: test/ops/last-state.test.ts.
 */
import type { GpuTensor } from '../gpu-tensor.js';
import { tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, copy, dispatch, simplePipeline } from '../program.js';
import { LAST_STATE_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { ELEMENTWISE_WORKGROUP_SIZE, elementGrid, f32Module } from './elementwise.js';
import lastStateSource from '../../../shaders/last-state.wgsl?raw';

export interface LastStateCall {
  readonly label: string;
  readonly B: number;
  readonly Hout: number;
  readonly D: number;
  /** The state: h (D, B, H_out) from float `state.offset` of its buffer. */
  readonly state: GpuTensor;
  /** (B, D·H_out) from float `features.offset` of its buffer. */
  readonly features: GpuTensor;
}

function record(rec: Recorder, call: LastStateCall, entry: 'gather' | 'scatter'): Command {
  const { B, Hout, D } = call;
  const bytes = D * B * Hout * 4;
  if (D === 1) {
    return entry === 'gather'
      ? copy(call.state.buffer, call.state.offset * 4, call.features.buffer, call.features.offset * 4, bytes)
      : copy(call.features.buffer, call.features.offset * 4, call.state.buffer, call.state.offset * 4, bytes);
  }
  const { ctx } = rec;
  const { pipeline, layout } = simplePipeline(ctx, f32Module(ctx, 'last-state', lastStateSource), entry, { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE }, [
    [0, 'uniform'],
    [1, 'read'],
    [2, 'write'],
  ]);
  const dims = rec.uniform(
    `${call.label}.dims`,
    packU32Struct(LAST_STATE_DIMS_FIELDS, { B, H_out: Hout, D, state_offset: call.state.offset, features_offset: call.features.offset }),
  );
  // Bound from each buffer's start (an offset binding would need 256-byte alignment); the shader adds the offsets.
  const state = tensorBinding(call.state);
  const features = tensorBinding(call.features);
  const group = ctx.bindGroup(call.label, layout, entry === 'gather' ? [dims, state, features] : [dims, features, state]);
  return dispatch(call.label, pipeline, [group], elementGrid(ctx, D * B * Hout));
}

/** features (B, D·H_out) ← the state's h (D, B, H_out). */
export function recordGatherLast(rec: Recorder, call: LastStateCall): Command {
  return record(rec, call, 'gather');
}

/** The state's h (D, B, H_out) ← features (B, D·H_out). */
export function recordScatterLast(rec: Recorder, call: LastStateCall): Command {
  return record(rec, call, 'scatter');
}

/** The CPU counterpart of the gather: (B, D·H_out) from (D, B, H_out). */
export function gatherLastReference(state: ArrayLike<number>, B: number, Hout: number, D: number): Float64Array {
  const out = new Float64Array(B * D * Hout);
  for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) for (let k = 0; k < Hout; k++) out[b * D * Hout + d * Hout + k] = state[(d * B + b) * Hout + k];
  return out;
}
