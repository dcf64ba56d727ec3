/**
 * tanh as an activation (shaders/tanh.wgsl): in place forward, and backward from the output,
 * dx = dy · (1 − y²) in place of dy. Test: test/ops/attention.test.ts (with the attention it follows).
 */
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { TANH_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { ELEMENTWISE_WORKGROUP_SIZE, elementGrid, f32Module } from './elementwise.js';
import tanhSource from '../../../shaders/tanh.wgsl?raw';

/** values ← tanh(values), n elements. */
export function recordTanh(rec: Recorder, label: string, values: GpuTensor, n: number): Command {
  const { pipeline, layout } = simplePipeline(rec.ctx, f32Module(rec.ctx, 'tanh', tanhSource), 'tanh_forward', { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE }, [
    [0, 'uniform'],
    [2, 'write'],
  ]);
  const group = rec.ctx.bindGroupAt(label, layout, [
    [0, rec.uniform(`${label}.dims`, packU32Struct(TANH_DIMS_FIELDS, { n }))],
    [2, tensorBinding(values)],
  ]);
  return dispatch(label, pipeline, [group], elementGrid(rec.ctx, n));
}

/** grad ← grad · (1 − y²), n elements, y the forward's output. */
export function recordTanhBackward(rec: Recorder, label: string, y: GpuTensor, grad: GpuTensor, n: number): Command {
  const { pipeline, layout } = simplePipeline(
    rec.ctx,
    f32Module(rec.ctx, 'tanh', tanhSource),
    'tanh_backward',
    { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE },
    [
      [0, 'uniform'],
      [1, 'read'],
      [2, 'write'],
    ],
  );
  const group = rec.ctx.bindGroupAt(label, layout, [
    [0, rec.uniform(`${label}.dims`, packU32Struct(TANH_DIMS_FIELDS, { n }))],
    [1, tensorBinding(y)],
    [2, tensorBinding(grad)],
  ]);
  return dispatch(label, pipeline, [group], elementGrid(rec.ctx, n));
}
