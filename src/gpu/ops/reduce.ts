/**
 * The sum (shaders/reduce.wgsl): Σ values[0 … n) — or, with `square`, Σ clamp(v, ±clip)² where the
 * first pass's dims say clip > 0 (`firstDims`, a uniform the caller rewrites; else written here
 * without a clip) — into element `slot` of `out`: up to 1,024 strided partial sums (at least 64 values
 * each), then one invocation adds them in order, so the result is the same on every run. Test:
 * test/ops/reduce.test.ts.
 */
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, copy, dispatch, simplePipeline } from '../program.js';
import { REDUCE_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { f32Module } from './elementwise.js';
import reduceSource from '../../../shaders/reduce.wgsl?raw';

export const REDUCE_WORKGROUP_SIZE = 64;

/** dims, values, partials */
function reducePipeline(rec: Recorder, square: boolean, final: boolean, vec4 = false) {
  return simplePipeline(
    rec.ctx,
    f32Module(rec.ctx, 'reduce', reduceSource),
    vec4 ? 'reduce_vec4' : 'reduce',
    { WORKGROUP_SIZE: REDUCE_WORKGROUP_SIZE, SQUARE: square, FINAL: final },
    [
      [0, 'uniform'],
      [1, 'read'],
      [2, 'write'],
    ],
  );
}

export function recordSum(
  rec: Recorder,
  label: string,
  values: GpuTensor,
  n: number,
  square: boolean,
  out: GPUBuffer,
  slot: number,
  firstDims?: GPUBufferBinding,
): Command[] {
  const { ctx } = rec;
  const groups = Math.min(16, Math.max(1, Math.ceil(n / (64 * REDUCE_WORKGROUP_SIZE))));
  const parts = groups * REDUCE_WORKGROUP_SIZE;
  const partials = rec.storage(`${label}.partials`, parts);
  // As vec4s from an offset that is a multiple of 4 (which a rewritten firstDims must keep).
  const vec4 = values.offset % 4 === 0;
  const first = reducePipeline(rec, square, false, vec4);
  const final = reducePipeline(rec, false, true);
  const d1 = firstDims ?? rec.uniform(`${label}.dims1`, packU32Struct(REDUCE_DIMS_FIELDS, { n, offset: values.offset, out: 0, clip: 0 }));
  const d2 = rec.uniform(`${label}.dims2`, packU32Struct(REDUCE_DIMS_FIELDS, { n: parts, offset: 0, out: 0, clip: 0 }));
  const partialsBinding = { buffer: partials, offset: 0, size: parts * 4 };
  const g1 = ctx.bindGroup(`${label}.sum1`, first.layout, [d1, tensorBinding(values, vec4), partialsBinding]);
  const g2 = ctx.bindGroup(`${label}.sum2`, final.layout, [d2, tensorBinding(values), partialsBinding]);
  return [
    dispatch(`${label}.sum1`, first.pipeline, [g1], [groups, 1, 1]),
    dispatch(`${label}.sum2`, final.pipeline, [g2], [1, 1, 1]),
    copy(partials, 0, out, slot * 4, 4),
  ];
}
