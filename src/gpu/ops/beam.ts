/**
 * One step of beam search on the GPU (shaders/beam.wgsl): per source row, the best K extensions of
 * its live hypotheses from the step's logits, the finished list, the next step's input ids and the
 * row each hypothesis's state comes from — so a whole decoding is one submission with no read-back
 * between steps. The CPU counterpart is src/train/decode.ts's selectStep (float64), which the GPU suite
 * checks it against through trainer.decode. Test: test/ops/beam.test.ts.
 */
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline, tileCount } from '../program.js';
import { BEAM_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { f32Module } from './elementwise.js';
import beamSource from '../../../shaders/beam.wgsl?raw';

/** Invocations per source row: a power of two. */
export const BEAM_WORKGROUP_SIZE = 64;
/** The widest beam the kernel's workgroup arrays hold (decode.ts's MAX_BEAM). */
export const BEAM_MAX = 16;
/** The score of a slot that holds no hypothesis (DEAD in the shader). */
export const BEAM_DEAD = -3.0e38;

export interface BeamCall {
  readonly label: string;
  readonly B: number;
  readonly K: number;
  readonly V: number;
  readonly eos: number;
  readonly maxLength: number;
  /** (B·K, V), from the start of its buffer. */
  readonly logits: GpuTensor;
  /** (B·K) f32; (B, 4) u32; (B, 2K, 3) u32; (maxLength, B·K) u32 twice; (B·K) u32 twice. */
  readonly scores: GpuTensor;
  readonly counters: GpuTensor;
  readonly finished: GpuTensor;
  readonly tokens: GpuTensor;
  readonly parents: GpuTensor;
  readonly nextIds: GpuTensor;
  readonly gather: GpuTensor;
}

/** Finished entries a row keeps: K − 1 before the step that stops it, and up to K in that step. */
export function finishedCapacity(K: number): number {
  return 2 * K;
}

export function recordBeamSelect(rec: Recorder, call: BeamCall): Command {
  const { ctx } = rec;
  for (const [name, t] of Object.entries(call)) {
    if (t && typeof t === 'object' && 'buffer' in t && (t as GpuTensor).offset !== 0) throw new Error(`${call.label}: ${name} must start its buffer`);
  }
  if (call.K > BEAM_MAX) throw new Error(`${call.label}: beam ${call.K} above ${BEAM_MAX}`);
  const { pipeline, layout } = simplePipeline(
    ctx,
    f32Module(ctx, 'beam', beamSource),
    'beam_select',
    { WORKGROUP_SIZE: BEAM_WORKGROUP_SIZE, MAX_BEAM: BEAM_MAX },
    [
      [0, 'uniform'],
      [1, 'read'],
      [2, 'write'],
      [3, 'write'],
      [4, 'write'],
      [5, 'write'],
      [6, 'write'],
      [7, 'write'],
      [8, 'write'],
    ],
  );
  const dims = rec.uniform(
    `${call.label}.dims`,
    packU32Struct(BEAM_DIMS_FIELDS, { B: call.B, K: call.K, V: call.V, eos: call.eos, max_length: call.maxLength, finished_cap: finishedCapacity(call.K) }),
  );
  const tensors = [call.logits, call.scores, call.counters, call.finished, call.tokens, call.parents, call.nextIds, call.gather];
  const group = ctx.bindGroup(call.label, layout, [dims, ...tensors.map((t) => tensorBinding(t))]);
  return dispatch(call.label, pipeline, [group], [tileCount(call.B, 1, ctx.limits.maxComputeWorkgroupsPerDimension, 'beam rows'), 1, 1]);
}
