/**
 * The kernel families — their WGSL, explicit bind group layouts, pipelines specialised by override
 * constants — and the choice between them for a call shape. Layouts mirror the `@group/@binding`
 * declarations in each shader file.
 *
 *   matmul               input projection of all T steps (general path): 1 dispatch per layer
 *   recurrent-step       one dispatch per time step (+1 per step for LSTM projection)
 *   recurrent-persistent the whole time loop of a layer in one single-workgroup dispatch
 */
import type { RnnMode } from '../config.js';
import prelude from '../../shaders/prelude.wgsl?raw';
import matmulSource from '../../shaders/matmul.wgsl?raw';
import persistentSource from '../../shaders/recurrent-persistent.wgsl?raw';
import stepSource from '../../shaders/recurrent-step.wgsl?raw';
import weightsF16 from '../../shaders/weights-f16.wgsl?raw';
import weightsF16Packed from '../../shaders/weights-f16-packed.wgsl?raw';
import weightsF32 from '../../shaders/weights-f32.wgsl?raw';
import lanesPlain from '../../shaders/lanes-plain.wgsl?raw';
import lanesSubgroups from '../../shaders/lanes-subgroups.wgsl?raw';
import { ShaderStage } from './constants.js';
import type { GpuContext } from './context.js';
import type { PersistentLayout } from './strategy.js';

/**
 * How weights are stored on the GPU: 'f32', or 'f16' (half the bytes). Activations, state and every
 * sum stay f32 either way.
 */
export type Precision = 'f32' | 'f16';

/**
 * How a kernel reads the weights: f32; binary16 as f16 (adapters with shader-f16); or the same
 * binary16 bytes as packed u32 words widened by unpack2x16float (any adapter).
 */
export type WeightFormat = 'f32' | 'f16' | 'f16-packed';

const WEIGHT_HEADERS: Record<WeightFormat, string> = { 'f32': weightsF32, 'f16': weightsF16, 'f16-packed': weightsF16Packed };

/** The format a device reads weights of `precision` in: native f16 where it has shader-f16. */
export function weightFormat(precision: Precision, device: GPUDevice): WeightFormat {
  if (precision === 'f32') return 'f32';
  return device.features.has('shader-f16') ? 'f16' : 'f16-packed';
}

/**
 * The one template step: a kernel family's name and WGSL for one weight format, with or without
 * subgroups — the `enable` directives those need, the weight header (shaders/weights-*.wgsl), the
 * lane-sharing header (shaders/lanes-*.wgsl), the shared prelude, then the kernel file. The context
 * caches shader modules by family name.
 */
function family(ctx: GpuContext, name: string, source: string, format: WeightFormat): { family: string; code: string } {
  const enables = [format === 'f16' ? 'enable f16;' : '', ctx.subgroups ? 'enable subgroups;' : ''].filter(Boolean);
  const parts = [...enables, WEIGHT_HEADERS[format], ctx.subgroups ? lanesSubgroups : lanesPlain, prelude, source];
  return { family: [name, format, ctx.subgroups ? 'subgroups' : 'plain'].join('.'), code: parts.join('\n') };
}

/** Rows of C per matmul invocation (ROWS in matmul.wgsl) and invocations per workgroup. */
export const MATMUL_ROWS = 8;
export const MATMUL_WORKGROUP_SIZE = 64;
/** Invocations per workgroup of the `project` kernel. */
export const PROJECT_WORKGROUP_SIZE = 64;
/** f32 elements of workgroup memory the persistent kernel has (SHARED_FLOATS in its WGSL). */
export const PERSISTENT_SHARED_FLOATS = 4096;
/** Most H_out whose W_hh column a persistent invocation can keep in private memory (CACHE_MAX_K in its WGSL). */
export const PERSISTENT_CACHE_MAX_K = 128;
/** Units one persistent invocation may own; beyond that the shape is better served per step. */
export const PERSISTENT_MAX_UNITS_PER_INVOCATION = 4;

const MODE_CODE: Record<RnnMode, number> = { RNN_TANH: 0, RNN_RELU: 1, LSTM: 2, GRU: 3 };

type Kind = 'uniform' | 'read' | 'write' | 'dynamic-uniform';

function entries(kinds: Array<[number, Kind]>): GPUBindGroupLayoutEntry[] {
  return kinds.map(([binding, kind]) => ({
    binding,
    visibility: ShaderStage.COMPUTE,
    buffer:
      kind === 'uniform' ? { type: 'uniform' }
      : kind === 'dynamic-uniform' ? { type: 'uniform', hasDynamicOffset: true }
      : kind === 'read' ? { type: 'read-only-storage' }
      : { type: 'storage' },
  }));
}

export interface MatmulKernel {
  pipeline: GPUComputePipeline;
  /** dims, a, params, c, a (again, read as vec4) */
  layout: GPUBindGroupLayout;
}

/** The input-projection GEMM; `vec4A` when K (the input width) is a multiple of 4. */
export function matmulKernel(ctx: GpuContext, vec4A: boolean, format: WeightFormat = 'f32'): MatmulKernel {
  const layout = ctx.bindGroupLayout('matmul/group0', entries([[0, 'uniform'], [1, 'read'], [2, 'read'], [3, 'write'], [4, 'read']]));
  const pipeline = ctx.computePipeline({
    ...family(ctx, 'matmul', matmulSource, format), entryPoint: 'matmul', constants: { WORKGROUP_SIZE: MATMUL_WORKGROUP_SIZE, A_VEC4: vec4A }, layouts: [layout],
  });
  return { pipeline, layout };
}

/** How the `step` kernel is laid out for one call shape. */
export interface StepLayout {
  /** Consecutive hidden units per workgroup. */
  workgroupSize: number;
  /** Batch rows per invocation (1, 2 or 4): W_hh is loaded once per block. */
  blockB: 1 | 2 | 4;
  /** H_out % 4 == 0: h_{t−1} read four columns per load. */
  vec4H: boolean;
}

/** Invocations a GPU wants in flight per dispatch before wider batch blocks pay off (≈ 128 SMs × 128). */
const GPU_TARGET_INVOCATIONS = 16384;

/**
 * Chooses the step layout. On a software adapter: batch blocks as wide as the batch allows (each W_hh
 * load serves up to 4 rows; a CPU core gains nothing from more invocations). On a GPU: the widest
 * block that still leaves GPU_TARGET_INVOCATIONS invocations, since a small step dispatch is bound by
 * parallelism, not by the (cached) W_hh reloads. Workgroups of 32 for small H, so that even a small
 * layer spreads over several workgroups (cores or multiprocessors).
 */
export function chooseStepLayout(H: number, Hout: number, D: number, B: number, softwareAdapter: boolean): StepLayout {
  const workgroupSize = H >= 128 ? 64 : 32;
  const vec4H = Hout % 4 === 0;
  const widest: 1 | 2 | 4 = B >= 4 ? 4 : B >= 2 ? 2 : 1;
  if (softwareAdapter) return { workgroupSize, blockB: widest, vec4H };
  for (const blockB of [4, 2] as const) {
    if (blockB <= widest && H * D * Math.ceil(B / blockB) >= GPU_TARGET_INVOCATIONS) return { workgroupSize, blockB, vec4H };
  }
  return { workgroupSize, blockB: 1, vec4H };
}

export interface StepKernels {
  step: GPUComputePipeline;
  /** dims, lengths, gx, params, out  (bindings 0–4) */
  stepLayout: GPUBindGroupLayout;
  /** Present when projecting: `project` entry with dims, lengths, out, w_hr, h_raw (bindings 0, 1, 4, 5, 6). */
  project?: GPUComputePipeline;
  projectLayout?: GPUBindGroupLayout;
  /** state_prev, state_next, state_prev as vec4 */
  stateLayout: GPUBindGroupLayout;
  /** step index, dynamic offset */
  indexLayout: GPUBindGroupLayout;
}

export function stepKernels(ctx: GpuContext, mode: RnnMode, hasProjection: boolean, layout: StepLayout, format: WeightFormat): StepKernels {
  const source = family(ctx, 'recurrent-step', stepSource, format);
  const stepLayout = ctx.bindGroupLayout('step/group0', entries([[0, 'uniform'], [1, 'read'], [2, 'read'], [3, 'read'], [4, 'write']]));
  const stateLayout = ctx.bindGroupLayout('step/group1', entries([[0, 'read'], [1, 'write'], [2, 'read']]));
  const indexLayout = ctx.bindGroupLayout('step/group2', entries([[0, 'dynamic-uniform']]));
  const constants = {
    MODE: MODE_CODE[mode], HAS_PROJ: hasProjection, WORKGROUP_SIZE: layout.workgroupSize, BLOCK_B: layout.blockB, H_VEC4: layout.vec4H,
  };
  const step = ctx.computePipeline({
    ...source, entryPoint: 'step', constants,
    layouts: [stepLayout, stateLayout, indexLayout],
  });
  if (!hasProjection) return { step, stepLayout, stateLayout, indexLayout };
  const projectLayout = ctx.bindGroupLayout('project/group0', entries([[0, 'uniform'], [1, 'read'], [4, 'write'], [5, 'read'], [6, 'read']]));
  const project = ctx.computePipeline({
    ...source, entryPoint: 'project', constants: { WORKGROUP_SIZE: PROJECT_WORKGROUP_SIZE },
    layouts: [projectLayout, stateLayout, indexLayout],
  });
  return { step, stepLayout, project, projectLayout, stateLayout, indexLayout };
}

export interface PersistentKernel {
  pipeline: GPUComputePipeline;
  /** dims, lengths, x, params, out, w_hr, state, gx (bindings 0–7) */
  layout: GPUBindGroupLayout;
  /** Input projection inside the loop (else read from gx, made by the matmul). */
  inlineInput: boolean;
}

export function persistentKernel(
  ctx: GpuContext, mode: RnnMode, hasProjection: boolean, layout: PersistentLayout, inlineInput: boolean, format: WeightFormat,
): PersistentKernel {
  const bindings = ctx.bindGroupLayout('persistent/group0', entries([
    [0, 'uniform'], [1, 'read'], [2, 'read'], [3, 'read'], [4, 'write'], [5, 'read'], [6, 'write'], [7, 'read'],
  ]));
  const pipeline = ctx.computePipeline({
    ...family(ctx, 'recurrent-persistent', persistentSource, format), entryPoint: 'persistent',
    constants: {
      MODE: MODE_CODE[mode], HAS_PROJ: hasProjection, WORKGROUP_SIZE: layout.workgroupSize, BLOCK_B: layout.blockB,
      INLINE_INPUT: inlineInput, CACHE_K: layout.cacheK,
    },
    layouts: [bindings],
  });
  return { pipeline, layout: bindings, inlineInput };
}
