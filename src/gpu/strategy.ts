/**
 * Which recurrent strategy a call shape runs:
 *  - 'per-step':   1 matmul + T step dispatches per layer; any shape; spreads each step over many
 *                  workgroups (all cores of a software adapter, all multiprocessors of a GPU).
 *  - 'persistent': 1 dispatch per layer, the time loop inside one workgroup; only when the state fits
 *                  that workgroup's memory. It removes per-step dispatch costs, which dominate small
 *                  recurrent shapes on GPUs, but runs on one multiprocessor (one CPU core in software).
 */
import type { RnnConfig } from '../config.js';
import { numDirections, outputSize } from '../config.js';
import { PERSISTENT_MAX_UNITS_PER_INVOCATION, PERSISTENT_SHARED_FLOATS } from './kernels.js';

export type Strategy = 'per-step' | 'persistent';
export type StrategyChoice = Strategy | 'auto';

/** Invocations of the persistent workgroup for a unit count: enough for one unit each, up to the limit. */
export function persistentWorkgroupSize(units: number, limits: GPUSupportedLimits): number {
  const max = Math.min(256, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  return Math.min(max, Math.max(32, Math.ceil(units / 32) * 32));
}

/** Why the persistent kernel cannot run this shape, or undefined when it can. */
export function persistentUnfit(config: RnnConfig, B: number, limits: GPUSupportedLimits): string | undefined {
  const D = numDirections(config);
  const H = config.hidden_size;
  const hFloats = D * B * outputSize(config);
  const shared = 2 * hFloats + (config.proj_size > 0 ? D * B * H : 0);
  if (shared > PERSISTENT_SHARED_FLOATS) {
    return `state needs ${shared} f32 of workgroup memory (2·D·B·H_out${config.proj_size > 0 ? ' + D·B·H' : ''}), above ${PERSISTENT_SHARED_FLOATS}`;
  }
  if (PERSISTENT_SHARED_FLOATS * 4 > limits.maxComputeWorkgroupStorageSize) {
    return `device allows ${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory`;
  }
  const units = D * B * H;
  const perInvocation = Math.ceil(units / persistentWorkgroupSize(units, limits));
  if (perInvocation > PERSISTENT_MAX_UNITS_PER_INVOCATION) {
    return `${units} units (D·B·H) would give one invocation ${perInvocation} units, above ${PERSISTENT_MAX_UNITS_PER_INVOCATION}`;
  }
  return undefined;
}

/**
 * Resolves a strategy for a call. 'auto' takes the persistent kernel where it fits and the work per
 * step is small enough that one workgroup is not the bottleneck (≤ one unit per invocation), except
 * on a software (fallback) adapter, where one workgroup means one CPU core and the per-step kernel,
 * spread over all cores, is faster. A forced strategy that cannot run the shape is an error.
 */
export function chooseStrategy(choice: StrategyChoice, config: RnnConfig, B: number, limits: GPUSupportedLimits, softwareAdapter: boolean): Strategy {
  const unfit = persistentUnfit(config, B, limits);
  if (choice === 'persistent') {
    if (unfit) throw new RangeError(`strategy "persistent" cannot run this shape: ${unfit}`);
    return 'persistent';
  }
  if (choice === 'per-step') return 'per-step';
  if (unfit || softwareAdapter) return 'per-step';
  const units = numDirections(config) * B * config.hidden_size;
  return units <= persistentWorkgroupSize(units, limits) ? 'persistent' : 'per-step';
}
