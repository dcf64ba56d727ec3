/**
 * What every GPU op shares: bind-group layouts from a list of binding kinds, dispatches as recorded
 * values (pipeline, bind groups with their dynamic offsets, grid) rather than calls on a pass, and the
 * one replay that turns a list of such records — plus buffer copies and clears — into commands on one
 * encoder. Plans build their lists once; a forward (and, later, a loss, a backward pass and an update)
 * is a list replayed into one submission.
 */
import { RnnError } from '../errors.js';
import { ShaderStage } from './constants.js';
import type { GpuContext } from './context.js';
import type { WeightFormat } from './wgsl.js';

/**
 * What an op's record function needs from the plan that owns the buffers: the context (pipelines,
 * layouts, bind groups) and uniform buffers written once, owned and released by the plan.
 */
export interface Recorder {
  readonly ctx: GpuContext;
  uniform(label: string, data: Uint32Array): GPUBufferBinding;
  /** A storage buffer of `elements` f32 (scratch space, placeholders), owned and released by the recorder's owner. */
  storage(label: string, elements: number): GPUBuffer;
}

/** A binding's kind: a buffer, or 'texture', a 2-D float texture read with textureLoad (texture_2d<f32>). */
export type BindingKind = 'uniform' | 'read' | 'write' | 'dynamic-uniform' | 'texture';

/** Bind-group layout entries for `[binding, kind]` pairs (compute stage). */
export function layoutEntries(kinds: ReadonlyArray<readonly [number, BindingKind]>): GPUBindGroupLayoutEntry[] {
  return kinds.map(([binding, kind]) =>
    kind === 'texture' ? { binding, visibility: ShaderStage.COMPUTE, texture: { sampleType: 'unfilterable-float' } } : bufferEntry(binding, kind),
  );
}

function bufferEntry(binding: number, kind: Exclude<BindingKind, 'texture'>): GPUBindGroupLayoutEntry {
  return {
    binding,
    visibility: ShaderStage.COMPUTE,
    buffer:
      kind === 'uniform'
        ? { type: 'uniform' }
        : kind === 'dynamic-uniform'
          ? { type: 'uniform', hasDynamicOffset: true }
          : kind === 'read'
            ? { type: 'read-only-storage' }
            : { type: 'storage' },
  };
}

/** Workgroup counts of one dispatch. */
export type Grid = readonly [number, number, number];

/** One bind group of a dispatch, with its dynamic offsets when its layout has any. */
export type BoundGroup = GPUBindGroup | { readonly group: GPUBindGroup; readonly offsets: readonly number[] };

/**
 * A gate-interleaved axis of a call (src/gpu/layer-weights.ts: lane g of each vec4 is gate g of one
 * hidden unit) where only the first `live` lanes of every four carry values — a GRU's 3 gates, a plain
 * RNN's 1 — and the rest are zeros by construction: the packed weights' and the gate gradients' lanes
 * past the gate count. The kernel then leaves their multiply-adds out (tile.wgsl's LIVE_COLUMNS and
 * LIVE_K; recordGemm in ops/gemm.ts), a quarter of a GRU's and three quarters of an RNN's:
 * - 'columns': C's columns are the gates (an input projection x·W_ih, a weight gradient xᵀ·dG); the
 *   lanes past `live` of each column quad keep their start value — the bias, or zero — which is what
 *   their zero weights gave;
 * - 'k': the reduction runs over the gates (an input gradient dG·W_ihᵀ); the k past `live` of each
 *   four, zero times zero, are skipped.
 * The axis must be a whole number of quads from lane 0 (N or K a multiple of 4; recordGemm checks).
 * The live lanes' sums are unchanged to the bit. Measured on SwiftShader in Node, each call alone, all
 * lanes / 3 live / (another run) 1 live, medians of 9 interleaved rounds, in a slow hour: NN 1,280 ×
 * 256 · 256 × 1,024 374.7 / 324.8 and 366.7 / 221.8 ms; NT 1,280 × 1,024 · 1,024 × 256 (the k axis)
 * 396.5 / 322.7 and 354.6 / 210.9; TN 512 × 1,280 · 1,280 × 1,024 728.6 / 655.3 and 712.1 / 499.1.
 */
export interface GateLanes {
  readonly axis: 'columns' | 'k';
  readonly live: number;
}

/**
 * What a recorded GEMM computes, without its buffers: enough to run the same call alone on fresh buffers
 * (the benchmark times every GEMM of a training step this way; made by ops/gemm.ts's gemmShape). Offsets are kept modulo 4, which is all
 * that decides the kernel's path (gemmVariant); batch strides as given.
 */
export interface GemmShape {
  readonly label: string;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly batch: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly beta: number;
  readonly bias: boolean;
  readonly format: WeightFormat;
  /** Offsets modulo 4, in elements. */
  readonly align: { readonly a: number; readonly b: number; readonly bias: number; readonly c: number };
  readonly strides: { readonly a: number; readonly b: number; readonly bias: number; readonly c: number };
  /** C's row stride where it is not N (a call writing some of a wider C's columns). */
  readonly ldc?: number;
  /** The call's gate-interleaved axis with its zero lanes left out (GateLanes), where it has one. */
  readonly gateLanes?: GateLanes;
}

export interface Dispatch {
  readonly kind: 'dispatch';
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  /** Group 0, 1, … in order. */
  readonly groups: readonly BoundGroup[];
  readonly grid: Grid;
  /** A GEMM's shape (ops/gemm.ts), for the benchmark's per-GEMM timings; other dispatches have none. */
  readonly gemm?: GemmShape;
}

export interface Copy {
  readonly kind: 'copy';
  readonly from: GPUBuffer;
  readonly fromOffset: number;
  readonly to: GPUBuffer;
  readonly toOffset: number;
  readonly bytes: number;
}

export interface Clear {
  readonly kind: 'clear';
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly bytes: number;
}

export type Command = Dispatch | Copy | Clear;

export function dispatch(label: string, pipeline: GPUComputePipeline, groups: readonly BoundGroup[], grid: Grid, gemm?: GemmShape): Dispatch {
  return gemm ? { kind: 'dispatch', label, pipeline, groups, grid, gemm } : { kind: 'dispatch', label, pipeline, groups, grid };
}

export function copy(from: GPUBuffer, fromOffset: number, to: GPUBuffer, toOffset: number, bytes: number): Copy {
  return { kind: 'copy', from, fromOffset, to, toOffset, bytes };
}

export function clear(buffer: GPUBuffer, offset: number, bytes: number): Clear {
  return { kind: 'clear', buffer, offset, bytes };
}

/**
 * Records `commands` on `encoder`, in order: consecutive dispatches share one compute pass (labelled
 * `label`), copies and clears go between passes. Pipelines and bind groups are set only when they
 * change from the previous dispatch's, as a hand-written pass would.
 */
export function replay(encoder: GPUCommandEncoder, commands: readonly Command[], label: string): void {
  let pass: GPUComputePassEncoder | undefined;
  let pipeline: GPUComputePipeline | undefined;
  const bound: BoundGroup[] = [];
  const endPass = () => {
    pass?.end();
    pass = undefined;
    pipeline = undefined;
    bound.length = 0;
  };
  for (const c of commands) {
    if (c.kind === 'copy') {
      endPass();
      encoder.copyBufferToBuffer(c.from, c.fromOffset, c.to, c.toOffset, c.bytes);
      continue;
    }
    if (c.kind === 'clear') {
      endPass();
      encoder.clearBuffer(c.buffer, c.offset, c.bytes);
      continue;
    }
    pass ??= encoder.beginComputePass({ label });
    if (c.pipeline !== pipeline) {
      pass.setPipeline(c.pipeline);
      pipeline = c.pipeline;
    }
    c.groups.forEach((g, index) => {
      // A group with dynamic offsets is set every time (its offsets are what changes step to step).
      if (bound[index] === g && !('offsets' in g)) return;
      if ('offsets' in g) pass!.setBindGroup(index, g.group, g.offsets as number[]);
      else pass!.setBindGroup(index, g);
      bound[index] = g;
    });
    pass.dispatchWorkgroups(...c.grid);
  }
  endPass();
}

/**
 * The length a kernel's workgroup array is built with (an override: `array<T, N>` in workgroup memory):
 * the least power of two that holds `needed` elements. SwiftShader's time to build a pipeline grows with
 * the length its workgroup arrays are declared with (most likely the zero-fill WebGPU requires of
 * workgroup memory, generated element by element): the persistent kernel declared at 4,096 f32 took
 * 2.3–3.1 s to build, at 1,024 0.6–1.0 s, whatever the layout (Node, each pipeline built alone), and
 * 400 of the Node agreement suite's 414 s were pipeline builds. Powers of two keep the number of
 * distinct pipelines small.
 */
export function workgroupArrayLength(needed: number): number {
  let length = 1;
  while (length < needed) length *= 2;
  return length;
}

/** Workgroups along one axis of a tiled kernel; throws a clear error past the device limit. */
export function tileCount(extent: number, tile: number, maxPerDimension: number, what: string): number {
  const n = Math.max(1, Math.ceil(extent / tile));
  if (n > maxPerDimension) throw new RnnError('LIMIT_EXCEEDED', `${what}: ${extent} needs ${n} workgroups, above the device limit ${maxPerDimension}`);
  return n;
}

/**
 * Ceil-divides a count of invocations into workgroups and, past maxComputeWorkgroupsPerDimension,
 * folds them into a 2-D grid (kernels rebuild the linear index with `linear_index` from the prelude
 * and guard the tail).
 */
export function dispatchSize(invocations: number, workgroupSize: number, maxPerDimension: number): [number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  if (groups <= maxPerDimension) return [groups, 1];
  const y = Math.ceil(groups / maxPerDimension);
  if (y > maxPerDimension) {
    throw new RnnError('LIMIT_EXCEEDED', `dispatch of ${invocations} invocations exceeds the device limit of ${maxPerDimension}² workgroups`);
  }
  return [Math.ceil(groups / y), y];
}

/**
 * The pipeline of a one-group kernel: its module (src/gpu/wgsl.ts), an entry point, pipeline
 * constants and the group's binding kinds. The layout is cached by `name` and the kinds.
 */
export function simplePipeline(
  ctx: GpuContext,
  module: { family: string; code: string },
  entryPoint: string,
  constants: Record<string, number | boolean>,
  bindings: ReadonlyArray<readonly [number, BindingKind]>,
): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
  const layout = ctx.bindGroupLayout(`${module.family.split('.')[0]}/${bindings.map(([b, k]) => `${b}${k[0]}`).join('')}`, layoutEntries(bindings));
  return { pipeline: ctx.computePipeline({ ...module, entryPoint, constants, layouts: [layout] }), layout };
}

/** A 1-D dispatch of `n` invocations (folded into 2-D past the device limit; kernels use linear_index). */
export function linearGrid(n: number, workgroupSize: number, limits: GPUSupportedLimits): Grid {
  return [...dispatchSize(n, workgroupSize, limits.maxComputeWorkgroupsPerDimension), 1];
}
