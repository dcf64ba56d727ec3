/**
 * The L1 penalty of a training step (shaders/l1.wgsl): grads += λ·sign(θ) in place over the flat
 * parameters, |θ| into a scratch the caller sums (gpu/ops/reduce.ts); the host adds λ·Σ|θ| to the loss.
 * `set` writes λ before a replay. CPU counterpart: addL1 (src/train/optim.ts). Test: test/ops/l1.test.ts.
 */
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { L1_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { ELEMENTWISE_WORKGROUP_SIZE, elementGrid, f32Module } from './elementwise.js';
import l1Source from '../../../shaders/l1.wgsl?raw';

export interface RecordedL1 {
  readonly command: Command;
  /** Before a replay: this step's λ. */
  set(queue: GPUQueue, lambda: number): void;
}

export function recordL1(rec: Recorder, label: string, call: { n: number; params: GpuTensor; grads: GpuTensor; magnitudes: GpuTensor }): RecordedL1 {
  for (const [name, t] of Object.entries({ params: call.params, grads: call.grads, magnitudes: call.magnitudes }))
    if (t.offset !== 0) throw new Error(`${label}: ${name} must start its buffer (offset ${t.offset})`);
  const { pipeline, layout } = simplePipeline(rec.ctx, f32Module(rec.ctx, 'l1', l1Source), 'l1_penalty', { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE }, [
    [0, 'uniform'],
    [1, 'read'],
    [2, 'write'],
    [3, 'write'],
  ]);
  const dims = rec.uniform(`${label}.dims`, packU32Struct(L1_DIMS_FIELDS, { n: call.n, lambda: 0 }));
  const group = rec.ctx.bindGroupAt(label, layout, [
    [0, dims],
    [1, tensorBinding(call.params)],
    [2, tensorBinding(call.grads)],
    [3, tensorBinding(call.magnitudes)],
  ]);
  return {
    command: dispatch(label, pipeline, [group], elementGrid(rec.ctx, call.n)),
    set(queue, lambda) {
      queue.writeBuffer(dims.buffer, dims.offset ?? 0, packU32Struct(L1_DIMS_FIELDS, { n: call.n, lambda }));
    },
  };
}
