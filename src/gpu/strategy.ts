/**
 * Which recurrent strategy a call shape runs:
 *  - 'per-step':   1 matmul + T step dispatches per layer; any shape; spreads each step over many
 *                  workgroups (all cores of a software adapter, all multiprocessors of a GPU).
 *  - 'persistent': 1 matmul (input projection of all steps, parallel) + 1 dispatch running the whole
 *                  time loop inside one workgroup, per layer; only when the state fits that
 *                  workgroup. It removes the per-step dispatch cost, which dominates small recurrent
 *                  shapes, but the loop runs on one multiprocessor (one CPU core in software).
 *  - 'fused':      as 'persistent', with the input projection inside the loop too: 1 dispatch per
 *                  layer, more serial work. Measured slower on SwiftShader (long-lstm 154 vs 98 ms),
 *                  kept for devices where the extra dispatch matters more.
 */
import type { RnnConfig } from '../config.js';
import { numDirections, outputSize } from '../config.js';
import { PERSISTENT_MAX_UNITS_PER_INVOCATION, PERSISTENT_SHARED_FLOATS } from './kernels.js';

export type Strategy = 'per-step' | 'persistent' | 'fused';
export type StrategyChoice = Strategy | 'auto';

/** The widest persistent workgroup this device allows (256 is what WebGPU guarantees). */
function maxPersistentWorkgroup(limits: GPUSupportedLimits): number {
  return Math.min(256, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
}

/** Persistent workgroup width on a software adapter (see persistentWorkgroupSize). */
const SOFTWARE_PERSISTENT_WORKGROUP = 8;

/**
 * Invocations of the persistent workgroup. On a GPU: enough for one unit each, up to the limit. On a
 * software adapter the workgroup runs on one CPU core whatever its width, and every barrier switches
 * between all its SIMD groups, so a narrow workgroup looping over the units is faster: measured on
 * SwiftShader (median of 15, same process), width 8 vs 64: voice-lstm 35 vs 48 ms, voice-gru 18 vs
 * 28 ms, long-lstm 108 vs 123 ms.
 */
export function persistentWorkgroupSize(units: number, limits: GPUSupportedLimits, softwareAdapter = false): number {
  if (softwareAdapter) return SOFTWARE_PERSISTENT_WORKGROUP;
  return Math.min(maxPersistentWorkgroup(limits), Math.max(32, Math.ceil(units / 32) * 32));
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
  const perInvocation = Math.ceil(units / maxPersistentWorkgroup(limits));
  if (perInvocation > PERSISTENT_MAX_UNITS_PER_INVOCATION) {
    return `${units} units (D·B·H) would give one invocation ${perInvocation} units, above ${PERSISTENT_MAX_UNITS_PER_INVOCATION}`;
  }
  return undefined;
}

/**
 * Resolves a strategy for a call. 'auto' takes 'persistent' where it fits and every invocation owns at
 * most one unit (so one workgroup is not the bottleneck), else 'per-step'. Measured on SwiftShader
 * (2 cores): persistent wins at D·B·H = 64 and 128 (long-lstm 98 vs 180 ms, voice-lstm 42 vs 63 ms),
 * ties at 512 (bigru), loses at 1024 (char-rnn 379 vs 257 ms). A forced strategy that cannot run the
 * shape is an error.
 */
export function chooseStrategy(choice: StrategyChoice, config: RnnConfig, B: number, limits: GPUSupportedLimits): Strategy {
  const unfit = persistentUnfit(config, B, limits);
  if (choice === 'persistent' || choice === 'fused') {
    if (unfit) throw new RangeError(`strategy "${choice}" cannot run this shape: ${unfit}`);
    return choice;
  }
  if (choice === 'per-step' || unfit) return 'per-step';
  const units = numDirections(config) * B * config.hidden_size;
  return units <= maxPersistentWorkgroup(limits) ? 'persistent' : 'per-step';
}
