/**
 * Every GEMM of one training step, as its plan records them (TrainerDiagnostics' `gemms`), each timed
 * alone on fresh buffers (ceilings.ts's timeGemmShape: same sizes, layout and alignment, so the same
 * kernel path) — which GEMMs a step is made of, and which of them reach the adapter's GEMM ceiling.
 * Identical calls (the same shape recorded by several layers or steps) are timed once and counted.
 *
 * Each is also read against its own bound: a small GEMM cannot reach the FLOP ceiling on any device —
 * the classifier's head (32 × 64 · 64 × 4, 16 kFLOP) is 3 µs of arithmetic at a 6 GFLOP/s ceiling and
 * ~20 µs of dispatch, a bias gradient (M = 1) one multiply-add per element it reads, an input
 * projection with K ≤ 16 a few multiply-adds per element of C it writes. The bound is the roofline's
 * time plus the dispatch, from the run's ceilings (ceilings.ts), with the bytes every operand must move
 * once (A, B, the bias and C read, at the read rate; C written, at the write rate):
 *
 *   GPU:               max(FLOP / GEMM ceiling, reads + writes) + one empty dispatch
 *   software adapter:  max(FLOP / GEMM ceiling + writes, reads + writes) + one empty dispatch
 *
 * A software adapter's cores do the stores as well as the multiply-adds, one after the other, so a
 * GEMM's C costs its write time on top of its arithmetic (measured on SwiftShader in Chromium,
 * interleaved: storing a quarter of the wide tile's rows — the other rows summed into them — took 1.1
 * ms off 2,048 × 4 · 4 × 256 and 1.3 ms off 2,048 × 16 · 16 × 256; the same saving whatever K, where
 * overlapping work would have hidden it at the larger K). The ceiling GEMM's own C costs it about 2%.
 */
import type { GpuContext } from '../gpu/context.js';
import { type GemmShape, gemmLayoutName } from '../gpu/ops/gemm.js';
import { type Ceilings, timeAgainstCeiling, timeGemmShape } from './ceilings.js';

/** The run's ceilings a GEMM's bound is read from. */
export type GemmCeilings = Pick<Ceilings, 'gemm_gflops' | 'read_gbps' | 'write_gbps' | 'serial' | 'empty_dispatch_us'>;

/** The least time a GEMM can take on the adapter, and what sets it. */
export interface GemmBound {
  ms: number;
  /**
   * 'arithmetic': its FLOPs at the GEMM ceiling; 'arithmetic + writes': the same plus C's bytes at the
   * write rate (a software adapter); 'memory': its reads at the read rate and C at the write rate.
   * Each plus one dispatch.
   */
  by: 'arithmetic' | 'arithmetic + writes' | 'memory';
}

/** What a GEMM must move at least, in bytes: `read` (A, B, the bias, C with β) and `written` (C). */
export interface GemmTraffic {
  read: number;
  written: number;
}

export function gemmBound(flop: number, traffic: GemmTraffic, ceilings: GemmCeilings): GemmBound {
  const writes = traffic.written / (ceilings.write_gbps * 1e6);
  const arithmetic = flop / (ceilings.gemm_gflops * 1e6) + (ceilings.serial ? writes : 0);
  const memory = traffic.read / (ceilings.read_gbps * 1e6) + writes;
  const dispatch = ceilings.empty_dispatch_us / 1000;
  if (memory > arithmetic) return { ms: memory + dispatch, by: 'memory' };
  return { ms: arithmetic + dispatch, by: ceilings.serial && writes > 0 ? 'arithmetic + writes' : 'arithmetic' };
}

/** Bytes a GEMM must move at least: A and B read (once where batches share them), the bias, C written (and read with β). */
export function gemmTraffic(s: GemmShape): GemmTraffic {
  const per = (stride: number, elements: number) => (stride === 0 ? 1 : s.batch) * elements;
  const c = s.batch * s.M * s.N;
  const read = per(s.strides.a, s.M * s.K) + per(s.strides.b, s.K * s.N) + (s.bias ? per(s.strides.bias, s.N) : 0) + (s.beta !== 0 ? c : 0);
  return { read: 4 * read, written: 4 * c };
}

/**
 * Samples per GEMM, median taken: one slow submit in three (a spell of the software adapter, or the
 * browser's) showed as a 2–3× outlier in a census of three (a 4.7 ms GEMM read 15.4 ms). With the
 * ceiling GEMM, these are rounds: the ceiling, then every GEMM of the step, in turn (timeAgainstCeiling).
 */
const CENSUS_RUNS = 5;

/** One distinct GEMM of a step. */
export interface GemmCensusEntry {
  /** The first call's label (e.g. `rnn.layer0.input_projection`), and how many calls of the step share the shape. */
  label: string;
  calls: number;
  /** 'NN + bias', 'TN', 'NT + β·C', … (gemmLayoutName). */
  layout: string;
  /** op(A) M×K · op(B) K×N, with ×batch where batched. */
  shape: string;
  /** Median milliseconds of one call alone. */
  ms: number;
  gflops: number;
  flop: number;
  /** What it must move at least (gemmTraffic). */
  traffic: GemmTraffic;
  /**
   * Its share of the ceiling GEMM's rate, when the census had it: the median, over the rounds, of its
   * GFLOP/s over the ceiling GEMM's timed around it (timeAgainstCeiling).
   */
  fraction?: number;
  /** The ceiling GEMM's GFLOP/s around its samples (median), which its bound is read from. */
  ceiling_gflops?: number;
  /** Its bound (gemmBound) and bound / ms, when the ceilings were measured. */
  bound?: GemmBound & { fraction: number };
}

export interface GemmCensus {
  entries: GemmCensusEntry[];
  /** Milliseconds of all the step's GEMM calls, each alone (calls × ms, summed). */
  total_ms: number;
  /** Their FLOPs over total_ms. */
  gflops: number;
}

function shapeKey(s: GemmShape): string {
  const { label: _label, ...rest } = s;
  return JSON.stringify(rest);
}

const flopOf = (s: GemmShape) => 2 * s.M * s.N * s.K * s.batch;

/**
 * Times every distinct GEMM of `gemms` alone. With `reference` (the run's ceiling GEMM,
 * ceilingGemmShape) each is timed in rounds beside it, and its fraction of the ceiling and its bound
 * are read against the ceiling's rate at the same moments; `ceilings` gives the bound's read and write
 * rates and the dispatch.
 */
export async function gemmCensus(ctx: GpuContext, gemms: readonly GemmShape[], ceilings?: GemmCeilings, reference?: GemmShape): Promise<GemmCensus> {
  const distinct = new Map<string, { shape: GemmShape; calls: number }>();
  for (const g of gemms) {
    const key = shapeKey(g);
    const seen = distinct.get(key);
    if (seen) seen.calls++;
    else distinct.set(key, { shape: g, calls: 1 });
  }
  const shapes = [...distinct.values()];
  const timed = reference
    ? await timeAgainstCeiling(
        ctx,
        reference,
        shapes.map((d) => d.shape),
        CENSUS_RUNS,
      )
    : [];
  const entries: GemmCensusEntry[] = [];
  let totalMs = 0;
  let totalFlop = 0;
  for (const [i, { shape, calls }] of shapes.entries()) {
    const ms = reference ? timed[i].ms : await timeGemmShape(ctx, shape, CENSUS_RUNS);
    const flop = flopOf(shape);
    const traffic = gemmTraffic(shape);
    const gflops = flop / (ms * 1e6);
    const batch = shape.batch > 1 ? ` ×${shape.batch}` : '';
    const ceiling = reference
      ? { fraction: timed[i].fraction, ceiling_gflops: timed[i].ceiling_gflops }
      : ceilings
        ? { fraction: gflops / ceilings.gemm_gflops }
        : {};
    const boundCeilings = ceilings && (reference ? { ...ceilings, gemm_gflops: timed[i].ceiling_gflops } : ceilings);
    entries.push({
      label: shape.label,
      calls,
      layout: gemmLayoutName(shape),
      shape: `${shape.M}×${shape.K}·${shape.K}×${shape.N}${batch}`,
      ms,
      gflops,
      flop,
      traffic,
      ...ceiling,
      ...(boundCeilings ? { bound: boundOf(flop, traffic, ms, boundCeilings) } : {}),
    });
    totalMs += calls * ms;
    totalFlop += calls * flop;
  }
  return { entries, total_ms: totalMs, gflops: totalMs > 0 ? totalFlop / (totalMs * 1e6) : 0 };
}

function boundOf(flop: number, traffic: GemmTraffic, ms: number, ceilings: GemmCeilings): GemmBound & { fraction: number } {
  const bound = gemmBound(flop, traffic, ceilings);
  return { ...bound, fraction: bound.ms / ms };
}

/**
 * The census as report lines: `stepMs`, the step's median, for the GEMMs' share of it; `ceilings`, the
 * run's, for entries measured without them (the benchmark's isolated children).
 */
export function formatGemmCensus(shape: string, c: GemmCensus, stepMs: number | null, ceilings?: GemmCeilings): string[] {
  const share = stepMs ? ` (${Math.round((100 * c.total_ms) / stepMs)}% of the step's median)` : '';
  const calls = c.entries.reduce((n, e) => n + e.calls, 0);
  const head = `${shape}: GEMMs of one step (from its plan): ${calls} calls, ${c.entries.length} distinct, ${c.total_ms.toFixed(1)} ms alone${share}, ${c.gflops.toFixed(3)} GFLOP/s`;
  return [
    head,
    ...c.entries.map((e) => {
      const of = e.fraction ?? (ceilings ? e.gflops / (e.ceiling_gflops ?? ceilings.gemm_gflops) : undefined);
      const bound =
        e.bound ?? (ceilings ? boundOf(e.flop, e.traffic, e.ms, { ...ceilings, gemm_gflops: e.ceiling_gflops ?? ceilings.gemm_gflops }) : undefined);
      const parts = [
        of === undefined ? '' : `${Math.round(100 * of)}% of the ceiling${e.ceiling_gflops === undefined ? '' : ', interleaved'}`,
        bound ? `${Math.round(100 * bound.fraction)}% of its ${bound.by} bound` : '',
      ];
      const fraction = parts.some(Boolean) ? ` (${parts.filter(Boolean).join('; ')})` : '';
      const times = e.calls > 1 ? ` ×${e.calls} calls` : '';
      return `  ${e.layout.padEnd(16)} ${e.shape.padEnd(24)} ${e.ms.toFixed(2).padStart(8)} ms ${e.gflops.toFixed(3).padStart(7)} GFLOP/s${fraction}  ${e.label}${times}`;
    }),
  ];
}
