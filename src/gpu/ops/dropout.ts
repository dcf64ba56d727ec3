/**
 * Dropout (shaders/dropout.wgsl), forward and backward alike: in place, each element kept with
 * probability 1 − p and scaled by 1/(1 − p), or zeroed. Whether element i survives is
 * keeps(seed, stream, i, p) (src/reference/rng.ts) — a pure function of its index, so the backward
 * pass redraws the forward's mask instead of keeping it. The seed changes from step to step and
 * evaluation drops nothing: `set` rewrites both before a replay. Test: test/ops/dropout.test.ts.
 */
import { keeps } from '../../reference/rng.js';
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { DROPOUT_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { ELEMENTWISE_WORKGROUP_SIZE, elementGrid, f32Module } from './elementwise.js';
import dropoutSource from '../../../shaders/dropout.wgsl?raw';

export interface DropoutCall {
  readonly label: string;
  /** The values, changed in place (n elements from its offset 0). */
  readonly tensor: GpuTensor;
  readonly n: number;
  /** The mask's stream (a layer's index): masks of different streams are independent. */
  readonly stream: number;
  readonly p: number;
  /** Write the mask's scales (0 or 1/(1 − p)) instead of scaling the values: recurrent dropout's mask. */
  readonly fill?: boolean;
}

export interface RecordedDropout {
  readonly command: Command;
  /** Before a replay: this step's seed, and whether anything is dropped (training) or not (evaluation). */
  set(queue: GPUQueue, seed: number, training: boolean): void;
}

export function recordDropout(rec: Recorder, call: DropoutCall): RecordedDropout {
  const { ctx } = rec;
  const { pipeline, layout } = simplePipeline(
    ctx,
    f32Module(ctx, 'dropout', dropoutSource, ['train-rng']),
    'dropout',
    { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE, FILL: call.fill ?? false },
    [
      [0, 'uniform'],
      [1, 'write'],
    ],
  );
  const dims = rec.uniform(`${call.label}.dims`, packU32Struct(DROPOUT_DIMS_FIELDS, { n: call.n, seed: 0, stream: call.stream, p: call.p }));
  const group = ctx.bindGroup(call.label, layout, [dims, tensorBinding(call.tensor)]);
  return {
    command: dispatch(call.label, pipeline, [group], elementGrid(ctx, call.n)),
    set(queue, seed, training) {
      queue.writeBuffer(dims.buffer, 0, packU32Struct(DROPOUT_DIMS_FIELDS, { n: call.n, seed: seed >>> 0, stream: call.stream, p: training ? call.p : 0 }));
    },
  };
}

/** The CPU counterpart: the values dropout leaves (float64). */
export function dropoutReference(values: ArrayLike<number>, seed: number, stream: number, p: number): Float64Array {
  const keep = 1 / (1 - p);
  return Float64Array.from(values, (v, i) => (keeps(seed, stream, i, p) ? v * keep : 0));
}
