/**
 * One optimizer step over every parameter at once (shaders/optimizer.wgsl): the trainer keeps the
 * parameters, their gradients and the optimizer's state (three vectors) in flat buffers, so the whole
 * update — clip_grad_value_, clip_grad_norm_ from the norm the sum op left in `results`, then SGD,
 * Adam, AdamW or RMSprop — is one dispatch. Which optimizer is a pipeline constant whose values the
 * registry (src/train/optimizers/) names, checked against the shader's named constants. A step whose
 * loss or ‖g‖² is not finite changes nothing and is recorded in `results` (RESULT_SLOTS). Test:
 * test/ops/optimizer.test.ts against the registry's float64 references.
 */
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { OPTIMIZER_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { ELEMENTWISE_WORKGROUP_SIZE, elementGrid, f32Module } from './elementwise.js';
import optimizerSource from '../../../shaders/optimizer.wgsl?raw';

/** The shader's source, for the registry's contract test. */
export const OPTIMIZER_WGSL = optimizerSource;

/**
 * The words of a trainer's results buffer: the last loss and ‖g‖², then the halt — the first step
 * whose loss or ‖g‖² was not finite (0: none), its loss and its ‖g‖² (src/train/engine.ts).
 */
export const RESULT_SLOTS = { loss: 0, normSq: 1, haltStep: 2, haltLoss: 3, haltNormSq: 4, l1Sum: 5 } as const;
export const RESULT_WORDS = 8;

/** Which update, as pipeline constants: the registry's code and its variant flags. */
export interface OptimizerKernel {
  readonly code: number;
  readonly nesterov: boolean;
  readonly amsgrad: boolean;
  readonly centered: boolean;
}

/** One step's scalars, as torch.optim's formulas use them (the host counts steps and runs the schedule). */
export interface OptimizerScalars {
  /** The step's number, from 1. */
  readonly step: number;
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly alpha: number;
  /** 0: no clip_grad_value_. */
  readonly clipValue: number;
  /** undefined: no clip_grad_norm_. */
  readonly maxNorm?: number;
}

/**
 * The length the op's vectors are laid out at for n parameters: n rounded up to a multiple of four, so
 * that the kernel reads them as vec4s and the three state vectors start four-aligned.
 */
export function optimizerLength(n: number): number {
  return 4 * Math.ceil(n / 4);
}

export interface OptimizerCall {
  readonly label: string;
  /** Parameters; the vectors hold optimizerLength(n) floats, the padding's updated too (it means nothing). */
  readonly n: number;
  readonly params: GpuTensor;
  readonly grads: GpuTensor;
  /** (3·optimizerLength(n)): a, b, c. */
  readonly state: GpuTensor;
  /** RESULT_WORDS u32 words. */
  readonly results: GpuTensor;
}

/**
 * Quads (vec4s) per invocation, about (the kernel strides over the whole vector by the dispatch's size,
 * so any grid covers it): the halt words and the clip coefficient are read once per invocation, and on
 * a software adapter each workgroup's start costs. Measured on SwiftShader (Chromium, the char-LM's
 * Adam over 225 k parameters, each dispatch alone, 7 rounds interleaved): 1, 2, 4, 8, 16 quads 6.37,
 * 4.70, 3.50, 2.70, 2.41 ms; the scalar kernel before it, four elements per invocation, 7.60–8.03 ms.
 * On a GPU one quad per invocation (as many invocations as the scalar kernel had): there a strided
 * loop only takes parallelism away from a kernel bound by memory (not measured: no GPU was at hand).
 */
export const OPTIMIZER_SOFTWARE_QUADS_PER_INVOCATION = 16;

export interface RecordedOptimizer {
  /** The update's dispatch for this kernel, its uniforms written now for this step. */
  step(queue: GPUQueue, kernel: OptimizerKernel, s: OptimizerScalars): Command;
}

export function recordOptimizer(rec: Recorder, call: OptimizerCall): RecordedOptimizer {
  const { ctx } = rec;
  const length = optimizerLength(call.n);
  const need: Array<[string, GpuTensor, number]> = [
    ['params', call.params, length],
    ['grads', call.grads, length],
    ['state', call.state, 3 * length],
  ];
  for (const [name, t, floats] of need) {
    const have = t.shape.reduce((a, b) => a * b, 1);
    if (have < floats) throw new Error(`${call.label}: ${name} holds ${have} floats, expected ${floats} for ${call.n} parameters (optimizerLength)`);
  }
  const quads = length / 4;
  const dims = rec.uniform(`${call.label}.dims`, new Uint32Array(OPTIMIZER_DIMS_FIELDS.length));
  const groups = new Map<GPUComputePipeline, GPUBindGroup>();
  return {
    step(queue, kernel, s) {
      const { pipeline, layout } = simplePipeline(
        ctx,
        f32Module(ctx, 'optimizer', optimizerSource),
        'step',
        {
          WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE,
          OPTIMIZER: kernel.code,
          NESTEROV: kernel.nesterov,
          AMSGRAD: kernel.amsgrad,
          CENTERED: kernel.centered,
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
      queue.writeBuffer(
        dims.buffer,
        0,
        packU32Struct(OPTIMIZER_DIMS_FIELDS, {
          quads,
          first_step: s.step === 1 ? 1 : 0,
          norm_index: RESULT_SLOTS.normSq,
          clip_by_norm: s.maxNorm === undefined ? 0 : 1,
          lr: s.lr,
          momentum: s.momentum,
          dampening: s.dampening,
          weight_decay: s.weightDecay,
          beta1: s.betas[0],
          beta2: s.betas[1],
          eps: s.eps,
          alpha: s.alpha,
          bias_correction1: 1 - s.betas[0] ** s.step,
          bias_correction2_sqrt: Math.sqrt(1 - s.betas[1] ** s.step),
          clip_value: s.clipValue,
          max_norm: s.maxNorm ?? 0,
          step: s.step,
        }),
      );
      let group = groups.get(pipeline);
      if (!group) {
        group = ctx.bindGroup(call.label, layout, [
          dims,
          tensorBinding(call.params),
          tensorBinding(call.grads),
          tensorBinding(call.state),
          tensorBinding(call.results),
        ]);
        groups.set(pipeline, group);
      }
      return dispatch(
        call.label,
        pipeline,
        [group],
        elementGrid(ctx, Math.ceil(quads / (ctx.isSoftwareAdapter ? OPTIMIZER_SOFTWARE_QUADS_PER_INVOCATION : 1))),
      );
    },
  };
}
