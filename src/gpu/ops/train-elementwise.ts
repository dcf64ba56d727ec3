/**
 * The small training ops, each one kernel over a tensor (a module each in shaders/): the shift that
 * makes h_{t−1} / c_{t−1} as every step saw them (shift.wgsl), dropout between layers (dropout.wgsl),
 * the embedding's gather and its deterministic gradient (embedding.wgsl), the losses (loss.wgsl), the
 * two-pass sum (reduce.wgsl) and the optimizer step (optimizer.wgsl). Each function returns the
 * pipeline and its bind-group layout (the sum records its two passes, recordSum); grids are linear
 * (program.ts's linearGrid). Tested through the training plan against PyTorch (the training cases of
 * test/suites/training.ts), and the sum alone in test/ops/reduce.test.ts.
 */
import type { GpuContext } from '../context.js';
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, copy, dispatch, simplePipeline } from '../program.js';
import { REDUCE_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { type WeightFormat, kernelModule } from '../wgsl.js';
import dropoutSource from '../../../shaders/dropout.wgsl?raw';
import embeddingSource from '../../../shaders/embedding.wgsl?raw';
import lossSource from '../../../shaders/loss.wgsl?raw';
import optimizerSource from '../../../shaders/optimizer.wgsl?raw';
import reduceSource from '../../../shaders/reduce.wgsl?raw';
import sampleSource from '../../../shaders/sample.wgsl?raw';
import shiftSource from '../../../shaders/shift.wgsl?raw';

export const ELEMENTWISE_WORKGROUP_SIZE = 64;
export const REDUCE_WORKGROUP_SIZE = 64;

const f32 = (ctx: GpuContext, name: string, source: string, includes: Array<'train-rng'> = []) =>
  kernelModule(ctx, name, source, 'f32' as WeightFormat, includes);

/** dims, lengths, output, initial, saved */
export function shiftPipeline(ctx: GpuContext, hasC: boolean) {
  return simplePipeline(ctx, f32(ctx, 'shift', shiftSource), 'shift', { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE, HAS_C: hasC }, [
    [0, 'uniform'],
    [1, 'read'],
    [2, 'read'],
    [3, 'read'],
    [4, 'write'],
  ]);
}

/** dims, inout */
export function dropoutPipeline(ctx: GpuContext) {
  return simplePipeline(ctx, f32(ctx, 'dropout', dropoutSource, ['train-rng']), 'dropout', { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE }, [
    [0, 'uniform'],
    [1, 'write'],
  ]);
}

/** dims, tokens, source, target */
export function embeddingPipeline(ctx: GpuContext, entry: 'gather' | 'gather_last' | 'scatter_grad') {
  return simplePipeline(ctx, f32(ctx, 'embedding', embeddingSource), entry, { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE }, [
    [0, 'uniform'],
    [1, 'read'],
    [2, 'read'],
    [3, 'write'],
  ]);
}

/** dims, y, targets, classes, dy, row_loss */
export function lossPipeline(ctx: GpuContext, loss: 'mse' | 'cross_entropy') {
  return simplePipeline(ctx, f32(ctx, 'loss', lossSource), loss, { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE }, [
    [0, 'uniform'],
    [1, 'read'],
    [2, 'read'],
    [3, 'read'],
    [4, 'write'],
    [5, 'write'],
  ]);
}

/**
 * Σ values[0 … n) — or, with `square`, Σ clamp(v, ±clip)² where the first pass's dims say clip > 0
 * (`firstDims`, a uniform the caller rewrites; else written here without a clip) — into element `slot`
 * of `out`: up to 1,024 strided partial sums (at least 64 values each), then one invocation adds them
 * in order, so the result is the same on every run (shaders/reduce.wgsl).
 */
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
  const first = reducePipeline(ctx, square, false);
  const final = reducePipeline(ctx, false, true);
  const d1 = firstDims ?? rec.uniform(`${label}.dims1`, packU32Struct(REDUCE_DIMS_FIELDS, { n, offset: values.offset, out: 0, clip: 0 }));
  const d2 = rec.uniform(`${label}.dims2`, packU32Struct(REDUCE_DIMS_FIELDS, { n: parts, offset: 0, out: 0, clip: 0 }));
  const partialsBinding = { buffer: partials, offset: 0, size: parts * 4 };
  const g1 = ctx.bindGroup(`${label}.sum1`, first.layout, [d1, tensorBinding(values), partialsBinding]);
  const g2 = ctx.bindGroup(`${label}.sum2`, final.layout, [d2, tensorBinding(values), partialsBinding]);
  return [
    dispatch(`${label}.sum1`, first.pipeline, [g1], [groups, 1, 1]),
    dispatch(`${label}.sum2`, final.pipeline, [g2], [1, 1, 1]),
    copy(partials, 0, out, slot * 4, 4),
  ];
}

/** dims, values, partials */
export function reducePipeline(ctx: GpuContext, square: boolean, final: boolean) {
  return simplePipeline(ctx, f32(ctx, 'reduce', reduceSource), 'reduce', { WORKGROUP_SIZE: REDUCE_WORKGROUP_SIZE, SQUARE: square, FINAL: final }, [
    [0, 'uniform'],
    [1, 'read'],
    [2, 'write'],
  ]);
}

export const OPTIMIZER_CODE = { sgd: 0, adam: 1, adamw: 2, rmsprop: 3 } as const;

/**
 * The words of a trainer's results buffer: the last loss and ‖g‖², then the halt — the first step
 * whose loss or ‖g‖² was not finite (0: none), its loss and its ‖g‖² (src/train/engine.ts).
 */
export const RESULT_SLOTS = { loss: 0, normSq: 1, haltStep: 2, haltLoss: 3, haltNormSq: 4 } as const;
export const RESULT_WORDS = 8;

/** dims, params, grads, state, results */
export function optimizerPipeline(ctx: GpuContext, name: keyof typeof OPTIMIZER_CODE, flags: { nesterov: boolean; amsgrad: boolean; centered: boolean }) {
  return simplePipeline(
    ctx,
    f32(ctx, 'optimizer', optimizerSource),
    'step',
    {
      WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE,
      OPTIMIZER: OPTIMIZER_CODE[name],
      NESTEROV: flags.nesterov,
      AMSGRAD: flags.amsgrad,
      CENTERED: flags.centered,
      LOSS_SLOT: RESULT_SLOTS.loss,
      HALT_STEP_SLOT: RESULT_SLOTS.haltStep,
      HALT_LOSS_SLOT: RESULT_SLOTS.haltLoss,
      HALT_NORM_SLOT: RESULT_SLOTS.haltNormSq,
    },
    [
      [0, 'uniform'],
      [1, 'write'],
      [2, 'read'],
      [3, 'write'],
      [4, 'write'],
    ],
  );
}

/** dims, logits, tokens ([cursor, t_1, …]) */
export function samplePipeline(ctx: GpuContext) {
  return simplePipeline(ctx, f32(ctx, 'sample', sampleSource, ['train-rng']), 'sample', {}, [
    [0, 'uniform'],
    [1, 'read'],
    [2, 'write'],
  ]);
}
