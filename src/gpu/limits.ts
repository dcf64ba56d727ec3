/**
 * Whether work fits a device, checked before anything is allocated or recorded: a forward plan's
 * buffers, bindings and dispatch grids, and a layer's packed weights. GpuRnn splits what does not fit
 * into pieces that do (chunking.ts); what cannot be split is refused with the reason these give.
 */
import type { RnnConfig } from '../config.js';
import { F32_BYTES as F32 } from './constants.js';
import { GATE_LANES, paramOffsets } from './layer-weights.js';
import { GEMM_ROWS, GEMM_WORKGROUP_SIZE } from './ops/gemm.js';
import { chooseStepLayout, stepBlockRows } from './ops/recurrent-step.js';
import type { GpuContext } from './context.js';
import { PlanSizes } from './state.js';
import type { Strategy } from './strategy.js';
import type { Precision } from './wgsl.js';

/**
 * Why a plan of this shape cannot run on the device, or undefined when it can: every buffer within
 * maxBufferSize, every storage binding within maxStorageBufferBindingSize, every dispatch within
 * maxComputeWorkgroupsPerDimension. Checked before a plan allocates anything; GpuRnn uses it to split
 * work that does not fit into pieces that do.
 */
export function planUnfit(ctx: GpuContext, config: RnnConfig, T: number, B: number, strategy: Strategy): string | undefined {
  const s = new PlanSizes(config, T, B);
  const limits = ctx.limits;
  const gx = strategy === 'fused' ? 0 : s.D * T * B * s.H * GATE_LANES * F32;
  const storage: Array<[string, number]> = [
    ['input', T * B * config.input_size * F32],
    ['layer output', s.sequence * F32],
    ['input projection (gx)', gx],
    ['layer state', s.layerState * F32],
  ];
  for (const [what, bytes] of storage) {
    if (bytes > limits.maxStorageBufferBindingSize)
      return `its ${what} needs ${bytes} bytes, above maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}`;
  }
  const buffers: Array<[string, number]> = [
    ['output staging', s.sequence * F32],
    ['state staging', config.num_layers * s.layerState * F32],
  ];
  if (strategy === 'per-step') buffers.push(['step index', T * limits.minUniformBufferOffsetAlignment]);
  for (const [what, bytes] of [...storage, ...buffers]) {
    if (bytes > limits.maxBufferSize) return `its ${what} needs ${bytes} bytes, above maxBufferSize ${limits.maxBufferSize}`;
  }
  const maxGroups = limits.maxComputeWorkgroupsPerDimension;
  const fits = (extent: number, tile: number, max = maxGroups) => Math.ceil(extent / tile) <= max;
  if (!fits(s.H, GEMM_WORKGROUP_SIZE)) return `hidden_size ${s.H} needs more than ${maxGroups} workgroups of ${GEMM_WORKGROUP_SIZE}`;
  if (strategy !== 'fused' && !fits(T * B, GEMM_ROWS)) return `T·B = ${T * B} rows need more than ${maxGroups} workgroups of ${GEMM_ROWS} rows`;
  if (strategy === 'per-step') {
    const layout = chooseStepLayout(s.H, s.Hout, s.D, B, ctx.isSoftwareAdapter);
    if (!fits(B, stepBlockRows(layout), Math.floor(maxGroups / s.D))) return `${s.D}·${B} batch rows need more than ${maxGroups} workgroups`;
    if (!fits(Math.ceil((s.D * B * s.Hout) / 64), maxGroups)) return `the projection of ${s.D}·${B} rows needs more than ${maxGroups}² workgroups`;
  }
  return undefined;
}

/**
 * Why the packed weights of a layer cannot be bound on this device, or undefined: they are one storage
 * binding, which no split of the call can make smaller.
 */
export function layerWeightsUnfit(config: RnnConfig, layer: number, precision: Precision, limits: GPUSupportedLimits): string | undefined {
  const bytes = paramOffsets(config, layer).total * GATE_LANES * (precision === 'f16' ? 2 : 4);
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  return bytes > limit ? `layer ${layer}'s packed weights take ${bytes} bytes, above the device's limit of ${limit} for one storage binding` : undefined;
}
