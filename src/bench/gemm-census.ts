/**
 * Every GEMM of one training step, as its plan records them (TrainerDiagnostics' `gemms`), each timed
 * alone on fresh buffers (ceilings.ts's timeGemmShape: same sizes, layout and alignment, so the same
 * kernel path) — which GEMMs a step is made of, and which of them reach the adapter's GEMM ceiling.
 * Identical calls (the same shape recorded by several layers or steps) are timed once and counted.
 */
import type { GpuContext } from '../gpu/context.js';
import { type GemmShape, gemmLayoutName } from '../gpu/ops/gemm.js';
import { timeGemmShape } from './ceilings.js';

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
  /** gflops / the run's GEMM ceiling, when the ceiling was measured. */
  fraction?: number;
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

export async function gemmCensus(ctx: GpuContext, gemms: readonly GemmShape[], ceiling?: number): Promise<GemmCensus> {
  const distinct = new Map<string, { shape: GemmShape; calls: number }>();
  for (const g of gemms) {
    const key = shapeKey(g);
    const seen = distinct.get(key);
    if (seen) seen.calls++;
    else distinct.set(key, { shape: g, calls: 1 });
  }
  const entries: GemmCensusEntry[] = [];
  let totalMs = 0;
  let flop = 0;
  for (const { shape, calls } of distinct.values()) {
    const ms = await timeGemmShape(ctx, shape);
    const gflops = flopOf(shape) / (ms * 1e6);
    const batch = shape.batch > 1 ? ` ×${shape.batch}` : '';
    entries.push({
      label: shape.label,
      calls,
      layout: gemmLayoutName(shape),
      shape: `${shape.M}×${shape.K}·${shape.K}×${shape.N}${batch}`,
      ms,
      gflops,
      ...(ceiling ? { fraction: gflops / ceiling } : {}),
    });
    totalMs += calls * ms;
    flop += calls * flopOf(shape);
  }
  return { entries, total_ms: totalMs, gflops: totalMs > 0 ? flop / (totalMs * 1e6) : 0 };
}

/**
 * The census as report lines: `stepMs`, the step's median, for the GEMMs' share of it; `ceiling`, the
 * run's GEMM ceiling, for entries measured without one (the benchmark's isolated children).
 */
export function formatGemmCensus(shape: string, c: GemmCensus, stepMs: number | null, ceiling?: number): string[] {
  const share = stepMs ? ` (${Math.round((100 * c.total_ms) / stepMs)}% of the step's median)` : '';
  const calls = c.entries.reduce((n, e) => n + e.calls, 0);
  const head = `${shape}: GEMMs of one step (from its plan): ${calls} calls, ${c.entries.length} distinct, ${c.total_ms.toFixed(1)} ms alone${share}, ${c.gflops.toFixed(3)} GFLOP/s`;
  return [
    head,
    ...c.entries.map((e) => {
      const of = e.fraction ?? (ceiling ? e.gflops / ceiling : undefined);
      const fraction = of === undefined ? '' : ` (${Math.round(100 * of)}% of the ceiling)`;
      const times = e.calls > 1 ? ` ×${e.calls} calls` : '';
      return `  ${e.layout.padEnd(16)} ${e.shape.padEnd(24)} ${e.ms.toFixed(2).padStart(8)} ms ${e.gflops.toFixed(3).padStart(7)} GFLOP/s${fraction}  ${e.label}${times}`;
    }),
  ];
}
