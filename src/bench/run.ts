/**
 * The benchmark: for each shape, builds one workload (fixed random weights and input), then for each
 * system validates first (its output vs the float64 CPU reference) and times it after (median and min
 * of `runs` samples after warm-up, each one forward over the whole sequence ending with the output on
 * the host, or a batch of them for forwards under MIN_SAMPLE_MS). The samples of a shape's systems are
 * taken in rounds, one of each system per round (timeInterleaved). Dispatches and GPU bytes are counted
 * by instrumenting WebGPU itself (instrument.ts).
 * The adapter's own ceilings are measured in the same run (ceilings.ts).
 */
import { resolveConfig } from '../config.js';
import { contextFor } from '../gpu/device.js';
import type { StrategyChoice } from '../gpu/strategy.js';
import { createRnn } from '../rnn.js';
import { type Ceilings, ceilingGemmShape, measureCeilings } from './ceilings.js';
import { formatDispatchProfile, profileDispatches } from './dispatch-profile.js';
import { formatGemmCensus, gemmCensus } from './gemm-census.js';
import type { GpuContext } from '../gpu/context.js';
import type { GemmShape } from '../gpu/ops/gemm.js';
import { canCountGpuWork, countGpuWork } from './instrument.js';
import { randomWeights, seededUniform } from '../random.js';
import { relativeError } from '../relative-error.js';
import { type BenchShape, countedGflop } from './shapes.js';
import { prepareTrainContenders } from './train.js';
import type { TrainShape } from './train-shapes.js';
import type { BenchRow, BenchSystem, PreparedSystem, SystemName, Workload } from './system.js';
import { cpuReferenceSystem, webgpuRnnOnnxSystem, webgpuRnnSystem } from './systems.js';

export type { BenchRow } from './system.js';

export interface BenchReport {
  runtime: string;
  adapter: string;
  /** Absent when skipped (isolated child processes). */
  ceilings?: Ceilings;
  rows: BenchRow[];
}

export interface BenchOptions {
  /** Forward shapes and training shapes (train-shapes.ts), in the order to run them. */
  shapes: readonly (BenchShape | TrainShape)[];
  systems: readonly SystemName[];
  /** Timed runs per system and shape (≥ 5 for the medians). */
  runs: number;
  warmup: number;
  device?: GPUDevice;
  runtime: string;
  /** GEMM ceiling size factor (1 = full). */
  ceilingScale?: number;
  /** webgpu-rnn's recurrent strategy (default auto). */
  strategy?: StrategyChoice;
  /** Measure the adapter's ceilings (default true). */
  ceilings?: boolean;
  /** After the timed runs, time each dispatch of one run of our engine alone (dispatch-profile.ts). */
  profile?: boolean;
  log?: (line: string) => void;
}

/** Our engine's systems, whose dispatches --profile times. */
const PROFILED: readonly SystemName[] = ['webgpu-rnn', 'webgpu-rnn-f16', 'webgpu-rnn-forward'];

/**
 * --profile: each of our contenders' dispatches of one run, timed alone, onto its row. Run after the
 * timed runs and before disposing: timing a dispatch alone runs it again on the buffers as they are.
 * A failure becomes a note on the row, not an error of the benchmark.
 */
async function profileOurs(contenders: readonly { row: BenchRow; prepared: { run(): Promise<unknown> } }[], device: GPUDevice): Promise<void> {
  for (const c of contenders) {
    if (c.row.error || !PROFILED.includes(c.row.system)) continue;
    try {
      c.row.dispatch_profile = await profileDispatches(device, () => c.prepared.run());
    } catch (e) {
      c.row.note = [c.row.note, `profile failed: ${(e as Error).message}`].filter(Boolean).join('; ');
    }
  }
}

function profileLines(row: BenchRow): string[] {
  return row.dispatch_profile ? formatDispatchProfile(`${row.shape} ${row.system}`, row.dispatch_profile, row.median_ms) : [];
}

/**
 * Loads a peer system; peers are optional dev dependencies, so a missing one becomes an error row.
 * Undefined for the systems that have training rows only.
 */
async function loadSystem(name: SystemName, strategy: StrategyChoice): Promise<BenchSystem | undefined> {
  switch (name) {
    case 'webgpu-rnn':
      return webgpuRnnSystem(strategy);
    case 'webgpu-rnn-f16':
      return webgpuRnnSystem(strategy, 'f16');
    case 'webgpu-rnn-onnx':
      return webgpuRnnOnnxSystem;
    case 'cpu-reference':
      return cpuReferenceSystem;
    case 'tfjs-webgpu':
      return (await import('./peers/tfjs.js')).tfjsWebGpu;
    case 'ort-webgpu':
      return (await import('./peers/ort.js')).ortWebGpu;
    case 'webgpu-rnn-forward':
    case 'pytorch-cpu':
    case 'pytorch-cuda':
      return undefined;
  }
}

/** One shape's workload: PyTorch-style random weights and a random input, the same for every system. */
export function makeWorkload(shape: BenchShape, seed = 1): Workload {
  const config = resolveConfig(shape.config);
  const next = seededUniform(seed);
  const weights = randomWeights(config, next);
  const input = new Float32Array(shape.T * shape.B * config.input_size);
  for (let i = 0; i < input.length; i++) input[i] = 2 * next() - 1;
  return { shape, config, weights, input: { shape: [shape.T, shape.B, config.input_size], data: input } };
}

/** Minimum warm-up time per system and shape. */
const WARMUP_MS = 300;

/**
 * Shortest timed sample. A forward faster than this is timed in batches and the batch time divided:
 * a browser coarsens performance.now() (Chromium to 0.1 ms without cross-origin isolation), so a
 * single fast forward — the CPU reference on a tiny shape — could read as 0 ms.
 */
const MIN_SAMPLE_MS = 5;

/** Forwards per timed sample: doubled until one sample lasts MIN_SAMPLE_MS (at most 1024). */
async function forwardsPerSample(run: () => Promise<unknown>): Promise<number> {
  for (let n = 1; ; n *= 2) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await run();
    if (performance.now() - t0 >= MIN_SAMPLE_MS || n >= 1024) return n;
  }
}

/** Reference output for validation; on shapes too big for the float64 CPU, a prefix of the sequence. */
const REFERENCE_GFLOP_BUDGET = 2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function referenceOutput(w: Workload): Promise<{ output: Float64Array; steps: number; note?: string }> {
  const gflop = countedGflop(w.shape);
  const steps = gflop > REFERENCE_GFLOP_BUDGET ? Math.max(1, Math.floor((w.shape.T * REFERENCE_GFLOP_BUDGET) / gflop)) : w.shape.T;
  const cpu = await createRnn({ config: w.config, weights: w.weights, backend: 'cpu' });
  const perStep = w.shape.B * w.config.input_size;
  const input = steps === w.shape.T ? w.input : { shape: [steps, w.shape.B, w.config.input_size], data: w.input.data.slice(0, steps * perStep) };
  const r = await cpu.forward(input);
  // A prefix is exact for unidirectional models; the reverse direction depends on the whole sequence.
  const note = steps < w.shape.T ? `validated on the first ${steps} of ${w.shape.T} steps` : undefined;
  return { output: r.output.data as Float64Array, steps, note };
}

/** A system built, warmed up and validated for one workload, ready to be timed. */
export interface Contender {
  row: BenchRow;
  prepared: PreparedSystem;
  /** Forwards per timed sample (forwardsPerSample). */
  perSample: number;
  times: number[];
}

/**
 * Builds, warms up and validates one system: fills the row's dispatches, GPU bytes and error vs the
 * reference. Returns undefined, with `row.error` set, when the system cannot run.
 */
async function prepareContender(
  system: BenchSystem,
  w: Workload,
  device: GPUDevice,
  reference: Awaited<ReturnType<typeof referenceOutput>>,
  opts: BenchOptions,
  row: BenchRow,
): Promise<Contender | undefined> {
  let prepared: PreparedSystem | undefined;
  try {
    const setup = await countGpuWork(async () => {
      const p = await system.prepare(w, device);
      prepared = p;
      // At least `warmup` runs and WARMUP_MS of them: a real GPU idles down between bursts (e.g.
      // while the CPU reference runs) and needs sustained work to return to its clocks.
      const start = performance.now();
      for (let i = 0; i < Math.max(1, opts.warmup) || performance.now() - start < WARMUP_MS; i++) await p.run();
      return p;
    });
    const p = setup.result;
    const counted = await countGpuWork(() => p.run());
    const countable = canCountGpuWork() && system.name !== 'cpu-reference';
    row.dispatches = countable ? counted.counts.dispatches : system.name === 'cpu-reference' ? 0 : null;
    const createdBytes = setup.counts.bufferBytes + counted.counts.bufferBytes;
    row.gpu_bytes = p.heldGpuBytes ? p.heldGpuBytes() : countable ? createdBytes : system.name === 'cpu-reference' ? 0 : null;
    // Validate: full-length systems compared on the reference's prefix when it is one.
    const D = w.config.bidirectional ? 2 : 1;
    const compared = reference.steps * w.shape.B * D * (w.config.proj_size || w.config.hidden_size);
    const comparable = reference.steps === w.shape.T || D === 1;
    row.max_rel_err = comparable ? relativeError(counted.result, reference.output, compared) : null;
    const notes = [p.note, reference.note, p.sameEquations === false ? 'different equations: error not held against it' : undefined];
    const note = notes.filter(Boolean).join('; ');
    if (note) row.note = note;
    return { row, prepared: p, perSample: await forwardsPerSample(() => p.run()), times: [] };
  } catch (e) {
    row.error = (e as Error).message;
    await prepared?.dispose();
    return undefined;
  }
}

/**
 * Times one shape's systems side by side: `runs` rounds, each taking one sample of every system in
 * turn, so that a slow spell of the adapter (SwiftShader drifts by tens of percent within minutes)
 * falls on all of them alike instead of on whichever happened to be running.
 */
export async function timeInterleaved(contenders: Contender[], runs: number): Promise<void> {
  for (let r = 0; r < runs; r++) {
    for (const c of contenders) {
      if (c.row.error) continue;
      try {
        const t0 = performance.now();
        for (let i = 0; i < c.perSample; i++) await c.prepared.run();
        c.times.push((performance.now() - t0) / c.perSample);
      } catch (e) {
        c.row.error = (e as Error).message;
      }
    }
  }
  for (const c of contenders) {
    if (c.row.error) continue;
    c.row.median_ms = median(c.times);
    c.row.min_ms = Math.min(...c.times);
    c.row.gflops = c.row.gflop / (c.row.median_ms / 1000);
    if (c.perSample > 1) c.row.note = [c.row.note, `timed in batches of ${c.perSample} forwards`].filter(Boolean).join('; ');
  }
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const ctx = await contextFor(opts.device);
  const device = ctx.device;
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const adapter = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  log(`adapter: ${adapter}${ctx.isSoftwareAdapter ? ' (software)' : ''}; runtime: ${opts.runtime}`);
  const ceilings = opts.ceilings === false ? undefined : await measureCeilings(ctx, opts.ceilingScale ?? 1);
  if (ceilings) log(formatCeilings(ceilings));
  const rows: BenchRow[] = [];
  for (const shape of opts.shapes) {
    if (shape.kind === 'train') {
      rows.push(...(await runTrainShape(shape, opts, ctx, ceilings, log)));
      continue;
    }
    const w = makeWorkload(shape);
    const reference = await referenceOutput(w);
    const shapeRows: BenchRow[] = [];
    const contenders: Contender[] = [];
    try {
      for (const name of opts.systems) {
        const row: BenchRow = {
          shape: shape.name,
          system: name,
          median_ms: null,
          min_ms: null,
          gflop: countedGflop(shape),
          gflops: null,
          dispatches: null,
          gpu_bytes: null,
          max_rel_err: null,
        };
        shapeRows.push(row);
        try {
          const system = await loadSystem(name, opts.strategy ?? 'auto');
          if (!system) {
            shapeRows.pop(); // a training-only system: no forward row
            continue;
          }
          const c = await prepareContender(system, w, device, reference, opts, row);
          if (c) contenders.push(c);
        } catch (e) {
          row.error = (e as Error).message;
        }
      }
      await timeInterleaved(contenders, opts.runs);
      if (opts.profile) await profileOurs(contenders, device);
    } finally {
      for (const c of contenders) await c.prepared.dispose();
    }
    for (const row of shapeRows) log(formatRow(row));
    for (const line of shapeRows.flatMap(profileLines)) log(line);
    rows.push(...shapeRows);
  }
  return { runtime: opts.runtime, adapter, ceilings, rows };
}

/**
 * One training shape: its systems prepared and validated (train.ts), timed in rounds, our ratios noted,
 * then every GEMM of our step timed alone, beside the ceiling GEMM (gemm-census.ts), and attached to our row.
 */
async function runTrainShape(
  shape: TrainShape,
  opts: BenchOptions,
  ctx: GpuContext,
  ceilings: Ceilings | undefined,
  log: (line: string) => void,
): Promise<BenchRow[]> {
  const { rows, contenders } = await prepareTrainContenders(shape, opts.systems, ctx.device, opts.warmup, opts.strategy ?? 'auto');
  let details: string | undefined;
  let gemms: GemmShape[] = [];
  try {
    await timeInterleaved(contenders, opts.runs);
    const ours = contenders.find((c) => c.details && !c.row.error);
    details = ours?.details?.();
    gemms = ours?.gemms?.() ?? [];
    if (opts.profile) await profileOurs(contenders, ctx.device);
  } finally {
    for (const c of contenders) await c.prepared.dispose();
  }
  const step = rows.find((r) => r.system === 'webgpu-rnn');
  const forward = rows.find((r) => r.system === 'webgpu-rnn-forward');
  // The ratio of the minima too: on a software adapter a run's persistent loops fall into a fast or a
  // slow mode, and the medians follow whichever each side drew more often.
  if (step?.median_ms && forward?.median_ms) {
    const ratio = `step = ${(step.median_ms / forward.median_ms).toFixed(2)}× our forward + loss`;
    const minima = step.min_ms && forward.min_ms ? ` (minima ${(step.min_ms / forward.min_ms).toFixed(2)}×)` : '';
    step.note = [ratio + minima, details, step.note].filter(Boolean).join('; ');
  } else if (step && details) step.note = [details, step.note].filter(Boolean).join('; ');
  for (const row of rows) log(formatRow(row));
  if (step && gemms.length) {
    // Timed beside the ceiling GEMM in rounds, also where this process did not measure the ceilings (an isolated child).
    step.gemm_census = await gemmCensus(ctx, gemms, ceilings, ceilingGemmShape(opts.ceilingScale ?? 1));
    for (const line of formatGemmCensus(shape.name, step.gemm_census, step.median_ms)) log(line);
  }
  for (const line of rows.flatMap(profileLines)) log(line);
  return rows;
}

const fmt = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));

function formatCeilings(c: Ceilings): string {
  const layouts = c.gemm_layouts.map((l) => {
    const read = l.read ? `; bound by its loads: ${l.read.gbps.toFixed(2)} GB/s read, ${Math.round(100 * l.read.fraction)}% of the read rate` : '';
    return `\n  GEMM ${l.layout.padEnd(30)} ${l.shape.padEnd(22)} ${l.gflops.toFixed(3)} GFLOP/s (${Math.round(100 * l.fraction)}% of the ceiling, interleaved${read})`;
  });
  return `ceilings: GEMM ${c.gemm_gflops.toFixed(3)} GFLOP/s (${c.gemm_shape}); read ${c.read_gbps.toFixed(2)} GB/s, write ${c.write_gbps.toFixed(2)} GB/s${c.serial ? " (a software adapter: a GEMM's writes add to its arithmetic)" : ''}; empty dispatch ${c.empty_dispatch_us.toFixed(1)} µs${layouts.join('')}`;
}

export function formatRow(r: BenchRow): string {
  if (r.error) return `${r.shape.padEnd(14)} ${r.system.padEnd(18)} unavailable: ${r.error}`;
  return [
    r.shape.padEnd(14),
    r.system.padEnd(18),
    `${fmt(r.median_ms, 1).padStart(9)} ms`,
    `min ${fmt(r.min_ms, 1).padStart(9)}`,
    `${fmt(r.gflops, 3).padStart(8)} GFLOP/s`,
    `${String(r.dispatches ?? '—').padStart(6)} disp`,
    `${r.gpu_bytes === null ? '—' : (r.gpu_bytes / 2 ** 20).toFixed(2)} MiB`.padStart(10),
    `err ${r.max_rel_err === null ? '—' : r.max_rel_err.toExponential(1)}`,
    r.note ? `(${r.note})` : '',
  ].join('  ');
}

/** The summary table: per shape, our median and the speed-up over each peer. */
export function formatTable(report: BenchReport): string {
  const lines = [
    `adapter: ${report.adapter}; runtime: ${report.runtime}`,
    report.ceilings ? formatCeilings(report.ceilings) : 'ceilings: not measured',
    '',
    'shape          system             median ms   min ms     GFLOP/s  disp/seq  GPU MiB   max rel err  speed-up vs it',
  ];
  for (const r of report.rows) {
    const ours = report.rows.find((o) => o.shape === r.shape && o.system === 'webgpu-rnn');
    const ratio =
      r.system !== 'webgpu-rnn' && r.system !== 'webgpu-rnn-forward' && ours?.median_ms && r.median_ms ? `${(r.median_ms / ours.median_ms).toFixed(1)}×` : '';
    if (r.error) {
      lines.push(`${r.shape.padEnd(14)} ${r.system.padEnd(18)} unavailable: ${r.error}`);
      continue;
    }
    lines.push(
      [
        r.shape.padEnd(14),
        r.system.padEnd(18),
        fmt(r.median_ms, 1).padStart(9),
        fmt(r.min_ms, 1).padStart(9),
        fmt(r.gflops, 3).padStart(10),
        String(r.dispatches ?? '—').padStart(9),
        (r.gpu_bytes === null ? '—' : (r.gpu_bytes / 2 ** 20).toFixed(2)).padStart(8),
        (r.max_rel_err === null ? '—' : r.max_rel_err.toExponential(1)).padStart(13),
        ratio.padStart(14),
        r.note ? `  ${r.note}` : '',
      ].join(' '),
    );
  }
  const onnx = onnxMargins(report.rows);
  if (onnx.length) lines.push('', ...onnx);
  for (const r of report.rows) {
    if (r.gemm_census) lines.push('', ...formatGemmCensus(r.shape, r.gemm_census, r.median_ms, report.ceilings));
    if (r.dispatch_profile) lines.push('', ...profileLines(r));
  }
  return lines.join('\n');
}

/** The ONNX row's margin: per shape, ONNX Runtime Web's time over ours on the same file. */
export function onnxMargins(rows: readonly BenchRow[]): string[] {
  const lines: string[] = [];
  for (const ours of rows.filter((r) => r.system === 'webgpu-rnn-onnx')) {
    const ort = rows.find((r) => r.shape === ours.shape && r.system === 'ort-webgpu');
    if (!ours.median_ms || !ort?.median_ms) continue;
    lines.push(
      `onnx ${ours.shape}: the same .onnx file, ort-webgpu ${fmt(ort.median_ms, 1)} ms / loadOnnx ${fmt(ours.median_ms, 1)} ms = ${(ort.median_ms / ours.median_ms).toFixed(1)}×`,
    );
  }
  return lines;
}
