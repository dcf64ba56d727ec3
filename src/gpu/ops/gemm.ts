/**
 * The general matrix product on the GPU (shaders/gemm.wgsl), batched:
 *
 *   C[z] = α · op(A[z]) · op(B[z]) + β · C[z]  (+ bias[z] on every row),   z = 0 … batch − 1
 *
 * with either operand transposed. A and C are f32 tensors; B and the bias are read in a weight format,
 * so B can be a layer's packed weights (f32 or f16) as well as f32 activations. The input projection
 * of every recurrent layer is one use (A the layer input, B = W_ih packed as (I, 4H), bias b_ih, one
 * batch per direction with A shared); training's weight and input gradients are others. Reference:
 * src/reference/gemm.ts; test: test/ops/gemm.test.ts.
 *
 * Layout: each invocation computes GEMM_ROWS rows × 4 columns of C (one vec4 per row); the host picks
 * the kernel's vec4 paths where dimensions and offsets allow (see gemmVariant). On a software adapter,
 * calls of at least 9 rows and 17 columns take the wide tile (`gemm_wide`, or `gemm_wide_rows` where C
 * is not four-aligned): 16 or 32 rows (gemmWideRows) × 8 or 16 columns (gemmWideQuads) per invocation,
 * a half to a quarter of the narrow tile's loads per multiply-add (on SwiftShader the per-lane loads,
 * and the broadcasts that share A's across a subgroup, set the pace; a standalone kernel of 16 × 8 ran
 * 1.2–1.36× the 8 × 4 one's GFLOP/s, 32 rows 1.06–1.31× 16, and 16 columns 1.16–1.35× 8 on the
 * benchmark's shapes) —
 * four k per pass, with vec4 loads where A and B are four-aligned and scalar ones where not (the heads'
 * K or M of 65 or 13; one k at a time there, the wide tile ran 1.25–1.96× the narrow one, interleaved in
 * Chromium). A C of fewer than 16 columns and more than 16
 * rows is computed transposed there (gemmTransposesC), so the lanes run along its rows. A GPU keeps the
 * narrow tile and C as it is: more invocations in flight, fewer registers each.
 */
import { type RnnMode, gateCount } from '../../config.js';
import type { GpuContext } from '../context.js';
import { type GpuTensor, elementCount, tensorBinding } from '../gpu-tensor.js';
import { type Dispatch, type GateLanes, type GemmShape, type Grid, type Recorder, dispatch, layoutEntries } from '../program.js';
import { GEMM_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { type WeightFormat, kernelModule } from '../wgsl.js';
import gemmSource from '../../../shaders/gemm.wgsl?raw';

/** Rows of C per invocation (ROWS in gemm.wgsl; test/structure/wgsl.test.ts checks they agree). */
export const GEMM_ROWS = 8;
/** Most rows of C per invocation of `gemm_wide` (WIDE_GROUPS = 4 groups of GEMM_ROWS), which takes two or four column quads (gemmWideQuads). */
export const GEMM_WIDE_MAX_ROWS = 32;
/** Invocations per workgroup: consecutive column quads (fewer where C has fewer quads: gemmWorkgroupSize). */
export const GEMM_WORKGROUP_SIZE = 64;
/**
 * Workgroups a software adapter's GEMM is split into at least, where C has the columns for it: a
 * workgroup runs on one CPU core, and with only as many workgroups as cores one that starts late or
 * runs slow leaves the other cores idle at the end. Measured on SwiftShader in Chromium (2 cores): the
 * classifier's weight gradient dW_hh (TN, M 64, N 256, K 2,048) at 32 rows, 2 workgroups 15.2 ms, 8
 * workgroups 13.2 ms.
 */
export const GEMM_SOFTWARE_MIN_WORKGROUPS = 8;
/**
 * How much faster `gemm_wide` computes a row at 32 rows per invocation than at 16 (a third of the
 * narrow tile's loads per multiply-add instead of a half). Measured on SwiftShader in Chromium, interleaved: the
 * throughput shape's input projection (NN + bias, 1,024 × 256 · 256 × 1,024) 96.4 → 81.3 ms, a weight
 * gradient (TN, 256 × 1,024 · 1,024 × 1,024) 90.7 → 86.0 ms, an input gradient (NT, 1,024 × 1,024 ·
 * 1,024 × 256) 93.5 → 86.1 ms.
 */
const WIDE_32_SPEEDUP = 1.15;

/**
 * Rows per invocation of `gemm_wide` for a C of M rows: 32, unless the rows it would compute past M
 * (clamped duplicates, never stored) cost more than the larger tile saves — M = 48 computes 48 rows at
 * 16 but 64 at 32.
 */
export function gemmWideRows(M: number): 16 | 32 {
  const computed = (rows: number) => Math.ceil(M / rows) * rows;
  return computed(32) / WIDE_32_SPEEDUP < computed(16) ? 32 : 16;
}

/**
 * How much faster `gemm_wide` computes a column at four quads (16 columns) per invocation than at two:
 * each A value it loads and broadcasts across the subgroup serves twice the columns, for twice the
 * accumulators. Measured on SwiftShader in Chromium, interleaved, 5 rounds: the GEMM ceiling's 1,024 ×
 * 512 · 512 × 1,024 89.3 → 71.6 ms, the throughput shape's input projection (NN + bias, 1,024 × 256 ·
 * 256 × 1,024) 108.8 → 81.4, the char-LM's (400 × 128 · 128 × 512) 11.2 → 8.3, a weight gradient (TN,
 * 256 × 1,024 · 1,024 × 1,024) 99.3 → 83.8, an input gradient (NT, 1,024 × 1,024 · 1,024 × 256) 84.8 →
 * 72.8.
 */
const WIDE_16_COLUMNS_SPEEDUP = 1.15;

/**
 * Column quads per invocation of `gemm_wide` for a C of M × N (× batch): 4, unless the columns it would
 * compute past N (whole subgroups of four invocations) cost more than it saves — N = 65 computes 96
 * columns at two quads but 128 at four — or its grid would have fewer subgroups than the cores need
 * (GEMM_SOFTWARE_MIN_WORKGROUPS) where two quads give more. Unaligned operands too, now that they take
 * four k per pass (gemm.wgsl's a_rows8_any, b_quad_any): the char-LM's head gradients, interleaved in
 * Chromium, 7 rounds, two quads one k at a time (before) / four quads four k at a time: dW, TN 65 ×
 * 400 · 400 × 128, 1.25 / 1.13 ms; dX, NN 400 × 65 · 65 × 128, 1.52 / 1.02. (One k at a time, four
 * quads had gained nothing: 1.81 against 1.60 ms and 1.61 against 1.61.)
 */
export function gemmWideQuads(M: number, N: number, batch = 1): 2 | 4 {
  const blocks = Math.ceil(M / gemmWideRows(M)) * batch;
  const subgroups = (quads: number) => Math.ceil(N / (16 * quads));
  if (subgroups(4) * blocks < Math.min(GEMM_SOFTWARE_MIN_WORKGROUPS, subgroups(2) * blocks)) return 2;
  return (subgroups(4) * 64) / WIDE_16_COLUMNS_SPEEDUP <= subgroups(2) * 32 ? 4 : 2;
}

/**
 * A call's workgroup: GEMM_WORKGROUP_SIZE invocations along C's columns (`columns` each: a quad, or the
 * wide tile's 8 or 16), or fewer where C has
 * fewer — a workgroup wider than C's rows only idles (N = 64, a layer's input gradient: 16 quads kept
 * 48 of 64 invocations idle, 4× the time on SwiftShader). On a GPU the least power of two (at least
 * 16) that holds them. On a software adapter, where a workgroup runs on one core four invocations at a
 * time, the least multiple of four — measured on SwiftShader against the GPU's rule, interleaved in one
 * process: the input gradient dg·W (M 2,048, N 64, K 256) 15.1 vs 29.1 ms, a head (N 13, K 64) 5.2 vs
 * 19.9 ms, N 16 K 192 7.4 vs 24.2 ms; 64 × 256 × 2,048 (32 octets either way) unchanged — and split
 * further where the grid's other dimensions (`blocks`: row blocks × batch) would leave it fewer than
 * GEMM_SOFTWARE_MIN_WORKGROUPS workgroups, down to one subgroup of four.
 */
export function gemmWorkgroupSize(N: number, columns = 4, software = false, blocks = Number.POSITIVE_INFINITY): number {
  const invocations = Math.ceil(N / columns);
  if (software) {
    // Workgroups along the columns: as few as hold them, evened out, or as many as the minimum asks.
    const split = Math.max(
      Math.ceil(invocations / GEMM_WORKGROUP_SIZE),
      Math.min(Math.ceil(invocations / 4), Math.ceil(GEMM_SOFTWARE_MIN_WORKGROUPS / blocks)),
    );
    let size = Math.ceil(Math.ceil(invocations / split) / 4) * 4;
    while (size > 4 && Math.ceil(invocations / size) < split) size -= 4; // rounding up to whole subgroups lost some
    return size;
  }
  let size = 16;
  while (size < invocations && size < GEMM_WORKGROUP_SIZE) size *= 2;
  return size;
}

export interface GemmCall {
  /** Names the dispatch (and any error about it). */
  readonly label: string;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly batch: number;
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  /** 0 (default): C is overwritten; otherwise C is read and scaled. */
  readonly beta?: number;
  readonly a: GpuTensor;
  /** Elements between batches of A (0: every batch reads the same A). */
  readonly aBatchStride: number;
  readonly b: GpuTensor;
  readonly bBatchStride: number;
  readonly bias?: GpuTensor;
  readonly biasBatchStride?: number;
  readonly c: GpuTensor;
  readonly cBatchStride: number;
  /** Elements between C's rows (default N): more where the call writes some of a wider C's columns. */
  readonly ldc?: number;
  /** How B and the bias are stored (the weight header the kernel is built with). */
  readonly format: WeightFormat;
  /** An axis that is gate-interleaved with lanes that are zero by construction (GateLanes); none: every lane counts. */
  readonly gateLanes?: GateLanes;
}

/** The gate lanes of a mode's call whose `axis` is gate-interleaved: undefined where all four are live (LSTM). */
export function modeGateLanes(mode: RnnMode, axis: GateLanes['axis']): GateLanes | undefined {
  const live = gateCount(mode);
  return live < 4 ? { axis, live } : undefined;
}

const aligned = (...values: number[]) => values.every((v) => v % 4 === 0);

/**
 * Whether a call has the kernel compute Cᵀ = op(B)ᵀ · op(A)ᵀ and store it transposed (TRANS_C): on a
 * software adapter, for a C of fewer than 16 columns and more than 16 rows — a head's logits (N 13, 4, 1).
 * The tile's lanes, which split C's columns between them, then run along C's rows instead (one column
 * left three of a subgroup's four lanes idle), and 9 to 15 columns take the wide tile (as the kernel's
 * rows). Only where B is f32 (A and B change bindings), with α = 1 and β = 0 (the bias seeds the
 * accumulators; C is not read). Measured on SwiftShader in Chromium, interleaved, 7 rounds, as it was /
 * transposed: the date model's head 1,280 × 64 · 64 × 13 NT + bias 0.83 / 0.57 ms, the long shape's 1,000
 * × 64 · 64 × 1 0.69 / 0.26, the classifier's 32 × 64 · 64 × 4 0.048 / 0.038, TN 2,048 × 64 · 64 × 4 1.11
 * / 0.54, NN 400 × 128 · 128 × 8 0.43 / 0.29, NT + bias 1,280 × 64 · 64 × 8 0.83 / 0.41; unchanged where
 * B's rows are not four-aligned (NN 1,280 × 64 · 64 × 13, 1.60 / 1.57). At 16 columns, which fill a
 * subgroup's quads, it was mixed (NT + bias 1,280 × 64 · 64 × 16 0.82 / 0.61, NN 400 × 128 · 128 × 16 0.39
 * / 0.45), so 16 keeps C as it is.
 */
export function gemmTransposesC(call: Pick<GemmCall, 'M' | 'N' | 'alpha' | 'beta' | 'format'>, software: boolean): boolean {
  return software && call.format === 'f32' && (call.alpha ?? 1) === 1 && (call.beta ?? 0) === 0 && call.N < 16 && call.M > 16;
}

/** The call as the kernel computes it: the same, or with TRANS_C its transpose (A and B swapped and turned). */
function kernelCall(call: GemmCall, software: boolean): GemmCall & { transC: boolean } {
  if (!gemmTransposesC(call, software)) return { ...call, transC: false };
  return {
    ...call,
    M: call.N,
    N: call.M,
    transA: !(call.transB ?? false),
    transB: !(call.transA ?? false),
    a: call.b,
    aBatchStride: call.bBatchStride,
    b: call.a,
    bBatchStride: call.aBatchStride,
    transC: true,
  };
}

/**
 * Which of the kernel's paths a call can take (pipeline constants and entry point); `software`: the
 * device is a software adapter (GpuContext.isSoftwareAdapter), where aligned calls take `gemm_wide`.
 */
export function gemmVariant(original: GemmCall, software = false) {
  const call = kernelCall(original, software);
  const { M, N, K } = call;
  const transA = call.transA ?? false;
  const transB = call.transB ?? false;
  // Four k per load of A (rows of A along k, or of the transposed A along m), four columns per load of B.
  const aVec4 = aligned(transA ? M : K, call.a.offset, call.aBatchStride);
  const bVec4 = aligned(transB ? K : N, call.b.offset, call.bBatchStride);
  // C (and the bias) written and read four columns at a time.
  const cVec4 = !call.transC && aligned(N, call.ldc ?? N, call.c.offset, call.cBatchStride, call.bias?.offset ?? 0, call.biasBatchStride ?? 0);
  return {
    /** The kernel computes Cᵀ (gemmTransposesC); the fields below are of that call. */
    transC: call.transC,
    transA,
    transB,
    aVec4,
    bVec4,
    cVec4,
    // From 9 rows: the wide tile's block of 16 computes no more clamped duplicates than the narrow tile's
    // two blocks of 8, with half the loads per multiply-add (measured in Chromium on SwiftShader, narrow /
    // wide, interleaved, 7 rounds: the date model's head gradient TN 13 × 1,280 · 1,280 × 64 0.90 / 0.45
    // ms, TN 13 × 256 · 256 × 64 0.22 / 0.11, NN + bias 13 × 64 · 64 × 256 0.15 / 0.13, NT 13 × 256 ·
    // 256 × 64 0.15 / 0.10, TN 9 × 256 · 256 × 64 0.21 / 0.12; at M = 8, 16 rows where 8 do, TN 8 ×
    // 1,280 · 1,280 × 64 0.23 / 0.44). Up to 16 columns the narrow
    // tile's quads fill a subgroup of four while the wide tile's octets leave lanes idle (measured in
    // Chromium on SwiftShader, M 1,280, K 64, NT + bias, narrow / wide: N 8 0.98 / 1.31 ms, N 13 1.13 /
    // 1.43, N 16 1.01 / 1.32, N 20 1.76 / 1.25, N 32 1.70 / 1.26). The operands need not be aligned: the
    // wide tile then takes k one at a time and stores C element by element, as the narrow one does.
    wide: software && M > GEMM_ROWS && N > 16,
    hasBias: call.bias !== undefined,
    accumulate: (call.beta ?? 0) !== 0,
  };
}

/**
 * The four-k passes a call of K takes straight-line, with no loop (K_PASSES in gemm.wgsl): ⌊K / 4⌋ for K
 * of 4 … 16, else 0 (a loop). On SwiftShader a loop copies every accumulator on entry and merges them
 * all under the lanes' mask once per pass, a fair share of a call of so few k. Measured in Chromium,
 * loop / straight-line, interleaved, 7 rounds: NN + bias 1,000 × 8 · 8 × 256 1.33 / 0.87 ms, 1,000 × 4 ·
 * 4 × 256 1.03 / 0.60, NT 2,048 × 8 · 8 × 64 0.69 / 0.50. Three or four passes of the wide tile's 16
 * columns lost (2,048 × 16 · 16 × 256 + bias 3.67 / 4.39 ms, code four times the loop's), so there the
 * wide tile takes 8 columns (gemmTile): 3.63 → 3.06 ms, and 2,048 × 12 · 12 × 256 3.13 → 2.44, against
 * the loop at 16 columns.
 */
export function gemmKPasses(K: number): number {
  return K >= 4 && K <= 16 ? Math.floor(K / 4) : 0;
}

/** What sets a call's tile and grid: C's size and the batch, and K where known (gemmKPasses). */
type GridCall = Pick<GemmCall, 'M' | 'N' | 'batch'> & { readonly K?: number };

/**
 * Rows and columns of C per invocation (the wide tile's from gemmWideRows and gemmWideQuads), and the
 * workgroup's width (gemmWorkgroupSize, given the grid's row blocks).
 */
function gemmTile(call: GridCall, wide: boolean, software: boolean) {
  const rows = wide ? gemmWideRows(call.M) : GEMM_ROWS;
  // Three or four straight-line passes of 16 columns are code enough to cost what the loop saved (gemmKPasses).
  const columns = wide ? 4 * (gemmKPasses(call.K ?? Number.POSITIVE_INFINITY) > 2 ? 2 : gemmWideQuads(call.M, call.N, call.batch)) : 4;
  const blocks = Math.max(1, Math.ceil(call.M / rows)) * call.batch;
  return { rows, columns, workgroupSize: gemmWorkgroupSize(call.N, columns, software, blocks) };
}

/** The call's grid. */
export function gemmGrid(call: GridCall, wide = false, software = false): Grid {
  const { rows, columns, workgroupSize } = gemmTile(call, wide, software);
  return [Math.max(1, Math.ceil(Math.ceil(call.N / columns) / workgroupSize)), Math.max(1, Math.ceil(call.M / rows)), call.batch];
}

function gemmLayout(ctx: GpuContext): GPUBindGroupLayout {
  return ctx.bindGroupLayout(
    'gemm/group0',
    layoutEntries([
      [0, 'uniform'],
      [1, 'read'],
      [2, 'read'],
      [3, 'read'],
      [4, 'write'],
      [5, 'read'],
    ]),
  );
}

/**
 * The kernel a call runs: its entry point and override constants, on a software adapter or a GPU. With
 * the context's module (f32 or f16 weights, subgroups or not) this is what one pipeline compiles; the
 * op test picks its cases by it.
 */
export function gemmSpecialisation(original: GemmCall, software: boolean): { entryPoint: string; constants: Record<string, number | boolean> } {
  const v = gemmVariant(original, software);
  const call = kernelCall(original, software);
  const tile = gemmTile(call, v.wide, software);
  return {
    entryPoint: v.wide ? (v.cVec4 ? 'gemm_wide' : 'gemm_wide_rows') : v.cVec4 ? 'gemm_vec4' : 'gemm',
    constants: {
      WORKGROUP_SIZE: tile.workgroupSize,
      WIDE_GROUPS: v.wide ? tile.rows / GEMM_ROWS : 2,
      WIDE_QUADS: v.wide ? tile.columns / 4 : 2,
      TRANS_A: v.transA,
      TRANS_B: v.transB,
      A_VEC4: v.aVec4,
      B_VEC4: v.bVec4,
      HAS_BIAS: v.hasBias,
      ACCUMULATE: v.accumulate,
      ONE_ROW: call.M === 1,
      // The one-k loop only where K % 4 leaves some k to it (the four-k loop takes every layout). Measured
      // on SwiftShader in Chromium, with it / without, interleaved, 5–7 rounds: NN + bias 2,048 × 16 · 16 ×
      // 256 4.06 / 3.29 ms, 2,048 × 4 · 4 × 256 2.35 / 1.92, 2,048 × 64 · 64 × 256 10.1 / 9.0, the ceiling's
      // 1,024 × 512 · 512 × 1,024 146.9 / 128.7, TN 128 × 400 · 400 × 512 6.60 / 6.10, NT 400 × 512 · 512 ×
      // 128 6.74 / 6.60, NN + bias 400 × 128 · 128 × 512 7.30 / 6.78, TN 64 × 2,048 · 2,048 × 256 8.38 /
      // 8.05.
      K_REMAINDER: call.K % 4 !== 0,
      K_PASSES: gemmKPasses(call.K),
      // α = 1: accumulators start from the bias, and the epilogue stores them as they are. Measured on
      // SwiftShader in Chromium against α·acc + bias (both orders, 11 rounds interleaved): 2,048 × 16 ·
      // 16 × 256 + bias 4.20–4.57 → 3.80–4.05 ms, 1,000 × 8 · 8 × 256 1.56–1.65 → 1.50–1.51, 1,024 × 64 ·
      // 64 × 512 10.6–11.0 → 9.8–10.1.
      ALPHA_ONE: (call.alpha ?? 1) === 1,
      TRANS_C: v.transC,
      // GateLanes; with TRANS_C C's columns are the kernel's rows, so only the k axis carries over.
      LIVE_COLUMNS: call.gateLanes?.axis === 'columns' && !v.transC ? call.gateLanes.live : 4,
      LIVE_K: call.gateLanes?.axis === 'k' ? call.gateLanes.live : 4,
    },
  };
}

export function gemmPipeline(ctx: GpuContext, call: GemmCall): GPUComputePipeline {
  return ctx.computePipeline({
    ...kernelModule(ctx, 'gemm', gemmSource, call.format, ['tile']),
    ...gemmSpecialisation(call, ctx.isSoftwareAdapter),
    layouts: [gemmLayout(ctx)],
  });
}

export type { GateLanes, GemmShape };

export function gemmShape(call: GemmCall): GemmShape {
  return {
    label: call.label,
    M: call.M,
    N: call.N,
    K: call.K,
    batch: call.batch,
    transA: call.transA ?? false,
    transB: call.transB ?? false,
    beta: call.beta ?? 0,
    bias: call.bias !== undefined,
    format: call.format,
    align: { a: call.a.offset % 4, b: call.b.offset % 4, bias: (call.bias?.offset ?? 0) % 4, c: call.c.offset % 4 },
    strides: { a: call.aBatchStride, b: call.bBatchStride, bias: call.biasBatchStride ?? 0, c: call.cBatchStride },
    ...(call.ldc !== undefined && call.ldc !== call.N ? { ldc: call.ldc } : {}),
    ...(call.gateLanes ? { gateLanes: call.gateLanes } : {}),
  };
}

/** The operand layout of a shape, as the benchmark names it: NN, NT, TN, TT, with + bias and + β·C. */
export function gemmLayoutName(s: Pick<GemmShape, 'M' | 'transA' | 'transB' | 'bias' | 'beta'>): string {
  const name = `${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'}`;
  return [name, s.bias ? ' + bias' : '', s.beta !== 0 ? ' + β·C' : '', s.M === 1 ? ', M = 1' : ''].join('');
}

/**
 * Columns of C that `call` computes in a call of their own, on a software adapter: where C's last
 * columns (at most a quad) would take a whole subgroup of the wide tile — four invocations of 8 or 16
 * columns each — they go to a second call, which (fewer than 16 columns, more than 16 rows) computes
 * them transposed. Only where B is stored transposed (B's rows are C's columns, so the edge's B is B
 * from a row on); the first call writes the other columns with C's row stride (ldc). 65 columns ran
 * three subgroups of octets where 64 run two. Measured on SwiftShader in Chromium, interleaved, 9 rounds,
 * whole / peeled: the char-LM's head 400 × 128 · 128 × 65 NT + bias 1.92 / 1.41 ms, 1,280 × 128 · 128 ×
 * 65 5.65 / 4.11, 400 × 64 · 64 × 130 1.91 / 1.64. 0 where the call stays whole.
 */
export function gemmEdgeColumns(call: GemmCall, software: boolean): number {
  const v = gemmVariant(call, software);
  if (!v.wide || v.transC || !v.transB) return 0;
  const subgroup = 4 * gemmTile(call, true, software).columns;
  const edge = call.N % subgroup;
  return call.N > subgroup && edge > 0 && edge <= 4 ? edge : 0;
}

/** The dispatches computing `call`: one (recordGemm), or two where gemmEdgeColumns peels C's last columns. */
export function recordGemmPeeled(rec: Recorder, call: GemmCall): Dispatch[] {
  const edge = gemmEdgeColumns(call, rec.ctx.isSoftwareAdapter);
  if (edge === 0) return [recordGemm(rec, call)];
  const main = call.N - edge;
  const ldc = call.ldc ?? call.N;
  const shift = (t: GpuTensor, by: number): GpuTensor => ({ ...t, offset: t.offset + by, shape: [elementCount(t) - by] });
  return [
    recordGemm(rec, { ...call, N: main, ldc }),
    recordGemm(rec, {
      ...call,
      label: `${call.label}.edge`,
      N: edge,
      ldc,
      b: shift(call.b, main * call.K),
      bias: call.bias && shift(call.bias, main),
      c: shift(call.c, main),
    }),
  ];
}

/** The dispatch computing `call`; its uniform is written once, into a buffer the recorder owns. */
export function recordGemm(rec: Recorder, original: GemmCall): Dispatch {
  const { ctx } = rec;
  const ldc = original.ldc ?? original.N;
  if (!Number.isInteger(ldc) || ldc < original.N) throw new Error(`${original.label}: ldc must be an integer of at least N = ${original.N}, got ${ldc}`);
  const lanes = original.gateLanes;
  if (lanes) {
    const extent = lanes.axis === 'columns' ? original.N : original.K;
    if (![1, 3, 4].includes(lanes.live) || extent % 4 !== 0)
      throw new Error(`${original.label}: gate lanes need 1, 3 or 4 live lanes of a ${lanes.axis} axis of whole quads, got ${lanes.live} of ${extent}`);
  }
  const v = gemmVariant(original, ctx.isSoftwareAdapter);
  const call = kernelCall(original, ctx.isSoftwareAdapter);
  const dims = rec.uniform(
    `${call.label}.dims`,
    packU32Struct(GEMM_DIMS_FIELDS, {
      M: call.M,
      N: call.N,
      K: call.K,
      a_offset: call.a.offset,
      a_batch_stride: call.aBatchStride,
      b_offset: call.b.offset,
      b_batch_stride: call.bBatchStride,
      bias_offset: call.bias?.offset ?? 0,
      bias_batch_stride: call.biasBatchStride ?? 0,
      c_offset: call.c.offset,
      c_batch_stride: call.cBatchStride,
      alpha: call.alpha ?? 1,
      beta: call.beta ?? 0,
      // C's row stride as C is stored: with TRANS_C the kernel's columns are C's rows.
      ldc: ldc,
    }),
  );
  const extent = (t: GpuTensor, stride: number, elements: number): GpuTensor => ({ ...t, shape: [Math.max(0, call.batch - 1) * stride + elements] });
  const a = extent(call.a, call.aBatchStride, call.M * call.K);
  const b = extent(call.b, call.bBatchStride, call.N * call.K);
  const bias = call.bias ? extent(call.bias, call.biasBatchStride ?? 0, original.N) : b; // C's columns (the kernel's rows with TRANS_C); no bias: any read-only binding fills the slot
  const c = extent(call.c, call.cBatchStride, (original.M - 1) * ldc + original.N);
  const group = ctx.bindGroup(call.label, gemmLayout(ctx), [
    dims,
    tensorBinding(a),
    tensorBinding(b, true),
    tensorBinding(bias, true),
    tensorBinding(c, v.cVec4),
    tensorBinding(a, true),
  ]);
  const grid = gemmGrid(call, v.wide, ctx.isSoftwareAdapter);
  return dispatch(call.label, gemmPipeline(ctx, original), [group], grid, gemmShape(original));
}
