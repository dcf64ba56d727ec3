/**
 * The adapter's own ceilings, measured in the same run as the systems: GEMM throughput with our GEMM
 * (ops/gemm.ts, as the input projection uses it: B a packed weight matrix, a bias) on a large problem,
 * the rate at which a kernel can read a large buffer (for kernels bound by their loads), and the cost of
 * one empty dispatch inside a compute pass. All are timed on the host around `onSubmittedWorkDone` (timestamp queries are
 * optional in WebGPU), with enough work per submit that the submit itself is noise.
 */
import probeSource from '../../shaders/bench-probe.wgsl?raw';
import { BufferUsage, ShaderStage } from '../gpu/constants.js';
import type { GpuContext } from '../gpu/context.js';
import { gpuTensor } from '../gpu/gpu-tensor.js';
import { GATE_LANES } from '../gpu/layer-weights.js';
import { type GemmShape, recordGemm } from '../gpu/ops/gemm.js';
import { OwningRecorder } from '../gpu/recorder.js';

/** Our GEMM in one operand layout, on a shape a training step gives it. */
export interface GemmLayoutRate {
  /** What it serves and how: 'NN + bias (input projection)', 'TN (weight gradient)', … */
  layout: string;
  /** op(A) M×K · op(B) K×N */
  shape: string;
  gflops: number;
  /** Its share of the ceiling GEMM's GFLOP/s, timed in the same rounds (timeAgainstCeiling's fraction). */
  fraction: number;
  /**
   * Where the layout is bound by its loads rather than its arithmetic (M = 1: one multiply-add per
   * element of B it reads): the bytes it reads per second, and their share of `read_gbps`.
   */
  read?: { gbps: number; fraction: number };
}

export interface Ceilings {
  /** GFLOP/s of our matmul kernel on `gemm_shape`. */
  gemm_gflops: number;
  /** M×K·K×N, N counting vec4 lanes. */
  gemm_shape: string;
  /** Every operand layout the training plans use, on the throughput shape's training sizes (H 256, T·B 1,024). */
  gemm_layouts: GemmLayoutRate[];
  /** Microseconds per empty dispatch inside one pass. */
  empty_dispatch_us: number;
  /** GB/s (10⁹ bytes) a kernel reads from a large storage buffer (bench-probe.wgsl's `stream`). */
  read_gbps: number;
  /** GB/s a kernel writes into a large storage buffer, vec4 by vec4 (bench-probe.wgsl's `fill`). */
  write_gbps: number;
  /**
   * The adapter runs a kernel's arithmetic and its memory traffic on the same CPU cores (a software
   * adapter: GpuContext.isSoftwareAdapter), so their times add up instead of overlapping — the GEMM
   * bound (gemm-census.ts's gemmBound) adds them.
   */
  serial: boolean;
}

const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST;

async function timeSubmit(device: GPUDevice, record: (pass: GPUComputePassEncoder) => void): Promise<number> {
  const encoder = device.createCommandEncoder({ label: 'bench.ceiling' });
  const pass = encoder.beginComputePass();
  record(pass);
  pass.end();
  const t0 = performance.now();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * The GEMM whose rate is the run's ceiling: M rows × K into N units of 4 gate lanes — the shape of a
 * big input projection, B a layer's packed W_ih with its bias after it. `scale` shrinks it (1 = the full
 * size, 1,024 × 512 · 512 × 1,024; CI's smoke run uses a small one).
 */
export function ceilingGemmShape(scale = 1): GemmShape {
  const M = Math.max(8, Math.round(1024 * scale));
  const K = Math.max(8, Math.round((512 * scale) / 4) * 4);
  const N = Math.max(8, Math.round(256 * scale)) * GATE_LANES;
  return alignedShape('bench.gemm', { M, N, K, bias: true });
}

/** `scale` shrinks the GEMM (ceilingGemmShape). */
export async function measureCeilings(ctx: GpuContext, scale = 1): Promise<Ceilings> {
  const device = ctx.device;
  const reference = ceilingGemmShape(scale);
  const { M, N, K } = reference;
  const gemmMs = await timeGemmShape(ctx, reference);
  const flop = 2 * M * K * N;

  // Empty dispatches: many in one pass, minus the cost of a pass with one.
  const layout = ctx.bindGroupLayout('bench-probe/group0', [{ binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'storage' } }]);
  const probe = ctx.computePipeline({ family: 'bench-probe', code: probeSource, entryPoint: 'empty', constants: {}, layouts: [layout] });
  const sink = ctx.buffer('bench.probe.sink', 4, STORAGE);
  const sinkGroup = ctx.bindGroup('bench.probe', layout, [{ buffer: sink, size: 4 }]);
  const dispatches = (n: number) => (pass: GPUComputePassEncoder) => {
    pass.setPipeline(probe);
    pass.setBindGroup(0, sinkGroup);
    for (let i = 0; i < n; i++) pass.dispatchWorkgroups(1);
  };
  const many = 2000;
  await timeSubmit(device, dispatches(many));
  const manyMs: number[] = [];
  const oneMs: number[] = [];
  for (let r = 0; r < 3; r++) {
    manyMs.push(await timeSubmit(device, dispatches(many)));
    oneMs.push(await timeSubmit(device, dispatches(1)));
  }
  ctx.release(sink);
  const gemm_gflops = flop / (gemmMs * 1e6);
  const read_gbps = await measureReadBandwidth(ctx, scale);
  const write_gbps = await measureWriteBandwidth(ctx, scale);
  return {
    gemm_gflops,
    gemm_shape: `${M}×${K}·${K}×${N}`,
    gemm_layouts: await measureGemmLayouts(ctx, scale, read_gbps),
    empty_dispatch_us: ((median(manyMs) - median(oneMs)) * 1000) / (many - 1),
    read_gbps,
    write_gbps,
    serial: ctx.isSoftwareAdapter,
  };
}

/** GB/s read from a 16 MiB buffer (scaled) by 16,384 invocations, each summing every 16,384th vec4. */
function measureReadBandwidth(ctx: GpuContext, scale: number): Promise<number> {
  return measureBandwidth(ctx, scale, 'stream');
}

/** GB/s written into a 16 MiB buffer (scaled) by 16,384 invocations, each storing every 16,384th vec4. */
function measureWriteBandwidth(ctx: GpuContext, scale: number): Promise<number> {
  return measureBandwidth(ctx, scale, 'fill');
}

/** A probe entry's rate through a large buffer: `stream` reads binding 1 (and writes its sums to binding 2), `fill` writes binding 3. */
async function measureBandwidth(ctx: GpuContext, scale: number, entryPoint: 'stream' | 'fill'): Promise<number> {
  const device = ctx.device;
  const binding = entryPoint === 'stream' ? 1 : 3;
  const workgroup = 64;
  const groups = 256;
  // Whole passes of `fill`'s eight stores per invocation.
  const step = 8 * groups * workgroup;
  const vec4s = Math.max(step, Math.round((2 ** 20 * scale) / step) * step);
  const entries: GPUBindGroupLayoutEntry[] = [{ binding, visibility: ShaderStage.COMPUTE, buffer: { type: binding === 1 ? 'read-only-storage' : 'storage' } }];
  if (entryPoint === 'stream') entries.push({ binding: 2, visibility: ShaderStage.COMPUTE, buffer: { type: 'storage' } });
  const layout = ctx.bindGroupLayout(`bench-${entryPoint}/group0`, entries);
  const pipeline = ctx.computePipeline({
    family: 'bench-probe',
    code: probeSource,
    entryPoint,
    constants: { STREAM_WORKGROUP: workgroup },
    layouts: [layout],
  });
  const big = ctx.buffer(`bench.${entryPoint}.big`, vec4s * 16, STORAGE);
  const bound: Array<[number, GPUBufferBinding]> = [[binding, { buffer: big, size: vec4s * 16 }]];
  const buffers = [big];
  if (entryPoint === 'stream') {
    device.queue.writeBuffer(big, 0, new Float32Array(vec4s * 4).fill(1));
    const sums = ctx.buffer('bench.stream.sums', groups * workgroup * 16, STORAGE);
    bound.push([2, { buffer: sums, size: groups * workgroup * 16 }]);
    buffers.push(sums);
  }
  const group = ctx.bindGroupAt(`bench.${entryPoint}`, layout, bound);
  try {
    // Timed as the difference of two submits (timeRepeated): a submit's round trip would otherwise count.
    const ms = await timeRepeated(device, (repeats) => (pass) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      for (let r = 0; r < repeats; r++) pass.dispatchWorkgroups(groups);
    });
    return (vec4s * 16) / (ms * 1e6);
  } finally {
    for (const b of buffers) ctx.release(b);
  }
}

/**
 * The GEMM in each layout a training step uses (src/train/layers/recurrent/gpu.ts, linear/): the
 * input projection (NN + bias), dL/d(input) = dG·W (NT, and NT + β·C where two directions add up), the
 * weight gradients xᵀ·dG (TN) and the bias gradients 1ᵀ·dG (M = 1) — at the sizes of the throughput
 * shape's training step (H 256, four gates: N 1,024; T·B 1,024; I 256), scaled like the ceiling, each
 * in LAYOUT_ROUNDS rounds beside the ceiling GEMM (timeAgainstCeiling).
 */
const LAYOUT_ROUNDS = 3;

async function measureGemmLayouts(ctx: GpuContext, scale: number, readGbps: number): Promise<GemmLayoutRate[]> {
  const n = (v: number) => Math.max(4, Math.round((v * scale) / 4) * 4);
  const [TB, G, I] = [n(1024), n(1024), n(256)];
  const layouts: Array<{ layout: string; M: number; N: number; K: number; transA?: boolean; transB?: boolean; beta?: number; bias?: boolean }> = [
    { layout: 'NN + bias (input projection)', M: TB, N: G, K: I, bias: true },
    { layout: 'NT (dL/d input)', M: TB, N: I, K: G, transB: true },
    { layout: 'NT + β·C (second direction)', M: TB, N: I, K: G, transB: true, beta: 1 },
    { layout: 'TN (weight gradient)', M: I, N: G, K: TB, transA: true },
    { layout: 'NN, M = 1 (bias gradient)', M: 1, N: G, K: TB },
  ];
  const timed = await timeAgainstCeiling(
    ctx,
    ceilingGemmShape(scale),
    layouts.map((l) => alignedShape(`bench.layout.${l.layout}`, l)),
    LAYOUT_ROUNDS,
  );
  const out: GemmLayoutRate[] = [];
  for (const [i, l] of layouts.entries()) {
    const { ms, fraction } = timed[i];
    const gflops = (2 * l.M * l.N * l.K) / (ms * 1e6);
    const rate: GemmLayoutRate = { layout: l.layout, shape: `${l.M}×${l.K}·${l.K}×${l.N}`, gflops, fraction };
    if (l.M === 1) {
      // What it must read: A (1×K) and B (K×N).
      const gbps = (4 * (l.K + l.K * l.N)) / (ms * 1e6);
      rate.read = { gbps, fraction: gbps / readGbps };
    }
    out.push(rate);
  }
  return out;
}

/** A single (batch 1) f32 GEMM with every operand at offset 0. */
function alignedShape(label: string, l: { M: number; N: number; K: number; transA?: boolean; transB?: boolean; beta?: number; bias?: boolean }): GemmShape {
  const zero = { a: 0, b: 0, bias: 0, c: 0 };
  return {
    label,
    M: l.M,
    N: l.N,
    K: l.K,
    batch: 1,
    transA: l.transA ?? false,
    transB: l.transB ?? false,
    beta: l.beta ?? 0,
    bias: l.bias ?? false,
    format: 'f32',
    align: zero,
    strides: zero,
  };
}

/**
 * A GEMM of `shape` alone, recorded once on fresh buffers at the shape's offsets modulo 4 — so it takes
 * the kernel path the original call took — ready to be timed as often as asked (`sample`: one of
 * repeatedTimer's samples) and then released. Every element of A and B is 0.5 and 0.01: the speed of
 * these kernels does not depend on the values.
 */
export interface PreparedGemm {
  readonly shape: GemmShape;
  /** Milliseconds of one call, one sample (the first also warms up and picks the repeats). */
  sample(): Promise<number>;
  release(): void;
}

export function prepareGemmShape(ctx: GpuContext, shape: GemmShape): PreparedGemm {
  const { M, N, K, batch, align, strides } = shape;
  if (shape.format !== 'f32') throw new Error(`timeGemmShape: ${shape.label} reads B as ${shape.format}; only f32 is timed (training's format)`);
  const span = (offset: number, stride: number, elements: number) => offset + Math.max(0, batch - 1) * stride + elements;
  const aLength = span(align.a, strides.a, M * K);
  const bLength = span(align.b, strides.b, K * N);
  const biasStart = Math.ceil(bLength / 4) * 4 + align.bias; // the bias after B in one buffer, as a layer's packed parameters
  const bBufferLength = shape.bias ? span(biasStart, strides.bias, N) : bLength;
  const ldc = shape.ldc ?? N;
  const cLength = span(align.c, strides.c, (M - 1) * ldc + N);
  // Whole vec4s: the kernel's vec4 paths read B and the bias four elements at a time.
  const bytes = (elements: number) => Math.ceil(elements / 4) * 16;
  const a = ctx.buffer('bench.gemm-shape.a', bytes(aLength), STORAGE);
  const b = ctx.buffer('bench.gemm-shape.b', bytes(bBufferLength), STORAGE);
  const c = ctx.buffer('bench.gemm-shape.c', bytes(cLength), STORAGE);
  const recorder = new OwningRecorder(ctx, 'bench.gemm-shape');
  const release = () => {
    recorder.release();
    for (const buffer of [a, b, c]) ctx.release(buffer);
  };
  try {
    ctx.device.queue.writeBuffer(a, 0, new Float32Array(bytes(aLength) / 4).fill(0.5));
    ctx.device.queue.writeBuffer(b, 0, new Float32Array(bytes(bBufferLength) / 4).fill(0.01));
    const command = recordGemm(recorder, {
      label: shape.label,
      M,
      N,
      K,
      batch,
      transA: shape.transA,
      transB: shape.transB,
      beta: shape.beta,
      a: gpuTensor(a, [aLength - align.a], 'f32', align.a),
      aBatchStride: strides.a,
      b: gpuTensor(b, [bLength - align.b], 'f32', align.b),
      bBatchStride: strides.b,
      bias: shape.bias ? gpuTensor(b, [bBufferLength - biasStart], 'f32', biasStart) : undefined,
      biasBatchStride: strides.bias,
      c: gpuTensor(c, [cLength - align.c], 'f32', align.c),
      cBatchStride: strides.c,
      ldc,
      format: 'f32',
      gateLanes: shape.gateLanes,
    });
    const timer = repeatedTimer(ctx.device, (repeats) => (pass) => {
      pass.setPipeline(command.pipeline);
      command.groups.forEach((g, i) => pass.setBindGroup(i, g as GPUBindGroup));
      for (let r = 0; r < repeats; r++) pass.dispatchWorkgroups(...command.grid);
    });
    return { shape, sample: timer.sample, release };
  } catch (e) {
    release();
    throw e;
  }
}

/** Median milliseconds of one GEMM of `shape` alone, over `runs` samples (prepareGemmShape). */
export async function timeGemmShape(ctx: GpuContext, shape: GemmShape, runs = 3): Promise<number> {
  const gemm = prepareGemmShape(ctx, shape);
  try {
    const times: number[] = [];
    for (let r = 0; r < runs; r++) times.push(await gemm.sample());
    return median(times);
  } finally {
    gemm.release();
  }
}

/** One GEMM's timing beside the ceiling GEMM's (timeAgainstCeiling). */
export interface CeilingRelative {
  /** Median milliseconds of one call. */
  ms: number;
  /** Median, over the rounds, of its GFLOP/s over the ceiling GEMM's measured around it. */
  fraction: number;
  /** Median of the ceiling GEMM's GFLOP/s around its samples. */
  ceiling_gflops: number;
}

/**
 * GEMMs timed against the ceiling GEMM (`reference`, ceilingGemmShape) at the same moments: `rounds`
 * rounds, each timing the reference once and then every shape once, and the reference once more at the
 * end; a shape's sample is read against the geometric mean of the reference samples before and after
 * its round. A software adapter's speed drifts by ±30% within minutes, so a fraction taken against a
 * ceiling measured minutes earlier says as much about the drift as about the kernel. Every GEMM is
 * recorded before the first round; each warms up (and picks its repeats) in its first sample.
 */
export async function timeAgainstCeiling(ctx: GpuContext, reference: GemmShape, shapes: readonly GemmShape[], rounds = 5): Promise<CeilingRelative[]> {
  const prepared: PreparedGemm[] = [];
  try {
    for (const shape of [reference, ...shapes]) prepared.push(prepareGemmShape(ctx, shape));
    const [ceiling, ...gemms] = prepared;
    const flop = (shape: GemmShape) => 2 * shape.M * shape.N * shape.K * shape.batch;
    const ceilingRates = [flop(reference) / ((await ceiling.sample()) * 1e6)];
    const samples: number[][] = gemms.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const [i, gemm] of gemms.entries()) samples[i].push(await gemm.sample());
      ceilingRates.push(flop(reference) / ((await ceiling.sample()) * 1e6));
    }
    return readAgainstCeiling(shapes.map(flop), samples, ceilingRates);
  } finally {
    for (const gemm of prepared) gemm.release();
  }
}

/**
 * timeAgainstCeiling's arithmetic: `samples[i][r]`, milliseconds of GEMM i (of `flops[i]` FLOP) in round
 * r, against `ceilingRates` (GFLOP/s), the ceiling GEMM's samples before round 0 and after each round.
 */
export function readAgainstCeiling(flops: readonly number[], samples: readonly (readonly number[])[], ceilingRates: readonly number[]): CeilingRelative[] {
  // The ceiling around round r: the geometric mean of its samples before and after it.
  const around = ceilingRates.slice(1).map((after, r) => Math.sqrt(ceilingRates[r] * after));
  return samples.map((times, i) => ({
    ms: median([...times]),
    fraction: median(times.map((ms, r) => flops[i] / (ms * 1e6) / around[r])),
    ceiling_gflops: median(around),
  }));
}

/**
 * Median milliseconds of one call, where `record(n)` records n calls into a pass. Each sample is the
 * difference of two submits, n + 1 calls in one pass minus one call, divided by n: a submit's round
 * trip (~3 ms in Chromium) cancels out. n is chosen from the marginal cost of a call (8 calls minus 1)
 * so that the n calls take about MIN_REPEATED_SUBMIT_MS. A sample whose difference is not positive
 * (a tiny call under a busy machine's jitter) falls back to the longer submit over its n + 1 calls, an
 * upper bound, never zero. (Dividing one submit of n calls by n, as before, added the round trip over
 * n to every call: with n chosen from a single call's submit, itself mostly round trip, a tiny GEMM
 * read 0.21–0.23 ms whatever its size.) The first submit is a warm-up (and the pipeline's compilation).
 */
const MIN_REPEATED_SUBMIT_MS = 30;
const MAX_REPEATS = 256;

/**
 * Samples of one call's milliseconds (each as timeRepeated describes), taken one at a time as asked:
 * the first sample also warms up and picks the repeats, so samples of several calls can interleave.
 */
export function repeatedTimer(device: GPUDevice, record: (repeats: number) => (pass: GPUComputePassEncoder) => void): { sample(): Promise<number> } {
  const marginal = async (n: number) => {
    const many = await timeSubmit(device, record(n + 1));
    const one = await timeSubmit(device, record(1));
    return many > one ? (many - one) / n : many / (n + 1);
  };
  let repeats: number | undefined;
  return {
    async sample() {
      if (repeats === undefined) {
        await timeSubmit(device, record(1));
        const estimate = await marginal(7);
        repeats = Math.min(MAX_REPEATS, Math.max(1, Math.ceil(MIN_REPEATED_SUBMIT_MS / Math.max(estimate, 0.01))));
      }
      return marginal(repeats);
    },
  };
}

export async function timeRepeated(device: GPUDevice, record: (repeats: number) => (pass: GPUComputePassEncoder) => void, runs = 3): Promise<number> {
  const timer = repeatedTimer(device, record);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push(await timer.sample());
  return median(times);
}
