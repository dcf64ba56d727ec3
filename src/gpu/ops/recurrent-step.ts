/**
 * The per-step recurrence op (shaders/recurrent-step.wgsl): one dispatch per time step for all
 * directions of a layer, adding W_hh·h_{t−1} + b_hh to the input projection `gx` (made by the GEMM)
 * and applying the cell update; state ping-pongs between two buffers, the step index comes from a
 * dynamic uniform offset. This module holds its layout chooser, bind-group layouts, pipeline and grid;
 * the plan (sequence-plan.ts) binds it. With LSTM projection, ops/projection.ts runs after each step.
 * Test: test/ops/recurrent.test.ts, against the float64 reference forward.
 */
import { type RnnMode, gateCount } from '../../config.js';
import type { GpuContext } from '../context.js';
import { type Grid, layoutEntries, tileCount } from '../program.js';
import { MODE_CODE, type WeightFormat, kernelModule } from '../wgsl.js';
import { GEMM_ROWS, GEMM_SOFTWARE_MIN_WORKGROUPS, gemmWideQuads, gemmWideRows } from './gemm.js';
import stepSource from '../../../shaders/recurrent-step.wgsl?raw';

/** How the `step` kernel is laid out for one call shape. */
export interface StepLayout {
  /** Consecutive hidden units per workgroup. */
  workgroupSize: number;
  /** Batch rows per invocation of the `step` entry (1, 2 or 4; `step_wide` does not read it): W_hh is loaded once per block. */
  blockB: 1 | 2 | 4;
  /** H_out % 4 == 0: h_{t−1} read four columns per load. */
  vec4H: boolean;
  /**
   * Software adapters, B ≥ 8: the `step_wide` entry, wideUnits units × 8·wideGroups batch rows per
   * invocation (the GEMM's wide tile); 0: the `step` entry.
   */
  wideGroups: 0 | 1 | 2 | 4;
  /** Hidden units per `step_wide` invocation (2 or 4; `step` does not read it). */
  wideUnits: 2 | 4;
}

/**
 * Fewest batch rows for the wide entry on a software adapter: one whole group of the tile's rows
 * (GEMM_ROWS, tile.wgsl's Tile); with fewer, the group's rows past B would repeat the last row. The
 * strategy rule (src/gpu/strategy.ts) takes it too.
 */
export const STEP_WIDE_MIN_ROWS = GEMM_ROWS;

/** Invocations a GPU wants in flight per dispatch before wider batch blocks pay off (≈ 128 SMs × 128). */
const GPU_TARGET_INVOCATIONS = 16384;

/**
 * Groups of 8 batch rows per `step_wide` invocation: 1 below 16 rows, else as the GEMM's wide tile
 * chooses its rows for an M of B (gemmWideRows: 32 unless the rows past B cost more than it saves).
 */
export function stepWideGroups(B: number): 1 | 2 | 4 {
  return B < 16 ? 1 : gemmWideRows(B) === 32 ? 4 : 2;
}

/**
 * Hidden units per `step_wide` invocation: as the GEMM's wide tile chooses its column quads for the
 * step's h_{t−1}·W_hh (M = B rows, N = 4H columns, one quad per unit, D calls), 4 unless the units past
 * H or too few subgroups for the cores cost more. Unlike the GEMM it takes 4 one k at a time too
 * (H_out not four-aligned): there each h value it broadcasts still serves twice the units. Measured in
 * Chromium (SwiftShader, per-step forward, interleaved, 9 rounds), 2 / 4 units: the throughput shape
 * (LSTM 256, B 32, T 32) 189.1 / 176.7 ms; LSTM 255 (input 256; one k at a time), B 32, T 32 225.6 /
 * 193.6 ms; GRU 128, B 16, T 32 25.8 / 25.6 ms.
 */
export function stepWideUnits(H: number, D: number, B: number): 2 | 4 {
  return gemmWideQuads(B, 4 * H, D);
}

/**
 * Chooses the step layout. On a software adapter with B ≥ 8, the wide entry (`step_wide`): the GEMM's
 * tile of two or four units (stepWideUnits) × 8, 16 or 32 rows — at two units, per four k, 8 W_hh
 * loads and 2, 4 or 8 h loads (shared across the subgroup) for 64, 128 or 256 vec4 FMAs, where
 * `step`'s 8-row blocks of one unit, which it replaces, took 4 W_hh and 8 h loads for 32. Measured in
 * Chromium (SwiftShader, interleaved, 9 rounds), the per-step forward with two-unit `step_wide` / with
 * `step`'s 8-row blocks: the throughput shape (LSTM 256, B 32, T 32) 206 / 264 ms; char-rnn (B 8) 51.7
 * / 56.8 ms. Its workgroups are as narrow as still gives GEMM_SOFTWARE_MIN_WORKGROUPS (both cores busy
 * to the end), down to one subgroup of 4. Below 8 rows, `step` with batch blocks as
 * wide as the batch allows (each W_hh load serves every row of the block; a CPU core gains nothing from
 * more invocations). On a GPU: the widest
 * block that still leaves GPU_TARGET_INVOCATIONS invocations, since a small step dispatch is bound by
 * parallelism, not by the (cached) W_hh reloads. Workgroups of 32 for small H, so that even a small
 * layer spreads over several workgroups (cores or multiprocessors).
 *
 * Where `step_wide`'s time goes on SwiftShader (char-rnn's per-step forward in Chromium, interleaved,
 * 15 rounds, timing-only variants, W_hh then read from storage): 82.9 ms as it is, 62.4 with the W_hh
 * loads taken out of the k loop, 78.5 with the h loads taken out. So about a third of the steps' time
 * was W_hh loads and the rest mostly multiply-adds, which cost that adapter several cycles each however
 * they are written (see ops/persistent.ts). Those loads now come from a texture where the weights carry
 * one (W_TEXTURE; src/gpu/layer-weights.ts has the figures). Also measured there, and left as they are:
 * two units instead of four, char-rnn 97.8 / 88.9 ms (21 rounds); the k loop unrolled to eight k a
 * pass, 95.9 / 91.4; widths 8 and 16 instead of 4, within 1% (31 rounds).
 */
export function chooseStepLayout(H: number, Hout: number, D: number, B: number, softwareAdapter: boolean): StepLayout {
  const workgroupSize = H >= 128 ? 64 : 32;
  const vec4H = Hout % 4 === 0;
  const widest: 1 | 2 | 4 = B >= 4 ? 4 : B >= 2 ? 2 : 1;
  if (softwareAdapter && B >= STEP_WIDE_MIN_ROWS) {
    const wideGroups = stepWideGroups(B);
    const wideUnits = stepWideUnits(H, D, B);
    const rowBlocks = D * Math.ceil(B / (GEMM_ROWS * wideGroups));
    const invocations = Math.ceil(H / wideUnits);
    let width = 64;
    while (width > 4 && Math.ceil(invocations / width) * rowBlocks < GEMM_SOFTWARE_MIN_WORKGROUPS) width /= 2;
    return { workgroupSize: width, blockB: widest, vec4H, wideGroups, wideUnits };
  }
  if (softwareAdapter) return { workgroupSize, blockB: widest, vec4H, wideGroups: 0, wideUnits: 2 };
  for (const blockB of [4, 2] as const) {
    if (blockB <= widest && H * D * Math.ceil(B / blockB) >= GPU_TARGET_INVOCATIONS) return { workgroupSize, blockB, vec4H, wideGroups: 0, wideUnits: 2 };
  }
  return { workgroupSize, blockB: 1, vec4H, wideGroups: 0, wideUnits: 2 };
}

/** The bind-group layouts a step dispatch uses; the projection op shares groups 1 and 2. */
export interface StepLayouts {
  /** dims, lengths, gx, params, out (bindings 0–4); the W_hh texture (binding 6, W_TEXTURE; a placeholder otherwise) */
  main: GPUBindGroupLayout;
  /** state_prev, state_next, state_prev as vec4 */
  state: GPUBindGroupLayout;
  /** step index (dynamic offset), save offsets, saved activations (training; a placeholder otherwise) */
  index: GPUBindGroupLayout;
}

export function stepLayouts(ctx: GpuContext): StepLayouts {
  return {
    main: ctx.bindGroupLayout(
      'step/group0',
      layoutEntries([
        [0, 'uniform'],
        [1, 'read'],
        [2, 'read'],
        [3, 'read'],
        [4, 'write'],
        [6, 'texture'],
      ]),
    ),
    state: ctx.bindGroupLayout(
      'step/group1',
      layoutEntries([
        [0, 'read'],
        [1, 'write'],
        [2, 'read'],
      ]),
    ),
    index: ctx.bindGroupLayout(
      'step/group2',
      layoutEntries([
        [0, 'dynamic-uniform'],
        [1, 'uniform'],
        [2, 'write'],
      ]),
    ),
  };
}

/** The step pipeline; `save` keeps the activations the backward pass needs (training); `wTexture`: the wide entry reads W_hh from the texture at binding 6. */
export function stepPipeline(
  ctx: GpuContext,
  mode: RnnMode,
  hasProjection: boolean,
  layout: StepLayout,
  format: WeightFormat,
  save = false,
  recurrentMask = false,
  wTexture = false,
): GPUComputePipeline {
  const layouts = stepLayouts(ctx);
  return ctx.computePipeline({
    ...kernelModule(ctx, 'recurrent-step', stepSource, format, ['recurrent-common', 'recurrent-save', 'tile']),
    entryPoint: layout.wideGroups > 0 ? 'step_wide' : 'step',
    constants: {
      WIDE_GROUPS: Math.max(1, layout.wideGroups),
      WIDE_UNITS: layout.wideUnits,
      MODE: MODE_CODE[mode],
      // Only the mode's gate lanes of W_hh's vec4s are multiplied (tile.wgsl; the rest are zeros).
      LIVE_COLUMNS: gateCount(mode),
      HAS_PROJ: hasProjection,
      WORKGROUP_SIZE: layout.workgroupSize,
      BLOCK_B: layout.blockB,
      H_VEC4: layout.vec4H,
      SAVE: save,
      RECURRENT_MASK: recurrentMask,
      W_TEXTURE: wTexture,
    },
    layouts: [layouts.main, layouts.state, layouts.index],
  });
}

/** Batch rows one workgroup row of the step grid covers: `step`'s blockB, `step_wide`'s 8·wideGroups. */
export function stepBlockRows(layout: StepLayout): number {
  return layout.wideGroups > 0 ? GEMM_ROWS * layout.wideGroups : layout.blockB;
}

/** Workgroups of one step: units (wideUnits of them per invocation, wide) along x; (direction, batch block) along y. */
export function stepGrid(H: number, D: number, B: number, layout: StepLayout, limits: GPUSupportedLimits): Grid {
  const maxGroups = limits.maxComputeWorkgroupsPerDimension;
  if (layout.wideGroups > 0) {
    return [
      tileCount(Math.ceil(H / layout.wideUnits), layout.workgroupSize, maxGroups, 'recurrent step unit groups (hidden_size)'),
      D * tileCount(B, stepBlockRows(layout), Math.floor(maxGroups / D), 'recurrent step rows (directions × batch blocks)'),
      1,
    ];
  }
  return [
    tileCount(H, layout.workgroupSize, maxGroups, 'recurrent step units (hidden_size)'),
    D * tileCount(B, stepBlockRows(layout), Math.floor(maxGroups / D), 'recurrent step rows (directions × batch blocks)'),
    1,
  ];
}
