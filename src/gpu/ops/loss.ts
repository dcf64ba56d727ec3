/**
 * A loss on the GPU (shaders/loss.wgsl), forward and backward in one pass, one invocation per row of
 * the model's output: dL/dy for every element, and each row's share of the loss (summed afterwards by
 * the sum op). Which loss is an entry point of the shader, named by the loss registry
 * (src/train/losses/); the mean's 1/N comes from the host, which knows the targets (`setScale`).
 * Test: test/ops/loss.test.ts against the registry's float64 references.
 */
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { LOSS_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { ELEMENTWISE_WORKGROUP_SIZE, elementGrid, f32Module } from './elementwise.js';
import lossSource from '../../../shaders/loss.wgsl?raw';

/** The loss shader's source, for the registry's contract test (every entry point it names exists). */
export const LOSS_WGSL = lossSource;

export interface LossCall {
  readonly label: string;
  /** The shader's entry point (the registry's `entryPoint`). */
  readonly entryPoint: string;
  readonly rows: number;
  readonly O: number;
  /** (rows, O) */
  readonly y: GpuTensor;
  /** Float targets (rows, O) or class ids (rows, i32), by the entry point's kind. */
  readonly target: GpuTensor;
  /** (rows, O) and (rows): written. */
  readonly dy: GpuTensor;
  readonly rowLoss: GpuTensor;
}

export interface RecordedLoss {
  readonly command: Command;
  /** Before a replay: the mean's 1/N (1/0 = Inf with no target left makes the loss NaN, as PyTorch's 0/0). */
  setScale(queue: GPUQueue, scale: number): void;
}

/** Entries with a `_vec4` form: each row read and written as vec4s, where O is a multiple of 4. */
const VEC4_ENTRIES = new Set(['cross_entropy']);

/** Whether the call takes its entry's `_vec4` form (rows of a multiple of 4 from the buffers' start). */
export function lossUsesVec4(call: Pick<LossCall, 'entryPoint' | 'O' | 'y' | 'dy'>): boolean {
  return VEC4_ENTRIES.has(call.entryPoint) && call.O % 4 === 0 && call.y.offset === 0 && call.dy.offset === 0;
}

export function recordLoss(rec: Recorder, call: LossCall): RecordedLoss {
  const { ctx } = rec;
  const vec4 = lossUsesVec4(call);
  const { pipeline, layout } = simplePipeline(
    ctx,
    f32Module(ctx, 'loss', lossSource),
    vec4 ? `${call.entryPoint}_vec4` : call.entryPoint,
    { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE },
    [
      [0, 'uniform'],
      [1, 'read'],
      [2, 'read'],
      [3, 'read'],
      [4, 'write'],
      [5, 'write'],
    ],
  );
  const dims = rec.uniform(`${call.label}.dims`, packU32Struct(LOSS_DIMS_FIELDS, { rows: call.rows, O: call.O, scale: 1 }));
  // The shader declares float targets and class ids as two bindings; one buffer fills both.
  const target = tensorBinding(call.target);
  const group = ctx.bindGroup(call.label, layout, [dims, tensorBinding(call.y), target, target, tensorBinding(call.dy), tensorBinding(call.rowLoss)]);
  return {
    command: dispatch(call.label, pipeline, [group], elementGrid(ctx, call.rows)),
    setScale(queue, scale) {
      queue.writeBuffer(dims.buffer, 0, packU32Struct(LOSS_DIMS_FIELDS, { rows: call.rows, O: call.O, scale }));
    },
  };
}
