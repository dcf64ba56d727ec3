/**
 * tanh as an activation (shaders/tanh.wgsl): in place forward, and backward from the output,
 * dx = dy · (1 − y²) in place of dy. Test: test/ops/tanh.test.ts.
 */
import type { GpuContext } from '../context.js';
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { TANH_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { ELEMENTWISE_WORKGROUP_SIZE, elementGrid, f32Module, vec4Aligned, vectorsPerInvocation } from './elementwise.js';
import tanhSource from '../../../shaders/tanh.wgsl?raw';

/** vec4s per invocation of the `_vec4` entries, or 0 for the scalar ones: n and the offsets multiples of 4. */
export function tanhVectors(ctx: GpuContext, n: number, offsets: readonly number[]): number {
  return vec4Aligned(n, ...offsets) ? vectorsPerInvocation(ctx, n / 4) : 0;
}

function recordTanhEntry(
  rec: Recorder,
  label: string,
  entry: 'tanh_forward' | 'tanh_backward',
  y: GpuTensor | undefined,
  values: GpuTensor,
  n: number,
): Command {
  const vectors = tanhVectors(rec.ctx, n, y ? [y.offset, values.offset] : [values.offset]);
  const { pipeline, layout } = simplePipeline(
    rec.ctx,
    f32Module(rec.ctx, 'tanh', tanhSource),
    vectors ? `${entry}_vec4` : entry,
    { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE, VECTORS: vectors || 1 },
    y
      ? [
          [0, 'uniform'],
          [1, 'read'],
          [2, 'write'],
        ]
      : [
          [0, 'uniform'],
          [2, 'write'],
        ],
  );
  const dims = rec.uniform(`${label}.dims`, packU32Struct(TANH_DIMS_FIELDS, { n, y: y?.offset ?? 0, values: values.offset }));
  const entries: Array<[number, GPUBuffer | GPUBufferBinding]> = [
    [0, dims],
    [2, tensorBinding(values, vectors > 0)],
  ];
  if (y) entries.push([1, tensorBinding(y, vectors > 0)]);
  const group = rec.ctx.bindGroupAt(label, layout, entries);
  return dispatch(label, pipeline, [group], elementGrid(rec.ctx, n / (4 * vectors || 1)));
}

/** values ← tanh(values), n elements. */
export function recordTanh(rec: Recorder, label: string, values: GpuTensor, n: number): Command {
  return recordTanhEntry(rec, label, 'tanh_forward', undefined, values, n);
}

/** grad ← grad · (1 − y²), n elements, y the forward's output. */
export function recordTanhBackward(rec: Recorder, label: string, y: GpuTensor, grad: GpuTensor, n: number): Command {
  return recordTanhEntry(rec, label, 'tanh_backward', y, grad, n);
}
