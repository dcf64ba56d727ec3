// The GEMM op alone (src/gpu/ops/gemm.ts, shaders/gemm.wgsl) against its float64 reference
// (src/reference/gemm.ts), on fresh seeded inputs: every transpose combination, α and β, bias on and
// off, batches with strides and operands that start mid-buffer, sizes 1, 3, 17 and 257 and sizes
// past a workgroup's tile (more than 8 rows, more than 64 column quads), f32 and half-precision B.
// C is poisoned with NaN where β = 0, so an element the kernel fails to write shows.
// Sizes × modes × transposes is a product of 540 cases on about 400 pipeline specialisations, and on a
// software adapter a compile (~0.35 s) costs a hundred times a case's run: the blocks run the cases of a
// pairwise cover of those pipelines (`selected`, about a quarter of them); GEMM_CASES=all runs them all
// (the kernel's own changes deserve that once: ~10 min here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundToFloat16 } from '../../src/float16.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import {
  GEMM_ROWS,
  GEMM_SOFTWARE_MIN_WORKGROUPS,
  GEMM_WIDE_MAX_ROWS,
  GEMM_WORKGROUP_SIZE,
  type GateLanes,
  gemmGrid,
  gemmTransposesC,
  gemmVariant,
  gemmKPasses,
  gemmWideQuads,
  gemmWideRows,
  gemmEdgeColumns,
  gemmWorkgroupSize,
  type GemmCall,
  gemmSpecialisation,
  recordGemm,
  recordGemmPeeled,
} from '../../src/gpu/ops/gemm.js';
import type { GpuTensor } from '../../src/gpu/gpu-tensor.js';
import { type WeightFormat, weightFormat } from '../../src/gpu/wgsl.js';
import { seededUniform as random } from '../../src/random.js';
import { referenceGemm } from '../../src/reference/gemm.js';
import { GPU_RTOL, expectClose, expectThat } from '../support/compare.js';
import { type Specialisation, pipelineCover } from '../support/pipeline-cover.js';
import { OpHarness, values, variantContext } from './harness.js';

// Made at collection: which cases run depends on the adapter's kernels (software or GPU).
const ctx: GpuContext = await contextFor(await getDefaultDevice());

interface Case {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  bias: boolean;
  batch: number;
  /** Element offsets of A, B, bias, C in their buffers (0: aligned). */
  offset: number;
  half?: boolean;
  /** A gate-interleaved axis with dead lanes (GateLanes): see the describe block that runs these. */
  gateLanes?: GateLanes;
}

const SIZES: Array<[number, number, number]> = [
  [1, 1, 1],
  [3, 3, 3],
  [17, 17, 17],
  [257, 3, 5],
  [5, 257, 17],
  [9, 12, 257],
  [GEMM_ROWS * 4 + 1, 4 * GEMM_WORKGROUP_SIZE + 4, 8], // past a workgroup in both directions; K 8: two passes straight-line (K_PASSES)
  [3 * GEMM_WIDE_MAX_ROWS + 1, 8 * GEMM_WORKGROUP_SIZE + 8, 4], // the wide tile (32 rows) past a workgroup of octets; K 4: one pass
  [16, 8, 12], // every dimension a multiple of 4: the vec4 paths (the narrow tile on a software adapter too: 8 columns)
  [16, 24, 12], // a software adapter's wide tile: one block of 16 rows, three column pairs
  [13, 20, 24], // the wide tile from 9 rows: one block of 16, three rows clamped, …
  [9, 66, 13], // … and unaligned: scalar loads, the k remainder, C element by element, the last quad partly past N
  [40, 13, 24], // C transposed on a software adapter (α = 1, β = 0): the kernel's 13 rows on the wide tile, …
  [100, 4, 64], // … 4 rows on the narrow one, …
  [300, 1, 64], // … one row (the one-row path), …
  [50, 15, 7], // … and K unaligned: one pass straight-line (K_PASSES), three k one at a time
  [40, 20, 28], // the wide tile (16 rows) with an odd quad count (the last pair's right quad stores nothing) and an empty lower half
  [257, 24, 12], // 9 blocks of 32 rows, the last with one
  [36, 20, 30], // Aᵀ on the wide tile: k past the last four one at a time, a last block of 4 rows
  [100, 24, 14], // 32 rows: a last block of 4 (three empty groups); with Aᵀ, k past the last four one at a time
  [65, 20, 20], // Aᵀ with M % 4 ≠ 0 on the wide tile: A's four k from scalar loads
  [200, 108, 20], // the wide tile's four quads (16 columns): 27 quads, the last invocation's fourth past C
  [70, 102, 20], // Bᵀ: four quads on 16 rows, C element by element, the last invocation's third and fourth quads past C (B not four-aligned: scalar loads)
  [72, 100, 21], // Aᵀ: four quads with k past the last four one at a time (A unaligned, or Bᵀ: scalar loads)
  [97, 100, 21], // … and on 32 rows (no other size reaches the one-k loop's fourth group of rows and fourth quad)
  [1, 12, 16], // M = 1 (a bias gradient): the one-row kernel, vec4 paths …
  [1, 5, 257], // … and scalar loads, the k remainder
];
const MODES: Array<Pick<Case, 'alpha' | 'beta' | 'bias' | 'batch' | 'offset'>> = [
  { alpha: 1, beta: 0, bias: false, batch: 1, offset: 0 },
  { alpha: 0.5, beta: -1.5, bias: true, batch: 1, offset: 0 },
  { alpha: -2, beta: 0.25, bias: true, batch: 2, offset: 4 }, // aligned offsets: vec4 paths with strides
  { alpha: 1, beta: 0, bias: true, batch: 3, offset: 3 }, // unaligned: one element at a time
  { alpha: 1, beta: 0.75, bias: true, batch: 1, offset: 0 }, // α = 1: the accumulators start from the bias, β·C added after
];
const CASES: Case[] = [];
for (const transA of [false, true]) {
  for (const transB of [false, true]) {
    for (const [M, N, K] of SIZES) for (const mode of MODES) CASES.push({ M, N, K, transA, transB, ...mode });
  }
}
// B (and the bias) as half-precision weights, as a layer's packed weights are with precision 'f16'.
for (const [M, N, K] of [
  [17, 16, 12],
  [5, 257, 17],
] as const) {
  for (const transB of [false, true]) CASES.push({ M, N, K, transA: false, transB, alpha: 1, beta: 0, bias: true, batch: 2, offset: 4, half: true });
}

/**
 * The cases of `cases` to run: all with GEMM_CASES=all, otherwise those on a pairwise cover of their
 * pipelines (test/support/pipeline-cover.ts) — every size with every transpose pair and every mode,
 * every mode with every transpose pair, each workgroup width, and every pair of the kernel's other
 * specialisation constants that `cases` reach; compiling, not running, is what a case costs here.
 */
function selected(cases: readonly Case[], software: boolean): Array<readonly [string, Case, number]> {
  const indexed = cases.map((c) => [name(c), c, CASES.indexOf(c)] as const);
  if (process.env.GEMM_CASES === 'all') return indexed;
  // Half-precision B is a module of its own, and its few cases are not a product: all run.
  const half = indexed.filter(([, c]) => c.half);
  const stand = (offset: number) => ({ offset }) as GpuTensor; // the kernel's choice reads only where operands start
  const specialisation = ([, c]: (typeof indexed)[number]) =>
    gemmSpecialisation(
      gemmCallOf(c, 'f32', { a: stand(c.offset), b: stand(c.offset), bias: c.bias ? stand(c.offset) : undefined, c: stand(c.offset) }),
      software,
    );
  const mode = (c: Case) =>
    MODES.findIndex((m) => m.alpha === c.alpha && m.beta === c.beta && m.bias === c.bias && m.batch === c.batch && m.offset === c.offset);
  const facts = ([, c]: (typeof indexed)[number], { entryPoint, constants: k }: Specialisation) => {
    const size = `${c.M}×${c.N}×${c.K}`;
    // The tile's shape and the k loops' are nested code, not independent settings: each of their
    // combinations, beyond pairs.
    const loops = `${entryPoint}: ${k.WIDE_GROUPS} groups × ${k.WIDE_QUADS} quads, K passes ${k.K_PASSES}, k remainder ${k.K_REMAINDER}, one row ${k.ONE_ROW}`;
    return [`${size} ${transposes(c)}`, `${size} mode ${mode(c)}`, `mode ${mode(c)} ${transposes(c)}`, loops];
  };
  const cover = pipelineCover(
    indexed.filter(([, c]) => !c.half),
    specialisation,
    facts,
    ['WORKGROUP_SIZE'],
  );
  return [...cover, ...half];
}

const transposes = (c: Case) => `${c.transA ? 'Aᵀ' : 'A'}·${c.transB ? 'Bᵀ' : 'B'}`;
const name = (c: Case) =>
  `${transposes(c)} M=${c.M} N=${c.N} K=${c.K} α=${c.alpha} β=${c.beta}${c.bias ? ' +bias' : ''} batch ${c.batch} offset ${c.offset}${c.half ? ' f16 B' : ''}`;

// Strides leave a gap of a few elements between batches, so a kernel that ignores them shows.
const strides = ({ M, N, K }: Case) => [M * K + 4, N * K + 8, N + 4, M * N + 4] as const;

function gemmCallOf(c: Case, format: WeightFormat, tensors: Pick<GemmCall, 'a' | 'b' | 'bias' | 'c'>): GemmCall {
  const [aBatchStride, bBatchStride, biasBatchStride, cBatchStride] = strides(c);
  const { M, N, K, batch, transA, transB, alpha, beta, gateLanes } = c;
  return {
    label: 'gemm-test',
    M,
    N,
    K,
    batch,
    transA,
    transB,
    alpha,
    beta,
    ...tensors,
    aBatchStride,
    bBatchStride,
    biasBatchStride,
    cBatchStride,
    format,
    gateLanes,
  };
}

async function checkCase(harness: OpHarness, ctx: GpuContext, c: Case, i: number): Promise<void> {
  const next = random(4000 + i);
  const { M, N, K, batch, offset } = c;
  const [aStride, bStride, biasStride, cStride] = strides(c);
  const span = (stride: number, n: number) => (batch - 1) * stride + n;
  let a = values(next, span(aStride, M * K));
  let b = values(next, span(bStride, N * K));
  let bias = c.bias ? values(next, span(biasStride, N)) : undefined;
  const c0 = c.beta !== 0 ? values(next, span(cStride, M * N)) : new Float64Array(span(cStride, M * N)).fill(Number.NaN);
  const format = c.half ? weightFormat('f16', ctx.device) : 'f32';
  if (c.half) {
    b = b.map(roundToFloat16);
    bias = bias?.map(roundToFloat16);
  }
  // Gate lanes: the reference reads the dead lanes as the zeros they are by construction; the kernel
  // is given nonzero values there wherever it is to leave them out, so a lane it fails to skip shows.
  let [aKernel, bKernel] = [a, b];
  const lanes = c.gateLanes;
  if (lanes) {
    const dead = (stride: number, extent: number, laneOf: (e: number) => number) => (_: number, e: number) =>
      e % stride < extent && laneOf(e % stride) % 4 >= lanes.live;
    const zero = (x: Float64Array, isDead: (v: number, e: number) => boolean) => x.map((v, e) => (isDead(v, e) ? 0 : v));
    const transC = gemmTransposesC({ ...c, format }, ctx.isSoftwareAdapter);
    if (lanes.axis === 'columns') {
      const bDead = dead(bStride, N * K, c.transB ? (e) => Math.floor(e / K) : (e) => e % N);
      bias =
        bias &&
        zero(
          bias,
          dead(biasStride, N, (e) => e),
        );
      b = zero(b, bDead);
      // C transposed: its columns are the kernel's rows, whose lanes it cannot leave out.
      bKernel = transC ? b : bKernel;
    } else {
      a = zero(a, dead(aStride, M * K, c.transA ? (e) => Math.floor(e / M) : (e) => e % K));
      b = zero(b, dead(bStride, N * K, c.transB ? (e) => e % K : (e) => Math.floor(e / N)));
    }
  }
  const tensors = {
    a: harness.tensor(aKernel, [M, K], 'f32', offset),
    b: harness.tensor(bKernel, [K, N], c.half ? 'f16' : 'f32', offset),
    bias: bias && harness.tensor(bias, [N], c.half ? 'f16' : 'f32', offset),
    c: harness.tensor(c0, [M, N], 'f32', offset),
  };
  const call = gemmCallOf(c, format, tensors);
  await harness.run([recordGemm(harness, call)]);
  const got = await harness.read(tensors.c, span(cStride, M * N));
  const want = referenceGemm({
    M,
    N,
    K,
    batch,
    transA: c.transA,
    transB: c.transB,
    alpha: c.alpha,
    beta: c.beta,
    a,
    aStride,
    b,
    bStride,
    bias,
    biasStride,
    c: c0.map((v) => (Number.isNaN(v) ? 0 : v)),
    cStride,
  });
  // The gaps between batches are never written: compare batch by batch.
  for (let z = 0; z < batch; z++) {
    const slice = (x: ArrayLike<number>) => Float64Array.from({ length: M * N }, (_, e) => x[z * cStride + e]);
    expectClose(`C[${z}]`, { shape: [M, N], data: Float32Array.from(slice(got)) }, { shape: [M, N], data: slice(want) }, GPU_RTOL);
  }
  const v = gemmVariant(call, ctx.isSoftwareAdapter);
  // C transposed (the kernel computes Cᵀ) on a software adapter for fewer than 16 columns and more than
  // 16 rows, B in f32, α = 1 and β = 0; C then stored element by element.
  const transC = ctx.isSoftwareAdapter && !c.half && c.alpha === 1 && c.beta === 0 && N < 16 && M > 16;
  expectThat(v.transC === transC, () => `C is ${v.transC ? '' : 'not '}transposed: ${JSON.stringify(v)}`);
  if (offset === 0 && c.M % 4 === 0 && c.N % 4 === 0 && c.K % 4 === 0) {
    expectThat(v.aVec4 && v.bVec4 && (v.cVec4 || transC), () => `aligned case took a scalar path: ${JSON.stringify(v)}`);
  }
  // The wide tile for every call of at least 9 rows and 17 columns (the kernel's: C's columns and rows
  // where it is transposed) on a software adapter, aligned or not.
  const [rows, columns] = transC ? [N, M] : [M, N];
  const wide = ctx.isSoftwareAdapter && rows >= 9 && columns > 16;
  expectThat(v.wide === wide, () => `the wide tile is ${v.wide ? '' : 'not '}taken: ${JSON.stringify(v)}`);
}

describe('GEMM workgroups', () => {
  it('take 32 rows per wide invocation unless the rows computed past M cost more than it saves', () => {
    expect([16, 17, 32, 33, 40, 48, 64, 97, 100, 257, 1024].map(gemmWideRows)).toEqual([16, 32, 32, 16, 16, 16, 32, 32, 32, 32, 32]);
  });

  it('take K of 4 … 16 in straight-line passes, no loop', () => {
    expect([1, 3, 4, 7, 8, 11, 12, 15, 16, 17, 64].map(gemmKPasses)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 0, 0]);
  });

  it('take four column quads per wide invocation unless the columns computed past N, or too few subgroups for the cores, cost more', () => {
    // M 1,024 (32 row blocks): 16 columns from N = 33 on, except where 8-column subgroups waste less.
    expect([17, 20, 32, 33, 48, 64, 65, 96, 100, 108, 129, 520].map((N) => gemmWideQuads(1024, N))).toEqual([2, 2, 2, 4, 4, 4, 2, 2, 4, 4, 2, 4]);
    // One row block: 64 columns are one subgroup at four quads, two at two — both cores kept busy.
    expect(gemmWideQuads(32, 64)).toBe(2);
    expect(gemmWideQuads(32, 64, 8)).toBe(4); // … unless the batch gives the grid its subgroups
    // The cases below reach both.
    const wideCases = SIZES.filter(([M, N]) => M >= 16 && N > 16).map(([M, N]) => gemmWideQuads(M, N));
    expect(new Set(wideCases)).toEqual(new Set([2, 4]));
  });

  it("hold C's column quads (octets on the wide tile) with the fewest idle invocations, and the grid covers C", () => {
    // GPU: powers of two from 16 to GEMM_WORKGROUP_SIZE; software: multiples of 4 up to it.
    expect([4, 64, 65, 96, 256, 257, 4096].map((N) => gemmWorkgroupSize(N))).toEqual([16, 16, 32, 32, 64, 64, 64]);
    // Software, enough row blocks: the fewest workgroups, evened out (65 quads: two of 36, not 64 + 1).
    expect([4, 64, 65, 96, 256, 257, 4096].map((N) => gemmWorkgroupSize(N, 4, true))).toEqual([4, 16, 20, 24, 64, 36, 64]);
    expect([8, 64, 192, 200, 520].map((N) => gemmWorkgroupSize(N, 8, true))).toEqual([4, 8, 24, 28, 36]);
    expect([16, 64, 192, 200, 520].map((N) => gemmWorkgroupSize(N, 16, true))).toEqual([4, 4, 12, 16, 36]);
    // … and with few row blocks, split until the grid has GEMM_SOFTWARE_MIN_WORKGROUPS (down to 4 invocations).
    expect(gemmWorkgroupSize(256, 8, true, 2)).toBe(8); // 32 octets in 4 workgroups × 2 row blocks
    expect(gemmWorkgroupSize(4096, 4, true, 1)).toBe(64); // 1,024 quads: already 16 workgroups
    expect(gemmWorkgroupSize(16, 4, true, 1)).toBe(4); // 4 quads: one subgroup, no further
    for (const software of [false, true]) {
      for (const wide of software ? [false, true] : [false]) {
        for (const M of wide ? [16, 40, 100] : [1, 9]) {
          for (const N of [1, 3, 8, 17, 64, 96, 257, 520, 4096]) {
            const [x, y, z] = gemmGrid({ M, N, batch: 1 }, wide, software);
            const rows = wide ? gemmWideRows(M) : GEMM_ROWS;
            const columns = wide ? 4 * gemmWideQuads(M, N) : 4;
            const size = gemmWorkgroupSize(N, columns, software, y * z);
            const where = `M ${M} N ${N}`;
            expect(x * size * columns, where).toBeGreaterThanOrEqual(N);
            expect((x - 1) * size * columns, where).toBeLessThan(N);
            expect(y * rows, where).toBeGreaterThanOrEqual(M);
            expect((y - 1) * rows, where).toBeLessThan(M);
            // On a software adapter, at least the workgroups the columns allow, up to the minimum.
            const most = Math.ceil(Math.ceil(N / columns) / 4) * y * z;
            if (software) expect(x * y * z, where).toBeGreaterThanOrEqual(Math.min(GEMM_SOFTWARE_MIN_WORKGROUPS, most));
          }
        }
      }
    }
  });
});

describe('GEMM op vs the float64 reference', () => {
  let harness: OpHarness;
  beforeAll(() => {
    harness = new OpHarness(ctx);
  });
  afterAll(() => harness.dispose());

  it.each(selected(CASES, ctx.isSoftwareAdapter))('%s', (_name, c, i) => checkCase(harness, ctx, c, i));
});

// A GRU's (3 live lanes) and a plain RNN's (1) gate-interleaved axes: C's columns (an input projection
// x·W_ih, NN; a weight gradient xᵀ·dG, TN) and the reduction (an input gradient dG·W_ihᵀ, NT), at sizes
// that reach every path above — one row, the narrow and wide tiles, four quads, the k remainder, C
// transposed, unaligned operands, batches.
const GATE_SIZES: Record<GateLanes['axis'], Array<[number, number, number]>> = {
  columns: [
    [40, 12, 24], // C transposed (α = 1, β = 0): its lanes are the kernel's rows, computed whole
    [3, 4, 3],
    [17, 20, 17],
    [257, 68, 5],
    [1, 12, 17], // one row: a bias gradient
    [200, 108, 20],
    [33, 32, 12],
  ],
  k: [
    [40, 13, 24], // C transposed: the k lanes are left out all the same
    [3, 3, 4],
    [17, 17, 12],
    [257, 24, 8],
    [1, 5, 16],
    [70, 102, 20],
    [33, 66, 32],
  ],
};
const GATE_CASES: Case[] = [];
for (const live of [1, 3]) {
  for (const axis of ['columns', 'k'] as const) {
    GATE_SIZES[axis].forEach(([M, N, K], i) => {
      const transA = i % 3 === 1;
      const transB = axis === 'k' ? i % 2 === 0 : i % 4 === 3;
      const mode = MODES[i % MODES.length];
      GATE_CASES.push({ M, N, K, transA, transB, ...mode, gateLanes: { axis, live } });
    });
  }
}

describe('GEMM on gate-interleaved lanes: the dead ones left out', () => {
  let harness: OpHarness;
  beforeAll(() => {
    harness = new OpHarness(ctx);
  });
  afterAll(() => harness.dispose());

  it.each(GATE_CASES.map((c, i) => [`${name(c)}, ${c.gateLanes?.live} live lanes of ${c.gateLanes?.axis}`, c, i] as const))('%s', (_name, c, i) =>
    checkCase(harness, ctx, c, 9000 + i),
  );

  it('refuses a gate axis that is not whole quads, or a lane count other than 1, 3 or 4', () => {
    const t = harness.tensor(new Float32Array(64), [64]);
    const call = { label: 'lanes', M: 2, N: 6, K: 8, batch: 1, a: t, b: t, c: t, aBatchStride: 0, bBatchStride: 0, cBatchStride: 0, format: 'f32' } as const;
    expect(() => recordGemm(harness, { ...call, gateLanes: { axis: 'columns', live: 3 } })).toThrow(
      /lanes: gate lanes need .* columns axis of whole quads, got 3 of 6/,
    );
    expect(() => recordGemm(harness, { ...call, gateLanes: { axis: 'k', live: 2 } })).toThrow(/got 2 of 8/);
    expect(() => recordGemm(harness, { ...call, gateLanes: { axis: 'k', live: 3 } })).not.toThrow();
  });
});

interface WideCCase {
  M: number;
  N: number;
  K: number;
  transB: boolean;
  alpha: number;
  beta: number;
  /** C's row stride; with `peel`, N (recordGemmPeeled splits the call itself). */
  ldc: number;
  peel?: number;
}

// C's row stride (ldc) past N, and the head's last columns peeled into a call of their own (on a
// software adapter; a GPU records one call). C's columns past N stay as they were (NaN).
const WIDE_C: WideCCase[] = [
  { M: 20, N: 24, K: 8, transB: false, alpha: 1, beta: 0, ldc: 27 }, // the wide tile, C element by element
  { M: 5, N: 12, K: 9, transB: true, alpha: 0.5, beta: -1.5, ldc: 16 }, // the narrow tile, C read with β
  { M: 40, N: 5, K: 12, transB: true, alpha: 1, beta: 0, ldc: 9 }, // C transposed
  { M: 40, N: 65, K: 24, transB: true, alpha: 1, beta: 0, ldc: 65, peel: 1 }, // the char-LM head's 65 = 64 + 1 (transposed)
  { M: 70, N: 130, K: 17, transB: true, alpha: 1, beta: 0, ldc: 130, peel: 2 }, // one k at a time: octets, 130 = 128 + 2
  { M: 33, N: 66, K: 12, transB: true, alpha: 0.5, beta: 0.25, ldc: 66, peel: 2 }, // the edge on the narrow tile (α ≠ 1)
];

describe("GEMM into a wider C, and C's last columns peeled", () => {
  let harness: OpHarness;
  beforeAll(() => {
    harness = new OpHarness(ctx);
  });
  afterAll(() => harness.dispose());

  it.each(
    WIDE_C.map(
      (c, i) => [`M ${c.M} N ${c.N} K ${c.K} ${c.transB ? 'NT' : 'NN'} α ${c.alpha} β ${c.beta} ldc ${c.ldc}${c.peel ? ` peel ${c.peel}` : ''}`, c, i] as const,
    ),
  )('%s', async (_name, c, i) => {
    const next = random(7000 + i);
    const { M, N, K, ldc } = c;
    const a = values(next, M * K);
    const b = values(next, N * K);
    const bias = values(next, N);
    const before = Float64Array.from({ length: (M - 1) * ldc + N }, (_, e) => (e % ldc < N && c.beta !== 0 ? next() - 0.5 : Number.NaN));
    const tensors = {
      a: harness.tensor(a, [M, K]),
      b: harness.tensor(b, c.transB ? [N, K] : [K, N]),
      bias: harness.tensor(bias, [N]),
      c: harness.tensor(before, [before.length]),
    };
    const call = {
      label: 'gemm-ldc',
      M,
      N,
      K,
      batch: 1,
      transB: c.transB,
      alpha: c.alpha,
      beta: c.beta,
      ...tensors,
      aBatchStride: 0,
      bBatchStride: 0,
      cBatchStride: 0,
      format: 'f32',
    } as const;
    if (c.peel) {
      expectThat(
        gemmEdgeColumns(call, ctx.isSoftwareAdapter) === (ctx.isSoftwareAdapter ? c.peel : 0),
        () => `edge columns: ${gemmEdgeColumns(call, ctx.isSoftwareAdapter)}`,
      );
      await harness.run(recordGemmPeeled(harness, call));
    } else {
      await harness.run([recordGemm(harness, { ...call, ldc })]);
    }
    const got = await harness.read(tensors.c, before.length);
    const dense = Float64Array.from({ length: M * N }, (_, e) => before[Math.floor(e / N) * ldc + (e % N)]);
    const want = referenceGemm({
      M,
      N,
      K,
      batch: 1,
      transA: false,
      transB: c.transB,
      alpha: c.alpha,
      beta: c.beta,
      a,
      aStride: 0,
      b,
      bStride: 0,
      bias,
      biasStride: 0,
      c: dense,
      cStride: 0,
    });
    const written = Float32Array.from({ length: M * N }, (_, e) => got[Math.floor(e / N) * ldc + (e % N)]);
    expectClose('C', { shape: [M, N], data: written }, { shape: [M, N], data: want }, GPU_RTOL);
    const gap = Array.from(got).filter((_, e) => e % ldc >= N);
    expectThat(gap.every(Number.isNaN), () => `C's columns past N were written: ${gap.filter((v) => !Number.isNaN(v)).length}`);
  });
});

// On a software adapter the cases with at least 16 rows and 17 columns take the wide tile (gemm_wide,
// gemm_wide_rows); a GPU takes gemm_vec4 or gemm for them, so they run again as a GPU context records them.
describe("GEMM op with a GPU's layouts (no wide tile)", () => {
  const gpuLike = variantContext('gpu-layouts');
  const wideOnSoftware = CASES.filter((c) => c.M >= 16 && c.N > 16);
  it.each(selected(wideOnSoftware, false))('%s', (_name, c, i) => checkCase(gpuLike.harness, gpuLike.ctx, c, i));
});

// Where the device has subgroups the cases above run the kernels that share A's loads across a
// subgroup; the loads differ without them, so the aligned cases and some unaligned ones run again on plain kernels.
describe('GEMM op without subgroups (the loads of devices that lack them)', () => {
  const plain = variantContext('no-subgroups');

  // The aligned cases, and a few that load A one k at a time (a_column8's plain loads): unaligned
  // offsets, and Aᵀ with M % 4 ≠ 0 or a k remainder.
  const plainPaths = CASES.filter(
    (c) => !c.half && ((c.M % 4 === 0 && c.K % 4 === 0 && c.offset % 4 === 0) || (c.batch === 3 && c.M === 17) || (c.transA && c.M === 36)),
  );
  it.each(selected(plainPaths, ctx.isSoftwareAdapter))('%s', (_name, c, i) => checkCase(plain.harness, plain.ctx, c, i));
});
