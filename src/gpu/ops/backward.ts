/**
 * The per-step backward op (shaders/recurrent-backward.wgsl): for one layer, T steps newest first,
 * over all directions, each step either
 *   'per-step'  `cell_backward` (the gates' gradients from the total dL/dh_t), then dL/dh_{t−1} through
 *               W_hhᵀ as a GEMM (both directions one batched call) and `hidden_finish` (recurrent
 *               dropout's scale and the part that bypassed W_hh) — for every model, or
 *   'fused'     one dispatch — `fused_backward`, both halves, BLOCK_B batch rows per invocation — plus
 *               one at the end for dL/dh0; not with proj_size (the cell half would need every unit's dh);
 * or the whole loop at once:
 *   'persistent' one dispatch per layer — `persistent_backward`, one workgroup per (direction, block of
 *               rows) running the fused steps in order, a storage barrier between them; not with
 *               proj_size, and for hidden_size ≤ PERSISTENT_BACKWARD_MAX_H (one pass of a workgroup).
 *               The training forward then runs persistent too (recurrent-persistent.wgsl with SAVE),
 *               so it also needs that kernel to fit the shape; the other strategies run it per step.
 * recordLayerBackward records one layer's loop from the saved activations, the layer's weights and
 * dL/d(output); the weight gradients are GEMMs over all steps afterwards (the recurrent layer,
 * src/train/layers/recurrent/gpu.ts). Tests: test/ops/backward.test.ts against the float64 reference
 * at awkward sizes, every strategy; the training cases of test/suites/training.ts against PyTorch.
 */
import type { RnnConfig } from '../../config.js';
import type { GpuContext } from '../context.js';
import { F32_BYTES as F32 } from '../constants.js';
import { type GpuTensor, tensorBinding } from '../gpu-tensor.js';
import type { StepIndex } from '../layer-record.js';
import { GATE_LANES } from '../layer-weights.js';
import { type BindingKind, type Command, type Grid, type Recorder, dispatch, layoutEntries, linearGrid, tileCount, workgroupArrayLength } from '../program.js';
import { BACKWARD_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { MODE_CODE, type WeightFormat, kernelModule } from '../wgsl.js';
import { modeGateLanes, recordGemm } from './gemm.js';
import { persistentUnfit } from './persistent.js';
import backwardSource from '../../../shaders/recurrent-backward.wgsl?raw';

export const BACKWARD_WORKGROUP_SIZE = 64;

/** How a layer's reverse time loop runs (the training plan picks; tests force each). */
export type BackwardStrategy = 'per-step' | 'fused' | 'persistent';
export const BACKWARD_STRATEGIES: readonly BackwardStrategy[] = ['per-step', 'fused', 'persistent'];

/**
 * The persistent kernel's largest hidden_size: every unit one invocation of one workgroup (256 is the
 * least maxComputeInvocationsPerWorkgroup WebGPU guarantees). Past it, parallelism across workgroups wins.
 */
export const PERSISTENT_BACKWARD_MAX_H = 256;
/** The cached variant's largest hidden_size (its W_hh row in private memory; CACHE_MAX_H in the shader). */
export const PERSISTENT_BACKWARD_CACHE_MAX_H = 128;

/**
 * Why `strategy` cannot run `config`, or undefined when it can. With a batch size and the device's
 * limits, 'persistent' also needs the persistent forward kernel to fit (it runs the training forward).
 */
export function backwardUnfit(strategy: BackwardStrategy, config: RnnConfig, B?: number, limits?: GPUSupportedLimits): string | undefined {
  if (strategy !== 'per-step' && config.proj_size > 0) return `the ${strategy} backward kernel has no projection (proj_size > 0): use per-step`;
  if (strategy === 'persistent' && config.hidden_size > PERSISTENT_BACKWARD_MAX_H)
    return `hidden_size ${config.hidden_size} > ${PERSISTENT_BACKWARD_MAX_H}, one workgroup's units`;
  if (strategy === 'persistent' && B !== undefined && limits) {
    const forward = persistentUnfit(config, B, limits);
    if (forward) return `the persistent forward cannot run: ${forward}`;
  }
  return undefined;
}

/** The persistent kernel's rows per workgroup: at least two workgroups where the batch allows. */
function persistentBlockRows(B: number): number {
  return fusedBlockRows(Math.max(1, Math.ceil(B / 2)));
}

/** The fused kernel's batch rows per invocation: W_hh is loaded once for them all. */
export function fusedBlockRows(B: number): number {
  return B >= 8 ? 8 : B >= 4 ? 4 : B >= 2 ? 2 : 1;
}

const BINDINGS: ReadonlyArray<readonly [number, BindingKind]> = [
  [0, 'uniform'],
  [1, 'read'],
  [2, 'read'],
  [3, 'read'],
  [4, 'read'],
  [5, 'write'],
  [6, 'write'],
  [7, 'write'],
];

/** Most vec4 of workgroup memory the blocked variant may use (16 KiB, the least any device allows; its BLOCKED_VEC4 is sized per shape). */
export const BLOCKED_BACKWARD_MAX_VEC4 = 1024;
/**
 * The blocked variant's workgroup width: narrow, as the forward's on software adapters (persistent.ts).
 * Measured on SwiftShader (each dispatch alone, alternating, 5 rounds): widths 4 / 8 / 16 / 32 on the
 * date model's LSTM 64 layers at B = 128 — the encoder's backward 51.8–59.4 / 61.5–63.8 / 58.1–59.6 /
 * 75.6–86.1 ms; the char-LM's LSTM 128 layers at B = 8 within 0–6% between 4 and 8.
 */
const SOFTWARE_BLOCKED_WORKGROUP = 4;

/**
 * Input quads per invocation of the blocked4 loop (its INPUT_QUADS): two, so that each dg_h scalar a
 * row loads serves eight outputs instead of four. Measured on SwiftShader (Chromium, each loop alone,
 * one and two quads interleaved in one page, two pairs of 5–7 rounds), one / two quads: the char-LM's
 * LSTM 128 loop at B 8 18.7 / 16.5 ms and, in a second run, 23.3–24.0 / 20.0–20.6; the classifier's LSTM
 * 64 at B 32 33.9 / 32.0 and 34.5 / 32.5; the date model's two LSTM 64 loops 45.9 / 42.1 together. (An
 * earlier session's try, 21.0–21.6 against 20.7–24.8 ms, had not shown it.)
 */
export const BLOCKED4_INPUT_QUADS = 2;
export type SoftwareBackwardKind = 'cached' | 'blocked' | 'blocked4';

/**
 * The persistent backward on a software adapter: 'cached' (hidden_size ≤ 128; one row per workgroup,
 * each unit's W_hh row in private memory) or 'blocked' (hidden_size ≤ 256, as far as two rows' double
 * buffer fits in workgroup memory: a narrow workgroup owns a block of up to eight rows and loads each
 * W_hh vec4 once for them all, the block's dg_h double-buffered in workgroup memory). Blocked wherever
 * a batch has four rows or more and still gives two workgroups: measured on SwiftShader, the date
 * model's two LSTM 64 layers at B = 128 (cached vs blocked, alternating runs in one process) took
 * 159 + 117 vs 87 + 75 ms per backward; with the dg_h loads shared across a subgroup
 * (four inputs per load), the char-LM's two LSTM 128 layers at B = 8 (blocks of 4) took 62 + 57 and
 * 48 + 50 ms against 69 + 73 and 64 + 70 ms loading one input per FMA minutes before (each dispatch
 * alone, medians of 3), the cached variant 93 + 75 and 83 + 77 ms between them; the date model's
 * layers (B = 128, H = 64, blocks of 8) changed within the adapter's drift. 'blocked4' is the blocked
 * layout with four inputs per invocation over W_hh regrouped into vec4s of four inputs (regroup_w_hh, one
 * small dispatch before the loop), taken wherever hidden_size is a multiple of 4 without a projection:
 * each dg_h element a row loads then serves four outputs, as h_{t−1} does in the forward. Measured
 * (each dispatch alone, alternating with 'blocked', 2–5 rounds): the date model's encoder 44–59 vs
 * 57–68 ms and decoder 39–54 vs 50–68 ms, the char-LM's layers 34–50 vs 54–59 ms; in a whole profile
 * the classifier's GRU 64 loop 68.5 ms against 77–83 before. Its dg_h loads from workgroup memory
 * (one vec4 every invocation needs) then went through the subgroup too, a component per invocation
 * broadcast to all (dg_shared): each dispatch alone, alternating with the vec4 loads, the date model's
 * encoder 41–45 vs 50–57 ms and decoder 38–39 vs 46–52 ms, the classifier's loop 49–59 vs 67–72 ms, the
 * char-LM's within drift. Past 128 units (blocks of two rows) the
 * Bahdanau shape's GRU 256 encoder (B = 64, T = 20): 487 ms against 1,354 ms for the one-workgroup-wide
 * kernel it ran before (its forward 226–230 ms). `kind` forces one (tests); undefined: a GPU, or a shape
 * for neither.
 */
export function softwareBackwardLayout(
  config: RnnConfig,
  B: number,
  D: number,
  software: boolean,
  kind?: SoftwareBackwardKind,
): { kind: SoftwareBackwardKind; rows: number; workgroupSize: number } | undefined {
  const H = config.hidden_size;
  if ((!software && !kind) || H > PERSISTENT_BACKWARD_MAX_H) return undefined;
  if (kind === 'cached' && H > PERSISTENT_BACKWARD_CACHE_MAX_H) throw new Error(`cached backward: hidden_size ${H} > ${PERSISTENT_BACKWARD_CACHE_MAX_H}`);
  const rows = [8, 4, 2].find((r) => r <= B && 2 * r * H <= BLOCKED_BACKWARD_MAX_VEC4 && D * Math.ceil(B / r) >= 2);
  if ((kind === 'blocked' || kind === 'blocked4') && !rows) throw new Error(`${kind} backward: no block of rows fits B = ${B}, hidden_size ${H}`);
  if (kind === 'blocked4' && (H % 4 !== 0 || config.proj_size > 0)) throw new Error(`blocked4 backward: hidden_size ${H} not a multiple of 4, or a projection`);
  if (rows && kind !== 'cached' && (kind === 'blocked' || kind === 'blocked4' || B >= 4)) {
    // Four inputs per invocation wherever the weights regroup into vec4s (see regroup_w_hh).
    const four = kind === 'blocked4' || (kind === undefined && H % 4 === 0 && config.proj_size === 0);
    return { kind: four ? 'blocked4' : 'blocked', rows, workgroupSize: SOFTWARE_BLOCKED_WORKGROUP };
  }
  if (H > PERSISTENT_BACKWARD_CACHE_MAX_H) return undefined;
  return { kind: 'cached', rows: 1, workgroupSize: Math.min(PERSISTENT_BACKWARD_MAX_H, 32 * Math.ceil(H / 32)) };
}

export interface BackwardKernels {
  cell: GPUComputePipeline;
  finish: GPUComputePipeline;
  /** How the parameters are stored (the per-step GEMM reads W_hh in it). */
  format: WeightFormat;
  fused: GPUComputePipeline;
  persistent: GPUComputePipeline;
  /** dims, lengths, saved, params, dout, dg, gstate, w_regrouped (gstate from wT as vec4s, blocked4; else a placeholder) */
  layout: GPUBindGroupLayout;
  /** The step index (dynamic offset). */
  indexLayout: GPUBindGroupLayout;
  cellGrid: Grid;
  hiddenGrid: Grid;
  fusedGrid: Grid;
  persistentGrid: Grid;
  /** 'blocked4': the dispatch that regroups W_hh into gstate before the loop, and the floats it needs there (gradientStateLayout). */
  regroup?: { pipeline: GPUComputePipeline; grid: Grid; floats: number };
}

export function backwardKernels(ctx: GpuContext, config: RnnConfig, B: number, format: WeightFormat, softwareKind?: SoftwareBackwardKind): BackwardKernels {
  const layout = ctx.bindGroupLayout('backward/group0', layoutEntries(BINDINGS));
  const indexLayout = ctx.bindGroupLayout('backward/group1', layoutEntries([[0, 'dynamic-uniform']]));
  const module = kernelModule(ctx, 'recurrent-backward', backwardSource, format);
  const blockRows = fusedBlockRows(B);
  const constants = {
    MODE: MODE_CODE[config.mode],
    HAS_PROJ: config.proj_size > 0,
    WORKGROUP_SIZE: BACKWARD_WORKGROUP_SIZE,
    BLOCK_B: blockRows,
    RECURRENT_MASK: config.recurrent_dropout > 0,
  };
  const pipeline = (entryPoint: string) => ctx.computePipeline({ ...module, entryPoint, constants, layouts: [layout, indexLayout] });
  const D = config.bidirectional ? 2 : 1;
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const rows = D * B;
  if (rows > max) tileCount(rows, 1, max, 'backward rows (directions × batch)');
  const blocks = D * Math.ceil(B / blockRows);
  const software = softwareBackwardLayout(config, B, D, ctx.isSoftwareAdapter, softwareKind);
  const persistentRows = software?.rows ?? persistentBlockRows(B);
  const persistentSize = software?.workgroupSize ?? Math.min(PERSISTENT_BACKWARD_MAX_H, 32 * Math.ceil(config.hidden_size / 32));
  const persistent = ctx.computePipeline({
    ...module,
    entryPoint: software ? `persistent_backward_${software.kind}` : 'persistent_backward',
    layouts: [layout, indexLayout],
    constants: {
      ...constants,
      WORKGROUP_SIZE: persistentSize,
      BLOCK_B: persistentRows,
      CACHE_H: software?.kind === 'cached' ? config.hidden_size : 0,
      // Its unit's dc and `direct` between steps in registers (each invocation owns one unit).
      STATE_IN_REGISTERS: software?.kind === 'cached',
      INPUT_QUADS: BLOCKED4_INPUT_QUADS,
      // The blocked kinds' workgroup memory: the block's dg_h, double-buffered.
      ...(software && software.kind !== 'cached' ? { BLOCKED_VEC4: workgroupArrayLength(2 * software.rows * config.hidden_size) } : {}),
    },
  });
  const regroupFloats = D * config.hidden_size * config.hidden_size * GATE_LANES;
  const regroup =
    software?.kind === 'blocked4'
      ? {
          // one invocation per (direction, unit, quad of inputs)
          pipeline: pipeline('regroup_w_hh'),
          grid: linearGrid(D * config.hidden_size * (config.hidden_size / 4), BACKWARD_WORKGROUP_SIZE, ctx.limits),
          floats: regroupFloats,
        }
      : undefined;
  return {
    regroup,
    persistent,
    persistentGrid: [tileCount(D * Math.ceil(B / persistentRows), 1, max, 'persistent backward workgroups (directions × row blocks)'), 1, 1],
    cell: pipeline('cell_backward'),
    finish: pipeline('hidden_finish'),
    format,
    fused: pipeline('fused_backward'),
    layout,
    indexLayout,
    cellGrid: [tileCount(config.hidden_size, BACKWARD_WORKGROUP_SIZE, max, 'backward units (hidden_size)'), rows, 1],
    hiddenGrid: [tileCount(config.proj_size || config.hidden_size, BACKWARD_WORKGROUP_SIZE, max, 'backward units (H_out)'), rows, 1],
    fusedGrid: [tileCount(config.hidden_size, BACKWARD_WORKGROUP_SIZE, max, 'backward units (hidden_size)'), blocks, 1],
  };
}

/** Where a layer's backward reads and writes. */
export interface LayerBackwardCall {
  readonly tag: string;
  readonly config: RnnConfig;
  readonly T: number;
  readonly B: number;
  readonly strategy: BackwardStrategy;
  readonly kernels: BackwardKernels;
  readonly lengths: GpuTensor;
  /** What the training forward kept (SAVE) and the shift made, at these float offsets. */
  readonly saved: GpuTensor;
  readonly at: SavedLayout;
  /** The layer's packed weights in the flat parameters: the section's first float, W_hh's vec4 offset in it, W_hr's first float. */
  readonly params: GpuTensor;
  readonly start: number;
  readonly wHh: number;
  readonly wHr?: number;
  /** dL/d(output) (T·B, D·H_out). */
  readonly dOut: GpuTensor;
  /** The gates' gradients: dg_x (D, T·B, H, 4), dg_h (GRU: its own), then dL/dh_t (D, T·B, H_out) — offsets from `dg`. */
  readonly dg: GpuTensor;
  readonly dgLayout: { readonly x: number; readonly h: number; readonly hist: number };
  /** The recurrent gradient state (dh double-buffered, dc, scratch), cleared by the caller first. */
  readonly gstate: GpuTensor;
  readonly index: StepIndex;
}

/**
 * The reverse time loop of one layer with the strategy asked: T per-step pairs, T + 1 fused
 * dispatches, or one persistent dispatch. Leaves the gates' gradients in `dg` (for the weight
 * gradients' GEMMs), dL/dh_t in its history part, dL/dh0 and dL/dc0 in `gstate`.
 */
export function recordLayerBackward(rec: Recorder, call: LayerBackwardCall): Command[] {
  const { ctx } = rec;
  const { T, B, config, kernels, strategy } = call;
  if ((call.at.mask !== undefined) !== config.recurrent_dropout > 0)
    throw new Error(`${call.tag}: recurrent dropout's mask and the layer's configuration disagree`);
  const wT = gradientStateLayout(config, T, B).wT;
  if (strategy === 'per-step') {
    const needed = wT + hiddenScratchFloats(config, B);
    if (call.gstate.shape[0] < needed) throw new Error(`${call.tag}: gstate holds ${call.gstate.shape[0]} floats, the per-step GEMM's sums need ${needed}`);
  }
  const dims = rec.uniform(
    `${call.tag}.backDims`,
    packU32Struct(BACKWARD_DIMS_FIELDS, {
      T,
      B,
      H: config.hidden_size,
      H_out: config.proj_size || config.hidden_size,
      D: config.bidirectional ? 2 : 1,
      w_hh_offset: call.start / GATE_LANES + call.wHh,
      w_hr_offset: call.wHr ?? 0,
      pre: call.at.pre,
      c: call.at.c,
      h_raw: call.at.hRaw,
      h_prev: call.at.hPrev,
      c_prev: call.at.cPrev,
      dg_x: call.dgLayout.x,
      dg_h: call.dgLayout.h,
      dh_hist: call.dgLayout.hist,
      dout_stride: (config.bidirectional ? 2 : 1) * (config.proj_size || config.hidden_size),
      mask: call.at.mask ?? 0,
      w_t: wT,
    }),
  );
  // With the regrouped W_hh, gstate is bound in two ranges that do not overlap (two writable bindings
  // of one buffer may not): the state below wT, the weights from it as vec4s.
  const regrouped = strategy === 'persistent' ? kernels.regroup : undefined;
  if (regrouped) {
    const needed = gradientStateLayout(config, T, B, regrouped.floats).size;
    if (call.gstate.shape[0] < needed) throw new Error(`${call.tag}: gstate holds ${call.gstate.shape[0]} floats, the regrouped W_hh needs ${needed}`);
    if (call.gstate.offset !== 0) throw new Error(`${call.tag}: gstate must start its buffer (the regrouped W_hh is bound from wT)`);
  }
  const gstate = tensorBinding(call.gstate);
  const group = ctx.bindGroup(`${call.tag}.backward`, kernels.layout, [
    dims,
    tensorBinding(call.lengths),
    tensorBinding(call.saved),
    tensorBinding(call.params, true),
    tensorBinding(call.dOut),
    tensorBinding(call.dg),
    regrouped ? { ...gstate, size: wT * F32 } : gstate,
    regrouped ? { buffer: call.gstate.buffer, offset: wT * F32, size: regrouped.floats * F32 } : { buffer: rec.storage(`${call.tag}.noRegroup`, 4) },
  ]);
  const index = ctx.bindGroup(`${call.tag}.backIndex`, kernels.indexLayout, [{ ...call.index.uniform, size: 16 }]);
  const at = (s: number) => ({ group: index, offsets: [s * call.index.stride] });
  if (strategy === 'persistent') {
    const loop = dispatch(`${call.tag}.persistentBackward`, kernels.persistent, [group, at(0)], kernels.persistentGrid);
    if (!regrouped) return [loop];
    return [dispatch(`${call.tag}.regroupWhh`, regrouped.pipeline, [group, at(0)], regrouped.grid), loop];
  }
  const commands: Command[] = [];
  for (let s = T - 1; s >= 0; s--) {
    if (strategy === 'fused') {
      commands.push(dispatch(`${call.tag}.fusedBackward${s}`, kernels.fused, [group, at(s)], kernels.fusedGrid));
      continue;
    }
    // hidden_finish stays a dispatch of its own. Folded into the next step's cell_backward (without
    // projection: the cell then reads the GEMM's sum and `direct` of its own unit) it saved the
    // dispatch but not the time: the date model's per-step training in Node, each dispatch timed
    // alone, cell_backward 39.8 ms folded against 30.9 + 8.2 ms (cell_backward + hidden_finish, 22
    // calls each); its step, interleaved, 15 rounds, 189.6 ms folded against 158.6 ms.
    commands.push(dispatch(`${call.tag}.cellBackward${s}`, kernels.cell, [group, at(s)], kernels.cellGrid));
    commands.push(hiddenGemm(rec, call, s, wT), dispatch(`${call.tag}.hiddenFinish${s}`, kernels.finish, [group, at(s)], kernels.hiddenGrid));
  }
  // The fused path's last dispatch (s = T): the hidden half alone, dL/dh0 where per-step leaves it.
  if (strategy === 'fused') commands.push(dispatch(`${call.tag}.fusedBackwardLast`, kernels.fused, [group, at(T)], kernels.fusedGrid));
  return commands;
}

/** The floats the per-step path's GEMM leaves in gstate from `wT`: W_hhᵀ·dg_h of a step, (D, B, H_out). */
export function hiddenScratchFloats(config: RnnConfig, B: number): number {
  return (config.bidirectional ? 2 : 1) * B * (config.proj_size || config.hidden_size);
}

/**
 * Step s's W_hhᵀ·dg_h for every direction, row and output k, into gstate from `wT`: one GEMM per step,
 * C (B, H_out) = dg_h of the step (B, 4H: the rows at time t are contiguous, gate lanes inner) times the
 * packed W_hh (H_out, 4H) transposed, batched over the directions (direction 1 runs time backwards, so
 * its step's rows sit a fixed distance after direction 0's within this step).
 */
function hiddenGemm(rec: Recorder, call: LayerBackwardCall, s: number, wT: number): Command {
  const { config, T, B } = call;
  const D = config.bidirectional ? 2 : 1;
  const H = config.hidden_size;
  const K = config.proj_size || H;
  const N4 = H * GATE_LANES;
  const dgh = call.dg.offset + (config.mode === 'GRU' ? call.dgLayout.h : call.dgLayout.x);
  const rowsAt = (d: number) => dgh + (d * T + (d === 1 ? T - 1 - s : s)) * B * N4;
  return recordGemm(rec, {
    label: `${call.tag}.hiddenGemm${s}`,
    M: B,
    N: K,
    K: N4,
    batch: D,
    a: { ...call.dg, offset: rowsAt(0), shape: [B, N4] },
    aBatchStride: D > 1 ? rowsAt(1) - rowsAt(0) : 0,
    b: { ...call.params, offset: call.params.offset + call.start + call.wHh * GATE_LANES, shape: [K, N4] },
    bBatchStride: K * N4,
    transB: true,
    c: { ...call.gstate, offset: call.gstate.offset + wT, shape: [B, K] },
    cBatchStride: B * K,
    format: call.kernels.format,
    gateLanes: modeGateLanes(config.mode, 'k'),
  });
}

/**
 * Where a training forward keeps a layer's activations, and the shift adds h_{t−1} and c_{t−1}
 * (float offsets in one `saved` buffer): with recurrent dropout first its mask's scales (D, B, H_out),
 * at 0 where the dropout op fills them; then the pre-activations (D, T, B, H, 4), c_t (LSTM), h_raw
 * (proj_size), c_{t−1} (LSTM), h_{t−1} (D, T, B, H_out) and, with recurrent dropout, scale·h_{t−1}
 * (the same shape: what W_hh saw, for its gradient). The kernels read these offsets from their
 * uniforms; test/ops/backward.test.ts runs the forward, the shift and this op on this layout.
 */
export interface SavedLayout {
  readonly pre: number;
  readonly c: number;
  readonly hRaw: number;
  readonly cPrev: number;
  readonly hPrev: number;
  /** Recurrent dropout only: its scales (D, B, H_out), and scale·h_{t−1} (D, T, B, H_out). */
  readonly mask?: number;
  readonly hPrevMasked?: number;
}

export function savedLayout(config: RnnConfig, T: number, B: number): SavedLayout & { size: number } {
  const D = config.bidirectional ? 2 : 1;
  const H = config.hidden_size;
  const Hout = config.proj_size || H;
  const lstm = config.mode === 'LSTM';
  const masked = config.recurrent_dropout > 0;
  const TB = T * B;
  const pre = masked ? Math.ceil((D * B * Hout) / 4) * 4 : 0;
  const c = pre + D * TB * H * GATE_LANES;
  const hRaw = c + (lstm ? D * TB * H : 0);
  const cPrev = hRaw + (config.proj_size > 0 ? D * TB * H : 0);
  const hPrev = cPrev + (lstm ? D * TB * H : 0);
  const end = hPrev + D * TB * Hout;
  if (!masked) return { pre, c, hRaw, cPrev, hPrev, size: end };
  return { pre, c, hRaw, cPrev, hPrev, mask: 0, hPrevMasked: end, size: end + D * TB * Hout };
}

/** 256 bytes: WebGPU's largest minStorageBufferOffsetAlignment, where gstate's regrouped W_hh is bound apart. */
export const GSTATE_SPLIT_FLOATS = 64;

/**
 * The backward's recurrent state `gstate` (floats), as shaders/recurrent-backward.wgsl indexes it:
 * dL/dh carried between steps, double-buffered (D, B, H_out) ×2 — step s reads copy s % 2 and writes
 * the other, so after the last step (s = 0) copy 1 holds dL/dh0 — then dL/dc (D, B, H), then the
 * direct term (D, B, H_out), then from `wT` (a multiple of GSTATE_SPLIT_FLOATS, so that a binding
 * may start there) the regrouped W_hh of the 'blocked4' kernel (`regroupFloats`:
 * BackwardKernels.regroup.floats), or the per-step path's scratch. `first` is the copy the first step (s = T − 1) reads: where a gradient
 * of the final state (a head on h_n) goes in.
 */
export function gradientStateLayout(
  config: RnnConfig,
  T: number,
  B: number,
  regroupFloats = 0,
): { first: number; dh0: number; dc: number; wT: number; size: number } {
  const D = config.bidirectional ? 2 : 1;
  const H = config.hidden_size;
  const Hout = config.proj_size || H;
  const copy = D * B * Hout;
  const wT = Math.ceil((2 * copy + D * B * H + copy) / GSTATE_SPLIT_FLOATS) * GSTATE_SPLIT_FLOATS;
  return { first: ((T - 1) % 2) * copy, dh0: copy, dc: 2 * copy, wT, size: wT + regroupFloats };
}
