/**
 * The persistent recurrence op (shaders/recurrent-persistent.wgsl): a whole layer's time loop in one
 * dispatch, one workgroup per (direction, block of batch rows), h in workgroup memory — with the input
 * projection read from `gx` (made by the GEMM) or computed inside the loop ('fused'). This module
 * holds its layout chooser, its limits and its pipeline; the plan (sequence-plan.ts) binds it. Test:
 * test/ops/recurrent.test.ts, against the float64 reference forward.
 */
import { type RnnConfig, type RnnMode, numDirections, outputSize } from '../../config.js';
import type { GpuContext } from '../context.js';
import { type Grid, layoutEntries, workgroupArrayLength } from '../program.js';
import { MODE_CODE, type WeightFormat, kernelModule } from '../wgsl.js';
import persistentSource from '../../../shaders/recurrent-persistent.wgsl?raw';

/** Most f32 of workgroup memory the kernel may use (its SHARED_FLOATS, sized per shape; 16 KiB, the least any device allows). */
export const PERSISTENT_SHARED_FLOATS = 4096;
/** Most H_out whose W_hh column an invocation can keep in private memory (CACHE_MAX_K in its WGSL). */
export const PERSISTENT_CACHE_MAX_K = 128;
/** Units one invocation may own; beyond that the shape is better served per step. */
export const PERSISTENT_MAX_UNITS_PER_INVOCATION = 4;

/** The widest persistent workgroup this device allows (256 is what WebGPU guarantees). */
export function maxPersistentWorkgroup(limits: GPUSupportedLimits): number {
  return Math.min(256, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
}

/*
 * What bounds the loop on a software adapter: its W_hh loads. Debian's Chromium ships SwiftShader built
 * with Subzero, whose gather (SubzeroReactor.cpp) is, per lane, a branch on the lane's mask and a
 * scalar load; a vec4 load at a computed index is four of them. Measured on char-rnn's forward (LSTM
 * 128, B 8, T 50; Node, each dispatch alone): the two loops took 39.1 and 38.2 ms (medians of 21), and
 * 17.2 and 16.9 ms (medians of 15, a run later) with W_hh loaded once per pass of units, before the k loop
 * (wrong sums, timing only): about 60% of the loop is those loads. Each loaded W value already serves a
 * block of 4 rows; 8 would leave one workgroup, so one core. A texture is the cheaper place to load
 * them from, and a software adapter's layers carry W_hh as one (W_TEXTURE, LayerWeights.wHhTexture):
 * a probe in the step kernel's pattern (16 vec4 loads a pass, each feeding 8 rows' FMAs) took 7.8–8.1 ms
 * loading from a storage buffer, 4.8–5.5 from an rgba32float texture and 1.8–2.0 without loads
 * (minima, Node, 41 rounds, twice). An earlier probe (one vec4 load and four vec4 FMAs a pass) had found
 * storage, uniform, workgroup and texture loads alike, 114–125 ns a pass against 57.5 without: its
 * loop's own merges hid the difference. Tried and left out, char-rnn's forward (interleaved, medians):
 *  - every W_hh quad of the invocation in private memory at literal indices (the cached_dot idea for
 *    all passes; width 8, 512 matrices; Node, 15 rounds): 130.9 ms, against 117.6 without at width 8
 *    and 116.2 at today's width 4; with every quad reading the same two matrices (timing only) 131.1
 *    vs 130.1 — the unrolled code itself is the cost. At width 4 (1,024 matrices) the worker crashed.
 *  - the grid padded to 16 workgroups, the extra ones returning at once (so every marl worker wakes
 *    and can steal the second loop workgroup; Chromium, 25 rounds): 124.1 vs 113.4 ms.
 *  - fma4 as multiplies and adds instead of fma() (Node, 41 rounds): 127.2 ms, against 118.9 with fma(),
 *    and the same outputs to the bit: this build's fma is a multiply and an add already (the README's
 *    disassembly of its JIT code finds no FMA instruction).
 * A loop dispatch on its own varies up to 2× between runs (25–50 ms in the 21 above), the GEMMs' too.
 */

/**
 * Persistent workgroup width on a software adapter (see persistentLayout). Measured on SwiftShader
 * (training forward loops, each dispatch alone, alternating, 2–3 rounds), width 4 / 8 / 16: the date
 * model's LSTM 64 encoder at B = 128 27.2–29.3 / 28.6–32.0 / 31.6–34.6 ms; the classifier's GRU 64 at
 * B = 32 31.6–36.0 / 33.3–44.8 ms (4 / 8); the char-LM's LSTM 128 at B = 8 within the drift. Inference
 * (benchmark, Node, 2 rounds, 4 / 8): throughput 348.7, 304.2 / 392.1, 344.4 ms; char-rnn 84.3, 84.7 /
 * 111.9, 86.6 ms; bigru within the drift.
 */
const SOFTWARE_PERSISTENT_WORKGROUP = 4;

/**
 * Hidden units per invocation of the loop (its UNITS): two on a software adapter for blocks of up to
 * four rows without the private-memory cache, so that each h_{t−1} value a row loads serves two units'
 * weights; else one (a GPU wants the invocations; the cache keeps one unit's column). Measured on
 * SwiftShader (Chromium, one and two units interleaved in one page): char-rnn's forward (LSTM 128, B 8,
 * blocks of 4) median 59.4 / 52.3 ms over 11 rounds; the char-LM's two training-forward loops (blocks of
 * 4) 44.7 / 38.1 ms; at blocks of 8 it did not pay: the classifier's GRU 64 (B 32) 26.5 / 29.6 ms, the
 * date model's LSTM 64 pair (B 128) 34.4 / 32.5, within its drift.
 */
export function persistentUnits(layout: PersistentLayout, softwareAdapter: boolean): 1 | 2 {
  return softwareAdapter && layout.cacheK === 0 && layout.blockB <= 4 ? 2 : 1;
}

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
  /** f32 of workgroup memory the kernel is built with (its SHARED_FLOATS): the block's, see workgroupArrayLength. */
  sharedFloats: number;
  /**
   * H_out % 4 ≠ 0: the kernel compiles its one-k loop over h_{t−1} (K_REMAINDER), which otherwise
   * never runs. Left out, it made the long-lstm forward (H 64, T 1,000) 47.1 → 44.3 ms (medians of 15,
   * interleaved in Chromium; char-rnn and voice-lstm unchanged within the drift).
   */
  kRemainder: boolean;
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
 * per invocation in a narrower workgroup. Tried again (char-rnn's forward in Node, cache on / off,
 * interleaved, 9 rounds): one cached_dot per row 134.4 / 97.3 ms; each private W_hh quad loaded once
 * for all the block's rows 121.6 / 108.1 ms; the first with every row's h_{t−1} at a constant offset
 * (wrong sums, timing only; with subgroups each lane still reads its own element) 110.2 / 83.8 ms.
 * GPUs keep W_hh in the buffer: a column per thread would cost 4·H_out registers, unmeasured here.
 */
export function persistentLayout(config: RnnConfig, B: number, limits: GPUSupportedLimits, softwareAdapter: boolean): PersistentLayout {
  const D = numDirections(config);
  const H = config.hidden_size;
  const K = outputSize(config);
  const kRemainder = K % 4 !== 0;
  const fits = (rows: number) => persistentSharedFloats(config, rows) <= PERSISTENT_SHARED_FLOATS;
  const minWorkgroups = Math.min(2, D * B); // both cores busy, where the shape has two sequences
  const workgroups = (blockB: number) => D * Math.ceil(B / blockB);
  const shared = (blockB: number) => workgroupArrayLength(persistentSharedFloats(config, blockB));
  if (!softwareAdapter) {
    const workgroupSize = Math.min(maxPersistentWorkgroup(limits), Math.max(32, Math.ceil(H / 32) * 32));
    return { workgroupSize, blockB: 1, workgroups: workgroups(1), cacheK: 0, sharedFloats: shared(1), kRemainder };
  }
  const blockB = PERSISTENT_BLOCKS.find((rows) => rows <= B && fits(rows) && workgroups(rows) >= minWorkgroups) ?? 1;
  // One row per workgroup and a W_hh column that fits the cache: one unit per invocation (whole
  // subgroups of 4, the broadcasts read lanes 0–3), W_hh read once per dispatch.
  const unitsWide = Math.ceil(H / 4) * 4;
  if (blockB === 1 && K <= PERSISTENT_CACHE_MAX_K && unitsWide <= maxPersistentWorkgroup(limits)) {
    return { workgroupSize: unitsWide, blockB, workgroups: workgroups(blockB), cacheK: K, sharedFloats: shared(blockB), kRemainder };
  }
  return { workgroupSize: SOFTWARE_PERSISTENT_WORKGROUP, blockB, workgroups: workgroups(blockB), cacheK: 0, sharedFloats: shared(blockB), kRemainder };
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

export interface PersistentKernel {
  pipeline: GPUComputePipeline;
  /** dims, lengths, x, params, out, w_hr, state, gx (bindings 0–7), the W_hh texture (8; a placeholder without wTexture) */
  layout: GPUBindGroupLayout;
  /** Group 1: the save offsets (uniform) and `saved` (a placeholder when not saving). */
  saveLayout: GPUBindGroupLayout;
  grid: Grid;
  /** Training with recurrent dropout: h_{t−1} scaled by the mask in `saved` (RECURRENT_MASK). */
  recurrentMask: boolean;
  /** W_hh read from the layer's texture copy (LayerWeights.wHhTexture, W_TEXTURE) instead of `params`. */
  wTexture: boolean;
}

/** The pipeline and grid for a layout; `inlineInput` is the fused variant (input projection in the loop). */
export function persistentKernel(
  ctx: GpuContext,
  mode: RnnMode,
  hasProjection: boolean,
  layout: PersistentLayout,
  inlineInput: boolean,
  format: WeightFormat,
  save = false,
  recurrentMask = false,
  wTexture = false,
): PersistentKernel {
  if (recurrentMask && !save) throw new Error('persistentKernel: recurrent dropout needs the training forward (save)');
  const saveLayout = ctx.bindGroupLayout(
    'persistent/group1',
    layoutEntries([
      [0, 'uniform'],
      [1, 'write'],
    ]),
  );
  const bindings = ctx.bindGroupLayout(
    'persistent/group0',
    layoutEntries([
      [0, 'uniform'],
      [1, 'read'],
      [2, 'read'],
      [3, 'read'],
      [4, 'write'],
      [5, 'read'],
      [6, 'write'],
      [7, 'read'],
      [8, 'texture'],
    ]),
  );
  const pipeline = ctx.computePipeline({
    ...kernelModule(ctx, 'recurrent-persistent', persistentSource, format, ['recurrent-common', 'recurrent-save']),
    entryPoint: 'persistent',
    constants: {
      MODE: MODE_CODE[mode],
      HAS_PROJ: hasProjection,
      WORKGROUP_SIZE: layout.workgroupSize,
      BLOCK_B: layout.blockB,
      SHARED_FLOATS: layout.sharedFloats,
      INLINE_INPUT: inlineInput,
      CACHE_K: layout.cacheK,
      UNITS: persistentUnits(layout, ctx.isSoftwareAdapter),
      SAVE: save,
      RECURRENT_MASK: recurrentMask,
      K_REMAINDER: layout.kRemainder,
      W_TEXTURE: wTexture,
    },
    layouts: [bindings, saveLayout],
  });
  return { pipeline, layout: bindings, saveLayout, grid: [layout.workgroups, 1, 1], recurrentMask, wTexture };
}
