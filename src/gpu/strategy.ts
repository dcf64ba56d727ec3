/**
 * Which recurrent strategy a call shape runs:
 *  - 'per-step':   1 matmul + T step dispatches per layer; any shape; spreads each step over many
 *                  workgroups (all cores of a software adapter, all multiprocessors of a GPU).
 *  - 'persistent': 1 matmul (input projection of all steps, parallel) + 1 dispatch running the whole
 *                  time loop, per layer: one workgroup per direction and block of batch rows (they are
 *                  independent sequences), each keeping its rows' h in workgroup memory. It removes
 *                  the per-step dispatch cost, which dominates small recurrent shapes; only when a
 *                  batch row's state fits a workgroup.
 *  - 'fused':      as 'persistent', with the input projection inside the loop too: 1 dispatch per
 *                  layer, more serial work. Measured slower on SwiftShader (long-lstm 154 vs 98 ms),
 *                  kept for devices where the extra dispatch matters more.
 */
import type { RnnConfig } from '../config.js';
import { numDirections, outputSize } from '../config.js';
import { RnnError } from '../errors.js';
import { PERSISTENT_CACHE_MAX_K, PERSISTENT_MAX_UNITS_PER_INVOCATION, PERSISTENT_SHARED_FLOATS } from './kernels.js';

export type Strategy = 'per-step' | 'persistent' | 'fused';
export type StrategyChoice = Strategy | 'auto';

/** The widest persistent workgroup this device allows (256 is what WebGPU guarantees). */
function maxPersistentWorkgroup(limits: GPUSupportedLimits): number {
  return Math.min(256, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
}

/** Persistent workgroup width on a software adapter (see persistentLayout). */
const SOFTWARE_PERSISTENT_WORKGROUP = 8;

/** f32 of workgroup memory the persistent kernel needs for a block of `rows` batch rows. */
function persistentSharedFloats(config: RnnConfig, rows: number): number {
  return 2 * rows * outputSize(config) + (config.proj_size > 0 ? rows * config.hidden_size : 0);
}

/** Batch rows one persistent workgroup can own (the kernel's BLOCK_B; it keeps one accumulator per row). */
export type PersistentBlock = 1 | 2 | 4 | 8;
const PERSISTENT_BLOCKS: readonly PersistentBlock[] = [8, 4, 2, 1];

/** How the persistent kernel is laid out for one call shape. */
export interface PersistentLayout {
  /** Invocations per workgroup. */
  workgroupSize: number;
  /** Batch rows per workgroup (1, 2, 4 or 8); the dispatch has D·⌈B / blockB⌉ workgroups. */
  blockB: PersistentBlock;
  /** Workgroups in the dispatch. */
  workgroups: number;
  /**
   * H_out when each invocation keeps its W_hh column in private memory (the kernel's CACHE_K), else 0.
   * Then blockB is 1 and workgroupSize ≥ H: one unit per invocation for the whole dispatch.
   */
  cacheK: number;
}

/**
 * The persistent layout. Every workgroup loops over its units, so its width is free: on a GPU, one
 * unit (hidden unit j, for the block's rows) per invocation up to the limit, and one batch row per
 * workgroup (the most workgroups, so the most multiprocessors, each with the least serial work). On a
 * software adapter a workgroup runs on one CPU core whatever its width, and every barrier switches
 * between all its SIMD groups, so narrow workgroups are faster — measured on SwiftShader (median of 15,
 * same process), width 8 vs 64: voice-lstm 35 vs 48 ms, voice-gru 18 vs 28 ms, long-lstm 108 vs 123 ms
 * — and batch blocks as wide as still give two workgroups (cores): each W_hh load then serves up to 8
 * rows. On a software adapter every load is a per-lane gather, so loads per FMA decide the speed:
 * measured on SwiftShader, the throughput shape's recurrence (LSTM H=256, B=32, T=32, I=4) took
 * 270 / 228 ms with blocks of 8 vs 363 / 297 ms with blocks of 4 (two interleaved rounds).
 *
 * Where a workgroup has one batch row and H_out ≤ PERSISTENT_CACHE_MAX_K, a software adapter instead
 * runs one unit per invocation and keeps each unit's W_hh column in private memory (cacheK): W_hh is
 * then read from the buffer once per dispatch instead of once per step. Measured on SwiftShader in
 * Node, cache on vs off in one process (alternating calls, medians): LSTM H=64 B=1 T=1000 74.8 vs
 * 83.7 ms, LSTM H=128 B=1 T=100 25.2 vs 35.1 ms, GRU H=96 B=1 T=100 21.0 vs 26.4 ms. With blocks of
 * several rows it did not help (char-rnn's layer, 4 rows: 72–94 vs 64–71 ms), nor did four units
 * per invocation in a narrower workgroup. GPUs keep W_hh in the buffer: a column per thread would
 * cost 4·H_out registers, unmeasured here.
 */
export function persistentLayout(config: RnnConfig, B: number, limits: GPUSupportedLimits, softwareAdapter: boolean): PersistentLayout {
  const D = numDirections(config);
  const H = config.hidden_size;
  const fits = (rows: number) => persistentSharedFloats(config, rows) <= PERSISTENT_SHARED_FLOATS;
  const minWorkgroups = Math.min(2, D * B); // both cores busy, where the shape has two sequences
  const workgroups = (blockB: number) => D * Math.ceil(B / blockB);
  if (!softwareAdapter) {
    const workgroupSize = Math.min(maxPersistentWorkgroup(limits), Math.max(32, Math.ceil(H / 32) * 32));
    return { workgroupSize, blockB: 1, workgroups: workgroups(1), cacheK: 0 };
  }
  const blockB = PERSISTENT_BLOCKS.find((rows) => rows <= B && fits(rows) && workgroups(rows) >= minWorkgroups) ?? 1;
  const K = outputSize(config);
  // One row per workgroup and a W_hh column that fits the cache: one unit per invocation (whole
  // subgroups of 4, the broadcasts read lanes 0–3), W_hh read once per dispatch.
  const unitsWide = Math.ceil(H / 4) * 4;
  if (blockB === 1 && K <= PERSISTENT_CACHE_MAX_K && unitsWide <= maxPersistentWorkgroup(limits)) {
    return { workgroupSize: unitsWide, blockB, workgroups: workgroups(blockB), cacheK: K };
  }
  return { workgroupSize: SOFTWARE_PERSISTENT_WORKGROUP, blockB, workgroups: workgroups(blockB), cacheK: 0 };
}

/** Why the persistent kernel cannot run this shape, or undefined when it can. */
export function persistentUnfit(config: RnnConfig, B: number, limits: GPUSupportedLimits): string | undefined {
  const shared = persistentSharedFloats(config, 1);
  if (shared > PERSISTENT_SHARED_FLOATS) {
    return `one batch row's state needs ${shared} f32 of workgroup memory (2·H_out${config.proj_size > 0 ? ' + H' : ''}), above ${PERSISTENT_SHARED_FLOATS}`;
  }
  if (PERSISTENT_SHARED_FLOATS * 4 > limits.maxComputeWorkgroupStorageSize) {
    return `device allows ${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory`;
  }
  const H = config.hidden_size;
  const perInvocation = Math.ceil(H / maxPersistentWorkgroup(limits));
  if (perInvocation > PERSISTENT_MAX_UNITS_PER_INVOCATION) {
    return `hidden_size ${H} would give one invocation ${perInvocation} units, above ${PERSISTENT_MAX_UNITS_PER_INVOCATION}`;
  }
  if (numDirections(config) * B > limits.maxComputeWorkgroupsPerDimension) {
    return `${numDirections(config) * B} sequences (D·B) exceed ${limits.maxComputeWorkgroupsPerDimension} workgroups`;
  }
  return undefined;
}

/**
 * Resolves a strategy for a call. 'auto' takes 'persistent' where it fits and
 *  - the state of all sequences is at most one workgroup's width of units (D·B·H ≤ 256): measured on
 *    SwiftShader (2 cores), long-lstm 98 vs 180 ms, voice-lstm 42 vs 63 ms; on an H100 voice-lstm runs
 *    in 1.1 ms with 2 dispatches;
 *  - or, on a software adapter, the layout has a workgroup per core (D·B ≥ 2): measured on SwiftShader,
 *    persistent vs per-step medians, bigru 29.5 vs 47.7 ms, throughput 920 vs 1004 ms, char-rnn 217 vs
 *    223 ms. (A single sequence with a large H keeps per-step there: it spreads each step over both
 *    cores, the persistent loop runs on one.)
 * else 'per-step'. A forced strategy that cannot run the shape is an error.
 */
export function chooseStrategy(choice: StrategyChoice, config: RnnConfig, B: number, limits: GPUSupportedLimits, softwareAdapter = false): Strategy {
  const unfit = persistentUnfit(config, B, limits);
  if (choice === 'persistent' || choice === 'fused') {
    if (unfit) throw new RnnError('LIMIT_EXCEEDED', `strategy "${choice}" cannot run this shape: ${unfit}`);
    return choice;
  }
  if (choice === 'per-step' || unfit) return 'per-step';
  const sequences = numDirections(config) * B;
  if (sequences * config.hidden_size <= maxPersistentWorkgroup(limits)) return 'persistent';
  return softwareAdapter && sequences >= 2 ? 'persistent' : 'per-step';
}
