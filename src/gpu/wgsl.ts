/**
 * How a kernel module's WGSL is put together — the one template step. A module is, in order:
 *
 *   `enable` directives   `enable f16;` for native f16 weights, `enable subgroups;` where used
 *   weight header         shaders/weights-{f32,f16,f16-packed}.wgsl: how weights are stored
 *   lane header           shaders/lanes-{subgroups,plain}.wgsl: how a subgroup shares loads
 *   prelude               shaders/prelude.wgsl: activations, the cell update, fma4, mode codes
 *   includes              e.g. shaders/recurrent-common.wgsl, for the kernels that share it
 *   the kernel file       shaders/<op>.wgsl
 *
 * The header contract — what each header must define, so every kernel is written once:
 *   weights-*.wgsl  `alias weight4` (four consecutive elements, one load) and `alias weight2`, and
 *                   `fn widen4(weight4) -> vec4<f32>`, `fn widen2(weight2) -> vec2<f32>`;
 *   lanes-*.wgsl    `const SUBGROUPS: bool`, `fn subgroup_lane() -> u32`,
 *                   `fn lane_values(vec4<f32>) -> Lanes4`, `fn lane_scalars(f32) -> vec4<f32>`.
 * test/structure/wgsl.test.ts checks every header against this list.
 */
import prelude from '../../shaders/prelude.wgsl?raw';
import lanesPlain from '../../shaders/lanes-plain.wgsl?raw';
import lanesSubgroups from '../../shaders/lanes-subgroups.wgsl?raw';
import recurrentCommon from '../../shaders/recurrent-common.wgsl?raw';
import recurrentSave from '../../shaders/recurrent-save.wgsl?raw';
import tile from '../../shaders/tile.wgsl?raw';
import trainRng from '../../shaders/train-rng.wgsl?raw';
import weightsF16 from '../../shaders/weights-f16.wgsl?raw';
import weightsF16Packed from '../../shaders/weights-f16-packed.wgsl?raw';
import weightsF32 from '../../shaders/weights-f32.wgsl?raw';
import type { RnnMode } from '../config.js';
import type { GpuContext } from './context.js';

/**
 * How weights are stored on the GPU: 'f32', or 'f16' (half the bytes). Activations, state and every
 * sum stay f32 either way.
 */
export type Precision = 'f32' | 'f16';

/**
 * How a kernel reads weights: f32; binary16 as f16 (adapters with shader-f16); or the same binary16
 * bytes as packed u32 words widened by unpack2x16float (any adapter).
 */
export type WeightFormat = 'f32' | 'f16' | 'f16-packed';

/** What each header must define (the contract above; checked by test/structure/wgsl.test.ts). */
export const HEADER_CONTRACT = {
  weights: ['alias weight4', 'alias weight2', 'fn widen4', 'fn widen2'],
  lanes: ['const SUBGROUPS', 'fn subgroup_lane', 'fn lane_values', 'fn lane_scalars', 'fn quad_u32', 'fn quad_sum'],
} as const;

export const WEIGHT_HEADERS: Readonly<Record<WeightFormat, string>> = { f32: weightsF32, f16: weightsF16, 'f16-packed': weightsF16Packed };

/** The kernels' MODE codes (MODE_* in shaders/prelude.wgsl, which every kernel module opens with; checked by test/structure/wgsl.test.ts). */
export const MODE_CODE: Readonly<Record<RnnMode, number>> = { RNN_TANH: 0, RNN_RELU: 1, LSTM: 2, GRU: 3 };

/** Shared WGSL included by some kernels (after the prelude). */
export const INCLUDES = { 'recurrent-common': recurrentCommon, 'recurrent-save': recurrentSave, tile, 'train-rng': trainRng } as const;
export type Include = keyof typeof INCLUDES;

/** The format a device reads weights of `precision` in: native f16 where it has shader-f16. */
export function weightFormat(precision: Precision, device: GPUDevice): WeightFormat {
  if (precision === 'f32') return 'f32';
  return device.features.has('shader-f16') ? 'f16' : 'f16-packed';
}

/**
 * A kernel module's name and WGSL for one weight format, on this context (with or without subgroups).
 * The context caches shader modules by this name.
 */
export function kernelModule(
  ctx: GpuContext,
  name: string,
  source: string,
  format: WeightFormat,
  includes: readonly Include[] = [],
): { family: string; code: string } {
  const enables = [format === 'f16' ? 'enable f16;' : '', ctx.subgroups ? 'enable subgroups;' : ''].filter(Boolean);
  const parts = [...enables, WEIGHT_HEADERS[format], ctx.subgroups ? lanesSubgroups : lanesPlain, prelude, ...includes.map((i) => INCLUDES[i]), source];
  return { family: [name, format, ctx.subgroups ? 'subgroups' : 'plain'].join('.'), code: parts.join('\n') };
}
